"""Prompt files: Markdown with optional front matter (model parameters) and {{variables}}.

The same rules and error codes as src/graph/prompt.ts: front matter is flat `key: value`
lines (values read as JSON when they parse, else as text); {{a.b}} reaches into objects;
a missing variable is PROMPT_VARIABLE_MISSING naming every one; an unreadable file is
PROMPT_NOT_FOUND; a bad front-matter line is PROMPT_INVALID at file:line. Light: graph
modules may import it at module level.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..canonical import js_number, js_stringify
from ..errors import SwitchyardError

_FRONT_MATTER = re.compile(r"---\r?\n([\s\S]*?)\r?\n---\r?\n?")
# \w in JavaScript is ASCII: spelled out, so a non-ASCII letter is not a variable name here either.
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_QUOTED = re.compile(r"(['\"]).*\1", re.S)
_MISSING = object()


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt: ``text`` without its front matter, ``params`` from it, ``hash`` of the file's bytes."""

    path: str
    text: str
    hash: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, variables: Mapping[str, Any]) -> str:
        """Fill {{variables}}; raises PROMPT_VARIABLE_MISSING naming each one without a value."""
        return _render(self.text, variables, self.path)


def load_prompt(path: str | Path) -> Prompt:
    """Load a prompt file.

    Example::

        PROMPT = load_prompt(Path(__file__).with_name("prompt.md"))
        PROMPT.render({"lead": lead})
    """
    absolute = Path(path).resolve()
    try:
        data = absolute.read_bytes()
    except OSError as error:
        raise SwitchyardError("PROMPT_NOT_FOUND", f"cannot read prompt {absolute}: {error.strerror or error}") from error
    return parse_prompt(data.decode("utf-8", errors="replace"), str(absolute), "sha256:" + hashlib.sha256(data).hexdigest())


def parse_prompt(source: str, path: str = "<inline>", hash: str | None = None) -> Prompt:
    """A Prompt from text already in memory (tests, inline prompts)."""
    match = _FRONT_MATTER.match(source)
    params = _front_matter(match.group(1), path) if match else {}
    text = source[match.end() :] if match else source
    digest = hash or "sha256:" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
    return Prompt(path=path, text=text, hash=digest, params=params)


def prompt_variables(text: str) -> list[str]:
    """The {{variables}} a prompt uses, in order of first appearance."""
    return list(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(text)))


def _render(text: str, variables: Mapping[str, Any], path: str) -> str:
    missing = [name for name in prompt_variables(text) if _lookup(variables, name) is _MISSING]
    if missing:
        names = ", ".join("{{" + name + "}}" for name in missing)
        raise SwitchyardError("PROMPT_VARIABLE_MISSING", f"prompt {path} needs {names} but no value was given")
    return _VARIABLE.sub(lambda m: _format(_lookup(variables, m.group(1))), text)


def _lookup(variables: Mapping[str, Any], name: str) -> Any:
    # Dotted names reach into objects ({{lead.company}}), so a graph can pass its state whole.
    value: Any = variables
    for part in name.split("."):
        if isinstance(value, Mapping):
            value = value.get(part, _MISSING)
        elif isinstance(value, list) and re.fullmatch(r"0|[1-9][0-9]*", part) and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return _MISSING if value is None else value


def _scalar(value: Any) -> str:
    """String(value) for what Array.prototype.join meets."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    return str(value)


def _format(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return _scalar(value)
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return ", ".join(_scalar(v) for v in value)
    return js_stringify(value, 2)


def _front_matter(block: str, path: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for index, raw in enumerate(re.split(r"\r?\n", block)):
        line = raw.strip()
        if line == "" or line.startswith("#"):
            continue
        colon = line.find(":")
        if colon <= 0:
            raise SwitchyardError("PROMPT_INVALID", f"{path}:{index + 2}: front matter line is not 'key: value': {line}")
        params[line[:colon].strip()] = _value(line[colon + 1 :].strip())
    return params


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _value(value: str) -> Any:
    if value == "":
        return ""
    if _QUOTED.fullmatch(value) and value.startswith("'"):
        return value[1:-1]
    try:
        # JSON.parse's grammar: no NaN or Infinity.
        return json.loads(value, parse_constant=_reject_constant)
    except ValueError:
        return value

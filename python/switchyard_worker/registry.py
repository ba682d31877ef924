"""The registry as the TypeScript control plane resolved it, read from its resolved form.

The Python worker does not parse switchyard.yaml: `switchyard check` and the supervisor
write `.switchyard/<registry file>.resolved.json` (spec/resolved-registry.schema.json:
defaults applied, durations in ms, sizes in bytes, absolute paths, schemas inlined), and
this module reads it, checked against spec/resolved-registry.schema.json (jsonschema). One
set of registry rules, the TypeScript one; a format this reader does not know is refused,
never guessed at.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from .errors import SwitchyardError
from .spec_files import spec_file

#: The resolved-registry format this reader understands (RESOLVED_FORMAT in TypeScript).
FORMAT = 3


@dataclass(frozen=True)
class Pool:
    name: str
    runtime: str
    concurrency: int
    processes: int
    timeout_ms: int
    retries: int
    max_queued: int
    project: str
    #: `memory:` in bytes, or None.
    memory: int | None
    env: Path | None
    redis: str | None
    #: `maxOutput:` in bytes: the largest output (its JSON, UTF-8) a run may return.
    max_output: int = 1024**2
    #: What spans may record of values: full | redacted | none (tracing.capture).
    capture: str = "full"
    redact: tuple[str, ...] = ()
    #: Env variables whose values are secrets besides *_KEY, *_TOKEN, *_SECRET, *_PASSWORD (`secrets:`).
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    name: str
    pool: str
    graph_ref: str
    module: Path
    export: str
    prompt: Path | None
    timeout_ms: int
    description: str = ""
    #: The `output:` JSON Schema, inlined (a mapping or a boolean), or None.
    output: Any = None


@dataclass(frozen=True)
class Registry:
    source: Path
    root: Path
    digest: str
    pools: dict[str, Pool]
    workflows: dict[str, Workflow]


def _invalid(path: Path, message: str) -> SwitchyardError:
    return SwitchyardError("REGISTRY_INVALID", f"{path}: {message}")


@cache
def _schema() -> Draft202012Validator:
    """spec/resolved-registry.schema.json, compiled once per process."""
    return Draft202012Validator(json.loads(spec_file("resolved-registry.schema.json").read_text(encoding="utf-8")))


def _where(error: ValidationError) -> str:
    """`pools.py.memoryBytes`: the dotted path of the value an error is about (`registry` for the top)."""
    return ".".join(str(part) for part in error.absolute_path) or "registry"


def _explain(error: ValidationError) -> str:
    """One schema error, worded by the path of the value it is about."""
    # Typed Any here: jsonschema types them as possibly unset, which they are not for an error it raised.
    where, value = _where(error), error.instance
    rule: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "required":
        missing = [key for key in rule if isinstance(value, dict) and key not in value]
        return f"{where} has no '{missing[0] if missing else rule}' (is this a resolved registry? run `switchyard check`)"
    if error.validator == "additionalProperties" and isinstance(value, dict):
        known = schema.get("properties", {})
        extra = ", ".join(f"'{key}'" for key in value if key not in known)
        return f"{where} has unknown keys {extra} (written by another switchyard? install the matching switchyard-worker)"
    if error.validator == "type":
        return f"{where} has the wrong type: {value!r} (a resolved registry holds {rule if isinstance(rule, str) else ' or '.join(rule)} here)"
    if error.validator in ("minimum", "maximum"):
        return f"{where} is {value!r}, {'below the minimum' if error.validator == 'minimum' else 'above the maximum'} {rule}"
    if error.validator == "enum":
        return f"{where} must be one of {', '.join(map(str, rule))}, got {value!r}"
    return f"{where}: {error.message}"


def _checked(data: Any, path: Path) -> dict[str, Any]:
    """``data`` when it is a resolved registry of FORMAT by spec/resolved-registry.schema.json;
    else REGISTRY_INVALID naming every value that is not, by its path."""
    if not isinstance(data, dict):
        raise _invalid(path, "a resolved registry is a JSON object")
    # First, and worded for what it means: another format is another writer, not a broken file.
    if data.get("format") != FORMAT:
        raise _invalid(
            path,
            f"resolved-registry format {data.get('format')!r} is not {FORMAT}, the one this worker reads: "
            "install the switchyard-worker that matches your switchyard",
        )
    errors = sorted(_schema().iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    if errors:
        shown = "; ".join(_explain(error) for error in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise _invalid(path, shown + more)
    return data


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value is not None else None


def parse_registry(data: Any, path: Path) -> Registry:
    """A Registry from the parsed resolved form; REGISTRY_INVALID for a shape this reader cannot trust.

    The shape is spec/resolved-registry.schema.json's; by hand only what a schema cannot
    state: each entry is filed under its own name, and each workflow's pool exists."""
    checked = _checked(data, path)
    pools: dict[str, Pool] = {}
    for name, raw in checked["pools"].items():
        if raw["name"] != name:
            raise _invalid(path, f"pools.{name}.name is {raw['name']!r}, not the name it is filed under")
        tracing = raw["tracing"]
        pools[name] = Pool(
            name=name,
            runtime=raw["runtime"],
            concurrency=int(raw["concurrency"]),
            processes=int(raw["processes"]),
            timeout_ms=int(raw["timeoutMs"]),
            retries=int(raw["retries"]),
            max_queued=int(raw["maxQueued"]),
            project=tracing["project"],
            memory=None if raw["memoryBytes"] is None else int(raw["memoryBytes"]),
            env=_optional_path(raw["env"]),
            redis=raw["redis"],
            max_output=int(raw["maxOutputBytes"]),
            capture=tracing["capture"],
            redact=tuple(tracing["redact"]),
            secrets=tuple(raw["secrets"]),
        )
    workflows: dict[str, Workflow] = {}
    for name, raw in checked["workflows"].items():
        if raw["name"] != name:
            raise _invalid(path, f"workflows.{name}.name is {raw['name']!r}, not the name it is filed under")
        if raw["pool"] not in pools:
            raise _invalid(path, f"workflows.{name}.pool names no pool: {raw['pool']!r}")
        graph = raw["graph"]
        workflows[name] = Workflow(
            name=name,
            pool=raw["pool"],
            graph_ref=graph["ref"],
            module=Path(graph["module"]),
            export=graph["export"],
            prompt=_optional_path(raw["prompt"]),
            timeout_ms=int(raw["timeoutMs"]),
            description=raw["description"],
            output=raw["output"],
        )
    return Registry(
        source=Path(checked["source"]),
        root=Path(checked["root"]),
        digest=checked["digest"],
        pools=pools,
        workflows=workflows,
    )


def resolved_path(config: str | Path) -> Path:
    """Where `switchyard check` writes the resolved form of the registry file ``config``."""
    source = Path(config).resolve()
    return source.parent / ".switchyard" / f"{source.name}.resolved.json"


def load_registry(path: str | Path, sha256: str | None = None) -> Registry:
    """Read a resolved registry (``*.resolved.json``). Given the registry file itself
    (switchyard.yaml), read the resolved form `switchyard check` wrote beside it.

    ``sha256`` (``sha256:<hex>`` or ``<hex>``): the file is read only if its bytes hash to
    it, else refused. The worker always passes one (the supervisor's, which wrote the
    file): whoever can write ``.switchyard/`` could otherwise name any graph module."""
    file = Path(path).resolve()
    if not file.name.endswith(".resolved.json"):
        file = resolved_path(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise _invalid(file, "no resolved registry here: run `switchyard check` (or start the worker with `switchyard worker`)") from None
    except OSError as error:
        raise _invalid(file, f"cannot read the resolved registry: {error.strerror}") from error
    if sha256 is not None:
        expected = sha256.removeprefix("sha256:").lower()
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected:
            raise _invalid(
                file,
                f"its SHA-256 is sha256:{actual}, not the sha256:{expected} it was written with: "
                "changed since (by anyone who can write .switchyard/), so not read; start the worker again "
                "with `switchyard worker` (or under `switchyard start`/`dev`), which resolves it anew",
            )
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError as error:
        raise _invalid(file, f"not JSON: {error}") from error
    registry = parse_registry(data, file)
    # Written by hand-run `switchyard check`: a registry file edited since is not what it describes.
    try:
        stale = registry.source.stat().st_mtime > file.stat().st_mtime
    except OSError:
        stale = False
    if stale:
        raise _invalid(file, f"older than {registry.source}: run `switchyard check` again")
    return registry

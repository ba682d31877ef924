"""The offline model, answer for answer the same as src/graph/offline-model.ts and
offline-object.ts: deterministic, no network, labelled "[offline]". Byte-for-byte
parity is held by spec/vectors/offline-model.json, which both sides test against.

JavaScript's semantics are kept where they differ from Python's: string lengths and
slices count UTF-16 code units, `.`/`^`/`$` know four line terminators, `\\b` is an
ASCII word boundary, Math.round rounds halves up, Number() parses its own grammar,
and JSON.stringify writes the text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..canonical import js_length, js_number, js_slice, js_stringify

OFFLINE_LABEL = "[offline]"

Schema = Mapping[str, Any]
_NOT_FOUND = object()
# JavaScript's `.` (no s flag), and its line terminators for ^ and $ under the m flag.
_DOT = r"[^\n\r\u2028\u2029]"
_BOL = r"(?:^|(?<=[\n\r\u2028\u2029]))"
_EOL = r"(?=[\n\r\u2028\u2029]|\Z)"
# \b of a JavaScript regex without the u flag: between an ASCII word character and anything else.
_W = "[A-Za-z0-9_]"
_B = f"(?:(?<={_W})(?!{_W})|(?<!{_W})(?={_W}))"
# JavaScript's \s and \S (Python's differ at U+001C-U+001F, U+0085 and U+FEFF).
_WS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_S = f"[{_WS}]"
_NS = f"[^{_WS}]"


def estimate_tokens(text: str) -> int:
    """Characters / 4, as src/graph/model-call.ts estimates (UTF-16 characters)."""
    return max(1, math.ceil(js_length(text) / 4))


def _messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def offline_answer(messages: Sequence[Mapping[str, Any]], schema: Schema | None = None) -> dict[str, Any]:
    """One offline answer: {text, object?, usage: {inputTokens, outputTokens}, responseModel}."""
    prompt = "\n".join(m["content"] for m in messages)
    if schema is not None:
        value = offline_object(schema, messages)
        text = js_stringify(value)
        usage = {"inputTokens": estimate_tokens(prompt), "outputTokens": estimate_tokens(text)}
        return {"text": text, "object": value, "usage": usage, "responseModel": "offline"}
    text = _offline_text(messages)
    return {"text": text, "usage": {"inputTokens": estimate_tokens(prompt), "outputTokens": estimate_tokens(text)}, "responseModel": "offline"}


def _offline_text(messages: Sequence[Mapping[str, Any]]) -> str:
    # Free text: an <answer> the graph suggested, else the gist of the last user message,
    # tagged with a short digest so different prompts visibly give different answers.
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    suggested = re.search(f"<answer>{_S}*([\\s\\S]*?){_S}*</answer>", last, re.I)
    digest = hashlib.sha256(js_stringify(_messages(messages)).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if suggested and suggested.group(1):
        return f"{OFFLINE_LABEL} {suggested.group(1)}"
    gist = next((_js_trim(p) for p in re.split(f"\\n{_S}*\\n", last) if _js_trim(p) != ""), "")
    short = js_slice(gist, 0, 277) + "..." if js_length(gist) > 280 else gist
    return f"{OFFLINE_LABEL} ({digest}) {short}".strip()


def offline_object(schema: Schema, messages: Sequence[Mapping[str, Any]]) -> Any:
    """A value for ``schema`` built from the conversation (newest non-assistant message first)."""
    texts = [m["content"] for m in messages if m["role"] != "assistant"]
    texts.reverse()
    return _build(schema, "answer", texts, 0)


def _as_schema(value: Any) -> Schema:
    return value if isinstance(value, Mapping) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _build(schema: Schema, name: str, texts: list[str], depth: int) -> Any:
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list):
        return _pick_enum(schema["enum"], name, texts)
    branch = _first_branch(schema)
    if branch is not None:
        return _build(branch, name, texts, depth)
    types = _types_of(schema)
    found = _labelled(name, texts) if depth > 0 or "string" in types else None
    nullable = "null" in types
    kind = next((t for t in types if t != "null"), "null" if nullable else "string")
    if kind == "object":
        return _build_object(schema, texts, depth)
    if kind == "array":
        return _build_array(schema, name, found, texts, depth)
    if kind in ("number", "integer"):
        return _build_number(schema, found, kind == "integer")
    if kind == "boolean":
        if found is None:
            default = schema.get("default")
            return default if isinstance(default, bool) else False
        return re.fullmatch(r"true|yes|1", found, re.I) is not None
    if kind == "null":
        return None
    return _build_string(schema, name, found, nullable)


def _build_object(schema: Schema, texts: list[str], depth: int) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required_list = schema.get("required")
    required = set(required_list) if isinstance(required_list, list) else set(properties)
    out: dict[str, Any] = {}
    for key, child in properties.items():
        child_schema = _as_schema(child)
        hinted = _labelled(key, texts) is not None
        if key in required or hinted or "default" in child_schema:
            out[key] = _build(child_schema, key, texts, depth + 1)
    return out


def _build_array(schema: Schema, name: str, found: str | None, texts: list[str], depth: int) -> list[Any]:
    items = _as_schema(schema.get("items", {"type": "string"}))
    low = schema["minItems"] if _is_number(schema.get("minItems")) else 0
    high = schema["maxItems"] if _is_number(schema.get("maxItems")) else math.inf
    if found is not None and "string" in _types_of(items) and not isinstance(items.get("enum"), list):
        parts = [p for p in re.split(f"{_S}*[;\\n]{_S}*|{_S}*,{_S}+", found) if p]
        parts = parts if high == math.inf else parts[: max(0, int(high))]
        if len(parts) >= low:
            return parts
    if isinstance(schema.get("default"), list):
        return list(schema["default"])
    # Nothing in the conversation to draw on: as few items as the schema allows.
    return [_build(items, _singular(name), texts, depth + 1) for _ in range(int(low))]


def js_to_number(text: str) -> float | None:
    """``Number(text)`` for a trimmed, non-empty string; None where JavaScript gives NaN."""
    body = text.strip()
    if body == "":
        return 0.0
    if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", body):
        return float(body)
    radix = re.fullmatch(r"0([xXoObB])([0-9a-fA-F]+)", body)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
        try:
            return float(int(radix.group(2), base))
        except ValueError:
            return None
    if body in ("Infinity", "+Infinity"):
        return math.inf
    if body == "-Infinity":
        return -math.inf
    return None


def _js_round(value: float) -> float:
    """Math.round: halves go up (toward +Infinity)."""
    return float(math.floor(value + 0.5))


def _build_number(schema: Schema, found: str | None, integer: bool) -> float | int:
    low = schema["minimum"] if _is_number(schema.get("minimum")) else None
    high = schema["maximum"] if _is_number(schema.get("maximum")) else None
    parsed = js_to_number(found) if found is not None else None
    value: float | None = parsed if parsed is not None and math.isfinite(parsed) else None
    if value is None and _is_number(schema.get("default")):
        value = schema["default"]
    # Without a hint, a middling value: an offline guess should never look confident.
    if value is None:
        value = (low + high) / 2 if low is not None and high is not None else (low if low is not None else 0)
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    result = _js_round(value) if integer else value
    # JSON has one number type: 3.0 is written 3, as JavaScript does, and kept an int here.
    return int(result) if float(result).is_integer() and abs(result) < 2**53 else result


def _build_string(schema: Schema, name: str, found: str | None, nullable: bool) -> str | None:
    constrained = isinstance(schema.get("pattern"), str) or isinstance(schema.get("format"), str)
    pattern = re.compile(schema["pattern"]) if isinstance(schema.get("pattern"), str) else None
    examples = schema.get("examples")
    candidates = [found, schema.get("default") if isinstance(schema.get("default"), str) else None, *(examples if isinstance(examples, list) else [])]
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        if pattern is not None and not pattern.search(candidate):
            continue
        return candidate if constrained or candidate == schema.get("default") else _fit(_label(candidate), schema)
    if constrained:
        return None if nullable else _format_filler(schema.get("format"))
    return _fit(f"{OFFLINE_LABEL} {re.sub(r'[_-]+', ' ', name)}", schema)


def _js_string(value: Any) -> str:
    """String(value) in JavaScript, for enum values."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if _is_number(value):
        return js_number(value)
    if isinstance(value, list):
        return ",".join("" if v is None else _js_string(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)


def _pick_enum(values: list[Any], name: str, texts: list[str]) -> Any:
    hint = _labelled(name, texts)
    if hint is not None:
        for value in values:
            if _js_string(value).lower() == hint.lower():
                return value
    # The value mentioned first in the newest message that mentions any.
    for text in texts:
        best: tuple[Any, int] | None = None
        for value in values:
            if value is None:
                continue
            match = re.search(_B + re.escape(_js_string(value)) + _B, text, re.I)
            if match and (best is None or match.start() < best[1]):
                best = (value, match.start())
        if best is not None:
            return best[0]
    return values[0] if values else None


def _labelled(name: str, texts: list[str]) -> str | None:
    """`<name>value</name>` (multi-line) or a `name: value` line, newest message first."""
    escaped = re.escape(name)
    tag = re.compile(f"<{escaped}>{_S}*([\\s\\S]*?){_S}*</{escaped}>", re.I)
    line = re.compile(f"{_BOL}[ \\t>*-]*{escaped}[ \\t]*:[ \\t]*({_NS}{_DOT}*){_EOL}", re.I)
    for text in texts:
        match = tag.search(text) or line.search(text)
        if match is not None and match.group(1) is not None:
            return _js_trim(match.group(1))
    return None


def _js_trim(text: str) -> str:
    # String.prototype.trim: Unicode white space and line terminators (and U+FEFF).
    return text.strip(" \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")


def _first_branch(schema: Schema) -> Schema | None:
    branches = schema.get("anyOf") if schema.get("anyOf") is not None else schema.get("oneOf")
    if not isinstance(branches, list) or not branches:
        return None
    for branch in branches:
        if not all(t == "null" for t in _types_of(_as_schema(branch))):
            return _as_schema(branch)
    return _as_schema(branches[0])


def _types_of(schema: Schema) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return [str(t) for t in kind]
    if isinstance(kind, str):
        return [kind]
    if _js_truthy(schema.get("properties")):
        return ["object"]
    if _js_truthy(schema.get("items")):
        return ["array"]
    return ["string"]


def _js_truthy(value: Any) -> bool:
    # Objects and arrays are truthy in JavaScript, even empty ones.
    return isinstance(value, (Mapping, list)) or bool(value)


def _label(text: str) -> str:
    return text if text.startswith(OFFLINE_LABEL) else f"{OFFLINE_LABEL} {text}"


def _fit(text: str, schema: Schema) -> str:
    high = schema["maxLength"] if _is_number(schema.get("maxLength")) else math.inf
    low = schema["minLength"] if _is_number(schema.get("minLength")) else 0
    cut = js_slice(text, 0, int(high)) if js_length(text) > high else text
    missing = int(low) - js_length(cut)
    return cut + "." * missing if missing > 0 else cut


def _format_filler(kind: Any) -> str:
    return {
        "email": "offline@example.invalid",
        "uri": "https://example.invalid/offline",
        "url": "https://example.invalid/offline",
        "date-time": "1970-01-01T00:00:00.000Z",
        "date": "1970-01-01",
    }.get(kind if isinstance(kind, str) else "", OFFLINE_LABEL)


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name

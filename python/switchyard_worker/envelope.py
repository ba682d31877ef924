"""The run envelope (DESIGN §2.4): shape checks, HMAC-SHA256 signatures, deadlines.

Mirrors src/data/envelope.ts rule for rule and message for message; both sides test
against spec/vectors/, so a change here without one there fails a test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from .canonical import canonical_json, js_number
from .errors import SwitchyardError

FIELDS = (
    "v", "runId", "workflow", "pool", "graph", "input", "registry", "deadline",
    "attempt", "maxAttempts", "trace", "idempotencyKey", "sig",
)
TRACE_FIELDS = ("traceparent", "tracestate", "baggage")

RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
WORKFLOW = re.compile(r"[a-z][a-z0-9]*([.-][a-z0-9]+)*")
POOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
GRAPH = re.compile(r".{1,1024}", re.S)
DEADLINE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))"
)
TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
SIG = re.compile(r"[0-9a-f]{64}")


def _fail(message: str) -> SwitchyardError:
    return SwitchyardError("INVALID_ENVELOPE", f"invalid envelope: {message}")


def _describe(value: Any) -> str:
    """How the TypeScript worker names a bad value (`number 2`, `"abc"`, `an object`)."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f'"{value[:40]}…"' if len(value) > 40 else json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"number {js_number(value)}"
    return f"{type(value).__name__} {value}"


def _full(pattern: re.Pattern[str], value: Any) -> re.Match[str] | None:
    return pattern.fullmatch(value) if isinstance(value, str) else None


def _text(raw: dict[str, Any], field: str, pattern: re.Pattern[str], rule: str) -> str:
    value = raw[field]
    if _full(pattern, value) is None:
        raise _fail(f"{field} must be {rule}, got {_describe(value)}")
    return value


def _count(raw: dict[str, Any], field: str) -> int:
    value = raw[field]
    # JSON has one number type: 3.0 is the integer 3, as in JavaScript.
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer() and 1 <= value <= 1000
    if not ok:
        raise _fail(f"{field} must be an integer from 1 to 1000, got {_describe(value)}")
    return int(value)


def _days_from_civil(y: int, m: int, d: int) -> int:
    # Howard Hinnant's algorithm: proleptic Gregorian, any year (datetime stops at year 1).
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def deadline_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO date-time as V8's Date.parse reads it, or None when it is no real date.

    V8 accepts days 1-31 in any month (rolling over), and 24:00:00 as the end of a day.
    """
    match = DEADLINE.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = match.group(7) or ""
    millis = int((fraction + "000")[:3])
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute or second or millis)):
        return None
    offset = 0
    if match.group(8) != "Z":
        oh, om = int(match.group(10)), int(match.group(11))
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * (1 if match.group(9) == "+" else -1)
    days = _days_from_civil(year, month, 1) + day - 1
    return ((days * 24 + hour) * 60 + minute - offset) * 60_000 + second * 1000 + millis


def _check_trace(value: Any) -> None:
    if not isinstance(value, dict):
        raise _fail(f"trace must be an object with traceparent, tracestate and baggage, got {_describe(value)}")
    for key in value:
        if key not in TRACE_FIELDS:
            raise _fail(f"unknown field trace.{key}")
    traceparent = value.get("traceparent")
    if not isinstance(traceparent, str) or (traceparent != "" and _full(TRACEPARENT, traceparent) is None):
        raise _fail(
            f"trace.traceparent must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>) or '', got {_describe(traceparent)}"
        )
    for key in ("tracestate", "baggage"):
        if not isinstance(value.get(key), str):
            raise _fail(f"trace.{key} must be a string, got {_describe(value.get(key))}")


def check_shape(raw: Any) -> dict[str, Any]:
    """Check an envelope's shape (no signature). Raises INVALID_ENVELOPE naming the first bad field."""
    if not isinstance(raw, dict):
        raise _fail(f"expected a JSON object, got {_describe(raw)}")
    for key in raw:
        if key not in FIELDS:
            raise _fail(f"unknown field {key}")
    for key in FIELDS:
        if key not in raw:
            raise _fail(f"missing field {key}")
    v = raw["v"]
    if v != 1 or isinstance(v, bool):
        raise _fail(f"unsupported version v={_describe(v)} (this worker reads v=1)")
    _text(raw, "runId", RUN_ID, "1-128 letters, digits, '_' or '-'")
    _text(raw, "workflow", WORKFLOW, "a workflow name (lowercase, dot or dash separated)")
    _text(raw, "pool", POOL, "a pool name (letters, digits, '_', '.', '-')")
    _text(raw, "graph", GRAPH, "a non-empty graph reference")
    _text(raw, "registry", DIGEST, "a registry digest sha256:<64 hex>")
    deadline = _text(raw, "deadline", DEADLINE, "an ISO 8601 date-time with a time zone")
    if deadline_ms(deadline) is None:
        raise _fail(f"deadline is not a real date, got {_describe(deadline)}")
    attempt = _count(raw, "attempt")
    max_attempts = _count(raw, "maxAttempts")
    if attempt > max_attempts:
        raise _fail(f"attempt {attempt} is greater than maxAttempts {max_attempts}")
    _check_trace(raw["trace"])
    key = raw["idempotencyKey"]
    if key is not None and (not isinstance(key, str) or not 1 <= len(key) <= 256):
        raise _fail(f"idempotencyKey must be null or a string of 1-256 characters, got {_describe(key)}")
    sig = raw["sig"]
    if not isinstance(sig, str) or (sig != "" and _full(SIG, sig) is None):
        raise _fail(f"sig must be '' or 64 lowercase hex characters, got {_describe(sig)}")
    return raw


def canonical_envelope(envelope: dict[str, Any]) -> str:
    """The canonical JSON of an envelope without ``sig``: the exact text the signature covers."""
    return canonical_json({k: v for k, v in envelope.items() if k != "sig"}, "envelope")


def _hmac(envelope: dict[str, Any], key: str) -> str:
    return hmac.new(key.encode("utf-8"), canonical_envelope(envelope).encode("utf-8"), hashlib.sha256).hexdigest()


def sign_envelope(envelope: dict[str, Any], key: str) -> dict[str, Any]:
    """A copy of the envelope with ``sig`` = HMAC-SHA256(key, canonical envelope), lowercase hex."""
    if key == "":
        raise SwitchyardError("INVALID_ENVELOPE", "signing key is empty")
    return {**envelope, "sig": _hmac(envelope, key)}


def verify_envelope(raw: Any, key: str | None) -> dict[str, Any]:
    """Check an envelope as it came off the broker. With a key the signature must match
    (constant-time compare); without one (None) signatures are not checked."""
    envelope = check_shape(raw)
    if key is None:
        return envelope
    if envelope["sig"] == "":
        raise _fail("missing signature (sig is empty and this worker requires SWITCHYARD_SIGNING_KEY signatures)")
    if not hmac.compare_digest(_hmac(envelope, key), envelope["sig"]):
        raise _fail("signature does not match (the envelope was altered, or signed with another key)")
    return envelope


def parse_envelope(text: str, key: str | None) -> dict[str, Any]:
    """Parse envelope JSON text and verify it (see verify_envelope)."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise SwitchyardError("INVALID_ENVELOPE", f"invalid envelope: not JSON ({error})") from error
    return verify_envelope(raw, key)


def envelope_trace_id(envelope: dict[str, Any]) -> str | None:
    """The W3C trace id carried by the envelope, or None when it has no traceparent."""
    match = _full(TRACEPARENT, envelope["trace"]["traceparent"])
    return match.group(1) if match else None

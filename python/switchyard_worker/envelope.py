"""The run envelope (DESIGN §2.4): shape checks, Ed25519 signatures, deadlines.

The shape is spec/envelope.schema.json (jsonschema, compiled once); by hand only what
a schema cannot state. Mirrors src/data/envelope.ts and envelope-keys.ts rule for rule
and message for message; both sides test against spec/vectors/, so a change here without one there
fails a test. A worker verifies with public keys only (SWITCHYARD_VERIFY_KEYS): there
is no signing function here, since no pool may mint an envelope.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_json, js_number
from .errors import SwitchyardError
from .spec_files import spec_file

FIELDS = (
    "v", "runId", "workflow", "pool", "graph", "input", "registry", "deadline",
    "attempt", "maxAttempts", "trace", "idempotencyKey", "sig",
)
TRACE_FIELDS = ("traceparent", "tracestate", "baggage")

DEADLINE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
SIG = re.compile(r"ed25519:([0-9a-f]{16}):([A-Za-z0-9_-]{86})")
VERIFY_KEYS_ENV = "SWITCHYARD_VERIFY_KEYS"
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


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


@cache
def _schema() -> Any:
    """spec/envelope.schema.json, compiled once per process, on the first envelope. Its patterns
    run on RE2 (schema_check), whose ``$`` is the end of the text and ``\\d`` ASCII, as in
    JavaScript; Python's re would take ``"run_1\\n"`` for a run id. Imported here, not at the
    top: graph helpers import this package and must not load jsonschema."""
    from .schema_check import linear_validator

    return linear_validator(json.loads(spec_file("envelope.schema.json").read_text(encoding="utf-8")))


def prepare_envelope_check() -> None:
    """Load and compile the envelope schema now, so the first envelope does not wait for it (a worker, at start)."""
    _schema()


#: What each field must be, worded for the error (spec/envelope.schema.json states the rule).
RULES = {
    "runId": "1-128 letters, digits, '_' or '-'",
    "workflow": "a workflow name (lowercase, dot or dash separated)",
    "pool": "a pool name (letters, digits, '_', '.', '-')",
    "graph": "a non-empty graph reference",
    "registry": "a registry digest sha256:<64 hex>",
    "deadline": "an ISO 8601 date-time with a time zone",
    "attempt": "an integer from 1 to 1000",
    "maxAttempts": "an integer from 1 to 1000",
    "trace": "an object with traceparent, tracestate and baggage",
    "trace.traceparent": "a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>) or ''",
    "trace.tracestate": "a string",
    "trace.baggage": "a string",
    "idempotencyKey": "null or a string of 1-256 characters",
    "sig": "'' or ed25519:<16 hex key id>:<86 base64url characters>",
}


def _order(name: Any, known: tuple[str, ...]) -> int:
    return known.index(name) if name in known else len(known)


def _refusals(raw: Any, error: Any) -> list[tuple[int, str]]:
    """The refusals one schema error stands for, each with its rank: the envelope is refused
    for the lowest — not an object, then an unknown field, a missing one, then the first
    bad value in field order (src/data/envelope.ts ranks alike)."""
    path = [str(part) for part in error.absolute_path]
    instance, rule = error.instance, error.validator_value
    if not path and error.validator == "type":
        return [(0, f"expected a JSON object, got {_describe(raw)}")]
    top = path[0] if path else ""
    base = 3000 + _order(top, FIELDS) * 100
    under = ".".join(path) + "." if path else ""
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {})
        return [
            ((1000 if not path else base) + i, f"unknown field {under}{key}")
            for i, key in enumerate(instance)
            if key not in known
        ]
    if error.validator == "required" and isinstance(instance, dict):
        return [
            ((2000 + _order(key, FIELDS)) if not path else base + 20 + _order(key, TRACE_FIELDS), f"missing field {under}{key}")
            for key in rule
            if key not in instance
        ]
    field = ".".join(path[:2])
    rank = base + (40 + _order(path[1], TRACE_FIELDS) if len(path) > 1 else 0)
    value = raw[top] if len(path) == 1 else raw[top][path[1]]
    if field == "v":
        return [(rank, f"unsupported version v={_describe(value)} (this worker reads v=1)")]
    return [(rank, f"{field} must be {RULES.get(field, 'valid')}, got {_describe(value)}")]


def check_shape(raw: Any) -> dict[str, Any]:
    """Check an envelope's shape (no signature): spec/envelope.schema.json, then by hand what a
    schema cannot state (a deadline that is a real date, attempt ≤ maxAttempts).
    Raises INVALID_ENVELOPE naming the first bad field."""
    errors = list(_schema().iter_errors(raw))
    if errors:
        raise _fail(min((refusal for error in errors for refusal in _refusals(raw, error)), key=lambda r: r[0])[1])
    deadline = raw["deadline"]
    if deadline_ms(deadline) is None:
        raise _fail(f"deadline is not a real date, got {_describe(deadline)}")
    if raw["attempt"] > raw["maxAttempts"]:
        raise _fail(f"attempt {js_number(raw['attempt'])} is greater than maxAttempts {js_number(raw['maxAttempts'])}")
    return cast(dict[str, Any], raw)


def canonical_envelope(envelope: dict[str, Any]) -> str:
    """The canonical JSON of an envelope without ``sig``: the exact text the signature covers."""
    return canonical_json({k: v for k, v in envelope.items() if k != "sig"}, "envelope")


class VerifyKeys(Mapping[str, Ed25519PublicKey]):
    """The Ed25519 public keys a worker accepts, by key id, in the order given."""

    def __init__(self, keys: list[tuple[str, Ed25519PublicKey]]) -> None:
        self._keys = dict(keys)
        self.ids = [key_id for key_id, _ in keys]

    def __getitem__(self, key_id: str) -> Ed25519PublicKey:
        return self._keys[key_id]

    def __iter__(self) -> Any:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def key_id_of(raw: bytes) -> str:
    """16 hex digits of SHA-256 over the 32-byte raw public key."""
    return hashlib.sha256(raw).hexdigest()[:16]


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def parse_verify_keys(text: str, source: str = VERIFY_KEYS_ENV) -> VerifyKeys:
    """Parse SWITCHYARD_VERIFY_KEYS: Ed25519 public keys separated by commas or whitespace,
    each raw 32 bytes in base64 or base64url, or a PEM ``PUBLIC KEY`` block.
    Raises CONFIG_INVALID naming the entry that is not a key; an empty list is an error too."""
    keys: list[tuple[str, Ed25519PublicKey]] = []

    def add(raw: bytes, what: str) -> None:
        if len(raw) != 32:
            raise SwitchyardError("CONFIG_INVALID", f"{source}: {what}: an Ed25519 public key is 32 bytes, this one is {len(raw)}")
        key_id = key_id_of(raw)
        if all(known != key_id for known, _ in keys):
            keys.append((key_id, Ed25519PublicKey.from_public_bytes(raw)))

    def pem(match: re.Match[str]) -> str:
        label = match.group(1)
        if label != "PUBLIC KEY":
            raise SwitchyardError("CONFIG_INVALID", f"{source}: a {label} block is not a public key (workers never hold a private key)")
        try:
            key = serialization.load_pem_public_key(match.group(0).encode("ascii"))
        except ValueError as error:
            raise SwitchyardError("CONFIG_INVALID", f"{source}: a PUBLIC KEY block does not parse ({error})") from error
        if not isinstance(key, Ed25519PublicKey):
            raise SwitchyardError("CONFIG_INVALID", f"{source}: a {type(key).__name__} is not an Ed25519 key")
        add(_raw(key), "a PEM key")
        return " "

    rest = _PEM_BLOCK.sub(pem, text)
    for i, item in enumerate((item for item in re.split(r"[\s,]+", rest) if item), start=1):
        shown = f"{item[:12]}…" if len(item) > 12 else item
        if _full(_BASE64, item) is None:
            raise SwitchyardError("CONFIG_INVALID", f"{source}: entry {i} ('{shown}') is not base64")
        padded = item.rstrip("=") + "=" * (-len(item.rstrip("=")) % 4)
        try:
            raw = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError) as error:
            raise SwitchyardError("CONFIG_INVALID", f"{source}: entry {i} ('{shown}') is not base64") from error
        add(raw, f"entry {i} ('{shown}')")
    if not keys:
        raise SwitchyardError("CONFIG_INVALID", f"{source} lists no key")
    return VerifyKeys(keys)


def verify_envelope(raw: Any, keys: Mapping[str, Ed25519PublicKey] | None) -> dict[str, Any]:
    """Check an envelope as it came off the broker. With verify keys the signature must be
    present, made by one of them, and match; without (None) signatures are not checked."""
    envelope = check_shape(raw)
    if keys is None:
        return envelope
    match = _full(SIG, envelope["sig"])
    if match is None:
        raise _fail(f"missing signature (sig is empty and this worker verifies signatures: {VERIFY_KEYS_ENV} is set)")
    key_id, signature = match.group(1), match.group(2)
    key = keys.get(key_id)
    if key is None:
        listed = ", ".join(keys)
        raise _fail(f"signed by key {key_id}, which is not one of this worker's verify keys ({VERIFY_KEYS_ENV} lists {listed})")
    try:
        key.verify(base64.urlsafe_b64decode(signature + "=="), canonical_envelope(envelope).encode("utf-8"))
    except InvalidSignature:
        raise _fail(f"signature does not match (the envelope was altered, or not signed by key {key_id})") from None
    return envelope


def parse_envelope(text: str, keys: Mapping[str, Ed25519PublicKey] | None) -> dict[str, Any]:
    """Parse envelope JSON text and verify it (see verify_envelope)."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise SwitchyardError("INVALID_ENVELOPE", f"invalid envelope: not JSON ({error})") from error
    return verify_envelope(raw, keys)


def envelope_trace_id(envelope: dict[str, Any]) -> str | None:
    """The W3C trace id carried by the envelope, or None when it has no traceparent."""
    match = _full(TRACEPARENT, envelope["trace"]["traceparent"])
    return match.group(1) if match else None

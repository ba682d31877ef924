"""What a span may record of a run's values, per the pool's `capture` (DESIGN §3), as
src/observe/capture/capture.ts decides: `full` records them, `redacted` masks e-mail
addresses, phone numbers and the pool's `redact` keys, `none` records nothing. Values
longer than CAPTURE_LIMIT characters are cut, and say so. And a pool's secrets (the
values of its env variables named *_KEY, *_TOKEN, *_SECRET, *_PASSWORD or listed under
`secrets:`) are scrubbed from every span, log line and run error whatever the capture.

The rules are the TypeScript worker's, character for character: both are held to
spec/vectors/redaction.json.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .canonical import js_length, js_slice, js_stringify

CAPTURE_LIMIT = 8192
#: Objects and lists deeper than this are masked whole: a value is never passed through unmasked.
REDACT_DEPTH = 32
MASK = {"email": "[email]", "phone": "[phone]", "key": "[redacted]", "secret": "[secret]"}

# E-mail: a run of characters that are not space or a delimiter, with an @ inside (something
# before, something after): IDN addresses and addresses without a TLD included. One pass: linear.
_TOKEN = re.compile(r"[^\s<>()\[\]{}\\,;:\"'`]+")
_TRAILING = re.compile(r"[.!?]+$")
# Phone numbers in any national or international format: at least seven digits, at most three
# separators between two; not touching a letter or digit (ids, hashes), and not a date.
_PHONE = re.compile(r"\+?\(?\d(?:[ \t\u00a0().\-/]{0,3}\d){6,}", re.ASCII)
_DATE = re.compile(r"^(?:\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{4})$", re.ASCII)
_WORD = re.compile(r"[A-Za-z0-9_]")


def _email(match: re.Match[str]) -> str:
    token = match.group(0)
    at = token.find("@")
    if at <= 0 or at == len(token) - 1:
        return token
    tail = _TRAILING.search(token)
    trailing = tail.group(0) if tail else ""
    return MASK["email"] + trailing if len(token) - len(trailing) - 1 > at else token


def _phone(match: re.Match[str]) -> str:
    text, start, end = match.string, match.start(), match.end()
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if _DATE.match(match.group(0)) or (before and _WORD.match(before)) or (after and _WORD.match(after)):
        return match.group(0)
    return MASK["phone"]


def redact_text(text: str) -> str:
    out = _TOKEN.sub(_email, text) if "@" in text else text
    return _PHONE.sub(_phone, out)


def redact_value(value: Any, keys: Sequence[str]) -> Any:
    masked = {key.lower() for key in keys}

    def walk(node: Any, depth: int) -> Any:
        if isinstance(node, str):
            return redact_text(node)
        if not isinstance(node, (list, tuple, dict)):
            return node
        if depth > REDACT_DEPTH:
            return MASK["key"]
        if isinstance(node, (list, tuple)):
            return [walk(item, depth + 1) for item in node]
        return {k: MASK["key"] if str(k).lower() in masked else walk(v, depth + 1) for k, v in node.items()}

    return walk(value, 0)


#: Env variable names whose values are secrets, whatever the pool lists.
SECRET_NAME = re.compile(r"_(?:KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
#: Shorter values are not scrubbed: masking every `true` or `1` would hide more than it protects.
MIN_SECRET_LENGTH = 6

Scrub = Callable[[str], str]


def secret_names(env: Mapping[str, str], names: Sequence[str] = ()) -> list[str]:
    """The names in ``env`` whose values are secrets (sorted by code point, as TypeScript sorts them)."""
    listed = set(names)
    return sorted(
        name for name, value in env.items() if (SECRET_NAME.search(name) or name in listed) and js_length(value) >= MIN_SECRET_LENGTH
    )


def secret_scrubber(env: Mapping[str, str], names: Sequence[str] = ()) -> Scrub:
    """Replaces every secret of ``env`` in a text: as written, JSON-escaped and URL-encoded."""
    forms: set[str] = set()
    for name in secret_names(env, names):
        value = env[name]
        forms.add(value)
        forms.add(js_stringify(value)[1:-1])
        # encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) as they are.
        forms.add(quote(value, safe="-_.!~*'()"))
    ordered = sorted((form for form in forms if js_length(form) >= MIN_SECRET_LENGTH), key=js_length, reverse=True)
    if not ordered:
        return lambda text: text

    def scrub(text: str) -> str:
        for form in ordered:
            if form in text:
                text = text.replace(form, MASK["secret"])
        return text

    return scrub


class ScrubbingLogFilter(logging.Filter):
    """On a handler: every record it writes has the pool's secrets scrubbed (message and
    traceback); with ``mask`` also e-mails and phones (a graph's own logs, per its capture)."""

    def __init__(self, scrub: Scrub, mask: bool = False) -> None:
        super().__init__()
        self._scrub = scrub
        self._mask = mask

    def filter(self, record: logging.LogRecord) -> bool:
        message = self._scrub(record.getMessage())
        record.msg, record.args = (redact_text(message) if self._mask else message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True


def redact_recorded(text: str, keys: Sequence[str]) -> str:
    """A recorded JSON value with ``keys`` masked at any depth (see capture.ts redactRecorded)."""
    if keys:
        try:
            parsed = json.loads(text)
        except ValueError:
            lower = text.lower()
            return MASK["key"] if any(f'"{key.lower()}"' in lower for key in keys) else redact_text(text)
        if isinstance(parsed, (dict, list)):
            return js_stringify(redact_value(parsed, keys))
    return redact_text(text)


def capture_value(value: Any, capture: str, redact: Sequence[str] = ()) -> str | None:
    """The text a span records for ``value``, or None when nothing may be recorded."""
    if capture == "none":
        return None
    recorded = redact_value(value, redact) if capture == "redacted" else value
    if isinstance(recorded, str):
        text = recorded
    else:
        try:
            text = js_stringify(recorded)
        except TypeError:
            text = str(recorded)
    size = js_length(text)
    return text if size <= CAPTURE_LIMIT else f"{js_slice(text, 0, CAPTURE_LIMIT)}…[{size - CAPTURE_LIMIT} more]"

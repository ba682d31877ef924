"""What a span may record of a run's values, per the pool's `capture` (DESIGN §3), as
src/observe/capture/capture.ts decides: `full` records them, `redacted` masks e-mail
addresses, phone numbers and the pool's `redact` keys, `none` records nothing. Values
longer than CAPTURE_LIMIT characters are cut, and say so.

One difference: TypeScript finds phone numbers with libphonenumber; here a run of at
least seven digits (with spaces, dots, dashes, parentheses or a leading +) is masked,
which masks a little more, never less.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .canonical import js_length, js_slice, js_stringify

CAPTURE_LIMIT = 8192
MASK = {"email": "[email]", "phone": "[phone]", "key": "[redacted]"}
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\(?\d(?:[\s().-]{0,3}\d){6,}")


def redact_text(text: str) -> str:
    return _PHONE.sub(MASK["phone"], _EMAIL.sub(MASK["email"], text))


def redact_value(value: Any, keys: Sequence[str]) -> Any:
    masked = {key.lower() for key in keys}

    def walk(node: Any, depth: int) -> Any:
        if isinstance(node, str):
            return redact_text(node)
        if depth > 32:
            return node
        if isinstance(node, list):
            return [walk(item, depth + 1) for item in node]
        if isinstance(node, dict):
            return {k: MASK["key"] if str(k).lower() in masked else walk(v, depth + 1) for k, v in node.items()}
        return node

    return walk(value, 0)


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

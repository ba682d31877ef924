"""Canonical JSON: the exact bytes an envelope signature covers (spec/vectors/README.md).

Python's json module gets everything right but numbers: JavaScript prints 1e-7 where
Python prints 1e-07, and 1e+21 where Python prints 1e+21 but 1e16 where Python
prints 1e+16. Numbers are therefore written by js_number(), which follows
ECMAScript Number::toString on the shortest round-trip digits (the same digits
Python's repr() picks).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import SwitchyardError

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_SAFE = 2**53


def js_number(value: float | int) -> str:
    """Format a number as JavaScript's ``String(number)`` / ``JSON.stringify`` does."""
    if isinstance(value, int) and abs(value) < _MAX_SAFE:
        return str(value)
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{value} is not a JSON number")
    if x == 0:
        return "0"  # -0 too
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    # n: position of the decimal point relative to the first significant digit.
    n = len(whole.lstrip("0")) if whole.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    n += int(exp) if exp else 0
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + out


def _string(value: str) -> str:
    text = json.dumps(value, ensure_ascii=False)
    # Python writes lone surrogates raw (then UTF-8 fails); JavaScript escapes them.
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _write(value: Any, path: str, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (int, float)):
        try:
            out.append(js_number(value))
        except ValueError:
            shown = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            raise SwitchyardError("INVALID_ENVELOPE", f"{path} is {shown}, which JSON cannot represent") from None
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, f"{path}[{index}]", out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value)):
            if not isinstance(key, str):
                raise SwitchyardError("INVALID_ENVELOPE", f"{path} has a non-string key {key!r}")
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(value[key], f"{path}.{key}", out)
        out.append("}")
    else:
        raise SwitchyardError("INVALID_ENVELOPE", f"{path} is a {type(value).__name__}, which JSON cannot represent")


def canonical_json(value: Any, path: str = "value") -> str:
    """The canonical JSON text of a JSON value: sorted keys (by code point), no spaces, JS numbers."""
    out: list[str] = []
    _write(value, path, out)
    return "".join(out)

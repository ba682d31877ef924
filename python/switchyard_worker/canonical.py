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


_INDEX_KEY = re.compile(r"0|[1-9][0-9]*")


def _js_key_order(keys: list[str]) -> list[str]:
    # A JavaScript object lists integer-like keys first, ascending, then the rest as inserted.
    index = [k for k in keys if _INDEX_KEY.fullmatch(k) and int(k) < 2**32 - 1]
    return sorted(index, key=int) + [k for k in keys if k not in set(index)]


def _stringify(value: Any, indent: str, depth: int, out: list[str]) -> None:
    if value is None or value is True or value is False or isinstance(value, (str, int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            out.append("null")  # JSON.stringify(NaN) is null
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(js_number(value))
        elif isinstance(value, str):
            out.append(_string(value))
        else:
            out.append(json.dumps(value))
        return
    inner = "\n" + indent * (depth + 1) if indent else ""
    close = "\n" + indent * depth if indent else ""
    colon = ": " if indent else ":"
    if isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + inner)
            _stringify(item, indent, depth + 1, out)
        out.append(close + "]")
        return
    if isinstance(value, dict):
        keys = _js_key_order([str(k) for k in value])
        if not keys:
            out.append("{}")
            return
        by_text = {str(k): v for k, v in value.items()}
        out.append("{")
        for i, key in enumerate(keys):
            out.append(("," if i else "") + inner + _string(key) + colon)
            _stringify(by_text[key], indent, depth + 1, out)
        out.append(close + "}")
        return
    raise TypeError(f"{type(value).__name__} is not JSON")


def js_stringify(value: Any, indent: int = 0) -> str:
    """``JSON.stringify(value, null, indent)`` byte for byte: JavaScript's numbers and key
    order (integer-like keys first), lone surrogates escaped, NaN and Infinity as null."""
    out: list[str] = []
    _stringify(value, " " * indent, 0, out)
    return "".join(out)


def js_length(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def js_slice(text: str, start: int, end: int | None = None) -> str:
    """``text.slice(start, end)`` on UTF-16 code units (may cut a surrogate pair, as JavaScript does)."""
    units = text.encode("utf-16-le", "surrogatepass")
    return units[start * 2 : None if end is None else end * 2].decode("utf-16-le", "surrogatepass")

"""One error type with a stable code from the closed map spec/error-codes.json, shared
with TypeScript (src/control/contract/error-codes.ts): the same codes, and the same
default retryability per code."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .spec_files import spec_file


@cache
def error_codes() -> dict[str, dict[str, Any]]:
    """spec/error-codes.json's codes: {code: {status, retryable, when}}."""
    codes: dict[str, dict[str, Any]] = json.loads(spec_file("error-codes.json").read_text(encoding="utf-8"))["codes"]
    return codes


def is_error_code(code: object) -> bool:
    return isinstance(code, str) and code in error_codes()


class SwitchyardError(Exception):
    """An error with a stable ``code`` (INVALID_ENVELOPE, GRAPH_FAILED, ...) and retryability.

    ``retryable`` defaults to the code's own in spec/error-codes.json. A graph may raise a
    code of its own: it travels as the run's error, and the gateway answers it as GRAPH_FAILED
    with its message kept (codes outside the map are not part of the API)."""

    def __init__(self, code: str, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = bool(error_codes().get(code, {}).get("retryable", False)) if retryable is None else retryable

    def __str__(self) -> str:
        return self.message

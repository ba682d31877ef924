"""One error type with a stable code, the same codes the TypeScript side uses."""

from __future__ import annotations


class SwitchyardError(Exception):
    """An error with a stable ``code`` (INVALID_ENVELOPE, GRAPH_FAILED, ...) and retryability."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable

    def __str__(self) -> str:
        return self.message

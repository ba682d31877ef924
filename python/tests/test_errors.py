"""Error codes come from the one closed map, spec/error-codes.json, shared with TypeScript."""

import ast
from pathlib import Path

from switchyard_worker.errors import SwitchyardError, error_codes, is_error_code

PACKAGE = Path(__file__).resolve().parents[1] / "switchyard_worker"


def test_retryable_defaults_to_the_codes_own() -> None:
    codes = error_codes()
    assert codes["POOL_SATURATED"]["retryable"] is True and SwitchyardError("POOL_SATURATED", "x").retryable is True
    assert codes["OUTPUT_INVALID"]["retryable"] is False and SwitchyardError("OUTPUT_INVALID", "x").retryable is False
    assert SwitchyardError("OUTPUT_INVALID", "x", retryable=True).retryable is True
    assert SwitchyardError("LEAD_UNKNOWN", "a graph's own code").retryable is False
    assert is_error_code("MODEL_FAILED") and not is_error_code("LEAD_UNKNOWN") and not is_error_code(None)


def test_every_code_the_worker_and_helpers_raise_is_in_the_map() -> None:
    raised: set[str] = set()
    for file in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SwitchyardError" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    raised.add(first.value)
    assert len(raised) >= 10
    assert sorted(code for code in raised if not is_error_code(code)) == []

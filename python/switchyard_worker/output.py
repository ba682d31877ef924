"""A run's output leaves the worker as JSON, no larger than its pool's maxOutput
(OUTPUT_TOO_LARGE), and, when the workflow declares an output schema (JSON Schema
2020-12), only if it matches — as the node worker does (src/data/worker/output.ts):
OUTPUT_INVALID, not retryable, naming the JSON-pointer paths that do not fit. Size is
counted as the TypeScript side counts it: compact JSON in UTF-8. A graph that returns
None sends null, checked like any other output. Each schema compiles on its
workflow's first run here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import SwitchyardError
from .registry import Pool, Workflow

Check = Callable[[Any], list[str]]


def _pointer(path: Any) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "/"


def _compile(workflow: Workflow) -> Check | None:
    schema = workflow.output
    if schema is None or schema is True:
        return None
    if schema is False:
        return lambda _: ["/: no output is allowed (the schema is false)"]
    from .schema_check import linear_validator  # only pools that declare output schemas pay for it

    validator = linear_validator(schema)

    def check(value: Any) -> list[str]:
        errors = sorted(validator.iter_errors(value), key=lambda e: (_pointer(e.absolute_path), e.message))
        return [f"{_pointer(e.absolute_path)}: {e.message}" for e in errors]

    return check


class OutputChecks:
    """One compiled output check per workflow per process."""

    def __init__(self) -> None:
        self._checks: dict[str, Check | None] = {}

    def checked(self, workflow: Workflow, output: Any, pool: Pool) -> Any:
        """The output as it will travel (JSON round trip), or OUTPUT_TOO_LARGE / OUTPUT_INVALID / GRAPH_FAILED."""
        try:
            text = json.dumps(output, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as error:
            raise SwitchyardError("GRAPH_FAILED", f"workflow '{workflow.name}' returned an output that is not JSON: {error}") from None
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > pool.max_output:
            raise SwitchyardError(
                "OUTPUT_TOO_LARGE",
                f"workflow '{workflow.name}' returned {size} bytes of JSON; pool '{pool.name}' allows at most {pool.max_output} (maxOutput)",
            )
        sent = json.loads(text)
        if workflow.name not in self._checks:
            self._checks[workflow.name] = _compile(workflow)
        check = self._checks[workflow.name]
        issues = check(sent) if check else []
        if issues:
            raise SwitchyardError(
                "OUTPUT_INVALID",
                f"workflow '{workflow.name}' returned an output that does not match its output schema: {'; '.join(issues)}",
            )
        return sent

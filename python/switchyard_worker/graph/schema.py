"""JSON Schema validation of structured model output (jsonschema, 2020-12), each schema
compiled once per process; issues as `/pointer: message`, like src/graph/schema-validator.ts."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

#: Checks a value against one schema: its issues as `/pointer: message`, [] when it fits
#: (SchemaCheck in src/graph/schema-validator.ts).
SchemaCheck = Callable[[Any], list[str]]

_compiled: dict[str, SchemaCheck] = {}


def _pointer(path: Any) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else "/"


def schema_check_for(schema: Mapping[str, Any]) -> SchemaCheck:
    """The check for ``schema``, compiled on first use and kept by the schema's JSON text."""
    key = json.dumps(schema, sort_keys=True, default=str)
    cached = _compiled.get(key)
    if cached is not None:
        return cached
    from ..schema_check import linear_validator  # loads only when a graph asks for structured output

    checker = linear_validator(schema)

    def validate(value: Any) -> list[str]:
        errors = sorted(checker.iter_errors(value), key=lambda e: (_pointer(e.absolute_path), e.message))
        return [f"{_pointer(e.absolute_path)}: {e.message}" for e in errors]

    _compiled[key] = validate
    return validate

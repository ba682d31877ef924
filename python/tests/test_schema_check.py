"""Issue 12.9 in the Python worker: schema patterns match in linear time (RE2), in output
checks and structured model output. ``^(a+)+$`` on 'a' * 40 + '!' takes Python's
backtracking ``re`` longer than anyone waits (2^40 steps); RE2 answers at once, rightly."""

from __future__ import annotations

import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from switchyard_worker.graph.schema import schema_check_for
from switchyard_worker.schema_check import linear_validator

EVIL = "^(a+)+$"
ATTACK = "a" * 40 + "!"


def messages(validator: Any, value: Any) -> list[str]:
    return sorted(e.message for e in validator.iter_errors(value))


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_an_evil_pattern_answers_at_once_and_rightly() -> None:
    validator = linear_validator({"type": "string", "pattern": EVIL})
    errors, seconds = timed(lambda: messages(validator, ATTACK))
    assert errors == [f"{ATTACK!r} does not match {EVIL!r}"]
    assert seconds < 2, f"{seconds:.2f} s"
    assert messages(validator, "a" * 10_000) == []


def test_pattern_properties_and_additional_properties_use_the_same_engine() -> None:
    schema = {"type": "object", "patternProperties": {EVIL: {"type": "integer"}}, "additionalProperties": False}
    validator = linear_validator(schema)
    errors, seconds = timed(lambda: messages(validator, {ATTACK: 1, "aaaa": "x"}))
    assert errors == [f"{ATTACK!r} does not match any of the regexes: {EVIL!r}", "'x' is not of type 'integer'"]
    assert seconds < 2


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}, {"a": "x", "b": 1, "c": 2}),
        ({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": 1, "b": "x"}),
        ({"type": "object", "patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": 1, "y": 2}),
        ({"type": "string", "pattern": "^[a-z]+$"}, "Abc"),
        ({"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}}, {"OK": 1}),
    ],
)
def test_messages_are_jsonschemas_own(schema: dict[str, Any], value: Any) -> None:
    assert messages(linear_validator(schema), value) == messages(Draft202012Validator(schema), value)


def test_structured_model_output_is_checked_with_it_too() -> None:
    check = schema_check_for({"type": "object", "properties": {"name": {"type": "string", "pattern": EVIL}}})
    issues, seconds = timed(lambda: check({"name": ATTACK}))
    assert issues == [f"/name: {ATTACK!r} does not match {EVIL!r}"]
    assert seconds < 2

"""The resolved registry (spec/resolved-registry.schema.json) is the only registry this
worker reads: units, defaults and paths come resolved from the TypeScript side."""

import json
import os
import time
from pathlib import Path

import jsonschema
import pytest

from switchyard_worker.errors import SwitchyardError
from switchyard_worker.registry import load_registry, resolved_path
from tests.conftest import SPEC, pool, workflow, write_resolved


def test_a_resolved_registry_loads_with_its_units_already_resolved(tmp_path: Path) -> None:
    registry = write_resolved(
        tmp_path,
        [pool("py", runtime="python", memoryBytes=256 * 1024**2, timeoutMs=1500, env=str(tmp_path / "py.env"))],
        [workflow(tmp_path, "py.hello", "py", "graphs.py#hello", timeoutMs=900, output={"type": "object"})],
    )
    py = registry.pools["py"]
    assert (py.memory, py.timeout_ms, py.env, py.project) == (256 * 1024**2, 1500, tmp_path / "py.env", "py")
    hello = registry.workflows["py.hello"]
    assert (hello.module, hello.export, hello.timeout_ms, hello.output) == (tmp_path / "graphs.py", "hello", 900, {"type": "object"})
    assert registry.digest == "sha256:" + "ab" * 32


def test_the_written_form_matches_the_spec_schema(tmp_path: Path) -> None:
    write_resolved(tmp_path, [pool("py", runtime="python")], [workflow(tmp_path, "py.a", "py", "g.py#a")])
    data = json.loads(resolved_path(tmp_path / "switchyard.yaml").read_text())
    schema = json.loads((SPEC / "resolved-registry.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)


def test_an_unknown_format_is_refused_not_guessed(tmp_path: Path) -> None:
    write_resolved(tmp_path, [pool("py")], [])
    file = resolved_path(tmp_path / "switchyard.yaml")
    data = json.loads(file.read_text())
    # Formats 1 and 2 (before maxOutputBytes, secrets) from an older writer, and a future one.
    for other in (1, 2, 4):
        file.write_text(json.dumps({**data, "format": other}))
        with pytest.raises(SwitchyardError, match=f"format {other} is not 3"):
            load_registry(file)
    file.write_text(json.dumps({**data, "format": 4}))
    with pytest.raises(SwitchyardError, match="format 4 is not 3") as caught:
        load_registry(file)
    assert caught.value.code == "REGISTRY_INVALID"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memoryBytes", "1kb", "memoryBytes has the wrong type"),
        ("maxOutputBytes", "1mb", "maxOutputBytes has the wrong type"),
        ("timeoutMs", "2m", "timeoutMs has the wrong type"),
        ("concurrency", True, "concurrency"),
    ],
)
def test_unresolved_values_are_refused(tmp_path: Path, field: str, value: object, message: str) -> None:
    with pytest.raises(SwitchyardError, match=message):
        write_resolved(tmp_path, [pool("py", **{field: value})], [])


def test_the_yaml_itself_is_never_parsed(tmp_path: Path) -> None:
    (tmp_path / "switchyard.yaml").write_text("version: 1\npools: { py: { runtime: python, memory: 1kb } }\n")
    with pytest.raises(SwitchyardError, match="run `switchyard check`"):
        load_registry(tmp_path / "switchyard.yaml")


def test_a_resolved_form_older_than_its_registry_file_is_stale(tmp_path: Path) -> None:
    write_resolved(tmp_path, [pool("py")], [])
    later = time.time() + 5
    os.utime(tmp_path / "switchyard.yaml", (later, later))
    with pytest.raises(SwitchyardError, match="run `switchyard check` again"):
        load_registry(tmp_path / "switchyard.yaml")

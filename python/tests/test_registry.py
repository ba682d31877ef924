"""The resolved registry (spec/resolved-registry.schema.json) is the only registry this
worker reads: units, defaults and paths come resolved from the TypeScript side."""

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from switchyard_worker.__main__ import main
from switchyard_worker.errors import SwitchyardError
from switchyard_worker.registry import load_registry, resolved_path
from tests.conftest import SPEC, pool, sha256_of, workflow, write_resolved


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


def _refusal(tmp_path: Path, pools: list[dict[str, Any]], workflows: list[dict[str, Any]]) -> str:
    with pytest.raises(SwitchyardError) as caught:
        write_resolved(tmp_path, pools, workflows)
    assert caught.value.code == "REGISTRY_INVALID"
    assert str(resolved_path(tmp_path / "switchyard.yaml")) in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # What spec/resolved-registry.schema.json states, each named by its path.
        ({"memoryBytes": 64 * 1024**2 - 1}, "pools.py.memoryBytes is 67108863, below the minimum 67108864"),
        ({"maxOutputBytes": 1023}, "pools.py.maxOutputBytes is 1023, below the minimum 1024"),
        ({"maxOutputBytes": 64 * 1024**2 + 1}, "pools.py.maxOutputBytes is 67108865, above the maximum 67108864"),
        ({"concurrency": 0}, "pools.py.concurrency is 0, below the minimum 1"),
        ({"runtime": "ruby"}, "pools.py.runtime must be one of node, python, got 'ruby'"),
        ({"tracing": {"project": "py", "sampleRate": 1, "capture": "all", "redact": []}}, "pools.py.tracing.capture must be one of full, redacted, none"),
        ({"tracing": {"project": "py", "sampleRate": 2, "capture": "full", "redact": []}}, "pools.py.tracing.sampleRate is 2, above the maximum 1"),
        ({"secrets": ["A", 1]}, "pools.py.secrets.1 has the wrong type: 1"),
        ({"priority": 3}, "pools.py has unknown keys 'priority'"),
    ],
)
def test_a_value_the_schema_refuses_is_named_by_its_path(tmp_path: Path, fields: dict[str, Any], message: str) -> None:
    assert message in _refusal(tmp_path, [pool("py", **fields)], [])


def test_a_missing_field_is_named_with_where_it_is_missing(tmp_path: Path) -> None:
    incomplete = pool("py")
    del incomplete["tracing"]
    assert "pools.py has no 'tracing' (is this a resolved registry? run `switchyard check`)" in _refusal(tmp_path, [incomplete], [])


def test_a_pool_written_before_user_existed_still_loads(tmp_path: Path) -> None:
    """`user:` joined format 3 without a bump: only `switchyard start` acts on it."""
    older = pool("py")
    del older["user"]
    assert "py" in write_resolved(tmp_path, [older], []).pools


def test_every_problem_is_reported_at_once_in_path_order(tmp_path: Path) -> None:
    message = _refusal(
        tmp_path,
        [pool("py", retries=-1, concurrency=0)],
        [workflow(tmp_path, "py.a", "py", "g.py#a", timeoutMs=0)],
    )
    concurrency, retries, timeout = (message.index(part) for part in ("pools.py.concurrency", "pools.py.retries", "workflows.py.a.timeoutMs"))
    assert concurrency < retries < timeout


def test_what_no_schema_states_is_checked_by_hand(tmp_path: Path) -> None:
    # A workflow's pool must exist, and each entry sits under its own name.
    assert "workflows.py.a.pool names no pool: 'gone'" in _refusal(tmp_path, [pool("py")], [workflow(tmp_path, "py.a", "gone", "g.py#a")])
    write_resolved(tmp_path, [pool("py")], [])
    file = resolved_path(tmp_path / "switchyard.yaml")
    data = json.loads(file.read_text())
    data["pools"]["py"]["name"] = "other"
    file.write_text(json.dumps(data))
    with pytest.raises(SwitchyardError, match=re.escape("pools.py.name is 'other', not the name it is filed under")):
        load_registry(file)


def test_a_resolved_registry_that_is_no_object_or_no_json_is_refused(tmp_path: Path) -> None:
    write_resolved(tmp_path, [pool("py")], [])
    file = resolved_path(tmp_path / "switchyard.yaml")
    for text, message in (("[1, 2]", "a resolved registry is a JSON object"), ("{", "not JSON"), ('{"format": 3}', "registry has no 'source'")):
        file.write_text(text)
        with pytest.raises(SwitchyardError, match=re.escape(message)):
            load_registry(file)


def test_a_resolved_registry_is_read_only_while_it_hashes_to_the_digest_it_was_written_with(tmp_path: Path) -> None:
    write_resolved(tmp_path, [pool("py", runtime="python")], [workflow(tmp_path, "py.a", "py", "g.py#a")])
    file = resolved_path(tmp_path / "switchyard.yaml")
    digest = sha256_of(file)
    assert load_registry(file, sha256=digest).workflows["py.a"].module == tmp_path / "g.py"
    assert load_registry(file, sha256=digest.removeprefix("sha256:")).workflows["py.a"].module == tmp_path / "g.py"
    # Someone who may write .switchyard/ (not switchyard.yaml) points the workflow at a module of theirs.
    data = json.loads(file.read_text())
    data["workflows"]["py.a"]["graph"] = {"ref": "../evil.py#a", "module": str(tmp_path.parent / "evil.py"), "export": "a"}
    file.write_text(json.dumps(data))
    with pytest.raises(SwitchyardError) as refused:
        load_registry(file, sha256=digest)
    assert refused.value.code == "REGISTRY_INVALID"
    assert f"not the {digest} it was written with" in refused.value.message


def test_the_worker_refuses_a_resolved_registry_without_its_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_resolved(tmp_path, [pool("py", runtime="python")], [workflow(tmp_path, "py.a", "py", "g.py#a")])
    file = resolved_path(tmp_path / "switchyard.yaml")
    monkeypatch.delenv("SWITCHYARD_REGISTRY_SHA256", raising=False)
    assert main(["--registry", str(file), "--pool", "py", "--ipc"]) == 2
    assert "CONFIG_INVALID: no --registry-sha256 (SWITCHYARD_REGISTRY_SHA256)" in capsys.readouterr().err
    file.write_text(file.read_text().replace('"g.py#a"', '"h.py#a"'))
    assert main(["--registry", str(file), "--registry-sha256", "sha256:" + "0" * 64, "--pool", "py", "--ipc"]) == 2
    assert "REGISTRY_INVALID" in capsys.readouterr().err

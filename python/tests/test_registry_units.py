"""spec/vectors/registry-units.json from the resolved side.

The Python worker parses no units: `2m`, `512kb`, `64mb` are resolved by the TypeScript
control plane (test/control/registry/registry-units.test.ts runs the same vectors there).
What is left to agree on is the resolved form: that this worker reads the values
TypeScript resolves to, refuses the values TypeScript refuses (the 64 MiB heap floor,
maxOutput's 1 KiB to 64 MiB), and defaults as TypeScript does.
"""

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from switchyard_worker.errors import SwitchyardError
from switchyard_worker.registry import Pool
from tests.conftest import SPEC, pool, workflow, write_resolved

VECTORS: dict[str, Any] = json.loads((SPEC / "vectors" / "registry-units.json").read_text(encoding="utf-8"))


def cases(group: str) -> list[Any]:
    return [pytest.param(case, id=case["text"] or "(empty)") for case in VECTORS[group]["cases"]]


@pytest.mark.parametrize("case", [c for c in cases("durations") if c.values[0]["ms"] is not None])
def test_a_resolved_duration_is_read_as_written(tmp_path: Path, case: dict[str, Any]) -> None:
    registry = write_resolved(tmp_path, [pool("py", timeoutMs=case["ms"])], [workflow(tmp_path, "py.a", "py", "g.py#a", timeoutMs=case["ms"])])
    assert (registry.pools["py"].timeout_ms, registry.workflows["py.a"].timeout_ms) == (case["ms"], case["ms"])


@pytest.mark.parametrize("case", cases("timeout"))
def test_timeout_resolved_by_typescript_is_read_and_what_it_refuses_is_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    if case["resolved"] is not None:
        registry = write_resolved(tmp_path, [pool("py", timeoutMs=case["resolved"])], [workflow(tmp_path, "py.a", "py", "g.py#a", timeoutMs=case["resolved"])])
        assert (registry.pools["py"].timeout_ms, registry.workflows["py.a"].timeout_ms) == (case["resolved"], case["resolved"])
        return
    # Past 2^31 - 1 ms: had a writer resolved it anyway, this worker would not take it, for a pool or a workflow.
    with pytest.raises(SwitchyardError, match=re.escape(f"pools.py.timeoutMs is {case['ms']}, above the maximum {2**31 - 1}")):
        write_resolved(tmp_path, [pool("py", timeoutMs=case["ms"])], [])
    with pytest.raises(SwitchyardError, match=re.escape(f"workflows.py.a.timeoutMs is {case['ms']}, above the maximum {2**31 - 1}")):
        write_resolved(tmp_path, [pool("py")], [workflow(tmp_path, "py.a", "py", "g.py#a", timeoutMs=case["ms"])])


@pytest.mark.parametrize("case", cases("memory"))
def test_memory_resolved_by_typescript_is_read_and_what_it_refuses_is_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    if case["resolved"] is not None:
        assert write_resolved(tmp_path, [pool("py", memoryBytes=case["resolved"])], []).pools["py"].memory == case["resolved"]
    elif case["bytes"] is not None:
        # A size under the floor: had a writer resolved it anyway, this worker would not take it.
        with pytest.raises(SwitchyardError, match=re.escape(f"pools.py.memoryBytes is {case['bytes']}, below the minimum {64 * 1024**2}")):
            write_resolved(tmp_path, [pool("py", memoryBytes=case["bytes"])], [])
    else:
        # No size at all: only its text exists, and text is no resolved value.
        with pytest.raises(SwitchyardError, match=re.escape("pools.py.memoryBytes has the wrong type")):
            write_resolved(tmp_path, [pool("py", memoryBytes=case["text"])], [])


@pytest.mark.parametrize("case", [pytest.param(case, id=json.dumps(case["value"])) for case in VECTORS["cpu"]["cases"]])
def test_cpu_resolved_by_typescript_is_accepted_and_what_it_refuses_is_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    # `switchyard start` applies cpuCores; a worker never acts on it, but takes the same resolved range.
    if case["resolved"] is not None:
        write_resolved(tmp_path, [pool("py", cpuCores=case["resolved"])], [])
    elif isinstance(case["value"], (int, float)):
        bound = "below the minimum 0.01" if case["value"] < 0.01 else "above the maximum 1024"
        with pytest.raises(SwitchyardError, match=re.escape(f"pools.py.cpuCores is {case['value']}, {bound}")):
            write_resolved(tmp_path, [pool("py", cpuCores=case["value"])], [])
    else:
        with pytest.raises(SwitchyardError, match=re.escape("pools.py.cpuCores has the wrong type")):
            write_resolved(tmp_path, [pool("py", cpuCores=case["value"])], [])


@pytest.mark.parametrize("case", cases("maxOutput"))
def test_max_output_resolved_by_typescript_is_read_and_what_it_refuses_is_refused(tmp_path: Path, case: dict[str, Any]) -> None:
    if case["resolved"] is not None:
        assert write_resolved(tmp_path, [pool("py", maxOutputBytes=case["resolved"])], []).pools["py"].max_output == case["resolved"]
    elif case["bytes"] is not None:
        bound = "below the minimum 1024" if case["bytes"] < 1024 else f"above the maximum {64 * 1024**2}"
        with pytest.raises(SwitchyardError, match=re.escape(f"pools.py.maxOutputBytes is {case['bytes']}, {bound}")):
            write_resolved(tmp_path, [pool("py", maxOutputBytes=case["bytes"])], [])
    else:
        with pytest.raises(SwitchyardError, match=re.escape("pools.py.maxOutputBytes has the wrong type")):
            write_resolved(tmp_path, [pool("py", maxOutputBytes=case["text"])], [])


def test_the_defaults_typescript_resolves_are_the_ones_this_worker_assumes(tmp_path: Path) -> None:
    defaults = VECTORS["defaults"]
    # The resolved pool of `pools: { p: {} }`, as the tests here build one (conftest.pool).
    assert pool("p") == defaults["pool"]
    overrides = {key: value for key, value in defaults["workflow"].items() if key not in ("name", "pool")}
    registry = write_resolved(tmp_path, [defaults["pool"]], [workflow(tmp_path, "p.w", "p", "graph.ts", **overrides)])
    read = registry.pools["p"]
    expected = defaults["pool"]
    assert (read.runtime, read.concurrency, read.processes, read.timeout_ms, read.retries, read.max_queued) == (
        expected["runtime"], expected["concurrency"], expected["processes"], expected["timeoutMs"], expected["retries"], expected["maxQueued"],
    )
    assert (read.memory, read.max_output, read.env, read.redis, read.secrets) == (None, expected["maxOutputBytes"], None, None, ())
    assert (read.project, read.capture, read.redact) == ("p", "full", ())
    assert (registry.workflows["p.w"].timeout_ms, registry.workflows["p.w"].prompt, registry.workflows["p.w"].output) == (60_000, None, None)
    # Where Pool itself has defaults (a Pool built in code), they are TypeScript's too.
    declared = {f.name: f.default for f in fields(Pool)}
    assert (declared["max_output"], declared["capture"], declared["redact"], declared["secrets"]) == (expected["maxOutputBytes"], "full", (), ())

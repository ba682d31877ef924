"""spec/vectors/redaction.json (the same file test/observe/capture/redaction-vectors.test.ts
runs), and the places a pool's secrets could leave a Python worker: its spans, its log
lines and a run's error (the caller's 502 body)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from switchyard_worker.capture import MASK, ScrubbingLogFilter, redact_text, redact_value, secret_names, secret_scrubber
from switchyard_worker.runner import PoolRunner
from switchyard_worker.tracing import init_tracing

from .conftest import pool, workflow, write_resolved

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "spec" / "vectors" / "redaction.json").read_text(encoding="utf-8"))
SECRET = "sk-live-4f9c2a7e1b"


def test_the_masks_are_the_vectors_masks() -> None:
    assert MASK == VECTORS["masks"]


@pytest.mark.parametrize("case", VECTORS["text"], ids=lambda c: c["description"])
def test_text(case: dict[str, str]) -> None:
    assert redact_text(case["in"]) == case["out"]


@pytest.mark.parametrize("case", VECTORS["value"], ids=lambda c: c["description"])
def test_value(case: dict[str, Any]) -> None:
    assert redact_value(case["in"], case["keys"]) == case["out"]


def test_which_env_variables_are_secrets() -> None:
    assert secret_names(VECTORS["secrets"]["env"], VECTORS["secrets"]["names"]) == VECTORS["secrets"]["secret"]


@pytest.mark.parametrize("case", VECTORS["secrets"]["text"], ids=lambda c: c["description"])
def test_secrets(case: dict[str, str]) -> None:
    assert secret_scrubber(VECTORS["secrets"]["env"], VECTORS["secrets"]["names"])(case["in"]) == case["out"]


def test_an_evil_string_is_redacted_in_linear_time() -> None:
    # Long runs that almost match (digits with too many separators, an @ far from anything) stay cheap.
    import time

    text = ("1 2 3 4 5 6 " * 20_000) + ("x" * 200_000) + "@" + ("y" * 200_000)
    started = time.perf_counter()
    redact_text(text)
    assert time.perf_counter() - started < 5


def test_the_log_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    scrub = secret_scrubber({"OPENAI_API_KEY": SECRET})
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(ScrubbingLogFilter(scrub))
    logger = logging.getLogger("test-capture-scrub")
    logger.addHandler(handler)
    try:
        logger.warning("key %s", SECRET)
        try:
            raise RuntimeError(f"401 Incorrect API key provided: {SECRET}")
        except RuntimeError:
            logger.exception("call failed, mail ada@example.com")
    finally:
        logger.removeHandler(handler)
    assert SECRET not in "\n".join(records)
    assert records[0] == "key [secret]"
    assert "401 Incorrect API key provided: [secret]" in records[1]
    assert "ada@example.com" in records[1], "capture full: only secrets are scrubbed"


def test_spans_leave_scrubbed_in_every_mode_and_masked_unless_full() -> None:
    scrub = secret_scrubber({"OPENAI_API_KEY": SECRET})
    for capture in ("full", "redacted", "none"):
        exporter = InMemorySpanExporter()
        provider = init_tracing("p", "p", {}, install=False, scrub=scrub, capture=capture, exporter=exporter)
        assert provider is not None
        span = provider.get_tracer("t").start_span("node x", attributes={"leak": f"key={SECRET}", "run": "9f1c2b3a-0e4d-1234567"})
        span.record_exception(RuntimeError(f"bad key {SECRET} for ada@example.com"))
        span.set_status(Status(StatusCode.ERROR, f"bad key {SECRET}, call 0664 1234567"))
        span.end()
        provider.shutdown()
        [out] = exporter.get_finished_spans()
        shipped = json.dumps([dict(out.attributes or {}), [dict(e.attributes or {}) for e in out.events], out.status.description])
        assert SECRET not in shipped and "[secret]" in shipped, capture
        assert ("ada@example.com" in shipped) == (capture == "full"), capture
        assert ("0664 1234567" in shipped) == (capture == "full"), capture


def _runner(tmp_path: Path, capture: str, monkeypatch: pytest.MonkeyPatch) -> PoolRunner:
    (tmp_path / "graphs.py").write_text(
        "import os\n"
        "def leak(input, run):\n"
        "    run.log.warning('calling with %s for %s', os.environ['PROVIDER_API_KEY'], input['email'])\n"
        "    raise RuntimeError(f\"401 Incorrect API key provided: {os.environ['PROVIDER_API_KEY']} (user {input['email']})\")\n"
    )
    monkeypatch.setenv("PROVIDER_API_KEY", SECRET)
    monkeypatch.setenv("WEBHOOK", "whsec-listed-by-name")
    pools = [pool("py", runtime="python", retries=0, secrets=["WEBHOOK"],
                  tracing={"project": "py", "sampleRate": 1, "capture": capture, "redact": []})]
    return PoolRunner(write_resolved(tmp_path, pools, [workflow(tmp_path, "py.leak", "py", "graphs.py#leak")]), "py", None)


@pytest.mark.parametrize("capture", ["full", "redacted", "none"])
def test_a_run_error_and_the_graph_log_carry_no_secret(tmp_path: Path, capture: str, monkeypatch: pytest.MonkeyPatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from .test_runner import envelope

    runner = _runner(tmp_path, capture, monkeypatch)
    assert runner.scrub("whsec-listed-by-name") == "[secret]"
    with caplog.at_level(logging.INFO):
        for handler in logging.getLogger().handlers:
            handler.addFilter(ScrubbingLogFilter(runner.scrub))
        try:
            outcome = asyncio.run(runner.handle(envelope("py.leak", {"email": "ada@example.com"}, key=None), 1))
            logged = "\n".join(caplog.messages)
        finally:
            for handler in logging.getLogger().handlers:
                handler.filters = [f for f in handler.filters if not isinstance(f, ScrubbingLogFilter)]
    assert not outcome.ok and outcome.code == "GRAPH_FAILED"
    message = outcome.message
    assert message.startswith("401 Incorrect API key provided: [secret]")
    assert SECRET not in message and SECRET not in logged
    assert ("ada@example.com" in message) == (capture == "full")
    assert ("ada@example.com" in logged) == (capture == "full")

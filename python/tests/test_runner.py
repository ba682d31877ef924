"""The pool runner without a queue: admission rules, graph loading, deadlines, the
CONSUMER span (a real OTel SDK with an in-memory exporter)."""

import asyncio
import textwrap
import time
from datetime import UTC, datetime

import pytest
from opentelemetry.trace import SpanKind

from switchyard_worker.runner import PoolRunner
from tests.conftest import EXPORTER, VERIFY_KEYS, pool, sign, workflow, write_resolved

KEY = VERIFY_KEYS
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
exporter = EXPORTER


@pytest.fixture()
def registry(tmp_path):
    (tmp_path / "graphs.py").write_text(textwrap.dedent('''
        import asyncio, time
        from switchyard_worker import SwitchyardError

        def echo(input, run):
            return {"input": input, "attempt": run.attempt, "prompt": run.prompt.text if run.prompt else None}

        async def slow(input, run):
            await asyncio.sleep(5)

        def polite(input, run):
            while not run.cancelled.wait(0.01):
                pass
            open(input["marker"], "w").close()

        def shaped(input, run):
            return {"answer": "yes"} if input.get("ok") else {"attempt": run.attempt, "echo": {"name": "Ada"}}

        def fatal(input, run):
            raise SwitchyardError("LEAD_UNKNOWN", "no such lead", retryable=False)

        def boom(input, run):
            raise ValueError("boom")

        def not_json(input, run):
            return {"when": object()}

        def sized(input, run):
            return {"text": input.get("char", "x") * input["n"]}

        def nothing(input, run):
            return None

        def factory(setup):
            greeting = "hi from " + setup.workflow
            return lambda input, run: {"greeting": greeting}

        class Graph:
            async def ainvoke(self, input, config):
                return {"run": config["configurable"]["run"].run_id}

        def langgraph_like(setup):
            return Graph()
    '''))
    (tmp_path / "broken.py").write_text("raise RuntimeError('import-time failure')\n")
    (tmp_path / "prompt.md").write_text("Be brief.")
    workflows = {
        "py.echo": "graphs.py#echo", "py.slow": "graphs.py#slow", "py.polite": "graphs.py#polite", "py.fatal": "graphs.py#fatal",
        "py.boom": "graphs.py#boom", "py.notjson": "graphs.py#not_json", "py.factory": "graphs.py#factory",
        "py.lg": "graphs.py#langgraph_like", "py.shaped": "graphs.py#shaped", "py.broken": "broken.py#graph", "py.missing": "graphs.py#nope",
        "py.sized": "graphs.py#sized", "py.nothing": "graphs.py#nothing",
    }
    shaped = {"type": "object", "required": ["answer"], "additionalProperties": False,
              "properties": {"answer": {"type": "string"}, "attempt": {"type": "string"}}}
    flows = []
    for name, ref in workflows.items():
        extra: dict[str, object] = {"timeoutMs": 300} if name in ("py.slow", "py.polite") else {"timeoutMs": 2000}
        if name == "py.echo":
            extra["prompt"] = str(tmp_path / "prompt.md")
        if name == "py.shaped":
            extra["output"] = shaped
        if name == "py.nothing":
            extra["output"] = {"type": "object"}
        flows.append(workflow(tmp_path, name, "py", ref, **extra))
    flows.append(workflow(tmp_path, "email.compose", "email", "graphs.py#echo", timeoutMs=2000))
    pools = [pool("py", runtime="python", timeoutMs=2000, maxOutputBytes=64 * 1024,
                  tracing={"project": "proj-py", "sampleRate": 1, "capture": "full", "redact": []}),
             pool("email", timeoutMs=2000)]
    return write_resolved(tmp_path, pools, flows)


def envelope(workflow, input=None, *, pool="py", deadline_in=10.0, sampled="01", key="current", attempt=1):
    deadline = datetime.fromtimestamp(time.time() + deadline_in, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raw = {
        "v": 1, "runId": f"r-{workflow.replace('.', '-')}", "workflow": workflow, "pool": pool,
        "graph": "graphs.py#x", "input": input if input is not None else {"n": 1},
        "registry": "sha256:" + "ab" * 32, "deadline": deadline, "attempt": attempt, "maxAttempts": 3,
        "trace": {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-{sampled}", "tracestate": "", "baggage": ""},
        "idempotencyKey": None, "sig": "",
    }
    return sign(raw, key) if key else raw


def handle(registry, raw, attempt=1, key=KEY):
    return asyncio.run(PoolRunner(registry, "py", key).handle(raw, attempt))


def test_a_run_returns_its_output_inside_a_consumer_span_continuing_the_callers_trace(registry):
    exporter.clear()
    outcome = handle(registry, envelope("py.echo"))
    assert outcome.ok and outcome.output == {"input": {"n": 1}, "attempt": 1, "prompt": "Be brief."}
    [span] = exporter.get_finished_spans()
    assert span.name == "run py.echo" and span.kind == SpanKind.CONSUMER
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert span.parent is not None and format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    attributes = dict(span.attributes or {})
    assert attributes["switchyard.pool"] == "py" and attributes["switchyard.project"] == "proj-py"
    assert attributes["switchyard.run_id"] == "r-py-echo" and attributes["switchyard.attempt"] == 1
    assert str(attributes["switchyard.prompt.hash"]).startswith("sha256:")


def test_an_unsampled_run_leaves_no_span(registry):
    exporter.clear()
    assert handle(registry, envelope("py.echo", sampled="00")).ok
    assert exporter.get_finished_spans() == ()


def test_factories_and_langgraph_style_runnables(registry):
    assert handle(registry, envelope("py.factory")).output == {"greeting": "hi from py.factory"}
    assert handle(registry, envelope("py.lg")).output == {"run": "r-py-lg"}


@pytest.mark.parametrize(
    "raw, key, code, message",
    [
        (lambda: envelope("py.echo", key=None), KEY, "INVALID_ENVELOPE",
         "invalid envelope: missing signature (sig is empty and this worker verifies signatures: SWITCHYARD_VERIFY_KEYS is set)"),
        (lambda: {**envelope("py.echo"), "input": {"n": 2}}, KEY, "INVALID_ENVELOPE",
         "invalid envelope: signature does not match (the envelope was altered, or not signed by key 731cb553c3f0bae3)"),
        (lambda: envelope("py.echo", key="outsider"), KEY, "INVALID_ENVELOPE",
         "invalid envelope: signed by key 934127cd5f06ad85, which is not one of this worker's verify keys "
         "(SWITCHYARD_VERIFY_KEYS lists 731cb553c3f0bae3, 4968841e4971bcca)"),
        (lambda: envelope("email.compose", pool="email"), KEY, "INVALID_ENVELOPE",
         "invalid envelope: it is for pool 'email'; this worker serves pool 'py'"),
        (lambda: envelope("email.compose"), KEY, "INVALID_ENVELOPE",
         "invalid envelope: workflow 'email.compose' belongs to pool 'email'; this worker serves pool 'py'"),
        (lambda: envelope("py.nowhere"), KEY, "INVALID_ENVELOPE",
         "invalid envelope: workflow 'py.nowhere' is not in this worker's registry; this worker serves pool 'py'"),
    ],
    ids=["unsigned", "tampered", "another key", "other pool", "workflow of another pool", "unknown workflow"],
)
def test_refusals_are_not_retryable(registry, raw, key, code, message):
    outcome = handle(registry, raw(), key=key)
    assert (outcome.ok, outcome.code, outcome.message, outcome.retryable) == (False, code, message, False)


def test_unsigned_envelopes_run_when_no_key_is_set(registry):
    assert handle(registry, envelope("py.echo", key=None), key=None).ok


def test_the_signed_deadline_wins_on_every_attempt(registry):
    # Issue 12.4: a retry, or a job whose attempt counter was reset in the broker, gets no fresh budget.
    late = envelope("py.echo", deadline_in=-1)
    first = handle(registry, late, attempt=1)
    assert (first.code, first.retryable) == ("DEADLINE_EXCEEDED", False)
    assert first.message.startswith("run r-py-echo reached the worker after its deadline ")
    for attempt in (2, 3):
        retry = handle(registry, late, attempt=attempt)
        assert (retry.ok, retry.code, retry.retryable) == (False, "DEADLINE_EXCEEDED", False)
        assert retry.message.startswith(f"attempt {attempt} of run r-py-echo (a retry) reached the worker after its deadline ")


def test_failures_keep_their_code_and_retryability(registry):
    slow = handle(registry, envelope("py.slow", deadline_in=0.3))
    assert (slow.code, slow.retryable) == ("DEADLINE_EXCEEDED", True)
    assert "run r-py-slow of 'py.slow' did not finish by its deadline" in slow.message
    fatal = handle(registry, envelope("py.fatal"))
    assert (fatal.code, fatal.message, fatal.retryable) == ("LEAD_UNKNOWN", "no such lead", False)
    boom = handle(registry, envelope("py.boom"))
    assert (boom.code, boom.message, boom.retryable) == ("GRAPH_FAILED", "boom", True)
    bad = handle(registry, envelope("py.notjson"))
    assert (bad.code, bad.retryable) == ("GRAPH_FAILED", False)
    assert bad.message.startswith("workflow 'py.notjson' returned an output that is not JSON: ")


def test_a_sync_graph_is_told_its_run_was_cancelled_at_the_deadline(registry, tmp_path):
    marker = tmp_path / "stopped"
    outcome = handle(registry, envelope("py.polite", {"marker": str(marker)}, deadline_in=0.2))
    assert (outcome.code, outcome.retryable) == ("DEADLINE_EXCEEDED", True)
    for _ in range(200):  # the thread notices within a poll or two
        if marker.exists():
            break
        time.sleep(0.01)
    assert marker.exists()


def test_an_output_that_does_not_match_its_schema_fails_without_retry_naming_the_paths(registry):
    assert handle(registry, envelope("py.shaped", {"ok": True})).output == {"answer": "yes"}
    bad = handle(registry, envelope("py.shaped", {}))
    assert (bad.code, bad.retryable) == ("OUTPUT_INVALID", False)
    assert bad.message == (
        "workflow 'py.shaped' returned an output that does not match its output schema: "
        "/: 'answer' is a required property; "
        "/: Additional properties are not allowed ('echo' was unexpected); "
        "/attempt: 1 is not of type 'string'"
    )


def test_an_output_past_the_pools_max_output_fails_as_output_too_large_counting_utf8_bytes(registry):
    fits = handle(registry, envelope("py.sized", {"n": 64 * 1024 - 20}))
    assert fits.ok, fits.message
    for input, size in [({"n": 5 * 1024 * 1024}, 5 * 1024 * 1024 + 11), ({"n": 40_000, "char": "ü"}, 80_011)]:
        big = handle(registry, envelope("py.sized", input))
        assert (big.ok, big.code, big.retryable) == (False, "OUTPUT_TOO_LARGE", False)
        assert big.message == f"workflow 'py.sized' returned {size} bytes of JSON; pool 'py' allows at most 65536 (maxOutput)"


def test_none_where_the_output_schema_requires_an_object_is_output_invalid(registry):
    nothing = handle(registry, envelope("py.nothing"))
    assert (nothing.code, nothing.retryable) == ("OUTPUT_INVALID", False)
    assert nothing.message.endswith("/: None is not of type 'object'")


def test_a_graph_that_cannot_load_fails_only_its_workflow(registry):
    runner = PoolRunner(registry, "py", KEY)

    async def three():
        return [await runner.handle(envelope(w), 1) for w in ("py.broken", "py.missing", "py.echo")]

    broken, missing, echo = asyncio.run(three())
    assert (broken.code, broken.retryable) == ("GRAPH_LOAD_FAILED", False)
    assert broken.message == "workflow 'py.broken': graph broken.py#graph failed to load: import-time failure"
    assert missing.message == "workflow 'py.missing': graph graphs.py#nope failed to load: the module has no function 'nope'"
    assert echo.ok


def test_a_node_pool_is_not_served(registry):
    with pytest.raises(Exception, match="pool 'email' has runtime node: the python worker does not serve it"):
        PoolRunner(registry, "email", None)


def test_an_envelope_queued_under_another_run_id_is_a_replay_and_refused(registry):
    # Issue 12.4: a genuine envelope re-queued under a new job id is not run again.
    genuine = envelope("py.echo")
    assert asyncio.run(PoolRunner(registry, "py", KEY).handle(genuine, 1, "r-py-echo")).ok
    replay = asyncio.run(PoolRunner(registry, "py", KEY).handle(genuine, 1, "another-job-id"))
    assert (replay.ok, replay.code, replay.retryable) == (False, "INVALID_ENVELOPE", False)
    assert "signed for run r-py-echo but queued as another-job-id (a replay)" in replay.message

"""W3C Trace Context Level 2 in the Python worker: the grammar cases of the W3C's own test
suite (w3c/trace-context test/test.py, strict level 2), and the random flag carried from
the envelope through the SDK's spans to what a graph sends on."""

import asyncio
import textwrap

import pytest
from opentelemetry.sdk.trace import TracerProvider

from switchyard_worker.runner import PoolRunner
from switchyard_worker.trace_context import PROPAGATOR, W3CTraceState, parse_traceparent, parse_tracestate
from tests.conftest import pool, workflow, write_resolved

TRACE = "12345678901234567890123456789012"
PARENT = "1234567890123456"


@pytest.mark.parametrize(
    "value",
    [
        f"00-{TRACE}-{PARENT}-01.", f"00-{TRACE}-{PARENT}-01-what-the-future-will-be-like",
        f"cc-{TRACE}-{PARENT}-01.what-the-future-will-be-like", f"ff-{TRACE}-{PARENT}-01", f".0-{TRACE}-{PARENT}-01",
        f"0.-{TRACE}-{PARENT}-01", f"000-{TRACE}-{PARENT}-01", f"0-{TRACE}-{PARENT}-01", f"00-{'0' * 32}-{PARENT}-01",
        f"00-.2345678901234567890123456789012-{PARENT}-01", f"00-{TRACE}3-{PARENT}-01", f"00-{TRACE[:-1]}-{PARENT}-01",
        f"00-{TRACE}-{'0' * 16}-01", f"00-{TRACE}-.234567890123456-01", f"00-{TRACE}-{PARENT}7-01", f"00-{TRACE}-{PARENT[:-1]}-01",
        f"00-{TRACE}-{PARENT}-.0", f"00-{TRACE}-{PARENT}-001", f"00-{TRACE}-{PARENT}-1", "",
    ],
)
def test_traceparents_that_restart_the_trace(value):
    assert parse_traceparent(value) is None


@pytest.mark.parametrize(
    "value",
    [f"00-{TRACE}-{PARENT}-01", f"cc-{TRACE}-{PARENT}-01", f"cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like", f"\t 00-{TRACE}-{PARENT}-01 \t"],
)
def test_traceparents_that_continue_it(value):
    assert parse_traceparent(value) == (TRACE, PARENT, 1)


def test_tracestate_members_by_level_2_grammar():
    assert parse_tracestate(["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]) == [("foo", "1"), ("bar", "2"), ("rojo", "1"), ("congo", "2"), ("baz", "3")]
    assert parse_tracestate(["foo=1 \t , \t bar=2, \t baz=3"]) == [("foo", "1"), ("bar", "2"), ("baz", "3")]
    assert parse_tracestate(["", "foo=1"]) == [("foo", "1")]
    for key in ["foo@", "foo@@bar", "foo@bar@baz", "tenant@vendor", "1vendor", "z" * 256, "t" * 242 + "@v", "t@" + "v" * 15]:
        assert parse_tracestate([f"{key}=1,bar=2"]) == [(key, "1"), ("bar", "2")], key
    value = "".join(chr(c) for r in [(0x20, 0x2B), (0x2D, 0x3C), (0x3E, 0x7E)] for c in range(r[0], r[1] + 1))
    assert parse_tracestate([f"abc={value}"]) == [("abc", value)]
    assert parse_tracestate(["foo=1,foo=2"]) == [("foo", "1")]


@pytest.mark.parametrize("header", ["foo =1", "FOO=1", "foo.bar=1", "@foo=1,bar=2", "foo=bar=baz", "foo=,bar=3", "z" * 257 + "=1", "foo=" + "x" * 257])
def test_one_invalid_member_discards_the_whole_tracestate(header):
    assert parse_tracestate(["ok=1", header]) is None


def test_32_members_are_kept_33_discard_the_list():
    members = [f"bar{i:02}={i:02}" for i in range(1, 34)]
    assert len(parse_tracestate([",".join(members[:32])]) or []) == 32
    assert parse_tracestate([",".join(members)]) is None


def test_the_trace_state_mutates_as_the_spec_says():
    state = W3CTraceState(parse_tracestate(["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]))
    assert state.update("congo", "ucfJifl5GOE").to_header() == "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7"
    assert state.update("Congo", "x") is state
    full = W3CTraceState([(f"k{i}", str(i)) for i in range(32)]).update("new", "v")
    assert len(full) == 32 and full["new"] == "v" and "k31" not in full
    assert W3CTraceState([("foo@", "1")]).to_header() == "foo@=1"


def test_the_sdk_keeps_the_callers_random_flag_on_its_spans_and_what_is_sent_on():
    tracer = TracerProvider().get_tracer("test")
    for flags, expected in [("03", "03"), ("01", "01"), ("02", "02"), ("ff", "03")]:
        parent = PROPAGATOR.extract({"traceparent": f"00-{TRACE}-{PARENT}-{flags}", "tracestate": "foo@=1"})
        with tracer.start_as_current_span("run", context=parent):
            with tracer.start_as_current_span("node"):
                sent: dict[str, str] = {}
                PROPAGATOR.inject(sent)
        assert sent["traceparent"].startswith(f"00-{TRACE}-") and sent["traceparent"].endswith(f"-{expected}"), (flags, sent)
        assert sent["tracestate"] == "foo@=1"


def test_a_trace_started_here_is_marked_random():
    with TracerProvider().get_tracer("test").start_as_current_span("root"):
        sent: dict[str, str] = {}
        PROPAGATOR.inject(sent)
    assert sent["traceparent"].endswith("-03")


def test_the_worker_continues_the_envelopes_trace_with_its_random_flag(tmp_path):
    (tmp_path / "graphs.py").write_text(textwrap.dedent('''
        from switchyard_worker.trace_context import PROPAGATOR

        def send(input, run):
            headers = {}
            PROPAGATOR.inject(headers)
            return headers
    '''))
    registry = write_resolved(tmp_path, [pool("py", runtime="python")], [workflow(tmp_path, "py.send", "py", "graphs.py#send")])
    for flags in ["03", "02", "01"]:
        raw = {
            "v": 1, "runId": f"r-{flags}", "workflow": "py.send", "pool": "py", "graph": "graphs.py#send", "input": {},
            "registry": "sha256:" + "ab" * 32, "deadline": "2999-01-01T00:00:00.000Z", "attempt": 1, "maxAttempts": 1,
            "trace": {"traceparent": f"00-{TRACE}-{PARENT}-{flags}", "tracestate": "congo=t61rcWkgMzE", "baggage": ""},
            "idempotencyKey": None, "sig": "",
        }
        outcome = asyncio.run(PoolRunner(registry, "py", None).handle(raw, 1))
        assert outcome.ok, outcome.message
        assert outcome.output["traceparent"].startswith(f"00-{TRACE}-") and outcome.output["traceparent"].endswith(f"-{flags}")
        assert outcome.output["tracestate"] == "congo=t61rcWkgMzE"

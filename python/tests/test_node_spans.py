"""A LangGraph Python graph run by the worker: each node a span `node <name>` under the
run span (a subgraph's nodes under the node that holds it), each model call a `chat`
span under its node, through LangChain's public callbacks; nothing when unsampled."""

import asyncio
import json
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from switchyard_worker.registry import Registry
from switchyard_worker.runner import Outcome, PoolRunner
from tests.conftest import EXPORTER, SPEC, VERIFY_KEYS, pool, sign, workflow, write_resolved

KEY = VERIFY_KEYS
TRACE_ID = "5bf92f3577b34da6a3ce929d0e0e4736"

GRAPH = '''
from typing import TypedDict

from switchyard_worker.graph import run_of


class State(TypedDict, total=False):
    company: str
    summary: str
    score: int


def graph(setup):
    from langgraph.graph import END, START, StateGraph

    async def research(state, config):
        run = run_of(config)
        result = await run.model.generate([{"role": "user", "content": f"<answer>{state['company']} sells software</answer>"}], name="research")
        return {"summary": result.text}

    def score(state, config):
        run = run_of(config)
        schema = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
        result = run.model.generate_sync([{"role": "user", "content": "score: 7"}], schema=schema)
        return {"score": result.object["score"]}

    def polish(state):
        return {"summary": state["summary"].upper()}

    inner = StateGraph(State)
    inner.add_node("polish", polish)
    inner.add_edge(START, "polish")
    inner.add_edge("polish", END)

    def fail(state):
        if state["company"] == "Boom":
            raise ValueError("no such company")
        return {}

    builder = StateGraph(State)
    builder.add_node("research", research)
    builder.add_node("score", score)
    builder.add_node("finish", inner.compile())
    builder.add_node("check", fail)
    builder.add_edge(START, "check")
    builder.add_edge("check", "research")
    builder.add_edge("research", "score")
    builder.add_edge("score", "finish")
    builder.add_edge("finish", END)
    return builder.compile()
'''


@pytest.fixture()
def registry(tmp_path: Path) -> Registry:
    (tmp_path / "graph.py").write_text(textwrap.dedent(GRAPH))
    return write_resolved(tmp_path, [pool("research", runtime="python")], [workflow(tmp_path, "research.account", "research", "graph.py#graph")])


def handle(registry: Registry, company: str, sampled: str = "01") -> Outcome:
    deadline = datetime.fromtimestamp(time.time() + 20, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    raw: dict[str, Any] = {
        "v": 1, "runId": f"r-{company.lower()}", "workflow": "research.account", "pool": "research", "graph": "graph.py#graph",
        "input": {"company": company}, "registry": "sha256:" + "ab" * 32, "deadline": deadline, "attempt": 1, "maxAttempts": 1,
        "trace": {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-{sampled}", "tracestate": "", "baggage": ""}, "idempotencyKey": None, "sig": "",
    }
    return asyncio.run(PoolRunner(registry, "research", KEY).handle(sign(raw), 1))


def by_name(spans: tuple[ReadableSpan, ...]) -> dict[str, ReadableSpan]:
    return {s.name: s for s in spans}


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_nodes_nest_under_the_run_and_model_calls_under_their_node(registry: Registry) -> None:
    EXPORTER.clear()
    outcome = handle(registry, "Acme")
    assert outcome.ok, outcome.message
    assert outcome.output == {"company": "Acme", "summary": "[OFFLINE] ACME SELLS SOFTWARE", "score": 7}
    spans = by_name(EXPORTER.get_finished_spans())
    assert set(spans) >= {"run research.account", "node check", "node research", "node score", "node finish", "node polish", "chat offline"}
    run = spans["run research.account"]
    for node in ("check", "research", "score", "finish"):
        assert parent_of(spans[f"node {node}"]) == run.context.span_id, node
        assert spans[f"node {node}"].context.trace_id == run.context.trace_id
        assert dict(spans[f"node {node}"].attributes or {})["switchyard.graph.node"] == node
    assert parent_of(spans["node polish"]) == spans["node finish"].context.span_id
    chats = [s for s in EXPORTER.get_finished_spans() if s.name == "chat offline"]
    assert sorted(parent_of(c) or 0 for c in chats) == sorted([spans["node research"].context.span_id, spans["node score"].context.span_id])
    research_chat = next(c for c in chats if (c.attributes or {}).get("switchyard.model.call") == "research")
    assert int(str((research_chat.attributes or {})["gen_ai.usage.output_tokens"])) > 0
    attributes = dict(spans["node research"].attributes or {})
    assert attributes["switchyard.graph.step"] == 2 and '"company":"Acme"' in str(attributes["switchyard.input"])
    assert '"company":"Acme"' in str(dict(run.attributes or {})["switchyard.input"])


def test_a_failing_node_is_an_error_span_and_the_run_fails(registry: Registry) -> None:
    EXPORTER.clear()
    outcome = handle(registry, "Boom")
    assert not outcome.ok and outcome.code == "GRAPH_FAILED" and "no such company" in outcome.message
    spans = by_name(EXPORTER.get_finished_spans())
    assert spans["node check"].status.status_code == StatusCode.ERROR
    assert "node research" not in spans


def test_an_unsampled_run_records_no_node_or_model_span(registry: Registry) -> None:
    EXPORTER.clear()
    assert handle(registry, "Acme", sampled="00").ok
    assert EXPORTER.get_finished_spans() == ()


def test_every_switchyard_and_gen_ai_name_the_worker_writes_is_in_spec_attributes(registry: Registry) -> None:
    """The TypeScript side reads these names from src/control; spec/attributes.json is its copy."""
    spec = json.loads((SPEC / "attributes.json").read_text(encoding="utf-8"))
    known = {*spec["switchyard"].values(), *spec["genai"].values()}
    EXPORTER.clear()
    assert handle(registry, "Acme").ok
    assert not handle(registry, "Boom").ok
    written: set[str] = set()
    for span in EXPORTER.get_finished_spans():
        written.update(span.attributes or {})
        for event in span.events:
            written.update(event.attributes or {})
    ours = {name for name in written if name.startswith(("switchyard.", "gen_ai."))}
    assert {"switchyard.graph.node", "switchyard.graph.step", "switchyard.error.code", "gen_ai.usage.output_tokens"} <= ours
    assert ours - known == set()

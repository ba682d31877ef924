"""Node spans for LangGraph Python graphs, through LangChain's public callback API.

The worker passes a NodeSpans handler in `config["callbacks"]` of a traced run: every
node of the graph (and of subgraphs) opens `node <name>` when LangGraph reports it
starting, as a child of the run span (or of the node that holds the subgraph), and ends
it when the node ends or fails. A model call made inside a node finds its node's span
through LangGraph's public `get_config()`: the callback manager a node runs with names
the node's run as its parent. No LangGraph internals are patched.

Importing this module is light: LangChain loads only when a handler is made.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, Status, StatusCode

from ..capture import capture_value

TRACER = "switchyard.graph"


def _config() -> Any:
    if "langgraph" not in sys.modules:
        return None  # not a LangGraph graph: nothing to look up
    from langgraph.config import get_config

    try:
        return get_config()
    except RuntimeError:
        return None  # outside any runnable


def parent_context() -> Context | None:
    """The context of the node span a model call runs under, or None (then: the current span)."""
    config = _config()
    if not isinstance(config, dict):
        return None
    manager = config.get("callbacks")
    run_id = getattr(manager, "parent_run_id", None)
    for handler in getattr(manager, "handlers", None) or []:
        lookup: Callable[[UUID | None], Context | None] | None = getattr(handler, "switchyard_context_for", None)
        if lookup is not None:
            return lookup(run_id)
    return None


def node_spans(parent: Context, capture: str = "full", redact: Sequence[str] = ()) -> Any:
    """A LangChain callback handler recording node spans under ``parent`` (the run span's context)."""
    from langchain_core.callbacks import BaseCallbackHandler

    class NodeSpans(BaseCallbackHandler):
        # Inline: the span must open before the node's code runs, in order.
        run_inline = True

        def __init__(self) -> None:
            self._spans: dict[UUID, Span] = {}
            self._parents: dict[UUID, UUID | None] = {}

        def switchyard_context_for(self, run_id: UUID | None) -> Context | None:
            # The nearest node span at or above this run (a model call inside a node's sub-runnable counts too).
            seen = 0
            while run_id is not None and seen < 1000:
                span = self._spans.get(run_id)
                if span is not None:
                    return trace.set_span_in_context(span, parent)
                run_id = self._parents.get(run_id)
                seen += 1
            return parent

        def switchyard_close(self) -> None:
            # A run cut off at its deadline leaves nodes that never reported an end.
            for span in self._spans.values():
                span.set_status(Status(StatusCode.ERROR, "the run ended before this node did"))
                span.end()
            self._spans.clear()
            self._parents.clear()

        def on_chain_start(
            self,
            serialized: dict[str, Any] | None,
            inputs: Any,
            *,
            run_id: UUID,
            parent_run_id: UUID | None = None,
            tags: list[str] | None = None,
            metadata: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            self._parents[run_id] = parent_run_id
            meta = metadata or {}
            node = meta.get("langgraph_node")
            # A node's own runnable carries its name; what runs inside a node inherits the metadata only.
            if not isinstance(node, str) or kwargs.get("name") != node or node.startswith("__"):
                return
            span = trace.get_tracer(TRACER).start_span(
                f"node {node}", context=self.switchyard_context_for(parent_run_id), attributes={"switchyard.graph.node": node}
            )
            step = meta.get("langgraph_step")
            if isinstance(step, int):
                span.set_attribute("switchyard.graph.step", step)
            recorded = capture_value(inputs, capture, redact)
            if recorded is not None:
                span.set_attribute("switchyard.input", recorded)
            self._spans[run_id] = span

        def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
            self._parents.pop(run_id, None)
            span = self._spans.pop(run_id, None)
            if span is None:
                return
            recorded = capture_value(outputs, capture, redact)
            if recorded is not None:
                span.set_attribute("switchyard.output", recorded)
            span.end()

        def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
            self._parents.pop(run_id, None)
            span = self._spans.pop(run_id, None)
            if span is None:
                return
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error) or type(error).__name__))
            code = getattr(error, "code", None)
            if isinstance(code, str):
                span.set_attribute("switchyard.error.code", code)
            span.end()

    return NodeSpans()

"""How a LangGraph node finds its run: the worker passes it as `configurable.run`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SwitchyardError


def run_of(config: Mapping[str, Any] | None) -> Any:
    """The Run of the run a LangGraph node is part of (``run.model``, ``run.prompt``, ``run.log`` …).

    Example::

        async def research(state, config):
            run = run_of(config)
            result = await run.model.generate(messages, schema=SCHEMA)
    """
    configurable = (config or {}).get("configurable") or {}
    run = configurable.get("run") if isinstance(configurable, Mapping) else None
    if run is None or not callable(getattr(getattr(run, "model", None), "generate", None)):
        raise SwitchyardError(
            "GRAPH_FAILED", "no run in this node's config: invoke the graph with {'configurable': {'run': run}} (the worker does this)"
        )
    return run

"""Runs and setups for a graph's own tests, as the worker would make them: the offline
model, no prompt, a two-minute deadline (the counterpart of createRunContext/setupOf)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .model import ModelClient, create_model
from .prompt import Prompt


def create_run(workflow: str, pool: str = "test", *, prompt: Prompt | None = None, model: ModelClient | None = None, attempt: int = 1) -> Any:
    """A Run like the one the worker hands a graph.

    Example::

        run = create_run("lead.summary", prompt=load_prompt(FOLDER / "prompt.md"))
        output = await graph(setup_of(run)).ainvoke(example, {"configurable": {"run": run}})
    """
    from ..runner import Run

    return Run(
        run_id=f"test-{workflow}",
        workflow=workflow,
        pool=pool,
        attempt=attempt,
        deadline=datetime.now(UTC) + timedelta(minutes=2),
        prompt=prompt,
        log=logging.getLogger(f"switchyard_worker.{workflow}"),
        model=model or create_model("offline", env={}),
    )


def setup_of(run: Any, root: Path | None = None) -> Any:
    """The Setup a graph factory receives in the worker, for ``run``."""
    from ..graphs import Setup

    return Setup(run.workflow, run.pool, root or Path.cwd(), run.prompt, run.log, run.model)

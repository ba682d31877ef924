"""Lazy graph loading: a workflow's module is imported on its first run, from its path.

The export named in `graph: path.py#name` is either
  - the run function itself, ``name(input, run)`` (sync or async), or
  - a factory, ``name(setup)`` (one parameter; sync or async), called once per process
    on the first run, that returns the run function or a LangGraph-style object with
    ``ainvoke``/``invoke(input, config)`` (DESIGN §2.5's factory, as node graphs have).
A module that fails to import or build fails only its own workflow's runs
(GRAPH_LOAD_FAILED, not retryable: the same code fails the same way); the pool keeps
serving the others.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SwitchyardError
from .graph.model import ModelClient
from .graph.prompt import Prompt, load_prompt
from .registry import Workflow


@dataclass(frozen=True)
class Setup:
    """What a factory receives."""

    workflow: str
    pool: str
    root: Path
    prompt: Prompt | None
    log: logging.Logger = field(repr=False)
    #: The pool's model client (SWITCHYARD_MODEL in the pool's env; offline by default).
    model: ModelClient | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LoadedGraph:
    runnable: Any
    prompt: Prompt | None


def _import(workflow: Workflow) -> Any:
    # One module object per file, named after its path, so two workflows in one file share it.
    name = "switchyard_graph_" + hashlib.sha256(str(workflow.module).encode()).hexdigest()[:16]
    module = sys.modules.get(name)
    if module is None:
        if not workflow.module.is_file():
            raise ImportError(f"no such file {workflow.module}")
        spec = importlib.util.spec_from_file_location(name, workflow.module)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {workflow.module}")
        module = importlib.util.module_from_spec(spec)
        # Registered before it runs, as an import does: typing resolves its annotations through sys.modules.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def is_factory(function: Callable[..., Any]) -> bool:
    """One positional parameter (and no *args) means a factory; two or more, a run function."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind == p.VAR_POSITIONAL for p in params)
    return len(positional) == 1 and not variadic


def is_runnable(value: Any) -> bool:
    return callable(value) or callable(getattr(value, "ainvoke", None)) or callable(getattr(value, "invoke", None))


async def _build(workflow: Workflow, pool: str, root: Path, log: logging.Logger, model: ModelClient | None) -> LoadedGraph:
    where = f"workflow '{workflow.name}': graph {workflow.graph_ref}"
    try:
        prompt = None
        if workflow.prompt is not None:
            prompt = load_prompt(workflow.prompt)
        export = getattr(_import(workflow), workflow.export, None)
        if not callable(export):
            raise ImportError(f"the module has no function '{workflow.export}'")
        runnable = export
        if is_factory(export):
            runnable = export(Setup(workflow.name, pool, root, prompt, log, model))
            if inspect.isawaitable(runnable):
                runnable = await runnable
            if not is_runnable(runnable):
                raise TypeError("the factory returned neither a function nor an object with invoke()")
        return LoadedGraph(runnable, prompt)
    except Exception as error:
        raise SwitchyardError("GRAPH_LOAD_FAILED", f"{where} failed to load: {str(error) or type(error).__name__}") from error


class GraphCache:
    """One loaded graph per workflow per process, built once even when runs arrive together."""

    def __init__(self, pool: str, root: Path, log: logging.Logger, model: ModelClient | None = None) -> None:
        self._pool, self._root, self._log, self._model = pool, root, log, model
        self._graphs: dict[str, asyncio.Future[LoadedGraph]] = {}

    async def get(self, workflow: Workflow) -> LoadedGraph:
        loaded = self._graphs.get(workflow.name)
        if loaded is None:
            loaded = asyncio.ensure_future(_build(workflow, self._pool, self._root, self._log, self._model))
            self._graphs[workflow.name] = loaded
        # shield: a run cancelled at its deadline must not cancel the shared build.
        return await asyncio.shield(loaded)

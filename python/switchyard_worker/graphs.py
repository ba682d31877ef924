"""Lazy graph loading: a workflow's module is imported on its first run, from its path.

A module that fails to import fails only its own workflow's runs (GRAPH_LOAD_FAILED,
not retryable: the same code fails the same way); the pool keeps serving the others.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .errors import SwitchyardError
from .registry import Workflow


@dataclass(frozen=True)
class Prompt:
    text: str
    hash: str


@dataclass(frozen=True)
class LoadedGraph:
    function: Callable[..., Any]
    prompt: Prompt | None


def _load(workflow: Workflow) -> LoadedGraph:
    where = f"workflow '{workflow.name}': graph {workflow.graph_ref}"
    try:
        prompt = None
        if workflow.prompt is not None:
            text = workflow.prompt.read_text(encoding="utf-8")
            prompt = Prompt(text, "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest())
        # One module object per file, named after its path, so two workflows in one file share it.
        name = "switchyard_graph_" + hashlib.sha256(str(workflow.module).encode()).hexdigest()[:16]
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, workflow.module)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot import {workflow.module}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
        function = getattr(module, workflow.export, None)
        if not callable(function):
            raise ImportError(f"the module has no function '{workflow.export}'")
        return LoadedGraph(function, prompt)
    except Exception as error:  # noqa: BLE001 - any failure to load is this workflow's, by design
        message = str(error) or type(error).__name__
        if isinstance(error, FileNotFoundError):
            message = f"no such file {error.filename}"
        raise SwitchyardError("GRAPH_LOAD_FAILED", f"{where} failed to load: {message}") from error


class GraphCache:
    """One loaded graph per workflow per process; a failed load is remembered too."""

    def __init__(self) -> None:
        self._graphs: dict[str, LoadedGraph | SwitchyardError] = {}

    def get(self, workflow: Workflow) -> LoadedGraph:
        loaded = self._graphs.get(workflow.name)
        if loaded is None:
            try:
                loaded = _load(workflow)
            except SwitchyardError as error:
                loaded = error
            self._graphs[workflow.name] = loaded
        if isinstance(loaded, SwitchyardError):
            raise loaded
        return loaded

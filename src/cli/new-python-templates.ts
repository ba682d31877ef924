// What `switchyard new` writes for a runtime: python pool: a working one-node LangGraph
// Python workflow (graph.py), and a pytest test. The prompt, schemas and example input
// are the TypeScript scaffold's (new-templates.ts): they do not depend on the language.
import type { ScaffoldNames } from './new-templates.js'

export function pythonGraphTemplate(n: ScaffoldNames): string {
  return `"""${n.workflow}: ${n.description}

Module level imports nothing but typing and switchyard_worker: LangGraph and anything
heavy load inside graph(), so the ${n.pool} pool pays for them only when it builds this
graph (\`switchyard check\` holds every file of this folder to that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from switchyard_worker.graph import load_prompt, run_of

if TYPE_CHECKING:  # types only: nothing is imported when the module loads
    from langchain_core.runnables import RunnableConfig


class Input(TypedDict):
    text: str


class Output(TypedDict):
    answer: str
    model: str


class State(Input, Output, total=False):
    pass


# What the model must answer with; checked, and retried once when it does not fit.
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "minLength": 1}},
    "required": ["answer"],
    "additionalProperties": False,
}


def graph(setup: Any) -> Any:
    """The graph factory (one parameter): the pool worker calls it once per process."""
    from pathlib import Path

    from langgraph.graph import END, START, StateGraph

    prompt = setup.prompt or load_prompt(Path(__file__).with_name("prompt.md"))
    temperature = prompt.params.get("temperature")

    # LangGraph hands a node its config when the parameter is typed RunnableConfig.
    async def respond(state: State, config: RunnableConfig) -> dict[str, Any]:
        run = run_of(config)
        result = await run.model.generate(
            [{"role": "user", "content": prompt.render({"text": state["text"]})}],
            schema=ANSWER_SCHEMA,
            name="respond",
            temperature=temperature if isinstance(temperature, (int, float)) else None,
        )
        return {"answer": result.object["answer"], "model": result.model}

    builder = StateGraph(State, input_schema=Input, output_schema=Output)
    builder.add_node("respond", respond)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", END)
    return builder.compile()
`
}

/** A pytest file: runs the graph with the offline model (no network, deterministic). */
export function pythonTestTemplate(n: ScaffoldNames, testFile: string, folderFromTest: string): string {
  return `"""${n.workflow}: runs the graph with the offline model (no network, deterministic).

Run from the registry's folder: python3 -m pytest ${testFile}
"""

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from switchyard_worker.graph import create_run, load_prompt, setup_of

FOLDER = (Path(__file__).resolve().parent / "${folderFromTest}").resolve()


def load_graph() -> Any:
    spec = importlib.util.spec_from_file_location("${n.folder.replace(/-/g, '_')}_graph", FOLDER / "graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: typing resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module.graph


def test_${n.folder.replace(/-/g, '_')}_answers_the_example_input_offline() -> None:
    run = create_run("${n.workflow}", "${n.pool}", prompt=load_prompt(FOLDER / "prompt.md"))
    graph = load_graph()(setup_of(run))
    example = json.loads((FOLDER / "example.json").read_text(encoding="utf-8"))
    output = asyncio.run(graph.ainvoke(example, {"configurable": {"run": run}}))
    assert output["model"] == "offline"
    assert output["answer"].startswith("[offline]")
`
}

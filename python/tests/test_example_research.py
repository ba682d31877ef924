"""examples/sales research.account (LangGraph Python) with the offline model: the brief
for discovery's example account fits the output schema; an account with no record
still gets a brief; and the module passes the graph lint."""

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema

from switchyard_worker.graph import create_run, load_prompt, setup_of
from switchyard_worker.lint import lint_source

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "sales" / "workflows" / "research-account"


def build() -> Any:
    spec = importlib.util.spec_from_file_location("research_account_graph", FOLDER / "graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import does: typing resolves the module's annotations through it
    spec.loader.exec_module(module)
    run = create_run("research.account", "research", prompt=load_prompt(FOLDER / "prompt.md"))
    return module.graph(setup_of(run)), run


def invoke(account: dict[str, Any]) -> dict[str, Any]:
    graph, run = build()
    output: dict[str, Any] = asyncio.run(graph.ainvoke(account, {"configurable": {"run": run}}))
    jsonschema.Draft202012Validator(json.loads((FOLDER / "output.schema.json").read_text())).validate(output)
    return output


def test_the_example_account_gets_a_brief_from_its_record() -> None:
    example = json.loads((FOLDER / "example.json").read_text())
    jsonschema.Draft202012Validator(json.loads((FOLDER / "input.schema.json").read_text())).validate(example)
    output = invoke(example)
    assert output["company"] == "Truepoint Last-mile ApS" and output["model"] == "offline"
    assert "warehouse robotics" in output["summary"] and "hiring account executives" in output["whyNow"]
    assert output["talkingPoints"][0] == "Hiring account executives: how are they handling it today?"
    assert output["talkingPoints"][-1] == "216 people in logistics · Copenhagen DK"
    assert output["sources"] == ["company record co-0305", "discovery.accounts ranking"]


def test_an_account_without_a_record_still_gets_a_brief() -> None:
    output = invoke({"name": "Nowhere Ltd", "domain": "nowhere.example"})
    assert output["sources"] == [] and output["summary"] and output["firstQuestion"].endswith("this quarter?")
    assert "No recent signal" in output["whyNow"]


def test_the_module_imports_nothing_heavy_at_module_level() -> None:
    result = lint_source("graph.py", (FOLDER / "graph.py").read_text())
    assert result["offences"] == [] and "graph" in result["names"]

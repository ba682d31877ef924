"""The AST lint `switchyard check` runs on Python graph modules."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from switchyard_worker.lint import lint_source

GOOD = '''
from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any

from switchyard_worker import SwitchyardError
from switchyard_worker.graph import load_prompt, run_of

if TYPE_CHECKING:
    from langgraph.graph import StateGraph

PROMPT_NAME = "prompt.md"


def graph(setup: Any) -> Any:
    from langgraph.graph import StateGraph
    import json
    return StateGraph


async def helper(input, run):
    import numpy
'''

BAD = '''
import json, typing
from langgraph.graph import StateGraph
from . import sibling
try:
    import openai
except ImportError:
    pass

class Holder:
    import anthropic

LIB = __import__("pandas")
import importlib
MOD = importlib.import_module("torch")
'''


def test_a_clean_module_has_no_offence_and_names_its_functions() -> None:
    result = lint_source("graph.py", textwrap.dedent(GOOD))
    assert result["offences"] == [] and result["error"] is None
    assert result["names"] == ["PROMPT_NAME", "graph", "helper"]


def test_every_module_level_import_is_reported_at_its_line() -> None:
    result = lint_source("graph.py", textwrap.dedent(BAD))
    found = [(o["line"], o["column"], o["specifier"]) for o in result["offences"]]
    assert found == [(2, 1, "json"), (3, 1, "langgraph.graph"), (4, 1, "."), (6, 5, "openai"), (11, 5, "anthropic"),
                     (13, 7, "pandas"), (14, 1, "importlib"), (15, 7, "torch")]
    assert result["offences"][1]["message"].startswith("module-level import of 'langgraph.graph': import it inside the graph function")
    assert result["names"] == ["Holder", "LIB", "MOD"]


def test_a_syntax_error_is_reported_with_its_place() -> None:
    result = lint_source("graph.py", "def graph(:\n")
    assert result["error"] is not None and result["error"].startswith("graph.py:1:")


def test_the_command_prints_one_json_object(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("import os\n")
    out = subprocess.run(
        [sys.executable, "-m", "switchyard_worker.lint", str(tmp_path / "a.py"), str(tmp_path / "missing.py")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )
    files = json.loads(out.stdout)["files"]
    assert files[str(tmp_path / "a.py")]["offences"][0]["specifier"] == "os"
    assert "cannot read" in files[str(tmp_path / "missing.py")]["error"]

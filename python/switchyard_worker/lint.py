"""`switchyard check` for Python graph modules, on Python's own AST.

A graph module and the files under its folder import nothing at module level except
`typing`, `__future__` and the Switchyard helpers (`switchyard_worker`,
`switchyard_worker.graph`), so a pool pays for a graph's heavy dependencies (LangGraph, a
model SDK) only when it builds that graph: they are imported inside the graph function.
`if TYPE_CHECKING:` blocks are for types and are allowed. The same rule as the
TypeScript lint (src/control/tooling/graph-lint.ts), reported the same way.

    python3 -m switchyard_worker.lint FILE...   → one JSON object on stdout:
    {"files": {FILE: {"offences": [{file, line, column, specifier, message}], "names": [...], "error": null}}}

`names` are the module's top-level callables and assignments, for "the named function exists".
"""

from __future__ import annotations

import ast
import json
import sys
from typing import Any

ALLOWED = ("typing", "__future__", "switchyard_worker")


def allowed(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ALLOWED)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _offence(file: str, node: ast.AST, specifier: str, what: str, hint: str) -> dict[str, Any]:
    return {
        "file": file,
        "line": getattr(node, "lineno", 0),
        "column": getattr(node, "col_offset", 0) + 1,
        "specifier": specifier,
        "message": f"module-level {what} of '{specifier}': import it inside the graph function ({hint}), "
        "so the pool loads it only when it builds this graph",
    }


def lint_source(file: str, text: str) -> dict[str, Any]:
    """The module-level imports that break the rule, and the module's top-level names."""
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as error:
        return {"offences": [], "names": [], "error": f"{file}:{error.lineno or 0}:{(error.offset or 0)}: syntax error: {error.msg}"}
    offences: list[dict[str, Any]] = []

    def visit(node: ast.AST) -> None:
        # Code in a function runs when called; everything else (class bodies too) runs at import.
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not allowed(alias.name):
                    offences.append(_offence(file, node, alias.name, "import", f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if node.level > 0 or not allowed(module):
                offences.append(_offence(file, node, module, "import", f"from {module} import …"))
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else ""
            first = node.args[0] if node.args else None
            if name in ("__import__", "import_module") and isinstance(first, ast.Constant) and isinstance(first.value, str):
                if not allowed(first.value):
                    offences.append(_offence(file, node, first.value, f"{name}()", f"{name}({first.value!r})"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    for top in tree.body:
        visit(top)
    names: list[str] = []
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(statement.name)
        elif isinstance(statement, ast.Assign):
            names.extend(t.id for t in statement.targets if isinstance(t, ast.Name))
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value is not None:
            names.append(statement.target.id)
    return {"offences": sorted(offences, key=lambda o: (o["line"], o["column"])), "names": names, "error": None}


def main(argv: list[str]) -> int:
    files: dict[str, Any] = {}
    for file in argv:
        try:
            with open(file, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            files[file] = {"offences": [], "names": [], "error": f"{file}: cannot read: {error.strerror}"}
            continue
        files[file] = lint_source(file, text)
    json.dump({"files": files}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

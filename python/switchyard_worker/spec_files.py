"""The language-neutral files of spec/ the worker reads (error codes, prices): from the
repository's spec/ beside python/, or, in an installed package, the copy it ships."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def spec_file(name: str) -> Path:
    repo = Path(__file__).resolve().parents[2] / "spec" / name
    if repo.is_file():
        return repo
    return Path(str(resources.files("switchyard_worker") / "spec" / name))

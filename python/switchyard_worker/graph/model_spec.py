"""SWITCHYARD_MODEL, parsed once, by src/graph/model-spec.ts's rules and messages:
`offline` | `openai:<model>` | `anthropic:<model>` | `openai-compatible:<baseURL>#<model>`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from ..errors import SwitchyardError

Provider = Literal["offline", "openai", "anthropic", "openai-compatible"]

_FORMS = "`offline`, `openai:<model>`, `anthropic:<model>` or `openai-compatible:<baseURL>#<model>`"


@dataclass(frozen=True)
class ModelSpec:
    provider: Provider
    #: The model's name as its provider knows it (`offline` for the offline model).
    model: str
    #: Only for openai-compatible.
    base_url: str | None
    #: Canonical id, e.g. `openai:gpt-4o-mini`: what spans and results name.
    id: str


def _invalid(spec: str, why: str) -> SwitchyardError:
    return SwitchyardError("MODEL_SPEC_INVALID", f"SWITCHYARD_MODEL='{spec}': {why}; expected {_FORMS}")


def parse_model_spec(spec: str | None) -> ModelSpec:
    """Parse a model spec; an empty or missing spec is the offline model."""
    text = (spec or "").strip()
    if text in ("", "offline"):
        return ModelSpec("offline", "offline", None, "offline")
    colon = text.find(":")
    provider = text[:colon] if colon > 0 else text
    rest = text[colon + 1 :].strip() if colon > 0 else ""
    if provider in ("openai", "anthropic"):
        if rest == "":
            example = "gpt-4o-mini" if provider == "openai" else "claude-3-5-haiku-latest"
            raise _invalid(text, f"'{provider}:' needs a model name, e.g. {provider}:{example}")
        return ModelSpec(provider, rest, None, f"{provider}:{rest}")  # type: ignore[arg-type]
    if provider == "openai-compatible":
        hash_at = rest.rfind("#")
        base_url = rest[:hash_at] if hash_at > 0 else ""
        model = rest[hash_at + 1 :].strip() if hash_at > 0 else ""
        if not re.fullmatch(r"https?://\S+", base_url) or model == "":
            raise _invalid(text, "'openai-compatible:' needs <baseURL>#<model>, e.g. openai-compatible:http://127.0.0.1:11434/v1#llama3.1")
        return ModelSpec("openai-compatible", model, re.sub(r"/+$", "", base_url), f"openai-compatible:{model}")
    raise _invalid(text, f"unknown provider '{provider}'")

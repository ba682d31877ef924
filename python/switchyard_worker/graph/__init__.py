"""switchyard_worker.graph — what Python graph authors import, the counterpart of
`switchyard/graph`: prompts with front matter and {{variables}}, the pool's model client
(offline by default; OpenAI, Anthropic, OpenAI-compatible through their SDKs) with
`chat <model>` spans, tokens and cost, and run_of() for a LangGraph node's run.

Light by design: safe to import at module level in a graph file (no LangGraph, no model
SDK, no jsonschema until first use). `switchyard check` allows it at module level.
"""

from .model import GenerateResult, ModelClient, Usage, create_model
from .model_spec import ModelSpec, parse_model_spec
from .offline import OFFLINE_LABEL
from .prices import cost_of, default_prices, resolve_prices
from .prompt import Prompt, load_prompt, parse_prompt, prompt_variables
from .run_of import run_of
from .testing import create_run, setup_of

__all__ = [
    "OFFLINE_LABEL",
    "GenerateResult",
    "ModelClient",
    "ModelSpec",
    "Prompt",
    "Usage",
    "cost_of",
    "create_model",
    "create_run",
    "default_prices",
    "load_prompt",
    "parse_model_spec",
    "parse_prompt",
    "prompt_variables",
    "resolve_prices",
    "run_of",
    "setup_of",
]

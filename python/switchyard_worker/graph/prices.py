"""Cost estimates from the one price table, spec/prices.json (USD per million tokens),
which src/graph/prices.ts reads too. A pool overrides it with SWITCHYARD_PRICES (JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from ..errors import SwitchyardError
from ..spec_files import spec_file

PriceTable = Mapping[str, Mapping[str, float]]


@cache
def default_prices() -> dict[str, dict[str, float]]:
    """spec/prices.json's `prices`: model name (without provider) → {input, output}."""
    data = json.loads(spec_file("prices.json").read_text(encoding="utf-8"))
    return {model: {"input": float(p["input"]), "output": float(p["output"])} for model, p in data["prices"].items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def resolve_prices(env: Mapping[str, str], prices: PriceTable | None = None) -> dict[str, Mapping[str, float]]:
    """The default table, then SWITCHYARD_PRICES, then ``prices`` (later wins)."""
    table: dict[str, Mapping[str, float]] = dict(default_prices())
    text = env.get("SWITCHYARD_PRICES")
    if text:
        try:
            parsed = json.loads(text)
        except ValueError as error:
            raise SwitchyardError("MODEL_SPEC_INVALID", f"SWITCHYARD_PRICES is not JSON: {error}") from error
        if not isinstance(parsed, dict):
            raise SwitchyardError("MODEL_SPEC_INVALID", "SWITCHYARD_PRICES must be a JSON object of { model: { input, output } }")
        for model, price in parsed.items():
            if not isinstance(price, dict) or not _is_number(price.get("input")) or not _is_number(price.get("output")):
                raise SwitchyardError(
                    "MODEL_SPEC_INVALID",
                    f"SWITCHYARD_PRICES['{model}'] must be {{ \"input\": <usd per 1M tokens>, \"output\": <usd per 1M tokens> }}",
                )
            table[model] = {"input": price["input"], "output": price["output"]}
    table.update(prices or {})
    return table


def cost_of(table: PriceTable, id: str, model: str, input_tokens: int, output_tokens: int) -> float:
    """By full id (`openai:gpt-4o`), then bare name, then the longest key the name starts
    with (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`). Unknown: 0, not a guess."""
    prefixes = sorted((key for key in table if model.startswith(key)), key=len, reverse=True)
    price = table.get(id) or table.get(model) or (table[prefixes[0]] if prefixes else None)
    if not price:
        return 0
    return (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000

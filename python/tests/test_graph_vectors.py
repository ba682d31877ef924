"""The Python graph helpers give what the TypeScript ones wrote into spec/vectors/:
the offline model the same text (byte for byte), object and token counts for every
request of offline-model.json; the prompt helpers the same text, hash, parameters,
rendering or error (code and message) for every case of prompt.json."""

import json
from typing import Any

import pytest

from switchyard_worker.canonical import js_stringify
from switchyard_worker.errors import SwitchyardError
from switchyard_worker.graph.offline import offline_answer
from switchyard_worker.graph.prompt import parse_prompt
from tests.conftest import SPEC

VECTORS: list[dict[str, Any]] = json.loads((SPEC / "vectors" / "offline-model.json").read_text(encoding="utf-8"))["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_the_offline_answer_is_the_typescript_one(vector: dict[str, Any]) -> None:
    request = vector["request"]
    answer = offline_answer(request["messages"], request.get("schema"))
    expected = vector["answer"]
    assert answer["text"].encode("utf-8", "surrogatepass") == expected["text"].encode("utf-8", "surrogatepass")
    assert answer["usage"] == expected["usage"]
    assert answer["responseModel"] == "offline"
    if "object" in expected:
        assert answer["object"] == expected["object"]
        # The whole answer as JSON, as each side would send it: the same bytes.
        assert js_stringify(answer["object"]) == js_stringify(expected["object"])
    else:
        assert "object" not in answer


def test_the_vectors_cover_what_differs_between_the_languages() -> None:
    names = " ".join(v["name"] for v in VECTORS)
    for rule in ("UTF-16", "rounded up", "hex", "word", "CR line end", "integer-like keys", "lone surrogate"):
        assert rule in names


PROMPTS: list[dict[str, Any]] = json.loads((SPEC / "vectors" / "prompt.json").read_text(encoding="utf-8"))["vectors"]


@pytest.mark.parametrize("vector", PROMPTS, ids=[v["name"] for v in PROMPTS])
def test_a_prompt_parses_and_renders_as_in_typescript(vector: dict[str, Any]) -> None:
    expected = vector["result"]
    try:
        prompt = parse_prompt(vector["source"])
        result: dict[str, Any] = {"text": prompt.text, "hash": prompt.hash, "params": dict(prompt.params), "rendered": prompt.render(vector["vars"])}
    except SwitchyardError as error:
        result = {"error": {"code": error.code, "message": error.message}}
    assert result == expected

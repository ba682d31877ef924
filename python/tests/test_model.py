"""The Python model client: the offline model, and OpenAI, Anthropic and OpenAI-compatible
models through their official SDKs against local servers speaking their wire formats.
Each call is one `chat <model>` span with the GenAI attributes the TypeScript client sets,
tokens and a cost from spec/prices.json; structured output gets one corrective retry."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from switchyard_worker.errors import SwitchyardError
from switchyard_worker.graph import cost_of, create_model, default_prices, parse_model_spec
from tests.chat_server import ChatServer
from tests.conftest import EXPORTER

exporter = EXPORTER
tracer = trace.get_tracer("test")

SCHEMA = {
    "type": "object",
    "required": ["subject", "score"],
    "additionalProperties": False,
    "properties": {"subject": {"type": "string", "maxLength": 40}, "score": {"type": "integer", "minimum": 0, "maximum": 10}},
}
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write a subject line for Acme."}]


@pytest.fixture(autouse=True)
def spans() -> Iterator[None]:
    exporter.clear()
    yield


def chat_spans() -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name.startswith("chat ")]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture()
def server(request: pytest.FixtureRequest) -> Iterator[ChatServer]:
    replies, wire = request.param
    chat = ChatServer(replies, wire)
    yield chat
    chat.close()


def test_model_specs_parse_as_in_typescript() -> None:
    assert parse_model_spec(None).id == "offline" and parse_model_spec(" offline ").provider == "offline"
    spec = parse_model_spec("openai-compatible:http://127.0.0.1:11434/v1/#llama3.1")
    assert (spec.provider, spec.model, spec.base_url, spec.id) == ("openai-compatible", "llama3.1", "http://127.0.0.1:11434/v1", "openai-compatible:llama3.1")
    assert parse_model_spec("anthropic:claude-haiku-4-5").id == "anthropic:claude-haiku-4-5"
    cases = [("openai:", "needs a model name"), ("mistral:large", "unknown provider 'mistral'"), ("openai-compatible:localhost#x", "needs <baseURL>#<model>")]
    for bad, why in cases:
        with pytest.raises(SwitchyardError, match=why) as caught:
            parse_model_spec(bad)
        assert caught.value.code == "MODEL_SPEC_INVALID"


def test_prices_come_from_the_one_table_in_spec() -> None:
    table = default_prices()
    assert table["gpt-4o-mini"] == {"input": 0.15, "output": 0.6}
    assert cost_of(table, "openai:gpt-4o-mini-2024-07-18", "gpt-4o-mini-2024-07-18", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_of(table, "openai:unknown", "unknown", 10, 10) == 0


def test_the_offline_model_answers_with_a_chat_span_like_typescript() -> None:
    model = create_model("offline", env={})
    with tracer.start_as_current_span("run test") as parent:
        result = run(model.generate(MESSAGES, name="subject", temperature=0.2))
    assert result.offline and result.model == "offline" and result.text.startswith("[offline] (")
    assert result.cost_usd == 0 and result.usage.input_tokens > 0
    [span] = chat_spans()
    assert span.name == "chat offline" and span.kind == SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert dict(span.attributes or {}) == {
        "gen_ai.system": "offline", "gen_ai.operation.name": "chat", "gen_ai.request.model": "offline",
        "switchyard.model.offline": True, "switchyard.model.call": "subject", "gen_ai.request.temperature": 0.2,
        "gen_ai.response.model": "offline", "gen_ai.usage.input_tokens": result.usage.input_tokens,
        "gen_ai.usage.output_tokens": result.usage.output_tokens, "switchyard.model.cost_usd": 0.0,
        "gen_ai.input.messages": json.dumps(
            [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in MESSAGES], separators=(",", ":")
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": result.text}], "finish_reason": "stop"}], separators=(",", ":")
        ),
    }


def test_offline_structured_output_fits_the_schema() -> None:
    result = run(create_model(None, env={}).generate([{"role": "user", "content": "subject: Hello Acme\nscore: 7"}], schema=SCHEMA))
    assert result.object == {"subject": "[offline] Hello Acme", "score": 7}


def test_generate_sync_serves_a_sync_graph() -> None:
    result = create_model("offline", env={}).generate_sync([{"role": "user", "content": "<answer>yes</answer>"}])
    assert result.text == "[offline] yes"


@pytest.mark.parametrize("server", [([{"content": "Hi Acme", "usage": {"prompt_tokens": 1000, "completion_tokens": 500}}], "openai")], indirect=True)
def test_openai_through_its_sdk_with_tokens_and_cost(server: ChatServer) -> None:
    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.base_url}
    result = run(create_model("openai:gpt-4o-mini", env=env).generate(MESSAGES, max_tokens=50, temperature=0))
    assert result.text == "Hi Acme" and result.model == "openai:gpt-4o-mini" and not result.offline
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1000, 500)
    assert result.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.6) / 1_000_000)
    [request] = server.requests
    assert server.paths == ["/v1/chat/completions"] and server.headers[0]["authorization"] == "Bearer sk-test"
    assert request["model"] == "gpt-4o-mini" and request["messages"] == MESSAGES and request["max_tokens"] == 50
    [span] = chat_spans()
    attributes = dict(span.attributes or {})
    assert span.name == "chat gpt-4o-mini" and attributes["gen_ai.system"] == "openai"
    assert attributes["gen_ai.usage.input_tokens"] == 1000 and attributes["switchyard.model.cost_usd"] == pytest.approx(result.cost_usd)


@pytest.mark.parametrize("server", [([{"content": "not json"}, {"content": json.dumps({"subject": "Acme, faster", "score": 8})}], "openai")], indirect=True)
def test_structured_output_gets_one_corrective_retry(server: ChatServer) -> None:
    model = create_model(f"openai-compatible:{server.base_url}#llama3.1", env={})
    result = run(model.generate(MESSAGES, schema=SCHEMA, name="subject"))
    assert result.object == {"subject": "Acme, faster", "score": 8}
    assert result.usage.input_tokens == 240  # both calls counted
    first, second = server.requests
    assert first["response_format"]["type"] == "json_schema" and first["response_format"]["json_schema"]["schema"] == SCHEMA
    assert "JSON Schema" in first["messages"][0]["content"]
    assert second["messages"][-2] == {"role": "assistant", "content": "not json"}
    assert "does not fit the required JSON Schema (the answer is not a JSON object)" in second["messages"][-1]["content"]
    [span] = chat_spans()
    assert [e.name for e in span.events] == ["gen_ai.output.invalid"]
    assert span.attributes is not None and span.attributes["gen_ai.system"] == "openai_compatible"


@pytest.mark.parametrize("server", [([{"content": '{"subject": 1}'}, {"content": '{"score": 99}'}], "openai")], indirect=True)
def test_output_that_fails_twice_is_model_output_invalid(server: ChatServer) -> None:
    model = create_model(f"openai-compatible:{server.base_url}#llama3.1", env={})
    with pytest.raises(SwitchyardError, match="answered twice with output that does not fit the schema") as caught:
        run(model.generate(MESSAGES, schema=SCHEMA))
    assert caught.value.code == "MODEL_OUTPUT_INVALID" and not caught.value.retryable
    [span] = chat_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.attributes is not None and span.attributes["switchyard.error.code"] == "MODEL_OUTPUT_INVALID"


@pytest.mark.parametrize(
    "server",
    [([{"content": json.dumps({"subject": "Acme", "score": 3}), "usage": {"prompt_tokens": 10, "completion_tokens": 5}}, {"content": "Plain text"}],
      "anthropic")],
    indirect=True,
)
def test_anthropic_through_its_sdk_structured_as_a_forced_tool(server: ChatServer) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": server.root}
    model = create_model("anthropic:claude-haiku-4-5", env=env)
    result = run(model.generate(MESSAGES, schema=SCHEMA, name="subject"))
    assert result.object == {"subject": "Acme", "score": 3}
    assert result.cost_usd == pytest.approx((10 * 1 + 5 * 5) / 1_000_000)
    text = run(model.generate(MESSAGES))
    assert text.text == "Plain text" and text.object is None
    first, second = server.requests
    assert server.paths == ["/v1/messages", "/v1/messages"], server.headers[0]
    assert "sk-ant-test" in (server.headers[0].get("x-api-key", "") + server.headers[0].get("authorization", ""))
    assert first["tool_choice"] == {"type": "tool", "name": "subject"} and first["tools"][0]["input_schema"] == SCHEMA
    assert first["system"].startswith("Be brief.") and first["messages"] == MESSAGES[1:]
    assert "tools" not in second and second["system"] == "Be brief."
    assert [s.attributes["gen_ai.system"] for s in chat_spans() if s.attributes] == ["anthropic", "anthropic"]


@pytest.mark.parametrize("server", [([{"status": 429, "error": "slow down"}, {"status": 400, "error": "bad model"}], "openai")], indirect=True)
def test_provider_errors_are_model_failed_retryable_by_status(server: ChatServer) -> None:
    model = create_model("openai:gpt-4o", env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": server.base_url})
    with pytest.raises(SwitchyardError, match="rate limited") as limited:
        run(model.generate(MESSAGES))
    assert limited.value.code == "MODEL_FAILED" and limited.value.retryable
    with pytest.raises(SwitchyardError, match="HTTP 400") as bad:
        run(model.generate(MESSAGES))
    assert bad.value.code == "MODEL_FAILED" and not bad.value.retryable
    assert len(server.requests) == 2  # the SDK's own retries are off: the platform retries runs


@pytest.mark.parametrize("server", [([{"hang": True}], "anthropic")], indirect=True)
def test_a_model_that_does_not_answer_fails_at_the_timeout(server: ChatServer) -> None:
    model = create_model("anthropic:claude-haiku-4-5", env={"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": server.root}, timeout_s=0.3)
    with pytest.raises(SwitchyardError, match="did not answer within 300ms") as caught:
        run(model.generate(MESSAGES))
    assert caught.value.retryable


def test_unreachable_and_unconfigured_providers() -> None:
    with pytest.raises(SwitchyardError, match="needs OPENAI_API_KEY in the pool's env"):
        run(create_model("openai:gpt-4o", env={}).generate(MESSAGES))
    unreachable = create_model("openai-compatible:http://127.0.0.1:9/v1#m", env={})
    with pytest.raises(SwitchyardError, match="unreachable") as caught:
        run(unreachable.generate(MESSAGES))
    assert caught.value.retryable


def test_switchyard_prices_override_the_table() -> None:
    model = create_model("offline", env={"SWITCHYARD_PRICES": json.dumps({"offline": {"input": 1_000_000, "output": 0}})})
    result = run(model.generate([{"role": "user", "content": "x" * 40}]))
    assert result.cost_usd == result.usage.input_tokens
    with pytest.raises(SwitchyardError, match=r"SWITCHYARD_PRICES\['m'\] must be"):
        create_model("offline", env={"SWITCHYARD_PRICES": '{"m": {"input": "1"}}'})


def test_a_message_that_is_not_a_chat_message_is_refused() -> None:
    with pytest.raises(SwitchyardError, match="a message must be"):
        run(create_model("offline", env={}).generate([{"role": "tool", "content": "x"}]))

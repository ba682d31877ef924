"""What a `chat` span records of a model call, per the pool's capture: the messages sent and
the answer, in the OpenTelemetry GenAI conventions' shape (gen_ai.input.messages /
gen_ai.output.messages), masked when `redacted`, absent when `none`, bounded in size with
the JSON kept whole — as the TypeScript client records them."""

import asyncio
import json

from switchyard_worker.graph import create_model
from switchyard_worker.graph.model import MESSAGE_CONTENT_LIMIT, MESSAGES_LIMIT
from tests.conftest import EXPORTER

MESSAGES = [{"role": "system", "content": "You write short emails."}, {"role": "user", "content": "Write to ada@example.com."}]


def chat(capture: str, messages: list[dict[str, str]] = MESSAGES) -> dict[str, object]:
    EXPORTER.clear()
    asyncio.run(create_model("offline", env={}, capture=capture).generate(messages))
    [span] = [s for s in EXPORTER.get_finished_spans() if s.name == "chat offline"]
    return dict(span.attributes or {})


def test_full_records_the_conversation_and_the_answer():
    attributes = chat("full")
    sent = json.loads(str(attributes["gen_ai.input.messages"]))
    assert sent == [{"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]} for m in MESSAGES]
    [answer] = json.loads(str(attributes["gen_ai.output.messages"]))
    assert answer["role"] == "assistant" and answer["finish_reason"] == "stop" and answer["parts"][0]["type"] == "text"


def test_redacted_masks_addresses_in_the_messages():
    sent = str(chat("redacted")["gen_ai.input.messages"])
    assert "ada@example.com" not in sent and "Write to [email]." in sent


def test_none_records_no_content_but_keeps_the_numbers():
    attributes = chat("none")
    assert "gen_ai.input.messages" not in attributes and "gen_ai.output.messages" not in attributes
    assert isinstance(attributes["gen_ai.usage.input_tokens"], int)


def test_long_content_is_cut_the_json_kept_whole():
    long = "x" * (MESSAGE_CONTENT_LIMIT + 5000)
    sent = json.loads(str(chat("full", [{"role": "user", "content": long}] * 6)["gen_ai.input.messages"]))
    contents = [m["parts"][0]["content"] for m in sent]
    assert len(contents) == 6 and contents[0].endswith("…[5000 more characters]")
    kept = sum(len(c.split("…[")[0]) for c in contents)
    assert kept == MESSAGES_LIMIT

"""The pool's model client, the counterpart of src/graph/model-call.ts and create-model.ts.

`create_model(SWITCHYARD_MODEL)` gives a ModelClient whatever the provider: one
`chat <model>` span per generate() with the same GenAI attributes as TypeScript, a cost
from spec/prices.json, structured output validated against the request's JSON Schema
with one corrective retry, and every failure a SwitchyardError (MODEL_FAILED,
MODEL_OUTPUT_INVALID, MODEL_SPEC_INVALID). Provider SDKs load on the first call.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, Status, StatusCode

from ..capture import redact_text
from ..errors import SwitchyardError
from .model_spec import ModelSpec, parse_model_spec
from .node_spans import parent_context
from .offline import offline_answer
from .prices import PriceTable, cost_of, resolve_prices
from .schema import SchemaCheck, schema_check_for

#: `gen_ai.system` per provider, as the TypeScript client names them.
SYSTEMS = {"offline": "offline", "openai": "openai", "anthropic": "anthropic", "openai-compatible": "openai_compatible"}

Message = Mapping[str, str]


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class GenerateResult:
    text: str
    #: The parsed, schema-valid object when a schema was given, else None.
    object: Any
    usage: Usage
    #: Estimated cost in US dollars (0 for offline).
    cost_usd: float
    #: Resolved model id: `offline`, `openai:gpt-4o-mini`, …
    model: str
    offline: bool


@dataclass(frozen=True)
class Request:
    messages: list[dict[str, str]]
    schema: Mapping[str, Any] | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Answer:
    """One raw answer from a provider, before validation."""

    text: str
    usage: Usage
    #: The parsed JSON when a schema was requested (None when it did not parse).
    object: Any = None
    parsed: bool = False
    response_model: str | None = None


ProviderCall = Callable[[Request], Awaitable[Answer]]


def estimate(text: str) -> int:
    from .offline import estimate_tokens

    return estimate_tokens(text)


async def _offline_call(request: Request) -> Answer:
    raw = offline_answer(request.messages, request.schema)
    usage = Usage(raw["usage"]["inputTokens"], raw["usage"]["outputTokens"])
    if request.schema is not None:
        return Answer(raw["text"], usage, raw["object"], True, raw["responseModel"])
    return Answer(raw["text"], usage, response_model=raw["responseModel"])


class ModelClient:
    """A pool's model: ``await model.generate(messages, schema=…)`` (``generate_sync`` off the event loop)."""

    def __init__(self, spec: ModelSpec, prices: PriceTable, call: ProviderCall, *, capture: str = "full", redact: Sequence[str] = ()) -> None:
        self.spec = spec
        self.id = spec.id
        self.offline = spec.provider == "offline"
        self._prices = prices
        self._call = call
        #: What the chat spans may record of messages: the pool's tracing.capture.
        self._capture = capture
        self._redact = tuple(redact)

    async def generate(
        self,
        messages: Sequence[Message],
        *,
        schema: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        name: str | None = None,
    ) -> GenerateResult:
        """Ask the model. With ``schema``, the answer's ``object`` fits it (one corrective retry), or MODEL_OUTPUT_INVALID."""
        request = Request([_message(m) for m in messages], schema, temperature, max_tokens, name)
        tracer = trace.get_tracer("switchyard.graph")
        context: Context | None = parent_context()
        with tracer.start_as_current_span(
            f"chat {self.spec.model}",
            context=context,
            kind=SpanKind.CLIENT,
            attributes=self._start_attributes(request),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                return await self._generate(request, span)
            except BaseException as error:
                failure = _normalise(error)
                span.record_exception(failure)
                span.set_status(Status(StatusCode.ERROR, failure.message))
                span.set_attribute("switchyard.error.code", failure.code)
                if isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
                    raise
                raise failure from error

    def generate_sync(self, messages: Sequence[Message], **options: Any) -> GenerateResult:
        """generate() for a sync graph (it runs on a thread of its own, outside the event loop)."""
        return asyncio.run(self.generate(messages, **options))

    def _content(self, span: trace.Span, key: str, messages: Sequence[Mapping[str, str]], finish_reason: str | None = None) -> None:
        # Content only on a kept span, and only as the pool's capture allows.
        if self._capture == "none" or not span.is_recording():
            return
        span.set_attribute(key, gen_ai_messages(messages, finish_reason, redacted=self._capture == "redacted"))

    async def _generate(self, request: Request, span: trace.Span) -> GenerateResult:
        self._content(span, "gen_ai.input.messages", request.messages)
        answer = await self._call(request)
        usage = answer.usage
        value: Any = None
        if request.schema is not None:
            check = schema_check_for(request.schema)
            problem = _problem(answer, check)
            if problem is not None:
                # One corrective retry: show the model its answer and exactly what was wrong with it.
                span.add_event("gen_ai.output.invalid", {"switchyard.validation": problem})
                retry = Request([*request.messages, *_correction(answer.text, problem)], request.schema, request.temperature, request.max_tokens, request.name)
                self._content(span, "gen_ai.input.messages", retry.messages)
                answer = await self._call(retry)
                usage = Usage(usage.input_tokens + answer.usage.input_tokens, usage.output_tokens + answer.usage.output_tokens)
                problem = _problem(answer, check)
                if problem is not None:
                    self._content(span, "gen_ai.output.messages", [{"role": "assistant", "content": answer.text}], "stop")
                    self._record(span, usage, answer.response_model)
                    raise SwitchyardError(
                        "MODEL_OUTPUT_INVALID", f"{self.spec.id} answered twice with output that does not fit the schema: {problem}"
                    )
            value = answer.object
        self._content(span, "gen_ai.output.messages", [{"role": "assistant", "content": answer.text}], "stop")
        cost = self._record(span, usage, answer.response_model)
        return GenerateResult(answer.text, value, usage, cost, self.spec.id, self.offline)

    def _start_attributes(self, request: Request) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "gen_ai.system": SYSTEMS[self.spec.provider],
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": self.spec.model,
            "switchyard.model.offline": self.offline,
        }
        if request.name is not None:
            attributes["switchyard.model.call"] = request.name
        if request.temperature is not None:
            attributes["gen_ai.request.temperature"] = request.temperature
        if request.max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = request.max_tokens
        return attributes

    def _record(self, span: trace.Span, usage: Usage, response_model: str | None) -> float:
        cost = cost_of(self._prices, self.spec.id, self.spec.model, usage.input_tokens, usage.output_tokens)
        span.set_attributes(
            {
                "gen_ai.response.model": response_model or self.spec.model,
                "gen_ai.usage.input_tokens": usage.input_tokens,
                "gen_ai.usage.output_tokens": usage.output_tokens,
                "switchyard.model.cost_usd": cost,
            }
        )
        return cost


def _message(message: Message) -> dict[str, str]:
    role, content = message.get("role"), message.get("content")
    if role not in ("system", "user", "assistant") or not isinstance(content, str):
        raise SwitchyardError("MODEL_FAILED", f"a message must be {{role: system|user|assistant, content: str}}, got {dict(message)!r}")
    return {"role": role, "content": content}


def _problem(answer: Answer, check: SchemaCheck) -> str | None:
    if not answer.parsed:
        return "the answer is not a JSON object"
    issues = check(answer.object)
    return "; ".join(issues) if issues else None


def _correction(text: str, problem: str) -> list[dict[str, str]]:
    return [
        {"role": "assistant", "content": text},
        {
            "role": "user",
            "content": f"That answer does not fit the required JSON Schema ({problem}). Answer again with only a JSON object that fits it.",
        },
    ]


def _normalise(error: BaseException) -> SwitchyardError:
    if isinstance(error, SwitchyardError):
        return error
    if isinstance(error, asyncio.CancelledError):
        return SwitchyardError("CANCELLED", "model call cancelled: the run was cancelled or passed its deadline")
    return SwitchyardError("MODEL_FAILED", f"model call failed: {error}")


def parse_json(text: str) -> tuple[Any, bool]:
    """(value, True) when ``text`` is JSON, else (None, False)."""
    try:
        return json.loads(text), True
    except ValueError:
        return None, False


def timeout_from_env(text: str | None) -> float:
    """SWITCHYARD_MODEL_TIMEOUT (`30s`, `2m`, `45000ms`, or bare milliseconds) in seconds; default 60."""
    if text is None or text == "":
        return 60.0
    match = re.fullmatch(r"(\d+)(ms|s|m)?", text.strip())
    if not match:
        raise SwitchyardError("MODEL_SPEC_INVALID", f"SWITCHYARD_MODEL_TIMEOUT='{text}': expected e.g. 30s, 2m or 45000ms")
    n = int(match.group(1))
    return {"m": n * 60.0, "s": float(n)}.get(match.group(2) or "", n / 1000)


def create_model(
    spec: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    prices: PriceTable | None = None,
    timeout_s: float | None = None,
    capture: str = "full",
    redact: Sequence[str] = (),
) -> ModelClient:
    """The pool's model client from its spec (default: SWITCHYARD_MODEL; empty is offline). Cheap: SDKs load on first use.

    Example::

        model = create_model()                              # SWITCHYARD_MODEL, offline by default
        result = await model.generate(messages, schema=OUTPUT_SCHEMA)
    """
    environment = os.environ if env is None else env
    parsed = parse_model_spec(environment.get("SWITCHYARD_MODEL") if spec is None else spec)
    table = resolve_prices(environment, prices)
    if parsed.provider == "offline":
        return ModelClient(parsed, table, _offline_call, capture=capture, redact=redact)
    from .providers import provider_call

    timeout = timeout_s if timeout_s is not None else timeout_from_env(environment.get("SWITCHYARD_MODEL_TIMEOUT"))
    return ModelClient(parsed, table, provider_call(parsed, environment, timeout), capture=capture, redact=redact)


#: Bounds of recorded message content, as src/graph/gen-ai-messages.ts: per part, and all parts of one call.
MESSAGE_CONTENT_LIMIT = 8192
MESSAGES_LIMIT = 32_768


def gen_ai_messages(messages: Sequence[Mapping[str, str]], finish_reason: str | None = None, *, redacted: bool = False) -> str:
    """``gen_ai.input.messages`` / ``gen_ai.output.messages`` (OpenTelemetry GenAI conventions): a JSON string of
    ``[{role, parts: [{type: "text", content}]}]`` (with ``finish_reason`` for output), each content cut at
    MESSAGE_CONTENT_LIMIT and all of them at MESSAGES_LIMIT characters, the JSON kept whole."""
    budget = MESSAGES_LIMIT
    out: list[dict[str, Any]] = []
    for message in messages:
        content = message["content"]
        keep = min(len(content), MESSAGE_CONTENT_LIMIT, budget)
        budget -= keep
        text = content if keep == len(content) else f"{content[:keep]}…[{len(content) - keep} more characters]"
        entry: dict[str, Any] = {"role": message["role"], "parts": [{"type": "text", "content": redact_text(text) if redacted else text}]}
        if finish_reason is not None:
            entry["finish_reason"] = finish_reason
        out.append(entry)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))

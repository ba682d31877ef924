"""Hosted and local models through their official Python SDKs: `openai` (OpenAI, and
every OpenAI-compatible server: Ollama, vLLM, LM Studio, llama.cpp) and `anthropic`.
Imported on the first call, so a graph module importing the helpers stays light.
The platform retries whole runs with backoff: the SDKs' own retries are off.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Mapping
from typing import Any

from ..errors import SwitchyardError
from .model import Answer, ProviderCall, Request, Usage, estimate, parse_json
from .model_spec import ModelSpec


def _required(env: Mapping[str, str], name: str, spec: ModelSpec) -> str:
    value = env.get(name)
    if not value:
        raise SwitchyardError("MODEL_FAILED", f"{spec.id} needs {name} in the pool's env")
    return value


def _instruction(schema: Mapping[str, Any]) -> str:
    # Providers without native structured output get the schema in the instructions too.
    return "Answer with only a JSON object that fits this JSON Schema:\n" + json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def _usage(reported_in: int | None, reported_out: int | None, request: Request, text: str) -> Usage:
    prompt = "\n".join(m["content"] for m in request.messages)
    return Usage(reported_in if reported_in is not None else estimate(prompt), reported_out if reported_out is not None else estimate(text))


class _PerLoop:
    """One SDK client per event loop: an async client's connections belong to the loop that opened them
    (generate_sync runs each call on a loop of its own)."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()

    def get(self) -> Any:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._make()
        return client


def _openai_call(spec: ModelSpec, env: Mapping[str, str], timeout: float) -> ProviderCall:
    def make() -> Any:
        from openai import AsyncOpenAI

        if spec.provider == "openai-compatible":
            # Local servers need no key; the SDK insists on one.
            return AsyncOpenAI(base_url=spec.base_url, api_key=env.get("SWITCHYARD_MODEL_API_KEY") or "not-needed", max_retries=0, timeout=timeout)
        return AsyncOpenAI(api_key=_required(env, "OPENAI_API_KEY", spec), base_url=env.get("OPENAI_BASE_URL") or None, max_retries=0, timeout=timeout)

    clients = _PerLoop(make)

    async def call(request: Request) -> Answer:
        client = clients.get()
        messages: list[dict[str, str]] = list(request.messages)
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_tokens is not None:
            options["max_tokens"] = request.max_tokens
        if request.schema is not None:
            messages = [{"role": "system", "content": _instruction(request.schema)}, *messages]
            options["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.name or "answer", "schema": dict(request.schema), "strict": False},
            }
        try:
            response = await client.chat.completions.create(model=spec.model, messages=messages, **options)
        except Exception as error:
            raise _normalise_openai(spec, error, timeout) from error
        text = (response.choices[0].message.content if response.choices else None) or ""
        usage = response.usage
        tokens = _usage(usage.prompt_tokens if usage else None, usage.completion_tokens if usage else None, request, text)
        if request.schema is None:
            return Answer(text, tokens, response_model=response.model)
        value, parsed = parse_json(text)
        return Answer(text, tokens, value, parsed, response.model)

    return call


def _anthropic_call(spec: ModelSpec, env: Mapping[str, str], timeout: float) -> ProviderCall:
    def make() -> Any:
        from anthropic import AsyncAnthropic

        return AsyncAnthropic(
            api_key=_required(env, "ANTHROPIC_API_KEY", spec), base_url=env.get("ANTHROPIC_BASE_URL") or None, max_retries=0, timeout=timeout
        )

    clients = _PerLoop(make)

    async def call(request: Request) -> Answer:
        client = clients.get()
        system = [m["content"] for m in request.messages if m["role"] == "system"]
        messages = [m for m in request.messages if m["role"] != "system"]
        options: dict[str, Any] = {"max_tokens": request.max_tokens or 4096}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        tool = request.name or "answer"
        if request.schema is not None:
            # Structured output as a forced tool call: the tool's input is the object.
            system.append(_instruction(request.schema))
            options["tools"] = [{"name": tool, "description": "Respond with the answer.", "input_schema": dict(request.schema)}]
            options["tool_choice"] = {"type": "tool", "name": tool}
        if system:
            options["system"] = "\n\n".join(system)
        try:
            response = await client.messages.create(model=spec.model, messages=messages, **options)
        except Exception as error:
            raise _normalise_anthropic(spec, error, timeout) from error
        texts = [block.text for block in response.content if getattr(block, "type", None) == "text"]
        tools = [block.input for block in response.content if getattr(block, "type", None) == "tool_use"]
        if request.schema is not None and tools:
            value: Any = tools[0]
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
            parsed = True
        else:
            text = "".join(texts)
            value, parsed = parse_json(text) if request.schema is not None else (None, False)
        tokens = _usage(response.usage.input_tokens, response.usage.output_tokens, request, text)
        return Answer(text, tokens, value, parsed, response.model)

    return call


def _classify(spec: ModelSpec, status: int | None, message: str) -> SwitchyardError:
    # 429, 408, 409, 5xx and network failures may pass on a later attempt; other 4xx will not.
    retryable = status is None or status in (408, 409, 429) or status >= 500
    what = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}" if status else "unreachable"
    return SwitchyardError("MODEL_FAILED", f"{spec.id} failed: {what}: {message}", retryable=retryable)


def _normalise_openai(spec: ModelSpec, error: Exception, timeout: float) -> SwitchyardError:
    import openai

    if isinstance(error, SwitchyardError):
        return error
    if isinstance(error, openai.APITimeoutError):
        return SwitchyardError("MODEL_FAILED", f"{spec.id} did not answer within {round(timeout * 1000)}ms", retryable=True)
    if isinstance(error, openai.APIStatusError):
        return _classify(spec, error.status_code, error.message)
    if isinstance(error, openai.APIConnectionError):
        return _classify(spec, None, str(error))
    return SwitchyardError("MODEL_FAILED", f"{spec.id} failed: {error}", retryable=False)


def _normalise_anthropic(spec: ModelSpec, error: Exception, timeout: float) -> SwitchyardError:
    import anthropic

    if isinstance(error, SwitchyardError):
        return error
    if isinstance(error, anthropic.APITimeoutError):
        return SwitchyardError("MODEL_FAILED", f"{spec.id} did not answer within {round(timeout * 1000)}ms", retryable=True)
    if isinstance(error, anthropic.APIStatusError):
        return _classify(spec, error.status_code, error.message)
    if isinstance(error, anthropic.APIConnectionError):
        return _classify(spec, None, str(error))
    return SwitchyardError("MODEL_FAILED", f"{spec.id} failed: {error}", retryable=False)


def provider_call(spec: ModelSpec, env: Mapping[str, str], timeout: float) -> ProviderCall:
    """The call for a hosted or local model spec."""
    if spec.provider == "anthropic":
        return _anthropic_call(spec, env, timeout)
    if spec.provider in ("openai", "openai-compatible"):
        return _openai_call(spec, env, timeout)
    raise SwitchyardError("MODEL_SPEC_INVALID", f"{spec.id} is not served by an SDK")

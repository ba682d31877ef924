"""Tracing for one pool's worker process, from that pool's env only.

Endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is), else OTEL_EXPORTER_OTLP_ENDPOINT
+ /v1/traces, else SWITCHYARD_TRACES_URL (the embedded gateway; its bearer token
SWITCHYARD_TRACES_TOKEN goes to it only) — the same order as src/observe. No endpoint:
no SDK, spans are no-ops. The sampler is ParentBased: a worker follows the sampled
flag the gateway decided and never decides again (DESIGN §3). Every span leaves through
ScrubbingSpanExporter: the pool's secrets scrubbed from every string whatever its capture,
and e-mails and phones masked unless capture is full (src/observe/sdk/redacting-exporter.ts).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from .capture import redact_text

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class ScrubbingSpanExporter:
    """Wraps the exporter: attributes, event attributes and status messages with the pool's
    secrets scrubbed (always) and e-mails/phones masked (unless ``capture`` is full)."""

    def __init__(self, inner: SpanExporter, scrub: Callable[[str], str], capture: str) -> None:
        self._inner = inner
        self._scrub = scrub
        self._mask = capture != "full"

    def _text(self, value: str) -> str:
        scrubbed = self._scrub(value)
        return redact_text(scrubbed) if self._mask else scrubbed

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, (list, tuple)):
            return tuple(self._text(item) if isinstance(item, str) else item for item in value)
        return value

    def _attributes(self, attributes: Mapping[str, Any] | None) -> dict[str, Any]:
        return {key: self._value(value) for key, value in (attributes or {}).items()}

    def _clean(self, span: ReadableSpan) -> ReadableSpan:
        from opentelemetry.sdk.trace import Event, ReadableSpan
        from opentelemetry.trace import Status

        status = span.status
        if status.description:
            status = Status(status.status_code, self._text(status.description))
        events = [Event(event.name, self._attributes(event.attributes), event.timestamp) for event in span.events]
        return ReadableSpan(
            name=span.name, context=span.context, parent=span.parent, resource=span.resource,
            attributes=self._attributes(span.attributes), events=events, links=span.links, kind=span.kind,
            status=status, start_time=span.start_time, end_time=span.end_time, instrumentation_scope=span.instrumentation_scope,
        )

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([self._clean(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def traces_url(env: Mapping[str, str]) -> str | None:
    specific = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if specific:
        return specific
    generic = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if generic:
        return generic.rstrip("/") + "/v1/traces"
    embedded = env.get("SWITCHYARD_TRACES_URL", "").strip()
    if not embedded:
        return None
    return embedded if re.search(r"/v1/traces/?$", embedded) else embedded.rstrip("/") + "/v1/traces"


def init_tracing(
    pool: str,
    project: str,
    env: Mapping[str, str] | None = None,
    *,
    install: bool = True,
    scrub: Callable[[str], str] | None = None,
    capture: str = "full",
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """A TracerProvider exporting OTLP/HTTP (protobuf) (or to ``exporter``), installed as the
    global one unless ``install`` is False; returns it (call shutdown() to flush), or None
    without an endpoint. Spans leave through ScrubbingSpanExporter (``scrub``, ``capture``)."""
    env = os.environ if env is None else env
    url = traces_url(env)
    if (url is None and exporter is None) or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    headers = {}
    token = env.get("SWITCHYARD_TRACES_TOKEN", "").strip()
    embedded = not env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip() and not env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if token and embedded:
        headers["authorization"] = f"Bearer {token}"
    resource = Resource.create(
        {"service.name": f"switchyard-pool-{pool}", "switchyard.pool": pool, "switchyard.project": project}
    )
    provider = TracerProvider(resource=resource, sampler=ParentBased(ALWAYS_ON))
    # Headers from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS are read by the exporter itself.
    inner = exporter if exporter is not None else OTLPSpanExporter(endpoint=url, headers=headers or None)
    outer = ScrubbingSpanExporter(inner, scrub or (lambda text: text), capture)
    provider.add_span_processor(BatchSpanProcessor(outer))  # type: ignore[arg-type]
    if install:
        trace.set_tracer_provider(provider)
        # What a graph sends on (its own HTTP calls) follows the same Level 2 rules as what the worker reads.
        from opentelemetry import propagate

        from .trace_context import PROPAGATOR

        propagate.set_global_textmap(PROPAGATOR)
    return provider

"""Tracing for one pool's worker process, from that pool's env only.

Endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is), else OTEL_EXPORTER_OTLP_ENDPOINT
+ /v1/traces, else SWITCHYARD_TRACES_URL (the embedded gateway; its bearer token
SWITCHYARD_TRACES_TOKEN goes to it only) — the same order as src/observe. No endpoint:
no SDK, spans are no-ops. The sampler is ParentBased: a worker follows the sampled
flag the gateway decided and never decides again (DESIGN §3).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


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


def init_tracing(pool: str, project: str, env: Mapping[str, str] | None = None, *, install: bool = True) -> TracerProvider | None:
    """A TracerProvider exporting OTLP/HTTP (protobuf), installed as the global one unless
    ``install`` is False; returns it (call shutdown() to flush), or None without an endpoint."""
    env = os.environ if env is None else env
    url = traces_url(env)
    if url is None or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
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
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url, headers=headers or None)))
    if install:
        trace.set_tracer_provider(provider)
        # What a graph sends on (its own HTTP calls) follows the same Level 2 rules as what the worker reads.
        from opentelemetry import propagate

        from .trace_context import PROPAGATOR

        propagate.set_global_textmap(PROPAGATOR)
    return provider

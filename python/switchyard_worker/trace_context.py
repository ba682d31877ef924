"""W3C Trace Context Level 2 for the Python worker: the same rules as the TypeScript side
(src/control/contract/trace-context.ts, src/observe/propagation).

OpenTelemetry Python already drops a ``tracestate`` whole when one member is invalid, and
its SDK keeps the random trace-id flag of a parent; but it checks keys against Level 1's
grammar (one ``tenant@vendor`` form, a first character that must be a letter for simple
keys), so a key such as ``foo@`` or ``1vendor`` would throw away a caller's whole list.
This propagator reads keys and values to Level 2's grammar and keeps them in a TraceState
that does not re-check them against Level 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators import textmap
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import TraceState

TRACE_FLAG_SAMPLED = 0x01
TRACE_FLAG_RANDOM = 0x02
_KNOWN_FLAGS = TRACE_FLAG_SAMPLED | TRACE_FLAG_RANDOM
MAX_MEMBERS = 32

_HEX2 = re.compile(r"[0-9a-f]{2}")
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_PARENT_ID = re.compile(r"[0-9a-f]{16}")
# key = ( lcalpha / DIGIT ) 0*255 ( keychar ); keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
_KEY = re.compile(r"[a-z0-9][a-z0-9_\-*/@]{0,255}")
# value = 0*255(chr) nblk-chr
_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_OWS = " \t"


def parse_traceparent(header: str | None) -> tuple[str, str, int] | None:
    """(trace id, parent id, flags) of a ``traceparent``, or None when it must be ignored."""
    if not isinstance(header, str):
        return None
    value = header.strip(_OWS)
    version = value[:2]
    if not _HEX2.fullmatch(version) or version == "ff" or value[2:3] != "-":
        return None
    if version == "00":
        if len(value) != 55:
            return None
    elif len(value) < 55 or (len(value) > 55 and value[55] != "-"):
        return None
    trace_id, parent_id, flags = value[3:35], value[36:52], value[53:55]
    if value[35] != "-" or value[52] != "-":
        return None
    if not _TRACE_ID.fullmatch(trace_id) or trace_id == "0" * 32:
        return None
    if not _PARENT_ID.fullmatch(parent_id) or parent_id == "0" * 16:
        return None
    if not _HEX2.fullmatch(flags):
        return None
    return trace_id, parent_id, int(flags, 16)


def parse_tracestate(headers: Sequence[str] | None) -> list[tuple[str, str]] | None:
    """The members of one or more ``tracestate`` header fields (combined in order), or None
    when the list must be discarded whole (a member breaks the grammar, or more than 32)."""
    members: list[tuple[str, str]] = []
    seen: set[str] = set()
    count = 0
    for raw in ",".join(headers or []).split(","):
        member = raw.strip(_OWS)
        if not member:
            continue
        count += 1
        if count > MAX_MEMBERS:
            return None
        key, eq, value = member.partition("=")
        if not eq or not _KEY.fullmatch(key) or not _VALUE.fullmatch(value):
            return None
        if key in seen:
            continue  # of a duplicated key, the first (left-most) is kept
        seen.add(key)
        members.append((key, value))
    return members


def is_member(key: str, value: str) -> bool:
    return _KEY.fullmatch(key) is not None and _VALUE.fullmatch(value) is not None


class W3CTraceState(TraceState):
    """A TraceState whose keys and values follow Level 2's grammar."""

    def __init__(self, entries: Sequence[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self._members: dict[str, str] = {}
        for key, value in (entries or [])[:MAX_MEMBERS]:
            if is_member(key, value) and key not in self._members:
                self._members[key] = value

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def __getitem__(self, key: str) -> str:
        return self._members[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __repr__(self) -> str:
        return f"W3CTraceState({self.to_header()!r})"

    def add(self, key: str, value: str) -> W3CTraceState:
        if key in self._members:
            return self
        return self.update(key, value)

    def update(self, key: str, value: str) -> W3CTraceState:
        """Add or update ``key``, moved to the left; past 32 members the right-most goes."""
        if not is_member(key, value):
            return self
        rest = [(k, v) for k, v in self._members.items() if k != key]
        return W3CTraceState([(key, value), *rest][:MAX_MEMBERS])

    def delete(self, key: str) -> W3CTraceState:
        if key not in self._members:
            return self
        return W3CTraceState([(k, v) for k, v in self._members.items() if k != key])

    def to_header(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self._members.items())


class W3CTraceContext(textmap.TextMapPropagator):
    """``traceparent``/``tracestate`` by Level 2's rules. The SDK keeps a parent's random
    flag on the spans it starts (and sets it on traces it starts), so inject() writes the
    span's flags, the ones this version does not define zeroed."""

    def extract(self, carrier: textmap.CarrierT, context: Context | None = None, getter: textmap.Getter[textmap.CarrierT] = textmap.default_getter) -> Context:
        context = Context() if context is None else context
        values = getter.get(carrier, "traceparent")
        # Two traceparent fields are not one trace: ignore them both.
        parent = parse_traceparent(values[0]) if values is not None and len(values) == 1 else None
        if parent is None:
            return context
        trace_id, parent_id, flags = parent
        members = parse_tracestate(getter.get(carrier, "tracestate"))
        span_context = trace.SpanContext(
            trace_id=int(trace_id, 16),
            span_id=int(parent_id, 16),
            is_remote=True,
            trace_flags=trace.TraceFlags(flags & _KNOWN_FLAGS),
            trace_state=W3CTraceState(members) if members else None,
        )
        return trace.set_span_in_context(trace.NonRecordingSpan(span_context), context)

    def inject(self, carrier: textmap.CarrierT, context: Context | None = None, setter: textmap.Setter[textmap.CarrierT] = textmap.default_setter) -> None:
        span_context = trace.get_current_span(context).get_span_context()
        if not span_context.is_valid:
            return
        flags = span_context.trace_flags & _KNOWN_FLAGS
        setter.set(carrier, "traceparent", f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}")
        state = span_context.trace_state.to_header() if span_context.trace_state else ""
        if state:
            setter.set(carrier, "tracestate", state)

    @property
    def fields(self) -> set[str]:
        return {"traceparent", "tracestate"}


#: What every Switchyard Python process reads and writes: W3C trace context (Level 2) and baggage.
PROPAGATOR = CompositePropagator([W3CTraceContext(), W3CBaggagePropagator()])

"""One pool's run handling, independent of the queue: verify the envelope, check it
belongs here, load the graph lazily, run it with a deadline inside a CONSUMER span
that continues the caller's trace, and return an Outcome.

Same rules, codes and messages as src/data/worker.ts:
  malformed / bad signature / wrong pool  → INVALID_ENVELOPE, not retryable
  any attempt past its signed deadline    → DEADLINE_EXCEEDED, not retryable
  (the signed deadline wins over the broker's attempt counter: no fresh budget)
  graph import fails                      → GRAPH_LOAD_FAILED, not retryable
  graph raises                            → its SwitchyardError, else GRAPH_FAILED (retryable)
  graph runs past the deadline            → DEADLINE_EXCEEDED, retryable
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .cancel import Abort
from .capture import ScrubbingLogFilter, capture_value, redact_text, secret_scrubber
from .envelope import VerifyKeys, deadline_ms, prepare_envelope_check, verify_envelope
from .errors import SwitchyardError
from .graph.model import ModelClient, create_model
from .graph.node_spans import node_spans
from .graph.prompt import Prompt
from .graphs import GraphCache
from .metrics import WorkerMetrics
from .output import OutputChecks
from .registry import Pool, Registry, Workflow
from .trace_context import PROPAGATOR

log = logging.getLogger("switchyard_worker")
tracer = trace.get_tracer("switchyard-worker")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    output: Any = None
    code: str = ""
    message: str = ""
    retryable: bool = False
    #: The envelope was refused before anything ran (never counts as an execution).
    refused: bool = False


@dataclass(frozen=True)
class Run:
    """What a graph function receives as its second argument."""

    run_id: str
    workflow: str
    pool: str
    attempt: int
    deadline: datetime
    prompt: Prompt | None
    log: logging.Logger = field(repr=False)
    #: The pool's model client (SWITCHYARD_MODEL in the pool's env; offline by default).
    model: ModelClient = field(repr=False, default_factory=create_model)
    #: Set when the run stops counting (a caller cancelled it, or its deadline passed): a sync
    #: graph on its thread should check it between steps, since Python cannot stop the thread
    #: for it. An async graph is told by its task's cancellation (asyncio.CancelledError).
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    #: Why the run was aborted, once ``cancelled`` is set (node's ``signal.reason``): a
    #: SwitchyardError, CANCELLED (not retryable) or DEADLINE_EXCEEDED.
    abort_reason: SwitchyardError | None = field(default=None, repr=False)

    def remaining(self) -> float:
        """Seconds left before the deadline (0 when past)."""
        return max(0.0, self.deadline.timestamp() - time.time())

    def _abort(self, reason: SwitchyardError) -> None:
        # The reason first: a thread that sees the event set reads it.
        if self.abort_reason is None:
            object.__setattr__(self, "abort_reason", reason)
        self.cancelled.set()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _refuse(code: str, message: str, retryable: bool = False) -> Outcome:
    return Outcome(ok=False, code=code, message=message, retryable=retryable)


_busy = 0
_busy_lock = threading.Lock()


def busy_threads() -> int:
    """Sync graph calls still running on threads, abandoned ones past their deadline included."""
    return _busy


def _counted(function: Callable[..., Any], *args: Any) -> Any:
    global _busy
    with _busy_lock:
        _busy += 1
    try:
        return function(*args)
    finally:
        with _busy_lock:
            _busy -= 1


def _let_go(graph: asyncio.Future[Any]) -> None:
    """A graph task the run no longer waits for: whatever it ends with is nobody's (and not logged as lost)."""
    graph.add_done_callback(lambda done: None if done.cancelled() else done.exception())


async def _invoke(runnable: Any, input: Any, run: Run, pool: Pool) -> Any:
    """Call a run function or a LangGraph-style runnable. Sync code runs on a thread: past
    the deadline the run settles and the thread is left to finish (Python cannot stop it)."""
    if callable(getattr(runnable, "ainvoke", None)) or callable(getattr(runnable, "invoke", None)):
        config: dict[str, Any] = {"configurable": {"run": run}}
        handler = None
        # A traced run of a LangChain runnable (a compiled LangGraph graph): its nodes become spans.
        if trace.get_current_span().is_recording() and "langchain_core" in sys.modules:
            handler = node_spans(otel_context.get_current(), pool.capture, pool.redact)
            config["callbacks"] = [handler]
        try:
            if callable(getattr(runnable, "ainvoke", None)):
                return await runnable.ainvoke(input, config)
            return await asyncio.to_thread(_counted, runnable.invoke, input, config)
        finally:
            if handler is not None:
                handler.switchyard_close()
    if inspect.iscoroutinefunction(runnable) or inspect.iscoroutinefunction(type(runnable).__call__):
        return await runnable(input, run)
    result = await asyncio.to_thread(_counted, runnable, input, run)
    return await result if inspect.isawaitable(result) else result


class PoolRunner:
    """Handles deliveries for one python pool. ``verify_keys`` None accepts unsigned envelopes (tests only)."""

    def __init__(self, registry: Registry, pool: str, verify_keys: VerifyKeys | None) -> None:
        found = registry.pools.get(pool)
        if found is None:
            known = ", ".join(registry.pools) or "(none)"
            raise SwitchyardError("POOL_UNAVAILABLE", f"unknown pool '{pool}' (the registry {registry.source} has: {known})")
        if found.runtime != "python":
            raise SwitchyardError("POOL_UNAVAILABLE", f"pool '{pool}' has runtime {found.runtime}: the python worker does not serve it")
        self.registry = registry
        self.pool: Pool = found
        self.verify_keys = verify_keys
        # The pool's secrets never leave in a span, a log line or a run's error (the caller's 502),
        # whatever its capture; an error message is masked as its spans are unless capture is full.
        self.scrub = secret_scrubber(os.environ, found.secrets)
        # Created once per process, from the pool's env: a bad SWITCHYARD_MODEL stops the worker at start.
        self.model = create_model(capture=found.capture, redact=found.redact)
        self.graphs = GraphCache(found.name, registry.root, log, self.model)
        self.metrics = WorkerMetrics()
        self.outputs = OutputChecks()
        self.in_flight = 0
        self.metrics.in_flight.labels(pool=found.name).set(0)
        # The envelope schema compiles at start, not on the first run.
        prepare_envelope_check()

    def shown(self, message: str) -> str:
        """A run's error message as it may leave the worker: secrets scrubbed; masked unless capture is full."""
        scrubbed = self.scrub(message)
        return scrubbed if self.pool.capture == "full" else redact_text(scrubbed)

    def _graph_log(self, workflow: str) -> logging.Logger:
        """The logger a graph gets: what it logs follows the pool's capture, as its spans do."""
        graph_log = log.getChild(workflow)
        if self.pool.capture != "full" and not any(isinstance(f, ScrubbingLogFilter) for f in graph_log.filters):
            graph_log.addFilter(ScrubbingLogFilter(self.scrub, mask=True))
        return graph_log

    def _reject(self, reason: str, code: str, message: str) -> Outcome:
        self.metrics.rejected.labels(pool=self.pool.name, reason=reason).inc()
        message = self.scrub(message)
        log.warning("envelope refused: %s (%s) %s", reason, code, message)
        return Outcome(ok=False, code=code, message=message, retryable=False, refused=True)

    def _admit(
        self, raw: Any, attempt: int, run_id: str | None = None, finished: bool = False, lost_attempts: int = 0
    ) -> tuple[dict[str, Any], Workflow, int] | Outcome:
        try:
            envelope = verify_envelope(raw, self.verify_keys)
        except SwitchyardError as error:
            signed = "signature" in error.message or "signed by key" in error.message
            return self._reject("signature" if signed else "malformed", error.code, error.message)
        if run_id is not None and run_id != envelope["runId"]:
            # Signed for one run, queued as another: a genuine envelope replayed under a new job id.
            message = f"invalid envelope: it was signed for run {envelope['runId']} but queued as {run_id} (a replay); it is not run again"
            return self._reject("replay", "INVALID_ENVELOPE", message)
        if finished:
            return self._reject("replay", "INVALID_ENVELOPE", f"invalid envelope: run {envelope['runId']} already finished (a replay); it is not run again")
        pool = self.pool.name
        workflow = self.registry.workflows.get(envelope["workflow"])
        if envelope["pool"] != pool:
            misplaced = f"it is for pool '{envelope['pool']}'"
        elif workflow is None:
            misplaced = f"workflow '{envelope['workflow']}' is not in this worker's registry"
        elif workflow.pool != pool:
            misplaced = f"workflow '{envelope['workflow']}' belongs to pool '{workflow.pool}'"
        else:
            misplaced = None
        if misplaced is not None or workflow is None:
            return self._reject("pool", "INVALID_ENVELOPE", f"invalid envelope: {misplaced}; this worker serves pool '{pool}'")
        now = int(time.time() * 1000)
        deadline = deadline_ms(envelope["deadline"]) or 0
        # The signed deadline holds for every attempt (issue 12.4): a retry, or a job whose
        # attempt counter was reset in the broker, never gets a fresh budget.
        if deadline <= now:
            if lost_attempts > 0:
                # Its worker died under it before (a suspect that waited to run alone until its
                # deadline, or taken again too late): WORKER_LOST, as node's lostError says it.
                self.metrics.rejected.labels(pool=pool, reason="deadline").inc()
                last = f"{lost_attempts} earlier attempt(s) died with their worker"
                message = f"run {envelope['runId']} lost its worker ({last}) and its deadline {envelope['deadline']} passed before another worker could run it"
                return Outcome(ok=False, code="WORKER_LOST", message=message, retryable=True, refused=True)
            which = f"run {envelope['runId']}" if attempt <= 1 else f"attempt {attempt} of run {envelope['runId']} (a retry)"
            return self._reject("deadline", "DEADLINE_EXCEEDED", f"{which} reached the worker after its deadline {envelope['deadline']}")
        return envelope, workflow, deadline

    async def _execute(self, envelope: dict[str, Any], workflow: Workflow, attempt: int, deadline: int, span: Any, abort: Abort | None) -> Any:
        loaded = await self.graphs.get(workflow)
        if loaded.prompt is not None:
            span.set_attribute("switchyard.prompt.hash", loaded.prompt.hash)
        run = Run(
            run_id=envelope["runId"],
            workflow=workflow.name,
            pool=self.pool.name,
            attempt=attempt,
            deadline=datetime.fromtimestamp(deadline / 1000, tz=UTC),
            prompt=loaded.prompt,
            log=self._graph_log(workflow.name),
            model=self.model,
        )
        label = f"run {envelope['runId']} of '{workflow.name}'"
        if abort is not None and abort.reason is not None:
            run._abort(abort.reason)
            raise abort.reason  # cancelled before its graph started: it never starts
        graph = asyncio.ensure_future(_invoke(loaded.runnable, envelope["input"], run, self.pool))
        stopped = asyncio.ensure_future(abort.wait()) if abort is not None else None
        try:
            waiting: set[asyncio.Future[Any]] = {graph} if stopped is None else {graph, stopped}
            await asyncio.wait(waiting, timeout=max(0.0, deadline / 1000 - time.time()), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            run._abort(SwitchyardError("CANCELLED", f"{label} was cancelled: the worker is shutting down", retryable=True))
            graph.cancel()
            raise  # the worker is closing hard
        finally:
            if stopped is not None:
                stopped.cancel()
        if abort is not None and abort.reason is not None and not graph.done():
            # Cancelled: the graph sees it (its task cancelled, run.cancelled set) and the run ends
            # CANCELLED once the graph stopped; one that ignores it is let go at its deadline.
            reason = abort.reason
            run._abort(reason)
            graph.cancel(reason.message)
            await asyncio.wait({graph}, timeout=max(0.0, deadline / 1000 - time.time()))
            _let_go(graph)
            raise reason
        if not graph.done():
            error = SwitchyardError("DEADLINE_EXCEEDED", f"{label} did not finish by its deadline {_iso(deadline)}", retryable=True)
            run._abort(error)
            graph.cancel(error.message)
            _let_go(graph)
            raise error
        if abort is not None and abort.reason is not None:
            raise abort.reason  # cancelled as it finished: its output is not the run's
        result = graph.result()
        return self.outputs.checked(workflow, result, self.pool)

    async def handle(
        self, raw: Any, attempt: int, run_id: str | None = None, finished: bool = False, abort: Abort | None = None, lost_attempts: int = 0
    ) -> Outcome:
        """Run one delivery; ``attempt`` is the broker's 1-based attempt number, ``run_id`` the
        broker's own id of the run (the BullMQ job id), which must be the envelope's; ``abort``
        is how the run source stops it (a caller's cancel); ``lost_attempts`` how many times its
        worker died under it (past its deadline it ends WORKER_LOST, not DEADLINE_EXCEEDED)."""
        admitted = self._admit(raw, attempt, run_id, finished, lost_attempts)
        if isinstance(admitted, Outcome):
            return admitted
        envelope, workflow, deadline = admitted
        parent = PROPAGATOR.extract(envelope["trace"])
        attributes = {
            "switchyard.pool": self.pool.name,
            "switchyard.project": self.pool.project,
            "switchyard.workflow": workflow.name,
            "switchyard.run_id": envelope["runId"],
            "switchyard.attempt": attempt,
            "switchyard.registry": envelope["registry"],
        }
        with tracer.start_as_current_span(
            f"run {workflow.name}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes,
            record_exception=False, set_status_on_exception=False,
        ) as span:
            labels = {"pool": self.pool.name, "workflow": workflow.name}
            self.metrics.started.labels(**labels).inc()
            self.in_flight += 1
            self.metrics.in_flight.labels(pool=self.pool.name).set(self.in_flight)
            started = time.perf_counter()
            recorded = capture_value(envelope["input"], self.pool.capture, self.pool.redact) if span.is_recording() else None
            if recorded is not None:
                span.set_attribute("switchyard.input", recorded)
            try:
                output = await self._execute(envelope, workflow, attempt, deadline, span, abort)
                recorded = capture_value(output, self.pool.capture, self.pool.redact) if span.is_recording() else None
                if recorded is not None:
                    span.set_attribute("switchyard.output", recorded)
                self.metrics.succeeded.labels(**labels).inc()
                self.metrics.duration.labels(outcome="succeeded", **labels).observe(time.perf_counter() - started)
                span.set_status(Status(StatusCode.OK))
                return Outcome(ok=True, output=output)
            except Exception as error:  # noqa: BLE001 - every failure becomes an outcome
                e = error if isinstance(error, SwitchyardError) else SwitchyardError(
                    "GRAPH_FAILED", str(error) or type(error).__name__, retryable=True
                )
                self.metrics.failed.labels(code=e.code, **labels).inc()
                self.metrics.duration.labels(outcome="failed", **labels).observe(time.perf_counter() - started)
                message = self.shown(e.message)
                span.set_attribute("switchyard.error.code", e.code)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, f"{e.code}: {message}"))
                log.warning("run failed: %s %s attempt %s: %s %s", envelope["runId"], workflow.name, attempt, e.code, message)
                return _refuse(e.code, message, e.retryable)
            finally:
                self.in_flight -= 1
                self.metrics.in_flight.labels(pool=self.pool.name).set(self.in_flight)

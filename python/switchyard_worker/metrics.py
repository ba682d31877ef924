"""The worker's Prometheus series (prometheus_client), with the names, types and labels of
spec/metrics.json (written from src/control/contract/metrics.ts), so one dashboard reads
both runtimes. tests/test_spec.py compares every series here with that file. /metrics
then serves the process's own series (prometheus_client's process, platform and GC
collectors: process_cpu_seconds_total, process_resident_memory_bytes, python_gc_*, ...),
as the node worker serves prom-client's defaults."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# `_created` samples are an OpenMetrics notion the node side does not write: one shape for both runtimes.
disable_created_metrics()  # type: ignore[no-untyped-call]

# The text format the node worker and the gateway serve (prom-client writes version 0.0.4).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# spec/metrics.json durationBuckets, in seconds.
BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


# The process's series, in a registry of their own (one per process: they are the
# process's whoever serves them), read at each scrape; nothing runs between scrapes.
PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=PROCESS_REGISTRY)
PlatformCollector(registry=PROCESS_REGISTRY)
GCCollector(registry=PROCESS_REGISTRY)


class WorkerMetrics:
    """One registry per worker for the table's series, no `_created` samples; render() adds the process's."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.started = Counter("switchyard_runs_started_total", "Runs started by this worker, by workflow.", ["pool", "workflow"], registry=r)
        self.succeeded = Counter("switchyard_runs_succeeded_total", "Runs that succeeded, by workflow.", ["pool", "workflow"], registry=r)
        self.failed = Counter(
            "switchyard_runs_failed_total", "Run attempts that failed, by workflow and error code.", ["pool", "workflow", "code"], registry=r
        )
        self.duration = Histogram(
            "switchyard_run_duration_seconds",
            "Run attempt duration, by workflow and outcome.",
            ["pool", "workflow", "outcome"],
            buckets=BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("switchyard_runs_in_flight", "Runs executing in this worker now.", ["pool"], registry=r)
        self.rejected = Counter(
            "switchyard_envelopes_rejected_total",
            "Envelopes refused without running, by reason (malformed, signature, replay, registry, pool, deadline).",
            ["pool", "reason"],
            registry=r,
        )

    def render(self) -> str:
        return (generate_latest(self.registry) + generate_latest(PROCESS_REGISTRY)).decode()

"""The Python worker speaks the tables the TypeScript side writes into spec/: the same
Prometheus series (spec/metrics.json)."""

from __future__ import annotations

import json
from typing import Any

from prometheus_client import Metric

from switchyard_worker.metrics import BUCKETS, WorkerMetrics

from .conftest import SPEC

# Read on scrape from the broker by the node worker; the Python worker has no broker handle for it.
NODE_ONLY = {"switchyard_queue_depth"}


def _spec(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SPEC / name).read_text())
    return loaded


def _series(metric: Metric) -> str:
    """The exposed name: prometheus_client keeps a counter's name without its `_total`."""
    return metric.name + ("_total" if metric.type == "counter" else "")


def test_every_worker_series_of_spec_metrics_is_served_with_its_type_help_and_labels() -> None:
    spec = _spec("metrics.json")
    metrics = WorkerMetrics()
    # One sample of each series, so that its label names show (labels() refuses a name it was not declared with).
    for info in spec["metrics"]:
        if info["served"] != "worker" or info["name"] in NODE_ONLY:
            continue
        found = next((m for m in vars(metrics).values() if getattr(m, "_name", None) in (info["name"], info["name"].removesuffix("_total"))), None)
        assert found is not None, f"{info['name']} is not served by the Python worker"
        sample = found.labels(**{label: "x" for label in info["labels"]})
        if info["type"] == "histogram":
            sample.observe(0.01)
        elif info["type"] == "gauge":
            sample.set(1)
        else:
            sample.inc()
    collected = {_series(m): m for m in metrics.registry.collect()}
    served = set(collected)
    wanted = {info["name"] for info in spec["metrics"] if info["served"] == "worker"} - NODE_ONLY
    assert served == wanted
    for info in spec["metrics"]:
        metric = collected.get(info["name"])
        if metric is None:
            continue
        assert metric.type == info["type"], info["name"]
        assert metric.documentation == info["help"], info["name"]
        names = {key for s in metric.samples for key in s.labels if key != "le"}
        assert names == set(info["labels"]), info["name"]
    assert list(BUCKETS) == spec["durationBuckets"]


def test_the_text_has_no_created_samples_the_node_content_type_and_the_process_series() -> None:
    metrics = WorkerMetrics()
    metrics.started.labels(pool="py", workflow="py.hello").inc()
    text = metrics.render()
    assert 'switchyard_runs_started_total{pool="py",workflow="py.hello"} 1.0\n' in text
    assert "_created" not in text
    # Then the process's own series, as the node worker serves prom-client's defaults.
    assert "\nprocess_cpu_seconds_total " in text
    assert "\nprocess_resident_memory_bytes " in text
    assert text.count("# TYPE process_cpu_seconds_total counter\n") == 1
    from switchyard_worker.metrics import CONTENT_TYPE

    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"

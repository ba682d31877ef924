"""The worker's Prometheus series, with the same names and labels as the node worker's
(src/data/worker-metrics.ts), so one dashboard reads both runtimes."""

from __future__ import annotations

import threading
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = [*labels, *extra]
    if not pairs:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Series:
    def __init__(self, name: str, help: str, kind: str) -> None:
        self.name, self.help, self.kind = name, help, kind
        self.values: dict[Labels, float] = {}
        self.lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class Counter(_Series):
    def __init__(self, name: str, help: str) -> None:
        super().__init__(name, help, "counter")

    def inc(self, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self.lock:
            self.values[key] = self.values.get(key, 0) + 1

    def render(self) -> list[str]:
        return self.header() + [f"{self.name}{_labels(k)} {_num(v)}" for k, v in self.values.items()]


class Gauge(Counter):
    def __init__(self, name: str, help: str) -> None:
        _Series.__init__(self, name, help, "gauge")

    def set(self, value: float, **labels: str) -> None:
        with self.lock:
            self.values[tuple(sorted(labels.items()))] = value


class Histogram(_Series):
    def __init__(self, name: str, help: str) -> None:
        super().__init__(name, help, "histogram")
        self.entries: dict[Labels, list[float]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self.lock:
            entry = self.entries.setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, bound in enumerate(BUCKETS):
                if value <= bound:
                    entry[i] += 1
            entry[-2] += value
            entry[-1] += 1

    def render(self) -> list[str]:
        lines = self.header()
        for key, entry in self.entries.items():
            for i, bound in enumerate(BUCKETS):
                lines.append(f"{self.name}_bucket{_labels(key, [('le', _num(bound))])} {_num(entry[i])}")
            lines.append(f"{self.name}_bucket{_labels(key, [('le', '+Inf')])} {_num(entry[-1])}")
            lines.append(f"{self.name}_sum{_labels(key)} {_num(entry[-2])}")
            lines.append(f"{self.name}_count{_labels(key)} {_num(entry[-1])}")
        return lines


class WorkerMetrics:
    def __init__(self) -> None:
        self.started = Counter("switchyard_runs_started_total", "Runs started by this worker, by workflow.")
        self.succeeded = Counter("switchyard_runs_succeeded_total", "Runs that succeeded, by workflow.")
        self.failed = Counter("switchyard_runs_failed_total", "Run attempts that failed, by workflow and error code.")
        self.duration = Histogram("switchyard_run_duration_seconds", "Run attempt duration, by workflow and outcome.")
        self.in_flight = Gauge("switchyard_runs_in_flight", "Runs executing in this worker now.")
        self.rejected = Counter(
            "switchyard_envelopes_rejected_total",
            "Envelopes refused without running, by reason (malformed, signature, pool, deadline).",
        )

    def render(self) -> str:
        series = (self.started, self.succeeded, self.failed, self.duration, self.in_flight, self.rejected)
        return "\n".join(line for s in series for line in s.render()) + "\n"

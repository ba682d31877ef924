import json
import sys
from pathlib import Path
from typing import Any

# Tests import the package from python/ without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

from switchyard_worker.registry import Registry, load_registry

#: Every test's spans: OpenTelemetry's global provider can be set once per process.
EXPORTER = InMemorySpanExporter()
_provider = TracerProvider(resource=Resource.create({"service.name": "switchyard-pool-py"}), sampler=ParentBased(ALWAYS_ON))
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)

SPEC = Path(__file__).resolve().parents[2] / "spec"


def pool(name: str, **fields: Any) -> dict[str, Any]:
    """A pool of a resolved registry, with the TypeScript defaults (POOL_DEFAULTS)."""
    base: dict[str, Any] = {
        "name": name, "runtime": "node", "concurrency": 4, "processes": 1, "timeoutMs": 60_000, "retries": 2,
        "maxQueued": 1000, "memoryBytes": None, "maxOutputBytes": 1024**2, "env": None, "redis": None,
        "tracing": {"project": name, "sampleRate": 1, "capture": "full", "redact": []},
    }
    return {**base, **fields}


def workflow(root: Path, name: str, pool: str, ref: str, **fields: Any) -> dict[str, Any]:
    module, _, export = ref.partition("#")
    base: dict[str, Any] = {
        "name": name, "pool": pool, "graph": {"ref": ref, "module": str(root / module), "export": export or "graph"},
        "prompt": None, "input": {"type": "object"}, "output": None, "description": name, "timeoutMs": 60_000, "retries": 2,
    }
    return {**base, **fields}


def write_resolved(root: Path, pools: list[dict[str, Any]], workflows: list[dict[str, Any]]) -> Registry:
    """Write a resolved registry as `switchyard check` does (beside switchyard.yaml) and load it."""
    (root / "switchyard.yaml").write_text("# resolved in .switchyard/\n")
    data = {
        "format": 2, "source": str(root / "switchyard.yaml"), "root": str(root), "digest": "sha256:" + "ab" * 32,
        "pools": {p["name"]: p for p in pools}, "workflows": {w["name"]: w for w in workflows},
    }
    (root / ".switchyard").mkdir(exist_ok=True)
    (root / ".switchyard" / "switchyard.yaml.resolved.json").write_text(json.dumps(data))
    return load_registry(root / "switchyard.yaml")

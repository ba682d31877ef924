import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# Tests import the package from python/ without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

from switchyard_worker.envelope import VerifyKeys, canonical_envelope, parse_verify_keys
from switchyard_worker.registry import Registry, load_registry

#: Every test's spans: OpenTelemetry's global provider can be set once per process.
EXPORTER = InMemorySpanExporter()
_provider = TracerProvider(resource=Resource.create({"service.name": "switchyard-pool-py"}), sampler=ParentBased(ALWAYS_ON))
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)

SPEC = Path(__file__).resolve().parents[2] / "spec"
#: The vectors' test keys (spec/vectors/keys.json): public, for tests only.
TEST_KEYS: dict[str, Any] = json.loads((SPEC / "vectors" / "keys.json").read_text(encoding="utf-8"))
#: What SWITCHYARD_VERIFY_KEYS holds in the tests: the `current` and `previous` vector keys.
VERIFY_KEYS: VerifyKeys = parse_verify_keys(TEST_KEYS["verifyKeys"])


def sign(envelope: dict[str, Any], key: str = "current") -> dict[str, Any]:
    """The envelope signed as the gateway signs it, with a vector key (the package itself cannot sign)."""
    entry = TEST_KEYS["keys"][key]
    private = serialization.load_pem_private_key(entry["privateKeyPem"].encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    signature = private.sign(canonical_envelope(envelope).encode("utf-8"))
    return {**envelope, "sig": f"ed25519:{entry['keyId']}:{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"}


def pool(name: str, **fields: Any) -> dict[str, Any]:
    """A pool of a resolved registry, with the TypeScript defaults (POOL_DEFAULTS)."""
    base: dict[str, Any] = {
        "name": name, "runtime": "node", "concurrency": 4, "processes": 1, "timeoutMs": 60_000, "retries": 2,
        "maxQueued": 1000, "memoryBytes": None, "cpuCores": None, "maxOutputBytes": 1024**2, "env": None, "secrets": [], "redis": None, "user": None,
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


def sha256_of(file: Path) -> str:
    """The digest a supervisor passes the worker with the resolved registry it wrote (--registry-sha256)."""
    return "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest()


def write_resolved(root: Path, pools: list[dict[str, Any]], workflows: list[dict[str, Any]]) -> Registry:
    """Write a resolved registry as `switchyard check` does (beside switchyard.yaml) and load it."""
    (root / "switchyard.yaml").write_text("# resolved in .switchyard/\n")
    data = {
        "format": 3, "source": str(root / "switchyard.yaml"), "root": str(root), "digest": "sha256:" + "ab" * 32,
        "pools": {p["name"]: p for p in pools}, "workflows": {w["name"]: w for w in workflows},
    }
    (root / ".switchyard").mkdir(exist_ok=True)
    (root / ".switchyard" / "switchyard.yaml.resolved.json").write_text(json.dumps(data))
    return load_registry(root / "switchyard.yaml")

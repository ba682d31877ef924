"""The slice of switchyard.yaml (or .json) a Python worker needs: its pool and that pool's workflows.

`switchyard check` (TypeScript) is the registry's validator, with file:line errors;
this reader trusts that and only resolves what it uses: runtime, concurrency,
timeouts, tracing project, env file, and each workflow's graph ref `path.py#function`
relative to the registry file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SwitchyardError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_MS_PER_UNIT = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000}
DEFAULT_TIMEOUT_MS = 60_000
DEFAULT_CONCURRENCY = 4


_SIZE = re.compile(r"(\d+(?:\.\d+)?)(b|kb|mb|gb)", re.I)
_BYTES_PER_UNIT = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}


def parse_size(text: Any, field: str) -> int:
    """'256mb' | '1gb' → whole bytes, binary units (as src/control/registry-rules.ts)."""
    match = _SIZE.fullmatch(str(text).strip())
    if not match or float(match.group(1)) <= 0:
        raise SwitchyardError("REGISTRY_INVALID", f"{field}: not a size (256mb, 1gb): {text!r}")
    return round(float(match.group(1)) * _BYTES_PER_UNIT[match.group(2).lower()])


def parse_duration(text: Any, field: str) -> int:
    """'250ms' | '30s' | '2m' | '1h' → whole milliseconds (as src/control/registry-rules.ts)."""
    match = _DURATION.fullmatch(str(text).strip())
    if not match or float(match.group(1)) <= 0:
        raise SwitchyardError("REGISTRY_INVALID", f"{field}: not a duration (250ms, 30s, 2m, 1h): {text!r}")
    return round(float(match.group(1)) * _MS_PER_UNIT[match.group(2)])


@dataclass(frozen=True)
class Pool:
    name: str
    runtime: str
    concurrency: int
    timeout_ms: int
    project: str
    #: `memory:` in bytes, or None.
    memory: int | None
    env: Path | None
    redis: str | None


@dataclass(frozen=True)
class Workflow:
    name: str
    pool: str
    graph_ref: str
    module: Path
    export: str
    prompt: Path | None
    timeout_ms: int
    #: The `output:` JSON Schema as written: inline (a mapping or boolean), a path, or None.
    output: Any = None


@dataclass(frozen=True)
class Registry:
    source: Path
    root: Path
    pools: dict[str, Pool]
    workflows: dict[str, Workflow]


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise SwitchyardError("REGISTRY_INVALID", f"{path}: the registry must be a mapping")
    return data


def load_registry(path: str | Path) -> Registry:
    """Read a registry file. Raises REGISTRY_INVALID for what this worker cannot resolve."""
    source = Path(path).resolve()
    try:
        data = _read(source)
    except OSError as error:
        raise SwitchyardError("REGISTRY_INVALID", f"cannot read the registry {source}: {error.strerror}") from error
    except (ValueError, yaml.YAMLError) as error:
        raise SwitchyardError("REGISTRY_INVALID", f"{source}: {error}") from error
    root = source.parent
    pools: dict[str, Pool] = {}
    for name, raw in (data.get("pools") or {}).items():
        raw = raw or {}
        tracing = raw.get("tracing") or {}
        pools[name] = Pool(
            name=name,
            runtime=raw.get("runtime", "node"),
            concurrency=int(raw.get("concurrency", DEFAULT_CONCURRENCY)),
            timeout_ms=parse_duration(raw["timeout"], f"pool '{name}' timeout") if "timeout" in raw else DEFAULT_TIMEOUT_MS,
            project=tracing.get("project", name),
            memory=parse_size(raw["memory"], f"pool '{name}' memory") if raw.get("memory") else None,
            env=(root / raw["env"]).resolve() if raw.get("env") else None,
            redis=raw.get("redis"),
        )
    workflows: dict[str, Workflow] = {}
    for name, raw in (data.get("workflows") or {}).items():
        pool = pools.get(raw.get("pool"))
        if pool is None:
            raise SwitchyardError("REGISTRY_INVALID", f"workflow '{name}': unknown pool {raw.get('pool')!r}")
        ref = str(raw.get("graph", ""))
        module, _, export = ref.partition("#")
        workflows[name] = Workflow(
            name=name,
            pool=pool.name,
            graph_ref=ref,
            module=(root / module).resolve(),
            export=export or "graph",
            prompt=(root / raw["prompt"]).resolve() if raw.get("prompt") else None,
            timeout_ms=parse_duration(raw["timeout"], f"workflow '{name}' timeout") if "timeout" in raw else pool.timeout_ms,
            output=(root / raw["output"]).resolve() if isinstance(raw.get("output"), str) else raw.get("output"),
        )
    return Registry(source=source, root=root, pools=pools, workflows=workflows)

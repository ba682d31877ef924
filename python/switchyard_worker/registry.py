"""The registry as the TypeScript control plane resolved it, read from its resolved form.

The Python worker does not parse switchyard.yaml: `switchyard check` and the supervisor
write `.switchyard/<registry file>.resolved.json` (spec/resolved-registry.schema.json:
defaults applied, durations in ms, sizes in bytes, absolute paths, schemas inlined), and
this module reads it. One set of registry rules, the TypeScript one; a format this
reader does not know is refused, never guessed at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SwitchyardError

#: The resolved-registry format this reader understands (RESOLVED_FORMAT in TypeScript).
FORMAT = 3


@dataclass(frozen=True)
class Pool:
    name: str
    runtime: str
    concurrency: int
    processes: int
    timeout_ms: int
    retries: int
    max_queued: int
    project: str
    #: `memory:` in bytes, or None.
    memory: int | None
    env: Path | None
    redis: str | None
    #: `maxOutput:` in bytes: the largest output (its JSON, UTF-8) a run may return.
    max_output: int = 1024**2
    #: What spans may record of values: full | redacted | none (tracing.capture).
    capture: str = "full"
    redact: tuple[str, ...] = ()
    #: Env variables whose values are secrets besides *_KEY, *_TOKEN, *_SECRET, *_PASSWORD (`secrets:`).
    secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workflow:
    name: str
    pool: str
    graph_ref: str
    module: Path
    export: str
    prompt: Path | None
    timeout_ms: int
    description: str = ""
    #: The `output:` JSON Schema, inlined (a mapping or a boolean), or None.
    output: Any = None


@dataclass(frozen=True)
class Registry:
    source: Path
    root: Path
    digest: str
    pools: dict[str, Pool]
    workflows: dict[str, Workflow]


def _invalid(path: Path, message: str) -> SwitchyardError:
    return SwitchyardError("REGISTRY_INVALID", f"{path}: {message}")


def _get(raw: Any, key: str, kind: type | tuple[type, ...], where: str, path: Path) -> Any:
    if not isinstance(raw, dict) or key not in raw:
        raise _invalid(path, f"{where} has no '{key}' (is this a resolved registry? run `switchyard check`)")
    value = raw[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,))):
        raise _invalid(path, f"{where}.{key} has the wrong type: {value!r}")
    return value


def _optional_path(value: Any) -> Path | None:
    return Path(value) if isinstance(value, str) else None


def parse_registry(data: Any, path: Path) -> Registry:
    """A Registry from the parsed resolved form; REGISTRY_INVALID for a shape this reader cannot trust."""
    if not isinstance(data, dict):
        raise _invalid(path, "a resolved registry is a JSON object")
    if data.get("format") != FORMAT:
        raise _invalid(
            path,
            f"resolved-registry format {data.get('format')!r} is not {FORMAT}, the one this worker reads: "
            "install the switchyard-worker that matches your switchyard",
        )
    pools: dict[str, Pool] = {}
    for name, raw in _get(data, "pools", dict, "registry", path).items():
        where = f"pools.{name}"
        tracing = _get(raw, "tracing", dict, where, path)
        memory = _get(raw, "memoryBytes", (int, type(None)), where, path)
        pools[name] = Pool(
            name=_get(raw, "name", str, where, path),
            runtime=_get(raw, "runtime", str, where, path),
            concurrency=_get(raw, "concurrency", int, where, path),
            processes=_get(raw, "processes", int, where, path),
            timeout_ms=_get(raw, "timeoutMs", int, where, path),
            retries=_get(raw, "retries", int, where, path),
            max_queued=_get(raw, "maxQueued", int, where, path),
            project=_get(tracing, "project", str, f"{where}.tracing", path),
            memory=memory,
            env=_optional_path(_get(raw, "env", (str, type(None)), where, path)),
            redis=_get(raw, "redis", (str, type(None)), where, path),
            max_output=_get(raw, "maxOutputBytes", int, where, path),
            capture=_get(tracing, "capture", str, f"{where}.tracing", path),
            redact=tuple(str(key) for key in _get(tracing, "redact", list, f"{where}.tracing", path)),
            secrets=tuple(str(name) for name in _get(raw, "secrets", list, where, path)),
        )
    workflows: dict[str, Workflow] = {}
    for name, raw in _get(data, "workflows", dict, "registry", path).items():
        where = f"workflows.{name}"
        graph = _get(raw, "graph", dict, where, path)
        pool = _get(raw, "pool", str, where, path)
        if pool not in pools:
            raise _invalid(path, f"{where}.pool names no pool: {pool!r}")
        workflows[name] = Workflow(
            name=_get(raw, "name", str, where, path),
            pool=pool,
            graph_ref=_get(graph, "ref", str, f"{where}.graph", path),
            module=Path(_get(graph, "module", str, f"{where}.graph", path)),
            export=_get(graph, "export", str, f"{where}.graph", path),
            prompt=_optional_path(_get(raw, "prompt", (str, type(None)), where, path)),
            timeout_ms=_get(raw, "timeoutMs", int, where, path),
            description=_get(raw, "description", str, where, path),
            output=raw.get("output"),
        )
    return Registry(
        source=Path(_get(data, "source", str, "registry", path)),
        root=Path(_get(data, "root", str, "registry", path)),
        digest=_get(data, "digest", str, "registry", path),
        pools=pools,
        workflows=workflows,
    )


def resolved_path(config: str | Path) -> Path:
    """Where `switchyard check` writes the resolved form of the registry file ``config``."""
    source = Path(config).resolve()
    return source.parent / ".switchyard" / f"{source.name}.resolved.json"


def load_registry(path: str | Path) -> Registry:
    """Read a resolved registry (``*.resolved.json``). Given the registry file itself
    (switchyard.yaml), read the resolved form `switchyard check` wrote beside it."""
    file = Path(path).resolve()
    if not file.name.endswith(".resolved.json"):
        file = resolved_path(file)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _invalid(file, "no resolved registry here: run `switchyard check` (or start the worker with `switchyard worker`)") from None
    except OSError as error:
        raise _invalid(file, f"cannot read the resolved registry: {error.strerror}") from error
    except ValueError as error:
        raise _invalid(file, f"not JSON: {error}") from error
    registry = parse_registry(data, file)
    # Written by hand-run `switchyard check`: a registry file edited since is not what it describes.
    try:
        stale = registry.source.stat().st_mtime > file.stat().st_mtime
    except OSError:
        stale = False
    if stale:
        raise _invalid(file, f"older than {registry.source}: run `switchyard check` again")
    return registry

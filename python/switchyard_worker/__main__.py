"""switchyard-worker --registry .switchyard/switchyard.yaml.resolved.json --registry-sha256 sha256:HEX --pool NAME (--redis URL | --ipc)

Serves one python pool, from its BullMQ queue on Redis or from `switchyard dev`'s
embedded broker over file descriptor 3 (--ipc), until SIGTERM/SIGINT, then drains:
takes no new runs and lets in-flight ones finish. SWITCHYARD_VERIFY_KEYS (required)
lists the gateway's Ed25519 public keys: every envelope needs a signature by one of
them. The resolved registry is read only when its bytes hash to --registry-sha256
(SWITCHYARD_REGISTRY_SHA256: the supervisor's, which wrote it). `python3 -m
switchyard_worker` is the same.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .capture import ScrubbingLogFilter
from .envelope import VERIFY_KEYS_ENV, VerifyKeys, parse_verify_keys
from .errors import SwitchyardError
from .heartbeat import Heartbeat
from .http import ALLOWED_HOSTS_ENV, allowed_hosts_from, start_http
from .ipc_source import IpcSource
from .redis_check import wait_for_redis
from .redis_source import start_worker
from .registry import load_registry
from .runner import PoolRunner, busy_threads
from .tracing import init_tracing

#: The channel `switchyard dev` opens beside stdin, stdout and stderr.
IPC_FD = 3

#: The SHA-256 of the resolved registry as the supervisor (or `switchyard worker`) wrote it.
REGISTRY_SHA256_ENV = "SWITCHYARD_REGISTRY_SHA256"


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="switchyard-worker", description="Switchyard python pool worker")
    parser.add_argument(
        "--registry",
        default=os.environ.get("SWITCHYARD_REGISTRY") or None,
        help="the resolved registry (.switchyard/<file>.resolved.json, written by `switchyard check` and the supervisor)",
    )
    parser.add_argument(
        "--registry-sha256",
        default=os.environ.get(REGISTRY_SHA256_ENV) or None,
        help="sha256:<hex> of the resolved registry's bytes as its writer made them (set by the supervisor and "
        "`switchyard worker`); required: a resolved registry that does not hash to it is refused",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("SWITCHYARD_CONFIG", "switchyard.yaml"),
        help="the registry file, when --registry is not given: its resolved form beside it is read",
    )
    parser.add_argument("--pool", required=True, help="the python pool to serve")
    parser.add_argument("--redis", default=None, help="Redis URL (default: SWITCHYARD_REDIS_URL, else the pool's redis)")
    parser.add_argument("--ipc", action="store_true", help="take runs from `switchyard dev` over file descriptor 3 (set by the supervisor)")
    parser.add_argument("--prefix", default="bull", help="BullMQ key prefix (must match the broker's)")
    parser.add_argument("--concurrency", type=int, default=None, help="runs at once (default: the pool's concurrency)")
    parser.add_argument("--port", type=int, default=0, help="port of /healthz and /metrics (default 0: any free port, printed; -1: none)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address of /healthz and /metrics; they answer a Host of localhost or an IP address on their port "
        "(DNS rebinding), any Host on 0.0.0.0, and the names in SWITCHYARD_WORKER_ALLOWED_HOSTS "
        "(comma-separated, name or name:port; '*' for any)",
    )
    parser.add_argument("--lifeline", action="store_true", help="drain and exit when stdin closes (set by the supervisor)")
    return parser.parse_args(argv)


def registry_sha256(given: str | None) -> str:
    """The digest the resolved registry must hash to. The worker never trusts that file by
    itself: anyone who can write `.switchyard/` (a pool's graph) could point a workflow at a
    module of its choosing, which this process would import with the pool's env."""
    if not given or not given.strip():
        raise SwitchyardError(
            "CONFIG_INVALID",
            f"no --registry-sha256 ({REGISTRY_SHA256_ENV}): the worker reads the resolved registry only when its bytes hash "
            "to the SHA-256 of the text its writer made (anyone who can write .switchyard/ could change it). Start it with "
            "`npx switchyard worker --pool NAME`, which resolves the registry and passes it, or pass "
            '--registry-sha256 "sha256:$(sha256sum FILE | cut -d" " -f1)" right after `switchyard check` wrote FILE',
        )
    return given.strip()


def verify_keys_from_env(env: Mapping[str, str]) -> VerifyKeys:
    """The gateway's public keys; a worker without them refuses to start (it could verify nothing)."""
    if env.get("SWITCHYARD_SIGNING_KEY"):
        raise SwitchyardError(
            "CONFIG_INVALID",
            "SWITCHYARD_SIGNING_KEY (an HMAC secret every pool held, so any graph could sign) is no longer read: "
            f"workers verify Ed25519 signatures with {VERIFY_KEYS_ENV} (public keys only); unset it",
        )
    text = env.get(VERIFY_KEYS_ENV, "")
    if not text.strip():
        raise SwitchyardError(
            "CONFIG_INVALID",
            f"{VERIFY_KEYS_ENV} is not set: a worker runs only envelopes signed by the gateway, so it needs the gateway's "
            "public key(s) (comma-separated; 'switchyard keys public --signing-key FILE' prints one)",
        )
    return parse_verify_keys(text)


def cap_memory(limit: int) -> None:
    """The pool's `memory:` as RLIMIT_DATA (heap and private writable mappings, where
    Python objects live). Past it an allocation raises MemoryError: that run fails
    (GRAPH_FAILED, retried) and the process keeps serving. RLIMIT_AS would also count
    the address space every thread reserves, and kill threaded workers for nothing."""
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def watch_lifeline(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """Started by a supervisor: never outlive it. Its end of our stdin closes when it dies.
    Read on the event loop (a thread blocked in sys.stdin would abort interpreter exit)."""
    fd = sys.stdin.fileno()

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(fd)
            stop()

    loop.add_reader(fd, readable)


async def drain(worker: Any) -> None:
    """worker.close(), minus a race in bullmq 3.4: a fetch that starts just after close()
    cancelled the idle BZPOPMIN blocks for up to drainDelay (5 s) more. While closing,
    cancel any such wait as it appears (BullMQ expects that cancel when closing)."""
    closing = asyncio.ensure_future(worker.close())
    while not closing.done():
        waiting = worker.waiting
        if waiting is not None and not waiting.done():
            waiting.cancel()
        await asyncio.wait([closing], timeout=0.05)
    closing.result()


async def _serve(args: argparse.Namespace) -> int:
    registry = load_registry(args.registry or args.config, sha256=registry_sha256(args.registry_sha256))
    runner = PoolRunner(registry, args.pool, verify_keys_from_env(os.environ))
    url: str | None = None
    if not args.ipc:
        # The same order as the node worker: the flag, the pool's own credentials (its env
        # file's ACL user), then the registry's URL (which every pool can read).
        url = args.redis or os.environ.get("SWITCHYARD_REDIS_URL") or runner.pool.redis
        if not url:
            raise SwitchyardError(
                "BROKER_UNAVAILABLE", f"pool '{args.pool}' has no Redis URL: pass --redis or set SWITCHYARD_REDIS_URL (or --ipc under switchyard dev)"
            )
    if runner.pool.memory is not None:
        cap_memory(runner.pool.memory)
    # Every line this process logs passes the pool's secret scrubber first.
    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubbingLogFilter(runner.scrub))
    provider = init_tracing(runner.pool.name, runner.pool.project, scrub=runner.scrub, capture=runner.pool.capture)
    concurrency = args.concurrency or runner.pool.concurrency
    # Sync graphs run on threads: enough for every run at once, plus spares for threads a
    # deadline left behind (Python cannot stop a thread; the run has settled already).
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=concurrency * 2 + 2, thread_name_prefix="graph"))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.lifeline:
        watch_lifeline(loop, stop.set)
    draining = False
    http = None
    if args.port >= 0:

        def health() -> dict[str, Any]:
            return {"status": "draining" if draining else "ok", "pool": runner.pool.name, "inFlight": runner.in_flight, "pid": os.getpid()}

        http = await start_http(args.host, args.port, health, runner.metrics.render, allowed=args.allowed_hosts)
        host, port = http.sockets[0].getsockname()[:2]
    where = f"; http://{host}:{port}/healthz http://{host}:{port}/metrics" if http else ""
    signatures = f"verified (keys {', '.join(runner.verify_keys)})" if runner.verify_keys is not None else "not checked"
    try:
        if args.ipc:
            return await _serve_ipc(runner, concurrency, stop, where, signatures)
        assert url is not None
        if not await wait_for_redis(url, stop):
            return 0  # stopped before Redis ever answered: nothing in flight
        # Visible as alive before taking a run (the gateway refuses waiting callers of a pool without heartbeats).
        heartbeat = Heartbeat(url, args.prefix, runner.pool.name)
        await asyncio.get_running_loop().run_in_executor(None, heartbeat.beating.wait, 10)
        worker, cancels = start_worker(
            runner, url, prefix=args.prefix, concurrency=concurrency, name=f"{socket.gethostname()}-{os.getpid()}", worker_id=heartbeat.worker_id
        )
        run = asyncio.ensure_future(worker.run())
        # One line on stdout once serving, for supervisors and tests to wait on.
        print(
            f"switchyard python worker: pool '{runner.pool.name}' on {worker.name}, pid {os.getpid()}, concurrency {concurrency}, "
            f"signatures {signatures}{where}",
            flush=True,
        )
        await asyncio.wait([run, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        failed = run.done() and not run.cancelled() and run.exception() is not None
        if failed:
            print(f"switchyard worker: the queue loop stopped: {run.exception()}", file=sys.stderr)
        # Drain: no new runs; close() waits for the ones in flight (each bounded by its deadline).
        draining = True
        await drain(worker)
        run.cancel()
        await cancels.stop()
        heartbeat.stop()
        return 1 if failed else 0
    finally:
        if http is not None:
            http.close()
        if provider is not None:
            provider.shutdown()


async def _serve_ipc(runner: PoolRunner, concurrency: int, stop: asyncio.Event, where: str, signatures: str) -> int:
    """Runs from `switchyard dev` over fd 3, until SIGTERM (drain) or the parent's end closes (stop)."""
    source = IpcSource(runner, IPC_FD, concurrency)
    await source.start()
    print(
        f"switchyard python worker: pool '{runner.pool.name}' over IPC, pid {os.getpid()}, concurrency {concurrency}, signatures {signatures}{where}",
        flush=True,
    )
    stopped = asyncio.ensure_future(stop.wait())
    gone = asyncio.ensure_future(source.closed())
    await asyncio.wait([stopped, gone], return_when=asyncio.FIRST_COMPLETED)
    if stopped.done():
        await source.drain()
    else:
        await source.close()
    stopped.cancel()
    gone.cancel()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("SWITCHYARD_LOG_LEVEL", "INFO").upper(), format="%(levelname)s %(name)s %(message)s", stream=sys.stderr)
    args = _args(sys.argv[1:] if argv is None else argv)
    try:
        args.allowed_hosts = allowed_hosts_from(os.environ.get(ALLOWED_HOSTS_ENV))
    except ValueError as error:
        print(f"switchyard worker: {error}", file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()
    try:
        code = loop.run_until_complete(_serve(args))
    except SwitchyardError as error:
        print(f"switchyard worker: {error.code}: {error.message}", file=sys.stderr)
        return 2
    # A sync graph still running past its deadline would hold the process (and the
    # executor's shutdown) forever: its run is settled already, so leave without it.
    if busy_threads() > 0:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
    return code


def cli() -> None:
    """The `switchyard-worker` console script."""
    sys.exit(main())


if __name__ == "__main__":
    cli()

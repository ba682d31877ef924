"""The worker's small HTTP server: GET /healthz (200, or 503 while draining) and
GET /metrics (Prometheus text), as the node worker has (src/data/worker-http.ts).
Runs never arrive over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from .metrics import CONTENT_TYPE


async def start_http(host: str, port: int, health: Callable[[], dict[str, Any]], metrics: Callable[[], str]) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, path = [*request.split(b"\r\n", 1)[0].decode("latin-1").split(" "), "", ""][:2]
            path = path.split("?", 1)[0]
            if method != "GET":
                status, kind, body = "405 Method Not Allowed", "text/plain", "only GET\n"
            elif path == "/healthz":
                state = health()
                status = "200 OK" if state.get("status") == "ok" else "503 Service Unavailable"
                kind, body = "application/json", json.dumps(state)
            elif path == "/metrics":
                status, kind, body = "200 OK", CONTENT_TYPE, metrics()
            else:
                status, kind, body = "404 Not Found", "text/plain", "not found: try /healthz or /metrics\n"
            data = body.encode("utf-8")
            writer.write(f"HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {len(data)}\r\nconnection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(serve, host, port)

"""A local server speaking a provider's wire format on 127.0.0.1:0 (OpenAI chat
completions, which Ollama, vLLM, LM Studio and llama.cpp serve too, or Anthropic
messages), as test/graph/chat-server.ts does for the TypeScript providers: each request
takes the next scripted reply; request bodies and paths are kept."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatServer:
    def __init__(self, replies: list[dict[str, Any]], wire: str = "openai") -> None:
        self.replies = list(replies)
        self.wire = wire
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.requests.append(body)
                server.paths.append(self.path)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                reply: dict[str, Any] = server.replies.pop(0) if server.replies else {"status": 500, "error": "no scripted reply left"}
                if reply.get("hang"):
                    server.release.wait(10)  # never answers in time: the client's timeout must fire
                    return
                if "status" in reply:
                    error = (
                        {"type": "error", "error": {"type": "rate_limit_error", "message": reply["error"]}}
                        if server.wire == "anthropic"
                        else {"error": {"message": reply["error"], "type": "rate_limit_exceeded", "code": None}}
                    )
                    self._send(reply["status"], error)
                    return
                usage = reply.get("usage", {"prompt_tokens": 120, "completion_tokens": 30})
                self._send(200, server._answer(body, reply["content"], usage))

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"
        self.root = f"http://127.0.0.1:{self.server.server_port}"

    def _answer(self, request: dict[str, Any], content: str, usage: dict[str, int]) -> dict[str, Any]:
        if self.wire == "anthropic":
            # Anthropic answers structured requests through the tool the client forces; text otherwise.
            tools = request.get("tools") or []
            try:
                value = json.loads(content)
            except ValueError:
                value = None
            block = (
                {"type": "tool_use", "id": "toolu_01", "name": tools[0]["name"], "input": value}
                if tools and isinstance(value, dict)
                else {"type": "text", "text": content}
            )
            return {
                "id": "msg_01", "type": "message", "role": "assistant", "model": request.get("model", "local"), "content": [block],
                "stop_reason": "tool_use" if block["type"] == "tool_use" else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"]},
            }
        return {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 1_700_000_000,
            "model": request.get("model", "local"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
        }

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

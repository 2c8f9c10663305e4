"""A tiny OpenAI-compatible HTTP server on 127.0.0.1 that misbehaves on request.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length) to serve httpx, and decides
each answer with ``script(body, attempt) -> action`` where ``attempt`` counts the requests
seen so far with the same prompt (0 for the first). Actions:

- ``("ok", text)``: a well-formed completion of ``text``
- ``("status", code, headers[, message])``: that HTTP status with a JSON error body
- ``("sleep", seconds)``: wait, then answer ok (to trip the client's timeout)
- ``("drop",)``: close the connection without answering
- ``("malformed",)``: HTTP 200 with a body that is not JSON
- ``("truncated",)``: promise a long body, send part of it, close
- ``("json", obj)``: HTTP 200 with ``obj`` as the JSON body
- ``("raw", data)``: HTTP 200 with the bytes ``data`` as the body (e.g. not UTF-8)
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

Action = tuple


def prompt_id(body: dict[str, Any]) -> str:
    """Return the text that identifies a request: its last message or its prompt."""
    if "messages" in body:
        return body["messages"][-1]["content"]
    return str(body.get("prompt"))


def completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    """Return an OpenAI-style response body for ``text``."""
    if "messages" in body:
        choice = {"index": 0, "message": {"role": "assistant", "content": text},
                  "finish_reason": "length"}
    else:
        choice = {"index": 0, "text": text, "finish_reason": "stop"}
    return {"id": "x", "object": "chat.completion", "choices": [choice],
            "usage": {"prompt_tokens": 7, "completion_tokens": len(text.split()),
                      "total_tokens": 7 + len(text.split())}}


class FakeServer:
    """Run the server in a background thread; ``url`` is its ``/v1`` base URL."""

    def __init__(self, script: Callable[[dict, int], Action]):
        self.script = script
        self.seen: list[tuple[float, dict, dict]] = []  # (time, headers, body)
        self.attempts: dict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.max_in_flight = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        self._ready.wait(5)
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = json.loads(await reader.readexactly(int(headers.get("content-length", 0))))
                pid = prompt_id(body)
                attempt = self.attempts[pid]
                self.attempts[pid] += 1
                self.seen.append((time.monotonic(), headers, body))
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    keep = await self._answer(writer, body, self.script(body, attempt))
                finally:
                    self.in_flight -= 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, body: dict, action: Action) -> bool:
        kind = action[0]
        if kind == "drop":
            return False
        if kind == "sleep":
            await asyncio.sleep(action[1])
            action = ("ok", "late")
            kind = "ok"
        status, extra, payload = 200, {}, b""
        if kind == "ok":
            payload = json.dumps(completion(body, action[1])).encode()
        elif kind == "json":
            payload = json.dumps(action[1]).encode()
        elif kind == "raw":
            payload = action[1]
        elif kind == "status":
            status = action[1]
            extra = action[2] if len(action) > 2 else {}
            message = action[3] if len(action) > 3 else f"injected {status}"
            payload = json.dumps({"error": {"message": message}}).encode()
        elif kind == "malformed":
            payload = b'{"choices": [ {"text": "oops'
        elif kind == "truncated":
            full = json.dumps(completion(body, "a long answer " * 20)).encode()
            head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(full)}\r\n\r\n").encode()
            writer.write(head + full[: len(full) // 3])
            await writer.drain()
            return False
        reason = {200: "OK", 429: "Too Many Requests"}.get(status, "Error")
        head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        for k, v in extra.items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        writer.write(head.encode() + payload)
        await writer.drain()
        return True

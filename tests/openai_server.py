"""A small OpenAI-compatible HTTP server on 127.0.0.1 for tests.

It speaks the real wire format, so the ``openai`` client under test runs unpatched:
``POST /v1/chat/completions`` (JSON, or ``text/event-stream`` with chunked transfer encoding
when ``stream`` is true), ``POST /v1/embeddings`` (deterministic vectors, not normalised) and
``GET /v1/models``. ``Behaviour`` scripts the replies and the
failures; every request is recorded in ``requests``.

    with OpenAIFixtureServer(Behaviour(reply="Hi there.")) as server:
        ...  # point the client at server.url
        assert server.requests[0].body["model"] == "fixture-model"
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = str | Callable[[list[dict[str, Any]]], str]
_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass
class Behaviour:
    """What the server does; change fields between requests as a test needs."""

    reply: Reply = "Hello from the fixture server."
    api_key: str | None = None  # when set, other keys get 401
    models: tuple[str, ...] = ("fixture-model",)
    unknown_model_404: bool = False  # 404 model_not_found for models not in ``models``
    fail_first: int = 0  # the first N chat requests get 429
    retry_after: float = 0.05  # seconds, sent with those 429s
    status: int | None = None  # every chat request fails with this status (e.g. 500)
    error_message: str = "The server had an error."  # the body's message for ``status``
    delay: float = 0.0  # seconds before the response headers (to provoke timeouts)
    chunk_delay: float = 0.0  # seconds between streamed chunks
    reject_stream_options: bool = False  # 400 on stream_options, like strict servers
    malformed: str | None = None  # "garbage": non-JSON SSE data; "not-sse": JSON, not a stream
    embedding_dim: int = 8  # size of the vectors /v1/embeddings returns
    embed_delay: float = 0.0  # seconds per embeddings request (to observe concurrency)
    max_inputs: int | None = None  # more inputs per embeddings request get 413 (like TEI)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any] | None


@dataclass
class _State:
    behaviour: Behaviour
    requests: list[RecordedRequest] = field(default_factory=list)
    chat_requests: int = 0
    disconnects: int = 0
    embed_in_flight: int = 0
    embed_max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def split_reply(text: str) -> list[str]:
    """The deltas the server streams: words with their leading spaces, rejoining exactly."""
    return re.findall(r"\s*\S+\s*$|\s*\S+", text) if text.strip() else ([text] if text else [])


def _error_body(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, like real servers
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request lines on stderr."""

    # Plumbing ------------------------------------------------------------------------------

    def _record(self, body: dict[str, Any] | None) -> int:
        state = self.server.state
        with state.lock:
            state.requests.append(
                RecordedRequest(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
            )
            if self.path.rstrip("/").endswith("/chat/completions"):
                state.chat_requests += 1
            return state.chat_requests

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _disconnected(self) -> None:
        with self.server.state.lock:
            self.server.state.disconnects += 1
        self.close_connection = True

    # Routes --------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._record(None)
        if self.path.rstrip("/") == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fixture"}
                for m in self.server.state.behaviour.models
            ]
            self._send_json(200, {"object": "list", "data": models})
        else:
            self._send_json(404, _error_body("Not Found", "not_found", None))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        number = self._record(body)
        if self.path.rstrip("/") == "/v1/embeddings":
            self._embeddings(body if isinstance(body, dict) else {})
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, _error_body("Not Found", "not_found", None))
            return
        try:
            self._chat(body if isinstance(body, dict) else {}, number)
        except _GONE:
            self._disconnected()

    def _embeddings(self, body: dict[str, Any]) -> None:
        import hashlib

        state, behaviour = self.server.state, self.server.state.behaviour
        model, texts = body.get("model"), body.get("input")
        if behaviour.unknown_model_404 and model not in behaviour.models:
            self._send_json(404, _error_body(f"The model `{model}` does not exist.",
                                             "invalid_request_error", "model_not_found"))
            return
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        if behaviour.max_inputs is not None and len(texts) > behaviour.max_inputs:
            self._send_json(413, _error_body(f"batch size {len(texts)} > maximum allowed batch "
                                             f"size {behaviour.max_inputs}", "validation", None))
            return
        with state.lock:
            state.embed_in_flight += 1
            state.embed_max_in_flight = max(state.embed_max_in_flight, state.embed_in_flight)
        try:
            time.sleep(behaviour.embed_delay)
        finally:
            with state.lock:
                state.embed_in_flight -= 1
        data = []
        for i, text in enumerate(texts):
            digest = hashlib.sha256(str(text).encode()).digest()
            vector = [(digest[j % 32] - 127.5) / 10 for j in range(behaviour.embedding_dim)]
            data.append({"object": "embedding", "index": i, "embedding": vector})
        self._send_json(200, {"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": 0, "total_tokens": 0}})

    def _chat(self, body: dict[str, Any], number: int) -> None:
        b = self.server.state.behaviour
        if b.delay:
            time.sleep(b.delay)
        sent_key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if b.api_key is not None and sent_key != b.api_key:
            # Like OpenAI, echo the key that was sent: the client must not repeat it.
            message = f"Incorrect API key provided: {sent_key}."
            self._send_json(401, _error_body(message, "invalid_request_error", "invalid_api_key"))
            return
        if number <= b.fail_first:
            self._send_json(
                429,
                _error_body("Rate limit reached, slow down.", "requests", "rate_limit_exceeded"),
                {"Retry-After": f"{b.retry_after:g}"},
            )
            return
        if b.status is not None:
            self._send_json(b.status, _error_body(b.error_message, "server_error", None))
            return
        model = body.get("model")
        if b.unknown_model_404 and model not in b.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            self._send_json(404, _error_body(message, "invalid_request_error", "model_not_found"))
            return
        if b.reject_stream_options and "stream_options" in body:
            message = "Unrecognized request argument supplied: stream_options"
            self._send_json(400, _error_body(message, "invalid_request_error", None))
            return
        messages = body.get("messages") or []
        text = b.reply(messages) if callable(b.reply) else b.reply
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        deltas = split_reply(text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(deltas),
            "total_tokens": prompt_tokens + len(deltas),
        }
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(str(model), deltas, usage if include_usage else None, b)
        else:
            self._send_json(200, {
                "id": "chatcmpl-fixture",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }],
                "usage": usage,
            })

    def _stream(
        self, model: str, deltas: list[str], usage: dict[str, int] | None, b: Behaviour
    ) -> None:
        if b.malformed == "not-sse":
            self._send_json(200, {"note": "streaming is not supported here"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {"id": "chatcmpl-fixture", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": model}

        def event(payload: dict[str, Any]) -> None:
            self._write_chunk(f"data: {json.dumps({**base, **payload})}\n\n".encode())

        if b.malformed == "garbage":
            self._write_chunk(b"data: {this is not json\n\n")
        else:
            first = {"role": "assistant", "content": ""}
            event({"choices": [{"index": 0, "delta": first, "finish_reason": None}]})
            for delta in deltas:
                if b.chunk_delay:
                    time.sleep(b.chunk_delay)
                event({"choices": [{"index": 0, "delta": {"content": delta},
                                    "finish_reason": None}]})
            event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if usage is not None:
                event({"choices": [], "usage": usage})
        self._write_chunk(b"data: [DONE]\n\n")
        self._write_chunk(b"")  # the zero-length chunk ends the body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for handlers stuck in a scripted delay
    state: _State


class OpenAIFixtureServer:
    """The fixture server, on an ephemeral port, served from a background thread."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.state = _State(behaviour or Behaviour())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The base URL a client should use (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def behaviour(self) -> Behaviour:
        return self._httpd.state.behaviour

    @behaviour.setter
    def behaviour(self, value: Behaviour) -> None:
        self._httpd.state.behaviour = value

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._httpd.state.lock:
            return list(self._httpd.state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    @property
    def embed_max_in_flight(self) -> int:
        """The most embeddings requests that were being served at the same time."""
        return self._httpd.state.embed_max_in_flight

    @property
    def disconnects(self) -> int:
        """How many responses the client abandoned before the server finished writing."""
        with self._httpd.state.lock:
            return self._httpd.state.disconnects

    def start(self) -> OpenAIFixtureServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIFixtureServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

"""``xllamacpp``: llama.cpp's own server code in process, from one prebuilt wheel (the default).

Nothing compiles on install; its x86_64 wheel is built for AVX2 (no AVX-512 kernels), so it is
somewhat slower than the compiled llama-cpp-python. ``xllamacpp.Server`` takes OpenAI-shaped
requests in process (no HTTP involved) and streams the reply through a callback whose return
value stops generation. llama.cpp's server keeps the KV cache of its slot between requests and
reuses the longest common prefix of the next prompt (``cache_prompt``).

The same object also listens on a loopback port (llama.cpp's server always does); this module
uses it only for ``/apply-template`` and ``/tokenize``, which have no in-process entry point,
and protects it with a random API key so that no other local program can use the model.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import queue
import secrets
import signal
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from assistant.backends.base import Message, TokenScores, Usage
from assistant.backends.runtimes import RuntimeConfig
from assistant.backends.runtimes.common import first_line, normalise, wait_passively
from assistant.errors import BackendError

if TYPE_CHECKING:
    import xllamacpp

# Log-probabilities are requested for this many most likely first tokens; when a candidate is
# not among them, once more with WIDE_TOP_K (the prompt is cached by then: ~0.1 s).
TOP_K = 20
WIDE_TOP_K = 1000
HTTP_TIMEOUT = 30.0
_DONE = object()
# The server is on 127.0.0.1: a proxy from the environment (HTTP_PROXY) must not be used.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def load(config: RuntimeConfig) -> XLlamaCpp:
    wait_passively()
    try:
        import xllamacpp
    except ImportError as exc:
        raise BackendError(
            f"xllamacpp is not usable ({exc}); run: pip install -e . (or pip install xllamacpp), "
            "or set llm_runtime=llama-cpp-python"
        ) from None
    params = xllamacpp.CommonParams()
    params.model.path = str(config.path)
    params.n_ctx = config.context
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.n_parallel = 1  # one slot: calls are serialised, and the slot keeps the prompt cache
    params.cache_ram_mib = 0  # no second prompt cache in RAM (8 GiB by default)
    params.n_threads_http = 2
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # any free port
    key = secrets.token_urlsafe(24)
    params.api_keys = [key]
    params.verbosity = -1  # llama.cpp's log lines would land in the user's terminal
    try:
        with _keep_signal_handlers():
            server = xllamacpp.Server(params)
    except (RuntimeError, ValueError, OSError) as exc:
        raise BackendError(
            f"cannot load the local model {config.path} with xllamacpp ({first_line(exc)}); it "
            "needs ~2 GB of free memory: close other programs or lower llm_context"
        ) from None
    return XLlamaCpp(server, key)


class XLlamaCpp:
    """An ``xllamacpp.Server`` with one slot."""

    name = "xllamacpp"

    def __init__(self, server: xllamacpp.Server, key: str) -> None:
        self.server: xllamacpp.Server | None = server
        self.url = str(server.listening_address).rstrip("/")
        self._key = key
        self._evaluated = 0
        self._token_ids: dict[str, list[int]] = {}

    @property
    def prompt_tokens_evaluated(self) -> int:
        return self._evaluated

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        prompt = self._http("/apply-template", {"messages": _chat(messages)})["prompt"]
        return len(self._tokenize(str(prompt), special=True))

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str]) -> Iterator[str | Usage]:
        request: dict[str, Any] = {
            "messages": _chat(messages), "max_tokens": max_tokens, "temperature": temperature,
            "stream": True, "stream_options": {"include_usage": True}, "cache_prompt": True,
        }
        if stop:
            request["stop"] = list(stop)
        server = self._server()
        chunks: queue.Queue[Any] = queue.Queue()
        stopping = threading.Event()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            chunks.put(chunk)
            return stopping.is_set()  # True ends the request: llama.cpp cancels the task

        def run() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except BaseException as exc:  # handed to the consumer, which raises it
                chunks.put(exc)
            finally:
                chunks.put(_DONE)

        # The server's call blocks until the reply is complete, so it runs beside the consumer.
        worker = threading.Thread(target=run, name="xllamacpp-stream", daemon=True)
        worker.start()
        generated = 0
        try:
            while (chunk := chunks.get()) is not _DONE:
                if isinstance(chunk, BaseException):
                    raise BackendError(f"the local model failed ({first_line(chunk)})")
                self._check(chunk)
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        generated += 1  # about one token a chunk; the final report corrects it
                        yield text
                        yield Usage(None, generated)
                usage = chunk.get("usage")
                if usage:
                    yield Usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        finally:
            stopping.set()
            # Returns at the next token at the latest; the slot is free afterwards.
            worker.join()

    def score_next_token(self, messages: Sequence[Message],
                         candidates: Sequence[str]) -> TokenScores | None:
        ids = []
        for candidate in candidates:
            tokens = self._tokenize(candidate, special=False)
            if len(tokens) != 1:
                return None
            ids.append(tokens[0])
        found: dict[int, float] = {}
        reply: dict[str, Any] = {}
        for top_k in (TOP_K, WIDE_TOP_K):
            # The probabilities llama.cpp reports are the model's own (softmax of the raw
            # logits), not the sampler's, so the greedy setting does not distort them.
            reply = self._server().handle_chat_completions({
                "messages": _chat(messages), "max_tokens": 1, "temperature": 0.0,
                "logprobs": True, "top_logprobs": top_k, "cache_prompt": True,
            })
            self._check(reply)
            try:
                top = reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]
                found = {int(entry["id"]): float(entry["logprob"]) for entry in top}
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise BackendError(
                    f"xllamacpp returned no token probabilities (missing {exc})"
                ) from None
            if all(i in found for i in ids):
                break
        # A candidate below even the WIDE_TOP_K most likely tokens is given the least of their
        # probabilities: an upper bound for it, far below any candidate that was found.
        floor = min(found.values())
        logprobs = normalise([found.get(i, floor) for i in ids])
        usage = reply.get("usage") or {}
        return TokenScores(logprobs, Usage(prompt_tokens=usage.get("prompt_tokens"),
                                           completion_tokens=0))

    def close(self) -> None:
        self.server = None  # the Server's destructor stops its loop and frees the model

    def _server(self) -> xllamacpp.Server:
        if self.server is None:
            raise BackendError("the xllamacpp model was closed")
        return self.server

    def _check(self, reply: dict[str, Any]) -> None:
        """Raise the server's error; count the prompt tokens it decoded."""
        error = reply.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise BackendError(f"the local model failed ({first_line(Exception(message))})")
        timings = reply.get("timings")
        if isinstance(timings, dict):
            self._evaluated += int(timings.get("prompt_n") or 0)

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        key = f"{int(special)}{text}"
        cached = self._token_ids.get(key)
        if cached is None:
            reply = self._http("/tokenize", {"content": text, "add_special": special,
                                             "parse_special": special})
            cached = [int(t) for t in reply["tokens"]]
            if not special:  # the candidates: few and repeated
                self._token_ids[key] = cached
        return cached

    def _http(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._key}"},
        )
        try:
            with _LOOPBACK.open(request, timeout=HTTP_TIMEOUT) as response:
                reply: dict[str, Any] = json.load(response)
        except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors
            raise BackendError(
                f"the local model's {path} endpoint failed ({first_line(exc)})"
            ) from None
        return reply


def _chat(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """Undo the SIGINT/SIGTERM handlers llama.cpp's server installs while it starts.

    They would turn Ctrl-C into "shut the model down" (and a second one into ``exit(1)``)
    instead of Python's KeyboardInterrupt, which the chat uses to stop an answer. The C-level
    handlers are saved and restored as opaque ``struct sigaction`` blobs (this works from any
    thread, unlike ``signal.signal``).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        sigaction = libc.sigaction
    except (OSError, AttributeError):
        sigaction = None
    saved = []
    if sigaction is not None:
        for signum in _SIGNALS:
            blob = ctypes.create_string_buffer(512)  # larger than any libc's struct sigaction
            if sigaction(signum, None, blob) == 0:
                saved.append((signum, blob))
    python_handlers = [(s, signal.getsignal(s)) for s in _SIGNALS]
    try:
        yield
    finally:
        if sigaction is not None and saved:
            for signum, blob in saved:
                sigaction(signum, blob, None)
        elif threading.current_thread() is threading.main_thread():
            for signum, handler in python_handlers:
                if handler is not None:
                    signal.signal(signum, handler)

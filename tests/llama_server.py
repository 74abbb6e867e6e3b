"""Start a real llama.cpp OpenAI-compatible server with the local model on loopback, for tests.

``llama_cpp.server`` when llama-cpp-python's ``server`` extra is installed; otherwise llama.cpp's
own C++ server as the prebuilt ``xllamacpp`` wheel starts it (no compile needed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_MODULES = ("llama_cpp", "fastapi", "uvicorn", "sse_starlette", "starlette_context")

# Runs ``python -m llama_cpp.server`` unchanged, after one tweak when llama.cpp was built with
# AMX kernels: weights are not repacked into "extra" CPU buffers. On virtual machines that
# advertise AMX without enabling it the first batched matmul dies on ``ldtilecfg`` (SIGSEGV);
# ``assistant.backends.local`` applies the same guard to the in-process model.
LAUNCH_LLAMA_SERVER = """
import os, runpy, sys
import llama_cpp
import llama_cpp.llama_cpp as C
if b"AMX_INT8 = 1" in llama_cpp.llama_print_system_info():
    _defaults = C.llama_model_default_params
    def _no_repack():
        params = _defaults()
        params.use_extra_bufts = False
        return params
    C.llama_model_default_params = _no_repack
if os.environ.get("LLAMA_SERVER_MEAN_POOLING"):
    # llama_cpp.server has no pooling option; a chat model's default is per-token vectors.
    _init = llama_cpp.Llama.__init__
    def _mean_pooled(self, *args, **kwargs):
        kwargs.setdefault("pooling_type", llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        _init(self, *args, **kwargs)
    llama_cpp.Llama.__init__ = _mean_pooled
sys.argv[0] = "llama_cpp.server"
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


# llama.cpp's C++ server from the xllamacpp wheel, bound to 127.0.0.1. Starting it installs
# handlers that turn SIGTERM into "stop the model" without ending the process: the default
# handler is put back so that terminate() ends it.
LAUNCH_XLLAMACPP_SERVER = """
import signal, sys, threading
import xllamacpp
model, port, threads, n_ctx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
embeddings = sys.argv[5] == "embeddings"
params = xllamacpp.CommonParams()
if embeddings:  # /v1/embeddings, one mean-pooled vector a text (a chat model's default is none)
    params.embedding = True
    params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
params.model.path = model
params.hostnames = ["127.0.0.1"]
params.port = port
params.n_ctx = n_ctx
params.n_parallel = 1
params.cache_ram_mib = 0
params.cpuparams.n_threads = threads
params.cpuparams_batch.n_threads = threads
server = xllamacpp.Server(params)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.SIG_DFL)
print("listening on", server.listening_address, flush=True)
threading.Event().wait()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def local_gguf() -> Path:
    """The packaged model file (assembled once per machine), or skip the test."""
    from assistant.errors import ModelFileError
    from assistant.model_files import ensure_local_model
    from assistant.settings import Settings

    try:
        return ensure_local_model(Settings().cache_dir)
    except ModelFileError as exc:
        pytest.skip(f"local model unavailable: {exc}")


def server_kind() -> str:
    """Which server ``llama_server`` starts: ``llama_cpp.server`` or ``xllamacpp`` (or the one
    ``$TEST_LLAMA_SERVER`` names); skips the test when it is not installed."""
    have = {
        "llama_cpp.server": all(importlib.util.find_spec(m) is not None for m in SERVER_MODULES),
        "xllamacpp": importlib.util.find_spec("xllamacpp") is not None,
    }
    wanted = os.environ.get("TEST_LLAMA_SERVER")
    if wanted:
        if wanted not in have:
            pytest.fail(f"TEST_LLAMA_SERVER={wanted!r}: use one of {', '.join(have)}")
        if not have[wanted]:
            pytest.skip(f"{wanted} is not installed")
        return wanted
    for kind, installed in have.items():
        if installed:
            return kind
    pytest.skip("no llama.cpp server is installed: pip install -e . (brings xllamacpp)")


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def llama_server(
    log: Path, threads: int = 1, n_ctx: int = 2048, embeddings: bool = False
) -> Iterator[tuple[str, str]]:
    """Run a server with the local model; yields (base url ending in /v1, served model id).

    ``embeddings`` serves ``/v1/embeddings`` instead (mean-pooled vectors of the model)."""
    kind = server_kind()
    gguf = local_gguf()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    if kind == "llama_cpp.server":
        command = [sys.executable, "-c", LAUNCH_LLAMA_SERVER, "--model", str(gguf), "--host",
                   "127.0.0.1", "--port", str(port), "--n_threads", str(threads), "--n_ctx",
                   str(n_ctx), *(["--embedding", "true"] if embeddings else [])]
    else:
        command = [sys.executable, "-c", LAUNCH_XLLAMACPP_SERVER, str(gguf), str(port),
                   str(threads), str(n_ctx), "embeddings" if embeddings else "chat"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if embeddings:
        env["LLAMA_SERVER_MEAN_POOLING"] = "1"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        served = None
        while served is None:
            if proc.poll() is not None:
                pytest.fail(f"{kind} exited ({proc.returncode}):\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{kind} not ready after 90 s:\n{_tail(log)}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError, ValueError, LookupError),
                urllib.request.urlopen(f"{url}/models", timeout=2) as response,
            ):
                served = str(json.load(response)["data"][0]["id"])
            if served is None:
                time.sleep(0.5)
        yield url, served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

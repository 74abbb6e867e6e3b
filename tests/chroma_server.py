"""Start a real Chroma server (``chroma run``, the CLI inside the chromadb package) on loopback."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_server import free_port

# ``chroma run`` exactly as the console script runs it, with this interpreter.
CHROMA_RUN = "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()"


class ChromaServer:
    """One ``chroma run --path DIR --host 127.0.0.1 --port PORT`` process; stop and start again
    on the same port and path to simulate a restart."""

    def __init__(self, path: Path, log: Path, port: int | None = None) -> None:
        self.path = path
        self.log = log
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings(self) -> dict[str, object]:
        return {"chroma_host": self.host, "chroma_port": self.port}

    def start(self, timeout: float = 60) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", CHROMA_RUN, "run", "--path", str(self.path), "--host",
                 self.host, "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
            )
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                pytest.fail(f"chroma run exited ({self._proc.returncode}):\n{self._tail()}")
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run not ready after {timeout:.0f} s:\n{self._tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def _tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def chroma_server(folder: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(folder / "db", folder / "chroma.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()

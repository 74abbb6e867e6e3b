"""Shared fixtures: temp settings, a small mixed-format corpus, and helpers."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings, load_settings

# Rich reads the terminal width when the CLI's consoles are created: fix it for every test.
os.environ.setdefault("COLUMNS", "160")

# How this process started out handling Ctrl-C, before any model loaded: a shell's background
# job (`python -m pytest &`) starts with SIGINT ignored, and the Ctrl-C tests must know that.
SIGINT_AT_START = signal.getsignal(signal.SIGINT)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "rudaw-us-troops-iraq-2500.md"
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"data_dir": tmp / "data", "corpus_dir": ROOT / "corpus",
                                 "backend": "fake"}
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(autouse=True)
def _release_chroma(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test, stop the embedded Chroma systems under its own ``tmp_path``.

    Chroma keeps one system per persist directory for the whole process, with its SQLite and
    HNSW files open; the stores here never close their client. Over a full session the open
    files passed 1024, and pexpect's select() (the pty chat tests) fails above that. Module
    and session fixtures live under other directories and are left alone.
    """
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if tmp is None:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", {})
    for identifier, system in list(systems.items()):
        folder = system.settings.persist_directory if system.settings.is_persistent else None
        if folder and Path(folder).resolve().is_relative_to(Path(tmp).resolve()):
            systems.pop(identifier, None)
            getattr(SharedSystemClient, "_identifier_to_refcount", {}).pop(identifier, None)
            system.stop()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    return lambda **overrides: make_settings(tmp_path, **overrides)


def write_small_corpus(folder: Path) -> Path:
    """Five articles in every supported format (seed article included)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / "rudaw.md")
    (folder / "basra.txt").write_text(
        "British troops leave Basra palace\n\n"
        "British soldiers handed over the Basra palace to Iraqi forces on Sunday. About 500 "
        "troops moved to the airport base. The Ministry of Defence said the handover went to "
        "plan.\n",
        encoding="utf-8",
    )
    rows = [
        {"title": "Central bank raises interest rates", "text": "The central bank raised its "
         "main interest rate by half a point to fight inflation, which reached 9.1% in June.",
         "published": "2022-07-14", "source": "cnn.com", "url": "https://example.com/rates",
         "authors": ["Ann Lee"], "section": "business"},
        {"title": "Heatwave breaks records in Europe", "body": "Temperatures passed 40C in "
         "London for the first time as a heatwave swept across Europe, forcing rail closures.",
         "published_at": "2022-07-19T10:00:00Z", "source": "usatoday.com",
         "url": "https://example.com/heat"},
    ]
    (folder / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n",
                                       encoding="utf-8")
    (folder / "page.html").write_text(
        "<html><head><title>Marathon record falls in Berlin</title>"
        '<meta property="article:published_time" content="2022-09-25">'
        '<meta property="og:site_name" content="Sport Daily"></head><body><nav>Home | News</nav>'
        "<article><h1>Marathon record falls in Berlin</h1>"
        "<p>Eliud Kipchoge broke his own marathon world record in Berlin on Sunday, finishing "
        "in two hours, one minute and nine seconds.</p>"
        "<p>The Kenyan runner cut thirty seconds from the mark he set in 2018 on the same "
        "course, in cool and still conditions that suited fast running.</p>"
        "<p>Organisers said more than forty thousand runners took part in the race.</p>"
        "</article><footer>Copyright</footer></body></html>",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    return write_small_corpus(tmp_path / "corpus")


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One index of the small corpus for read-only tests (built once per session)."""
    from assistant.index import NewsIndex

    tmp = tmp_path_factory.mktemp("shared")
    corpus = write_small_corpus(tmp / "corpus")
    index = NewsIndex(make_settings(tmp, corpus_dir=corpus))
    report = index.ingest([corpus])
    assert not report.rejected
    return index


class CountingEmbedder:
    """Wraps a real embedder and counts the texts it embeds (to prove skipped work)."""

    def __init__(self, inner: object, fail_after_calls: int | None = None) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        self.dim = inner.dim  # type: ignore[attr-defined]
        self.parallel_chunks = inner.parallel_chunks  # type: ignore[attr-defined]
        self.embedded = 0
        self.calls = 0
        self.fail_after_calls = fail_after_calls

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.fail_after_calls is not None and self.calls >= self.fail_after_calls:
            raise KeyboardInterrupt("simulated interruption")
        self.calls += 1
        self.embedded += len(texts)
        return self.inner.embed(texts)  # type: ignore[attr-defined]

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)  # type: ignore[attr-defined]


def benchmarks_dir(name: str) -> Path:
    path = BENCHMARKS / name
    if not path.exists():
        pytest.skip(f"{path} is absent (shared benchmark data not available here)")
    return path


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, data_dir: Path | None = None,
           env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run the ``assistant`` command in this process (Typer's CliRunner).

    An exception that escapes the command is re-raised: a user would have seen a traceback.
    """
    from typer.testing import CliRunner

    from assistant.cli.main import app

    full_env: dict[str, str | None] = {"NO_COLOR": "1"}
    if data_dir is not None:
        full_env["ASSISTANT_DATA_DIR"] = str(data_dir)
    full_env.update(env or {})
    result = CliRunner().invoke(app, list(args), env=full_env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CliResult(result.exit_code, result.stdout, result.stderr)


@pytest.fixture(scope="session")
def chroma(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One real ``chroma run`` server on loopback for the session (tests use own collections)."""
    from chroma_server import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma")) as server:
        yield server


# -- feeds: a real HTTP server on loopback ------------------------------------------------------
FAST_FEEDS = {"host_delay": 0.0, "read_timeout": 0.5, "connect_timeout": 2.0,
              "total_timeout": 5.0, "max_body_bytes": 200_000, "workers": 4}


def feed_settings(tmp: Path, **feeds: object) -> Settings:
    """Settings for feed tests: fast timeouts, small body limit, no politeness delay."""
    return make_settings(tmp, feeds={**FAST_FEEDS, **feeds})


@pytest.fixture
def news_site():  # type: ignore[no-untyped-def]
    from news_server import NewsServer
    from news_site import build_site

    server = NewsServer()
    try:
        yield build_site(server)
    finally:
        server.close()

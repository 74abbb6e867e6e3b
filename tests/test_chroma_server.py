"""The assistant against a real Chroma server (``chroma run`` on loopback): ingest, search,
remove, ask, eval; concurrent clients; the server stopped and restarted mid-ingest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from pathlib import Path

import pytest
from chroma_server import ChromaServer, chroma_server
from conftest import ROOT, CountingEmbedder, make_settings, write_small_corpus

from assistant.embedders import load_embedder
from assistant.engine import Assistant
from assistant.errors import StorageError
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.ingest import Ingestor
from assistant.settings import Settings

pytestmark = pytest.mark.server

SEED_TITLE = "US reduces troop numbers in Iraq to 2,500: Pentagon"


def _settings(tmp: Path, server: ChromaServer, **overrides: object) -> Settings:
    overrides.setdefault("collection", f"t-{uuid.uuid4().hex[:12]}")
    return make_settings(tmp, **server.settings(), **overrides)


def _cli(data_dir: Path, server: ChromaServer, collection: str, *args: str,
         ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("ASSISTANT_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "--chroma-host", server.host,
         "--chroma-port", str(server.port), "--collection", collection, *args],
        capture_output=True, text=True, env=env, timeout=600,
    )


def _exact(index: NewsIndex) -> None:
    """Chunks, article records and the keyword index agree exactly, with no duplicate."""
    rows = list(index.store.iter_chunks())
    assert len({cid for cid, _, _ in rows}) == len(rows) == index.store.count_chunks()
    per_article = Counter(meta["article_id"] for _, _, meta in rows)
    records = index.store.article_records()
    assert set(per_article) == set(records)
    assert all(per_article[aid] == rec.chunks for aid, rec in records.items())
    index.keyword_sync.sync()
    assert index.keyword.size == len(rows)


def test_ingest_search_remove_and_stats_on_a_server(tmp_path: Path, chroma: ChromaServer) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = _settings(tmp_path / "a", chroma)
    index = NewsIndex(settings)
    report = index.ingest([corpus])
    assert len(report.added) == 5 and not report.rejected
    _exact(index)
    assert index.search("how many US troops are in Iraq", k=3)[0].title == SEED_TITLE
    rudaw = index.search("troops", k=5, filters=SearchFilters.make("rudaw"))
    assert rudaw and {p.source for p in rudaw} == {"Rudaw"}
    stats = index.stats()
    assert stats["articles"] == 5 and stats["store"] == f"chroma server {chroma.host}:" \
        f"{chroma.port}"
    assert index.ingest([corpus]).chunks == 0  # unchanged: no work

    # The data lives on the server: a client with its own (empty) data dir sees all of it.
    other = NewsIndex(_settings(tmp_path / "b", chroma, collection=settings.store.collection))
    assert other.search("Kipchoge marathon", k=1)[0].title == "Marathon record falls in Berlin"
    assert other.remove("https://example.com/heat")
    assert all(p.article_id != "https://example.com/heat"
               for p in index.search("heatwave London rail closures", k=5))
    _exact(index)


def test_cli_ingest_search_and_ask_against_the_server(tmp_path: Path, chroma: ChromaServer) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    collection = f"cli-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    ingest = _cli(data, chroma, collection, "ingest", str(corpus), "--json")
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert len(json.loads(ingest.stdout)["added"]) == 5
    search = _cli(tmp_path / "data2", chroma, collection, "search", "Kipchoge", "--json")
    assert search.returncode == 0, search.stderr[-2000:]
    assert json.loads(search.stdout)[0]["title"] == "Marathon record falls in Berlin"
    ask = _cli(data, chroma, collection, "ask", "How many US troops remain in Iraq?",
               "--backend", "fake", "--json")
    assert ask.returncode == 0, ask.stderr[-2000:]
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and "2,500" in answer["text"]
    assert answer["citations"][0]["title"] == SEED_TITLE


def test_ask_in_process_with_the_fake_backend(tmp_path: Path, chroma: ChromaServer) -> None:
    settings = _settings(tmp_path, chroma, backend="fake")
    bot = Assistant(settings)
    answer = bot.ask("How many US troops remain in Iraq?")  # first use: builds from corpus/
    assert not answer.refused and "2,500" in answer.text
    assert answer.citations[0].title == SEED_TITLE
    assert bot.ask("What is the capital of France?").refused


@pytest.mark.slow
def test_eval_command_against_the_server(tmp_path: Path, chroma: ChromaServer) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1"}
    env.pop("ASSISTANT_BACKEND", None)
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "--chroma-host", chroma.host,
         "--chroma-port", str(chroma.port), "eval", "seed", "--backend", "extractive",
         "--json"], capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert data["passed"] and data["metrics"]["hit@1"] == 1.0


def _many_articles(folder: Path, label: str, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"title": f"{label} report {i}", "published": f"2022-03-{1 + i % 28:02d}",
             "source": label, "url": f"https://example.com/{label}/{i}",
             "text": f"The {label} council met on day {i} to discuss the harbour budget. "
                     f"Item {i}: the {label} mayor said the plan number {i} would go ahead."}
            for i in range(n)]
    path = folder / f"{label}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


READER = textwrap.dedent("""
    import json, sys, time
    from assistant.index import NewsIndex
    from assistant.settings import load_settings
    index = NewsIndex(load_settings(data_dir=sys.argv[1], chroma_host=sys.argv[2],
                                    chroma_port=int(sys.argv[3]), collection=sys.argv[4]))
    searches, stop = 0, time.monotonic() + float(sys.argv[5])
    while time.monotonic() < stop:
        index.search("harbour budget mayor", k=5)
        searches += 1
    print(json.dumps({"searches": searches}))
""")


def test_two_writers_and_a_reader_at_once_end_with_exact_counts(
    tmp_path: Path, chroma: ChromaServer
) -> None:
    collection = f"conc-{uuid.uuid4().hex[:8]}"
    first = _many_articles(tmp_path / "in1", "north", 40)
    second = _many_articles(tmp_path / "in2", "south", 40)
    env = {**os.environ, "NO_COLOR": "1"}
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(tmp_path / "reader"), chroma.host, str(chroma.port),
         collection, "12"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.cli.main", "--data-dir", str(tmp_path / f"w{i}"),
             "--chroma-host", chroma.host, "--chroma-port", str(chroma.port), "--collection",
             collection, "ingest", str(path), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for i, path in enumerate((first, second))
    ]
    for proc in writers:
        out, errors = proc.communicate(timeout=300)
        assert proc.returncode == 0, errors[-2000:]
        assert len(json.loads(out)["added"]) == 40
    out, errors = reader.communicate(timeout=300)
    assert reader.returncode == 0, errors[-2000:]
    assert json.loads(out)["searches"] > 0
    # Every client, the reader's keyword index included, sees exactly both writers' articles.
    for client in ("w0", "w1", "reader"):
        index = NewsIndex(_settings(tmp_path / client, chroma, collection=collection,
                                    data_dir=tmp_path / client))
        assert index.store.count_articles() == 80
        _exact(index)
        for label in ("north", "south"):
            hits = index.search(f"{label} mayor harbour", k=3, filters=SearchFilters.make(label))
            assert hits and hits[0].source == label


class StopServerAfter(CountingEmbedder):
    """Stops the Chroma server once ``calls`` embedding batches have been made."""

    def __init__(self, inner: object, server: ChromaServer, calls: int) -> None:
        super().__init__(inner)
        self.server, self.stop_at = server, calls

    def embed(self, texts):  # type: ignore[no-untyped-def]
        vectors = super().embed(texts)
        if self.calls == self.stop_at:
            self.server.stop()
        return vectors


def test_server_stopped_mid_ingest_then_restarted_resumes_without_duplicates(
    tmp_path: Path,
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    with chroma_server(tmp_path / "server") as server:
        settings = _settings(tmp_path, server, chunk_size=64, chunk_overlap=10)
        embedder = StopServerAfter(load_embedder(settings), server, calls=3)
        index = NewsIndex(settings, embedder=embedder)
        with pytest.raises(StorageError) as failure:
            Ingestor(settings, index.store, embedder, batch_chunks=2).run([corpus])
        message = str(failure.value)
        assert "\n" not in message
        assert f"Chroma server at {server.host}:{server.port}" in message
        assert "chroma run" in message and "re-run" in message

        server.start()  # same path, same port: a restart
        # The same client object carries on after the restart...
        embedder.stop_at = -1
        written = index.store.count_articles()
        assert 0 < written < 5
        report = index.ingest([corpus])
        assert len(report.added) == 5 - written and len(report.unchanged) == written
        _exact(index)
        # ...and a new client finds everything once.
        again = NewsIndex(_settings(tmp_path / "new", server, collection=settings.store.collection,
                                    chunk_size=64, chunk_overlap=10))
        assert again.ingest([corpus]).chunks == 0
        assert again.search("Kipchoge", k=1)[0].title == "Marathon record falls in Berlin"


def test_cli_reports_a_stopped_server_in_one_line(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    with chroma_server(tmp_path / "server") as server:
        collection = "down-test"
        assert _cli(tmp_path / "d", server, collection, "ingest", str(corpus)).returncode == 0
    # The server is gone now.
    result = _cli(tmp_path / "d", server, collection, "search", "troops")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{server.host}:{server.port}" in lines[0] and "chroma run" in lines[0]


def test_wrong_embedder_on_a_server_collection_is_refused(tmp_path: Path,
                                                          chroma: ChromaServer) -> None:
    settings = _settings(tmp_path, chroma)
    NewsIndex(settings).ingest([ROOT / "corpus"])
    inner = load_embedder(settings)

    class Other(CountingEmbedder):
        name = "other-embedder"

    other = Other(inner)
    other.name, other.dim = "other-embedder", 768
    with pytest.raises(StorageError) as refused:
        NewsIndex(settings, embedder=other)
    message = str(refused.value)
    assert "\n" not in message and "other-embedder" in message and "768-d" in message
    assert "minilm" in message and "384-d" in message

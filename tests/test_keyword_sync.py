"""The keyword index: incremental updates from the store's change log, filters, BM25 across
segments, interrupted and missed updates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings, write_small_corpus

from assistant.documents import day_number
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.stores import chroma as chroma_module
from assistant.stores import keyword_sync
from assistant.stores.keyword import KeywordIndex


class RecordingCollection:
    """Wraps a Chroma collection and records the keyword arguments of every ``get``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.gets: list[dict[str, Any]] = []
        self.rows_read = 0

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.gets.append(kwargs)
        got = self.inner.get(*args, **kwargs)
        self.rows_read += len(got["ids"]) if "documents" in kwargs.get("include", []) else 0
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _article(folder: Path, name: str, title: str, text: str, published: str) -> None:
    row = {"title": title, "text": text, "published": published, "source": "wire.test",
           "url": f"https://example.com/{name}"}
    (folder / f"{name}.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")


def test_updates_read_only_what_changed_and_never_page_by_offset(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    chunks = index.store.count_chunks()
    assert index.keyword.size == chunks and index.keyword.state.seq is not None

    recorder = RecordingCollection(index.store.chunks)
    index.store.chunks = recorder
    _article(corpus, "volcano", "Volcano erupts in Iceland", "Lava from the Fagradalsfjall "
             "volcano reached the road on Tuesday, officials said.", "2022-08-03")
    report = index.ingest([corpus])
    assert len(report.added) == 1
    assert index.keyword.size == index.store.count_chunks() == chunks + report.chunks
    # Only the new article's chunks were read back, by article id, never by offset.
    assert recorder.rows_read == report.chunks
    assert all("offset" not in kwargs for kwargs in recorder.gets)
    hits = index.keyword.search("Fagradalsfjall lava", 5, SearchFilters())
    assert hits and hits[0].article_id == "https://example.com/volcano"

    recorder.rows_read = 0
    assert index.remove("https://example.com/volcano")
    assert recorder.rows_read == 0  # a deletion reads no chunk
    assert index.keyword.search("Fagradalsfjall", 5, SearchFilters()) == []
    assert index.keyword.size == chunks


def test_sync_reports_incremental_work(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path)
    writer = NewsIndex(settings)
    writer.ingest([corpus])
    # A second client with its own keyword index (as on another machine).
    reader = NewsIndex(make_settings(tmp_path, data_dir=tmp_path / "other-client"))
    reader.store = writer.store
    reader.keyword_sync.store = writer.store
    first = reader.keyword_sync.sync()
    assert first.complete and first.indexed_articles == 5
    assert reader.keyword_sync.sync().synced is False  # nothing changed: no work
    _article(corpus, "volcano", "Volcano erupts in Iceland", "Lava reached the road.",
             "2022-08-03")
    writer.ingest([corpus])
    writer.remove("https://example.com/heat")
    second = reader.keyword_sync.sync()
    assert not second.complete
    assert (second.indexed_articles, second.deleted_articles) == (1, 1)
    assert reader.keyword.size == writer.store.count_chunks()


def test_keyword_filters_by_source_and_day(shared_index: NewsIndex) -> None:
    search = shared_index.keyword.search
    shared_index.keyword_sync.sync()
    rudaw = search("troops", 10, SearchFilters.make("RUDAW"))
    assert rudaw and {p.source for p in rudaw} == {"Rudaw"}
    july = SearchFilters.make(since=date(2022, 7, 1), until=date(2022, 7, 31))
    assert {p.title for p in search("bank inflation heatwave", 10, july)} == {
        "Central bank raises interest rates", "Heatwave breaks records in Europe"}
    soft = SearchFilters(since=date(2022, 9, 1), include_undated=True)
    titles = {p.title for p in search("troops", 10, soft)}
    assert "British troops leave Basra palace" in titles  # undated, kept by a soft range
    assert search("troops", 10, SearchFilters(since=date(2022, 9, 1))) == []
    assert search("troops", 10, SearchFilters(since=date(2022, 9, 2), until=date(2022, 9, 1))) \
        == []


def _rows(n: int) -> list[tuple[str, str, dict[str, Any]]]:
    words = ["harbour", "election", "storm", "bridge", "vaccine", "wheat", "strike", "court"]
    rows = []
    for i in range(n):
        text = " ".join(words[(i * j) % len(words)] for j in range(1, 2 + i % 7))
        meta = {"article_id": f"a{i // 3}", "title": f"Story {i // 3}", "source": "S",
                "source_key": "s", "day": day_number(date(2022, 1, 1)) + i, "chunk": i % 3}
        rows.append((f"a{i // 3}#{i % 3}", text, meta))
    return rows


def _scores(index: KeywordIndex, query: str) -> dict[str, float]:
    return {p.chunk_id: round(p.lexical or 0.0, 5) for p in index.search(query, 100,
                                                                          SearchFilters())}


def test_bm25_scores_do_not_depend_on_segments(tmp_path: Path) -> None:
    rows = _rows(60)
    whole = KeywordIndex(tmp_path / "whole")
    whole.reset()
    with whole.writing() as writer:
        writer.replace_articles([], rows)
    pieces = KeywordIndex(tmp_path / "pieces")
    pieces.reset()
    for start in range(0, len(rows), 12):  # five commits: several segments
        with pieces.writing() as writer:
            writer.replace_articles([], rows[start:start + 12])
    for query in ("storm bridge", "vaccine", "court wheat harbour"):
        assert _scores(whole, query) == _scores(pieces, query)
        assert _scores(whole, query)
    # Replacing an article in place: until Tantivy merges the segment, the deleted copy still
    # counts in the term statistics (as in Lucene), so scores move a little, no more.
    with pieces.writing() as writer:
        writer.replace_articles(["a0"], rows[:3])
    before, after = _scores(whole, "storm bridge"), _scores(pieces, "storm bridge")
    assert before.keys() == after.keys()
    assert all(abs(after[c] - before[c]) <= 0.05 * before[c] for c in before)
    assert max(after, key=after.__getitem__) == max(before, key=before.__getitem__)


def test_interrupted_complete_pass_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    monkeypatch.setattr(keyword_sync, "COMMIT_ARTICLES", 2)
    monkeypatch.setattr(keyword_sync, "FETCH_ARTICLES", 1)
    real = index.store.chunks_of
    calls = {"n": 0}

    def failing(ids: list[str], batch: int = 100):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated interruption")
        return real(ids, batch)

    monkeypatch.setattr(index.store, "chunks_of", failing)
    with pytest.raises(KeyboardInterrupt):
        index.keyword_sync.rebuild()
    assert len(index.keyword.state.articles) == 2 and index.keyword.state.seq is None
    monkeypatch.setattr(index.store, "chunks_of", real)
    report = index.keyword_sync.sync()
    assert report.complete and report.indexed_articles == 3  # the two committed are kept
    assert index.keyword.size == index.store.count_chunks()


def test_a_write_outside_the_window_is_caught_by_the_count_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    # A writer whose clock is an hour behind: its write sequence is older than the window.
    skewed = chroma_module._now_seq() - 3_600_000_000
    monkeypatch.setattr(chroma_module, "_now_seq", lambda: skewed)
    _article(corpus, "volcano", "Volcano erupts in Iceland", "Lava reached the road.",
             "2022-08-03")
    other = NewsIndex(make_settings(tmp_path, data_dir=tmp_path / "writer"))
    other.store = index.store
    from assistant.ingest import Ingestor

    Ingestor(other.settings, index.store, other.embedder).run([corpus / "volcano.jsonl"])
    report = index.keyword_sync.sync()
    assert report.complete
    assert index.keyword.search("volcano lava", 3, SearchFilters())[0].title == \
        "Volcano erupts in Iceland"
    assert index.keyword.size == index.store.count_chunks()


def test_damaged_keyword_index_is_rebuilt(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path)
    NewsIndex(settings).ingest([corpus])
    folder = NewsIndex(settings).keyword.directory
    (folder / "state.json").write_text("{not json")
    fresh = NewsIndex(settings)
    assert fresh.search("Kipchoge marathon", k=1)[0].title == "Marathon record falls in Berlin"
    assert fresh.keyword.size == fresh.store.count_chunks()

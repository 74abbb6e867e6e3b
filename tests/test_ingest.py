"""Ingest: counts, ids, metadata, idempotence, updates without orphans, removal, resumption."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import CountingEmbedder, make_settings, write_small_corpus

from assistant.documents import day_number
from assistant.embedders import load_embedder
from assistant.index import NewsIndex
from assistant.ingest import Ingestor
from assistant.locking import WriteLock


def _index(tmp_path: Path, fail_after_calls: int | None = None, **overrides: object):
    settings = make_settings(tmp_path, **overrides)
    embedder = CountingEmbedder(load_embedder(settings), fail_after_calls)
    return NewsIndex(settings, embedder=embedder), embedder


def _chunk_rows(index: NewsIndex) -> list[tuple[str, str, dict]]:
    return list(index.store.iter_chunks())


def test_first_ingest_counts_ids_and_chunk_metadata(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, embedder = _index(tmp_path)
    report = index.ingest([corpus])
    assert len(report.added) == 5 and not report.rejected and report.files == 4
    ids = {ref.id for ref in report.added}
    assert {"https://example.com/rates", "https://example.com/heat"} <= ids
    rows = _chunk_rows(index)
    assert len(rows) == report.chunks == embedder.embedded == index.store.count_chunks()
    assert len({cid for cid, _, _ in rows}) == len(rows)
    rates = [(text, meta) for _, text, meta in rows if meta["article_id"].endswith("/rates")]
    text, meta = rates[0]
    assert meta["title"] == "Central bank raises interest rates"
    assert meta["source"] == "cnn.com" and meta["url"] == "https://example.com/rates"
    assert meta["published"] == "2022-07-14" and meta["day"] == day_number(date(2022, 7, 14))
    assert json.loads(meta["extra"]) == {"section": "business"}
    assert json.loads(meta["authors"]) == ["Ann Lee"]
    # Offsets point at the chunk inside the article text.
    article_text = "The central bank raised its main interest rate by half a point to fight " \
        "inflation, which reached 9.1% in June."
    assert article_text[meta["start"]:meta["end"]] == text


def test_offsets_of_multi_chunk_article(tmp_path: Path) -> None:
    from conftest import SEED

    from assistant.readers import read_file

    (article,) = read_file(SEED).articles
    index, _ = _index(tmp_path, chunk_size=64, chunk_overlap=10)
    index.ingest([SEED])
    rows = sorted(_chunk_rows(index), key=lambda r: r[2]["chunk"])
    assert len(rows) > 3
    for _, text, meta in rows:
        assert article.text[meta["start"]:meta["end"]] == text


def test_reingest_unchanged_does_no_embedding_work(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, embedder = _index(tmp_path)
    first = index.ingest([corpus])
    embedded, chunks = embedder.embedded, index.store.count_chunks()
    second = index.ingest([corpus])
    assert embedder.embedded == embedded  # nothing embedded again
    assert len(second.unchanged) == len(first.added) and not second.added
    assert not second.updated and not second.removed and second.chunks == 0
    assert index.store.count_chunks() == chunks


def test_changed_article_replaces_its_chunks_without_orphans(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path, chunk_size=64, chunk_overlap=10)
    index.ingest([corpus])
    # A url-identified article gets shorter: same id, fewer chunks, none left over.
    rows = [json.loads(line) for line in (corpus / "wire.jsonl").read_text().splitlines()]
    rows[0]["text"] = "The central bank held rates."
    (corpus / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    # A file without url changes content: new id, and the old article is removed.
    (corpus / "basra.txt").write_text("British troops leave Basra palace\n\nThey left today.\n")
    report = index.ingest([corpus])
    assert [r.id for r in report.updated] == ["https://example.com/rates"]
    assert len(report.added) == 1 and len(report.removed) == 1
    assert report.removed[0].title == "British troops leave Basra palace"
    per_article = Counter(meta["article_id"] for _, _, meta in _chunk_rows(index))
    assert per_article["https://example.com/rates"] == 1
    records = index.store.article_records()
    assert set(per_article) == set(records)  # no chunk without its article, and vice versa
    assert all(per_article[aid] == rec.chunks for aid, rec in records.items())
    hits = index.search("Basra palace handover", k=3)
    assert all("500 troops" not in p.text for p in hits)


def test_same_article_in_two_files_is_kept_once(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "copy.txt").write_text((corpus / "basra.txt").read_text())
    index, _ = _index(tmp_path)
    report = index.ingest([corpus])
    assert len(report.added) == 5
    assert any("kept once" in w.reason for w in report.warnings)
    # Deleting one copy's file content does not delete the article the other file still has.
    (corpus / "copy.txt").write_text("Something else\n\nA different story entirely.\n")
    report = index.ingest([corpus])
    assert not report.removed and len(report.added) == 1
    assert any(r.title == "British troops leave Basra palace"
               for r in index.store.article_records().values())


def test_remove_deletes_article_and_its_chunks(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path)
    index.ingest([corpus])
    before = index.store.count_chunks()
    assert index.remove("https://example.com/heat")
    assert not index.remove("https://example.com/heat")
    assert "https://example.com/heat" not in index.store.article_records()
    assert all(m["article_id"] != "https://example.com/heat" for _, _, m in _chunk_rows(index))
    assert index.store.count_chunks() < before
    # The keyword side forgets it too.
    assert all(p.article_id != "https://example.com/heat"
               for p in index.search("heatwave London rail closures", k=5))


def test_interrupted_ingest_resumes_with_exactly_one_copy(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, chunk_size=64, chunk_overlap=10)
    embedder = CountingEmbedder(load_embedder(settings), fail_after_calls=2)
    index = NewsIndex(settings, embedder=embedder)
    with pytest.raises(KeyboardInterrupt):
        Ingestor(settings, index.store, embedder, batch_chunks=2).run([corpus])
    partial = index.store.count_articles()
    assert 0 < partial < 5
    embedder.fail_after_calls = None
    report = index.ingest([corpus])
    assert len(report.added) == 5 - partial and len(report.unchanged) == partial
    rows = _chunk_rows(index)
    assert len({cid for cid, _, _ in rows}) == len(rows)
    per_article = Counter(meta["article_id"] for _, _, meta in rows)
    records = index.store.article_records()
    assert len(records) == 5
    assert all(per_article[aid] == rec.chunks for aid, rec in records.items())
    assert sum(per_article.values()) == len(rows)


def test_crash_between_chunks_and_record_is_repaired(tmp_path: Path) -> None:
    """Chunks written but the article record lost (crash at the worst moment): the re-run
    rewrites the article instead of adding a second copy of its chunks."""
    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path)
    index.ingest([corpus])
    chunks = index.store.count_chunks()
    index.store.articles.delete(ids=["https://example.com/rates"])
    report = index.ingest([corpus])
    assert [r.id for r in report.added] == ["https://example.com/rates"]
    assert index.store.count_chunks() == chunks


def test_bad_inputs_are_reported_and_the_rest_ingested(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "empty.txt").write_text("")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02garbage")
    (corpus / "latin1.txt").write_bytes("Title\n\nIt cost £5.".encode("latin-1"))
    (corpus / "broken.jsonl").write_text('{"title": "ok", "text": "fine"}\n{oops\n{"title": "x"}\n')
    index, _ = _index(tmp_path)
    report = index.ingest([corpus])
    assert len(report.added) == 6
    where = sorted(r.where.replace(str(corpus) + "/", "") for r in report.rejected)
    assert where == ["binary.txt", "broken.jsonl:2", "broken.jsonl:3", "empty.txt",
                     "latin1.txt"]


def test_stats_keys_and_values(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path)
    index.ingest([corpus])
    stats = index.stats()
    assert stats["articles"] == 5 and stats["chunks"] == index.store.count_chunks()
    assert stats["sources"]["Rudaw"] == 1 and stats["sources"]["cnn.com"] == 1
    assert stats["date_range"] == ["2021-01-15", "2022-09-25"]  # the seed article's date
    assert stats["undated"] == 1 and stats["disk_bytes"] > 0


def test_changing_chunk_settings_rechunks_everything(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path)
    index.ingest([corpus])
    index2, _ = _index(tmp_path, chunk_size=64, chunk_overlap=10)
    report = index2.ingest([corpus])
    assert len(report.updated) == 5


def test_an_oversized_article_is_rejected_with_its_size_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "huge.txt").write_text("Huge\n\n" + "word " * 2000, encoding="utf-8")
    rows = [{"title": "Fine", "text": "A short article about a bridge."},
            {"title": "Too long", "text": "filler " * 2000}]
    (corpus / "more.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    index, _ = _index(tmp_path, max_article_chars=5000)
    report = index.ingest([corpus])
    reasons = {r.where: r.reason for r in report.rejected}
    assert set(reasons) == {str(corpus / "huge.txt"), f"{corpus / 'more.jsonl'}:2"}
    assert all("over the 5,000 limit (ingest.max_article_chars)" in r for r in reasons.values())
    assert "10,006 characters" in reasons[str(corpus / "huge.txt")]
    assert len(report.added) == 6  # the five articles of the corpus and "Fine"


def test_an_article_that_cannot_be_split_is_rejected_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistant.chunking import Chunker

    corpus = write_small_corpus(tmp_path / "corpus")
    split = Chunker.split

    def fragile(self: Chunker, article):  # type: ignore[no-untyped-def]
        if "Basra" in article.title:  # e.g. NLTK's regular-expression time limit
            raise TimeoutError("regular expression timed out")
        return split(self, article)

    monkeypatch.setattr(Chunker, "split", fragile)
    index, _ = _index(tmp_path)
    report = index.ingest([corpus])
    (rejected,) = report.rejected
    assert rejected.path == str(corpus / "basra.txt")
    assert "cannot be split into passages (TimeoutError: regular expression timed out)" \
        in rejected.reason
    assert len(report.added) == 4


def test_a_reader_crash_is_contained_to_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import assistant.readers as readers

    corpus = write_small_corpus(tmp_path / "corpus")
    parse_html = readers.parse_html

    def crashing(text: str, name: str):  # type: ignore[no-untyped-def]
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(readers, "parse_html", crashing)
    report = _index(tmp_path)[0].ingest([corpus])
    assert [(r.path, r.reason) for r in report.rejected] == [
        (str(corpus / "page.html"), "cannot be read (maximum recursion depth exceeded)")]
    assert len(report.added) == 4
    assert parse_html is not crashing


def test_a_symbolic_link_loop_is_named_and_skipped(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "sub" / "self.txt").symlink_to(corpus / "sub" / "self.txt")
    report = _index(tmp_path)[0].ingest([corpus])
    assert len(report.added) == 5
    loop = [w for w in report.warnings if w.path == str(corpus / "sub" / "loop")]
    assert len(loop) == 1 and "a folder already read (a loop or a duplicate)" in loop[0].reason
    (broken,) = report.rejected
    assert broken.path == str(corpus / "sub" / "self.txt")
    assert "Too many levels of symbolic links" in broken.reason


def test_two_writers_at_once_end_with_exact_counts(tmp_path: Path) -> None:
    """Two real ``assistant ingest`` processes on one data dir: the second waits, both land."""
    import os
    import subprocess
    import sys

    first = write_small_corpus(tmp_path / "first")
    second = tmp_path / "second"
    second.mkdir()
    rows = [{"title": f"Story {i}", "text": f"Story number {i} is about bridge {i} in town.",
             "url": f"https://example.com/story/{i}"} for i in range(12)]
    (second / "stories.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = tmp_path / "data"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_EMBED_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "assistant.cli.main", "ingest", str(p),
                               "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for p in (first, second)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outputs]
    added = [len(json.loads(out)["added"]) for out, _ in outputs]
    assert added == [5, 12]
    index = NewsIndex(make_settings(tmp_path, data_dir=data))
    assert index.store.count_articles() == 17
    assert len({cid for cid, _, _ in index.store.iter_chunks()}) == index.store.count_chunks()
    assert len(index.search("bridge 7 in town", 3)) == 3  # the keyword index saw both


def test_a_second_writer_waits_or_fails_fast(tmp_path: Path) -> None:
    import threading

    from conftest import invoke

    from assistant.errors import StorageError

    corpus = write_small_corpus(tmp_path / "corpus")
    index, _ = _index(tmp_path)
    other = WriteLock(index.lock.path)  # another process, as far as filelock is concerned
    with other.hold():
        result = invoke("ingest", str(corpus), "--no-wait", data_dir=tmp_path / "data")
        assert result.returncode == 1
        assert "another process is writing to this index" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        with pytest.raises(StorageError):
            index.remove("https://example.com/heat", wait=False)
    events: list[str] = []
    holder = threading.Event()
    release = threading.Event()

    def hold_for_a_while() -> None:
        with other.hold():
            holder.set()
            release.wait(10)

    thread = threading.Thread(target=hold_for_a_while)
    thread.start()
    holder.wait(10)
    threading.Timer(0.5, release.set).start()
    report = index.ingest([corpus], lambda e: events.append(e.phase))
    thread.join()
    assert events[0] == "waiting" and len(report.added) == 5


def test_processes_opening_one_data_dir_together_do_not_trip_each_other(tmp_path: Path) -> None:
    import multiprocessing

    settings = make_settings(tmp_path)
    # Left by a process that died mid-check, or another's probe at the same moment: the
    # writability check must not depend on one fixed file name.
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    (settings.chroma_dir / ".write-test").mkdir()
    context = multiprocessing.get_context("spawn")
    for trial in range(3):
        folder = tmp_path / f"trial{trial}"
        if trial == 0:
            folder = tmp_path
        start = time.time() + 4  # after the workers' imports, so the opens really overlap
        with context.Pool(4) as pool:
            results = pool.map(_open_store, [(str(folder), start)] * 4)
        # Each opens a fresh store: without a lock, two of them ran Chroma's schema
        # migrations at once and one failed ("table collections already exists").
        assert results == ["ok"] * 4


def test_opening_the_store_waits_for_another_opener(tmp_path: Path) -> None:
    import threading

    from filelock import FileLock

    from assistant.stores.chroma import ChromaStore

    settings = make_settings(tmp_path)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    opened = threading.Event()
    other = FileLock(str(settings.data_dir / "chroma-open.lock"))
    with other:
        worker = threading.Thread(target=lambda: (ChromaStore(settings, "minilm", 384),
                                                  opened.set()))
        worker.start()
        assert not opened.wait(1.5)  # it waits while another process is opening the store
    worker.join(60)
    assert opened.is_set()


def _open_store(job: tuple[str, float]) -> str:
    from assistant.errors import StorageError
    from assistant.stores.chroma import ChromaStore

    folder, start = job
    while time.time() < start:
        time.sleep(0.001)
    try:
        ChromaStore(make_settings(Path(folder)), "minilm", 384)
    except StorageError as exc:
        return str(exc)
    return "ok"

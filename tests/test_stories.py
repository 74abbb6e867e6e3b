"""Stories: near-duplicate copies grouped with MinHash/LSH, in ingest, stats and retrieval."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import make_settings
from news_site import COPY_B, COPY_C, ENGINEERS, INSURANCE, WIRE

from assistant.documents import Article
from assistant.index import NewsIndex
from assistant.stories import StoryGrouper, decode_signature, shingles


def test_copies_join_one_story_and_same_topic_articles_do_not() -> None:
    grouper = StoryGrouper(threshold=0.5, shingle_words=4)
    a, _ = grouper.assign("a", " ".join(WIRE))
    b, _ = grouper.assign("b", " ".join(COPY_B))
    c, encoded = grouper.assign("c", " ".join(COPY_C))
    insurance, _ = grouper.assign("x", " ".join(INSURANCE))
    engineers, _ = grouper.assign("y", " ".join(ENGINEERS))
    assert a == b == c
    assert len({a, insurance, engineers}) == 3
    assert decode_signature(encoded).jaccard(decode_signature(encoded)) == 1.0


def test_changed_article_is_regrouped() -> None:
    grouper = StoryGrouper(threshold=0.5, shingle_words=4)
    story, _ = grouper.assign("a", " ".join(WIRE))
    assert grouper.assign("b", " ".join(COPY_B))[0] == story
    rewritten, _ = grouper.assign("b", " ".join(INSURANCE))
    assert rewritten != story and len(grouper) == 2


def test_copies_far_apart_in_time_are_not_one_story() -> None:
    grouper = StoryGrouper(threshold=0.5, shingle_words=4, window_days=7)
    first, _ = grouper.assign("a", " ".join(WIRE), date(2026, 11, 19))
    assert grouper.assign("b", " ".join(COPY_B), date(2026, 11, 21))[0] == first
    assert grouper.assign("c", " ".join(COPY_C), date(2027, 11, 19))[0] != first


def test_shingles_ignore_case_and_punctuation() -> None:
    assert shingles("The river, ROSE fast.", 2) == shingles("the river rose fast", 2)


def _articles() -> list[Article]:
    def make(title: str, paragraphs: list[str], source: str, day: int) -> Article:
        return Article(title=title, text="\n\n".join(paragraphs), source=source,
                       published=date(2026, 11, day), url=f"https://{source.lower()}.test/{day}")

    return [make("Floods force 4,000 from homes", WIRE, "Herald", 19),
            make("Thousands evacuated", COPY_B, "Valley", 20),
            make("Army called in", COPY_C, "Courier", 21),
            make("Insurers brace for claims", INSURANCE, "Herald", 22)]


def test_file_ingest_groups_copies_and_stats_count_stories(tmp_path: Path) -> None:
    corpus = tmp_path / "wire"
    corpus.mkdir()
    rows = [{"title": a.title, "text": a.text, "source": a.source, "url": a.url,
             "published": a.published.isoformat()} for a in _articles() if a.published]
    (corpus / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    stats = index.stats()
    assert stats["articles"] == 4 and stats["stories"] == 2
    stories = {meta["story"] for _, _, meta in index.store.iter_chunks()
               if meta["source"] in {"Herald", "Valley", "Courier"}
               and "Insurers" not in meta["title"]}
    assert len(stories) == 1  # every chunk of every copy carries the story id


def test_story_state_is_rebuilt_from_the_store(tmp_path: Path) -> None:
    """A second client (new process, same store) groups a new copy with the stored ones."""
    settings = make_settings(tmp_path)
    first, second, third, other = _articles()
    NewsIndex(settings).add_articles([first, other])
    again = NewsIndex(settings)
    again.add_articles([second, third])
    records = again.store.article_records()
    assert len({records[a.id].story for a in (first, second, third)}) == 1
    assert records[other.id].story != records[first.id].story


def test_articles_written_before_stories_existed_are_grouped(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first, second, third, other = _articles()
    index = NewsIndex(settings)
    index.add_articles([first, second, other])
    # Make them look like records of an older version: no story, no signature.
    ids = [first.id, second.id, other.id]
    index.store.articles.update(ids=ids, metadatas=[{"story": "", "minhash": ""}] * 3)
    got = index.store.chunks.get(where={"article_id": {"$in": ids}})
    index.store.chunks.update(ids=got["ids"], metadatas=[{"story": ""}] * len(got["ids"]))
    report = NewsIndex(settings).add_articles([third])
    assert len(report.added) == 1
    records = index.store.article_records()
    assert all(r.minhash for r in records.values())
    assert len({records[a.id].story for a in (first, second, third)}) == 1
    stories = {m["article_id"]: m["story"] for _, _, m in index.store.iter_chunks()}
    assert stories[first.id] == stories[second.id] == records[first.id].story


def test_grouping_a_whole_older_archive_writes_in_batches_chroma_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An index built before stories existed is grouped on its next write, however big it is:
    Chroma refuses updates over its max batch size (5,461 here), so they are split."""
    settings = make_settings(tmp_path)
    index = NewsIndex(settings)
    articles = [Article(f"Bridge {i} reopens", f"The bridge number {i} reopened today after "
                        f"repairs to its deck number {i}.", url=f"https://example.com/b/{i}")
                for i in range(12)]
    index.add_articles(articles)
    ids = [a.id for a in articles]
    index.store.articles.update(ids=ids, metadatas=[{"story": "", "minhash": ""}] * len(ids))
    monkeypatch.setattr(type(index.store.client), "get_max_batch_size", lambda self: 5)
    collection = type(index.store.articles)
    update = collection.update

    def strict_update(self, ids, *args, **kwargs):  # type: ignore[no-untyped-def]
        assert len(ids) <= 5, f"a batch of {len(ids)} is over the max batch size"
        return update(self, ids, *args, **kwargs)

    monkeypatch.setattr(collection, "update", strict_update)
    NewsIndex(settings).add_articles([Article("Late news", "Something else entirely.",
                                              url="https://example.com/late")])
    records = index.store.article_records()
    assert all(records[i].minhash and records[i].story for i in ids)

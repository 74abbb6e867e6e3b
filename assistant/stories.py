"""Stories: the same wire copy printed by several outlets, grouped so it counts once.

Two articles are copies of one story when the Jaccard similarity of their word shingles is at
least ``feeds.story_threshold``. The similarity is estimated with datasketch's MinHash and
candidates are found with its MinHashLSH index; each candidate is then checked against the
threshold with its own signature, so LSH's false positives never merge two stories.

The story id is stored on the article record and on every chunk (``stores/chroma.py``), so
every client of a shared Chroma server sees the same stories. The LSH index itself is held in
memory only: it is rebuilt from the signatures kept on the article records (or, for articles
written before stories existed, from their chunk texts).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import numpy as np

from assistant.documents import Passage, normalise_text
from assistant.filters import SearchFilters
from assistant.stores.chroma import ArticleRecord, ChromaStore

NUM_PERM = 128
_WORD = re.compile(r"\w+")


def shingles(text: str, words: int) -> set[bytes]:
    """The article's overlapping runs of ``words`` words (lower-cased, punctuation dropped)."""
    tokens = _WORD.findall(normalise_text(text).lower())
    if len(tokens) <= words:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + words]).encode() for i in range(len(tokens) - words + 1)}


def signature(text: str, words: int) -> Any:
    """A MinHash signature of the text's shingles (a datasketch ``LeanMinHash``)."""
    from datasketch import LeanMinHash, MinHash

    minhash = MinHash(num_perm=NUM_PERM)
    minhash.update_batch(sorted(shingles(text, words)))
    return LeanMinHash(minhash)


def encode_signature(sig: Any) -> str:
    buffer = bytearray(sig.bytesize())
    sig.serialize(buffer)
    return base64.b64encode(bytes(buffer)).decode("ascii")


def decode_signature(text: str) -> Any:
    from datasketch import LeanMinHash

    return LeanMinHash.deserialize(bytearray(base64.b64decode(text)))


def new_story_id(article_id: str) -> str:
    return "s-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:16]


def earliest_key(record: ArticleRecord) -> tuple[date, str, str, str]:
    """Order of a story's copies: publication date and time, then first seen, then id."""
    return (record.published or date.max, record.published_time or "~", record.added or "~",
            record.id)


class StoryGrouper:
    """Assigns each written article to the story of its most similar earlier article."""

    def __init__(self, threshold: float, shingle_words: int, window_days: int = 7) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.shingle_words = shingle_words
        self.window_days = window_days
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[str, Any] = {}
        self._story_of: dict[str, str] = {}
        self._published: dict[str, date | None] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    @classmethod
    def from_store(
        cls,
        store: ChromaStore,
        records: dict[str, ArticleRecord],
        threshold: float,
        shingle_words: int,
        window_days: int = 7,
    ) -> StoryGrouper:
        """The grouper for what the store holds; articles without a signature (written before
        stories existed) are grouped now and their story ids written back."""
        grouper = cls(threshold, shingle_words, window_days)
        legacy: list[ArticleRecord] = []
        for record in records.values():
            if record.minhash:
                try:
                    grouper._insert(record.id, record.story_id, decode_signature(record.minhash),
                                    record.published)
                    continue
                except (ValueError, TypeError):
                    pass  # a damaged signature is recomputed like a missing one
            legacy.append(record)
        if legacy:
            texts = store.article_texts([r.id for r in legacy])
            assigned: dict[str, tuple[str, str]] = {}
            for record in sorted(legacy, key=earliest_key):
                story, encoded = grouper.assign(record.id, texts.get(record.id, record.title),
                                                record.published)
                assigned[record.id] = (story, encoded)
            store.set_stories(assigned)
        return grouper

    def assign(
        self, article_id: str, text: str, published: date | None = None
    ) -> tuple[str, str]:
        """The story of this article (joining the closest existing one, or its own), and its
        encoded signature. Re-assigning an article (its text changed) first forgets it.

        Copies of a story are printed within days of each other: an article published more
        than ``window_days`` apart from a candidate is not its copy, however similar (a
        yearly report reusing last year's wording, say). Undated articles match any date.
        """
        self.remove(article_id)
        sig = signature(text, self.shingle_words)
        best, best_similarity = None, 0.0
        for candidate in self._lsh.query(sig):
            other = self._published.get(candidate)
            if published and other and abs((published - other).days) > self.window_days:
                continue
            similarity = float(sig.jaccard(self._signatures[candidate]))
            if similarity > best_similarity:
                best, best_similarity = candidate, similarity
        if best is not None and best_similarity >= self.threshold:
            story = self._story_of[best]
        else:
            story = new_story_id(article_id)
        self._insert(article_id, story, sig, published)
        return story, encode_signature(sig)

    def remove(self, article_id: str) -> None:
        if article_id in self._signatures:
            self._lsh.remove(article_id)
            del self._signatures[article_id]
            del self._story_of[article_id]
            self._published.pop(article_id, None)

    def _insert(self, article_id: str, story: str, sig: Any, published: date | None) -> None:
        self._lsh.insert(article_id, sig)
        self._signatures[article_id] = sig
        self._story_of[article_id] = story
        self._published[article_id] = published


# -- retrieval: one copy per story --------------------------------------------------------------
def _allowed(record: ArticleRecord, filters: SearchFilters) -> bool:
    if filters.sources and record.source.lower() not in filters.sources:
        return False
    if not filters.has_dates:
        return True
    if record.published is None:
        return filters.include_undated
    if filters.since and record.published < filters.since:
        return False
    return not (filters.until and record.published > filters.until)


def _copy_info(record: ArticleRecord) -> dict[str, Any]:
    return {"id": record.id, "title": record.title, "source": record.source, "url": record.url,
            "published": record.published.isoformat() if record.published else None}


def one_copy_per_story(
    passages: Sequence[Passage],
    store: ChromaStore,
    query_vector: np.ndarray,
    filters: SearchFilters,
) -> list[Passage]:
    """Fold the copies of each story into its earliest article (among those the filters
    allow): that article's passages stand for the story, at the rank of the story's best
    passage; other copies' passages are dropped and listed in ``Passage.copies``.

    When the earliest article was not retrieved, its own chunk closest to the question is
    fetched, so the passage text always comes from the article it is attributed to.
    """
    if not passages:
        return []
    records = store.records([p.article_id for p in passages])
    story_of = {aid: rec.story_id for aid, rec in records.items()}
    members = store.story_members(sorted(set(story_of.values())))
    representative: dict[str, str] = {}
    copies: dict[str, list[dict[str, Any]]] = {}
    out: list[Passage] = []
    emitted: set[str] = set()
    by_article: dict[str, list[Passage]] = {}
    for passage in passages:
        by_article.setdefault(passage.article_id, []).append(passage)

    for passage in passages:
        story = story_of.get(passage.article_id, passage.article_id)
        group = members.get(story, [])
        if len(group) <= 1:
            out.append(passage)
            continue
        rep = representative.get(story)
        if rep is None:
            allowed = [m for m in group if _allowed(m, filters)] or [
                m for m in group if m.id == passage.article_id]
            rep = min(allowed, key=earliest_key).id if allowed else passage.article_id
            representative[story] = rep
            copies[story] = [_copy_info(m) for m in sorted(group, key=earliest_key)
                             if m.id != rep]
            if rep != passage.article_id:
                substitute = _best_passage_of(rep, by_article, store, query_vector)
                if substitute is None:  # the article vanished meanwhile: keep what we have
                    representative[story] = rep = passage.article_id
                    copies[story] = [_copy_info(m) for m in sorted(group, key=earliest_key)
                                     if m.id != rep]
                else:
                    substitute.score = max(substitute.score, passage.score)
                    passage = substitute
        if passage.article_id != rep or passage.chunk_id in emitted:
            continue
        passage.copies = copies[story]
        passage.story = story
        emitted.add(passage.chunk_id)
        out.append(passage)
    return out


def _best_passage_of(
    article_id: str,
    retrieved: dict[str, list[Passage]],
    store: ChromaStore,
    query_vector: np.ndarray,
) -> Passage | None:
    if retrieved.get(article_id):
        return retrieved[article_id][0]
    rows = store.article_chunks(article_id)
    if not rows:
        return None
    passage, vector = max(rows, key=lambda row: float(row[1] @ query_vector))
    passage.dense = float(vector @ query_vector)
    return passage


def count_stories(records: Iterable[ArticleRecord]) -> int:
    return len({record.story_id for record in records})

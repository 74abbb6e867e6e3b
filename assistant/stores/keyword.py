"""BM25 keyword index on Tantivy, updated in place as articles are added, changed or removed.

Tantivy (official Python bindings) keeps an on-disk inverted index in segments: new chunks go
into new segments, deleted ones are tombstoned, and segments are merged in the background, so
an update costs in proportion to what changed, not to the size of the index. BM25 statistics
are computed over all segments, so scores stay comparable wherever a chunk lives. Source and
day filters are indexed fields, applied inside the search.

Next to the index a small state file records what it reflects: the store's generation token,
the highest write sequence seen, and each article's version (see ``stores/keyword_sync.py``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.documents import Passage, day_number
from assistant.errors import StorageError
from assistant.filters import SearchFilters
from assistant.stores.chroma import passage_from_metadata

_STATE = "state.json"
_FORMAT = 1  # bump when the schema or the analyzer changes: the index is rebuilt
_ANALYZER = "news_en"
_WRITER_HEAP = 64_000_000  # bytes buffered before Tantivy flushes a segment

log = logging.getLogger(__name__)

ChunkRow = tuple[str, str, dict[str, Any]]  # chunk id, text, metadata


@dataclass
class KeywordState:
    """What the keyword index reflects: store generation, last write sequence, article versions.

    ``seq`` is None until a complete pass over the store has finished (first build, or a
    reconcile): until then the next sync compares every article instead of reading changes.
    """

    generation: str | None = None
    seq: int | None = None
    articles: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"format": _FORMAT, "generation": self.generation, "seq": self.seq,
                           "articles": self.articles})

    @classmethod
    def from_json(cls, text: str) -> KeywordState | None:
        data = json.loads(text)
        if data.get("format") != _FORMAT:
            return None
        return cls(data.get("generation"), data.get("seq"), dict(data.get("articles") or {}))


def _analyzer() -> Any:
    import tantivy

    # English words: lower-cased, accents folded, stop words dropped, Snowball-stemmed (the
    # same treatment the previous bm25s index gave them).
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _schema() -> Any:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("content", tokenizer_name=_ANALYZER)  # title + text, searched
    builder.add_text_field("article_id", tokenizer_name="raw")  # deletes by article
    builder.add_text_field("source_key", tokenizer_name="raw")  # source filter
    builder.add_integer_field("day", indexed=True, fast=True)  # date filter; -1 = undated
    builder.add_bytes_field("payload", stored=True)  # chunk id, text and metadata as JSON
    return builder.build()


class KeywordIndex:
    """One Tantivy index in ``directory`` plus its state file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state = KeywordState()
        self._index: Any = None
        self._schema: Any = None
        self._analyzer: Any = None
        self._writer: Any = None

    # -- opening -----------------------------------------------------------------------------
    @property
    def generation(self) -> str | None:
        return self.state.generation

    @property
    def size(self) -> int:
        """Chunks in the index (as of the last reload)."""
        if self._index is None:
            return 0
        return int(self._index.searcher().num_docs)

    def lock(self) -> Any:
        """A lock between the processes that share this index (e.g. a chat and an ingest)."""
        from filelock import FileLock

        self.directory.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.directory) + ".lock", timeout=600)

    def refresh(self) -> None:
        """Re-read the state file and the index from disk (another process may have updated
        them); a missing, outdated or damaged index starts empty and is rebuilt by the sync."""
        state = self._read_state()
        if state is None:
            self.reset()
            return
        try:
            self._open()
            self._index.reload()
        except Exception as exc:  # tantivy raises ValueError/OSError kinds for damaged files
            log.warning("keyword index in %s unusable (%s): rebuilding", self.directory, exc)
            self.reset()
            return
        self.state = state

    def reset(self) -> None:
        """Forget everything: an empty index and a state that asks for a complete pass."""
        self._index = self._writer = None
        shutil.rmtree(self.directory, ignore_errors=True)
        self.state = KeywordState()
        self._open()
        self._write_state()

    def _open(self) -> None:
        import tantivy

        if self._index is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._schema = _schema()
        self._analyzer = _analyzer()
        try:
            self._index = tantivy.Index(self._schema, path=str(self.directory), reuse=True)
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot open the keyword index in {self.directory} ({exc}); "
                               "delete that folder and it is rebuilt from the store") from None
        self._index.register_tokenizer(_ANALYZER, self._analyzer)

    def _read_state(self) -> KeywordState | None:
        try:
            return KeywordState.from_json((self.directory / _STATE).read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self) -> None:
        # Written after the index commit: a crash in between makes the next sync redo a few
        # articles (idempotent), never skip one.
        tmp = self.directory / (_STATE + ".tmp")
        tmp.write_text(self.state.to_json())
        os.replace(tmp, self.directory / _STATE)

    # -- writing -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def writing(self) -> Iterator[KeywordWriter]:
        """A batch of replacements and deletions, committed together at the end."""
        self._open()
        writer = self._index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        batch = KeywordWriter(writer, self._schema)
        try:
            yield batch
        except BaseException:
            writer.rollback()
            raise
        writer.commit()
        # Let Tantivy finish merging small segments now, so many small updates do not pile up
        # segments (merges follow a log policy: large segments are rarely rewritten).
        writer.wait_merging_threads()
        self._index.reload()

    def save_state(self, state: KeywordState) -> None:
        self.state = state
        self._write_state()

    # -- reading -----------------------------------------------------------------------------
    def search(self, query: str, n: int, filters: SearchFilters) -> list[Passage]:
        if self._index is None or not query.strip() or n <= 0:
            return []
        import tantivy

        terms = list(dict.fromkeys(self._analyzer.analyze(query)))
        if not terms:
            return []
        words = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "content", term))
             for term in terms]
        )
        scope = self._filter_query(filters)
        if scope is not None:
            # A constant score of 0 restricts the matches without changing their BM25 score.
            words = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, words),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(scope, 0.0)),
            ])
        searcher = self._index.searcher()
        passages = []
        for score, address in searcher.search(words, n, count=False).hits:
            if score <= 0:
                continue
            payload = json.loads(searcher.doc(address).get_first("payload"))
            passages.append(passage_from_metadata(payload["id"], payload["text"],
                                                  payload["meta"], lexical=float(score)))
        return passages

    def share(self, filters: SearchFilters) -> float:
        """The fraction of indexed chunks inside ``filters`` (1.0 when unknown): lets the dense
        side choose between over-fetching and a filtered query."""
        scope = self._filter_query(filters) if self._index is not None else None
        if scope is None:
            return 1.0
        searcher = self._index.searcher()
        total = int(searcher.num_docs)
        if total == 0:
            return 1.0
        return int(searcher.search(scope, 1, count=True).count) / total

    def _filter_query(self, filters: SearchFilters) -> Any:
        import tantivy

        clauses = []
        if filters.sources:
            clauses.append(tantivy.Query.term_set_query(self._schema, "source_key",
                                                        list(filters.sources)))
        if filters.has_dates:
            low = day_number(filters.since) if filters.since else 0  # 0 > -1: undated excluded
            high = day_number(filters.until) if filters.until else None
            dated = (tantivy.Query.empty_query() if high is not None and high < low else
                     tantivy.Query.range_query(self._schema, "day", tantivy.FieldType.Integer,
                                               low, high))
            if filters.include_undated:
                undated = tantivy.Query.term_query(self._schema, "day", -1)
                dated = tantivy.Query.boolean_query([(tantivy.Occur.Should, dated),
                                                     (tantivy.Occur.Should, undated)])
            clauses.append(dated)
        if not clauses:
            return None
        if len(clauses) == 1:
            return clauses[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, c) for c in clauses])


class KeywordWriter:
    """Adds and deletes inside one commit of the keyword index."""

    def __init__(self, writer: Any, schema: Any) -> None:
        self._writer = writer
        self.added = 0
        self.deleted_articles = 0

    def delete_articles(self, article_ids: Iterable[str]) -> None:
        for article_id in article_ids:
            self._writer.delete_documents_by_term("article_id", article_id)
            self.deleted_articles += 1

    def replace_articles(self, article_ids: Sequence[str], rows: Iterable[ChunkRow]) -> None:
        """Drop these articles' chunks, then add ``rows`` (their current chunks)."""
        import tantivy

        self.delete_articles(article_ids)
        for chunk_id, text, meta in rows:
            payload = json.dumps({"id": chunk_id, "text": text, "meta": meta},
                                 ensure_ascii=False).encode("utf-8")
            self._writer.add_document(tantivy.Document(
                content=f"{meta.get('title', '')}\n{text}",
                article_id=str(meta.get("article_id", "")),
                source_key=str(meta.get("source_key", "")),
                day=int(meta.get("day", -1)),
                payload=payload,
            ))
            self.added += 1

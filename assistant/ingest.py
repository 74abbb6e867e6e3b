"""Incremental, idempotent ingest: files -> articles -> chunks -> vectors -> Chroma.

An article is identified by its url, else a hash of its normalised content. Unchanged articles
(same fingerprint) cost no embedding work; a changed one replaces its old chunks; an article
that a file no longer contains is removed (unless another file still has it). Writes happen in
small batches, each complete on its own, so an interrupted run resumes with no duplicates.

Articles that do not come from files (web pages, feed entries) go through ``add_articles``:
the same embedding and writing path, without the removal of what a file no longer holds.
Every written article joins a story (``assistant.stories``): copies of one wire story share it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from assistant.chunking import Chunker
from assistant.documents import Article, Rejection, content_id
from assistant.embedders import Embedder
from assistant.readers import read_paths
from assistant.readers.types import oversize
from assistant.settings import Settings
from assistant.stores.chroma import ArticleRecord, ChromaStore, PreparedArticle
from assistant.stories import StoryGrouper


@dataclass(frozen=True)
class ArticleRef:
    id: str
    title: str
    origin: str


@dataclass
class IngestReport:
    added: list[ArticleRef] = field(default_factory=list)
    updated: list[ArticleRef] = field(default_factory=list)
    unchanged: list[ArticleRef] = field(default_factory=list)
    removed: list[ArticleRef] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    files: int = 0
    chunks: int = 0  # chunks embedded and written by this run
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def merged(self, other: IngestReport) -> IngestReport:
        """Both reports as one (files and urls given to one ``ingest``)."""
        return IngestReport(
            self.added + other.added, self.updated + other.updated,
            self.unchanged + other.unchanged, self.removed + other.removed,
            self.rejected + other.rejected, self.warnings + other.warnings,
            self.files + other.files, self.chunks + other.chunks, self.seconds + other.seconds,
        )

    def to_dict(self) -> dict[str, object]:
        def refs(items: list[ArticleRef]) -> list[dict[str, str]]:
            return [{"id": r.id, "title": r.title, "origin": r.origin} for r in items]

        def problems(items: list[Rejection]) -> list[dict[str, object]]:
            return [{"path": r.path, "line": r.line, "reason": r.reason} for r in items]

        return {
            "files": self.files,
            "added": refs(self.added),
            "updated": refs(self.updated),
            "unchanged": len(self.unchanged),
            "removed": refs(self.removed),
            "rejected": problems(self.rejected),
            "warnings": problems(self.warnings),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class IngestProgress:
    """Reported while ingesting; ``phase`` is "waiting" (for another writer), "reading",
    "embedding" or "indexing"."""

    phase: str
    articles_total: int = 0
    articles_done: int = 0
    chunks_done: int = 0


ProgressCallback = Callable[[IngestProgress], None]


def _file_of(article: Article) -> str:
    """The file an article came from (its origin without a ``:line`` suffix)."""
    origin = article.origin
    head, sep, tail = origin.rpartition(":")
    return head if sep and tail.isdigit() else origin


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ref(article: Article) -> ArticleRef:
    return ArticleRef(article.id, article.title, article.origin)


class Ingestor:
    """Syncs files into a store. ``batch_chunks`` bounds the work lost to an interruption."""

    def __init__(
        self,
        settings: Settings,
        store: ChromaStore,
        embedder: Embedder,
        batch_chunks: int | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        # A remote embedder sends its batches concurrently: hand it enough to keep them busy.
        self.batch_chunks = batch_chunks or max(128, embedder.parallel_chunks)
        self.salt = f"{embedder.name}/{settings.ingest.chunk_size}/{settings.ingest.chunk_overlap}"
        self._records: dict[str, ArticleRecord] | None = None  # what the store holds (add_articles)
        self._stories: StoryGrouper | None = None

    def _load(self) -> dict[str, ArticleRecord]:
        """The store's article records and the story grouper built from them."""
        records = self.store.article_records()
        feeds = self.settings.feeds
        self._stories = StoryGrouper.from_store(self.store, records, feeds.story_threshold,
                                                feeds.story_shingle_words,
                                                feeds.story_window_days)
        self._records = records
        return records

    def add_articles(
        self, articles: Sequence[Article], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Write articles that come from somewhere else than files (web pages, feeds).

        Idempotent like ``run``: an article whose fingerprint is unchanged costs nothing, a
        changed one (same id, new content) replaces the old version. Nothing is ever removed.
        The store's records are read once per Ingestor, so one Ingestor serves a whole update.
        """
        started = time.perf_counter()
        notify = progress or (lambda _event: None)
        report = IngestReport()
        records = self._records if self._records is not None else self._load()
        origins: dict[str, list[str]] = {}
        pending: dict[str, tuple[Article, str]] = {}
        seen: dict[str, Article] = {}
        limit = self.settings.ingest.max_article_chars
        for article in articles:
            if len(article.text) > limit:
                report.rejected.append(Rejection(article.origin or article.id,
                                                 oversize(len(article.text), limit)))
                continue
            if article.id in seen:
                first = seen[article.id]
                report.warnings.append(Rejection(
                    article.origin, f"same article as {first.origin}; kept once"))
                continue
            seen[article.id] = article
            record = records.get(article.id)
            known = list(record.origins) if record else []
            if article.origin and article.origin not in known:
                known.append(article.origin)
            origins[article.id] = known
            fingerprint = article.fingerprint(self.salt)
            if record and record.fingerprint == fingerprint:
                report.unchanged.append(_ref(article))
                if record.origins != known:
                    self.store.set_origins(article.id, known)
                    record.origins = known
            else:
                pending[article.id] = (article, fingerprint)
        self._write(pending, records, origins, report, notify)
        report.seconds = time.perf_counter() - started
        return report

    def run(self, paths: Sequence[Path], progress: ProgressCallback | None = None) -> IngestReport:
        started = time.perf_counter()
        notify = progress or (lambda _event: None)
        report = IngestReport()
        notify(IngestProgress("reading"))

        records = self._load()
        origins: dict[str, list[str]] = {aid: list(rec.origins) for aid, rec in records.items()}
        pending: dict[str, tuple[Article, str]] = {}  # id -> (article, fingerprint)
        seen: dict[str, Article] = {}
        produced_by_file: dict[str, set[str]] = {}
        clean_files: set[str] = set()

        limit = self.settings.ingest.max_article_chars
        resolved = [p.expanduser().resolve() for p in paths]
        for result in read_paths(resolved, self.settings.ingest.fallback_encoding, limit):
            report.files += 1
            report.rejected.extend(result.rejected)
            report.warnings.extend(result.warnings)
            files_here = {r.path for r in result.rejected}
            clean = not result.rejected
            for article in result.articles:
                file = _file_of(article)
                files_here.add(file)
                if len(article.text) > limit:
                    report.rejected.append(Rejection(article.origin,
                                                     oversize(len(article.text), limit)))
                    clean = False
                    continue
                produced_by_file.setdefault(file, set()).add(article.id)
                known = origins.setdefault(article.id, [])
                if file not in known:
                    known.append(file)
                if article.id in seen:
                    first = seen[article.id]
                    if first.origin != article.origin:
                        report.warnings.append(Rejection(
                            article.origin, f"same article as {first.origin}; kept once"))
                    continue
                seen[article.id] = article
                fingerprint = article.fingerprint(self.salt)
                record = records.get(article.id)
                if record and record.fingerprint == fingerprint:
                    report.unchanged.append(_ref(article))
                    if record.origins != known:
                        self.store.set_origins(article.id, known)
                else:
                    pending[article.id] = (article, fingerprint)
            if clean:
                clean_files.update(files_here)

        self._remove_stale(records, origins, produced_by_file, clean_files, report)
        self._write(pending, records, origins, report, notify)
        report.seconds = time.perf_counter() - started
        return report

    def _remove_stale(
        self,
        records: dict[str, ArticleRecord],
        origins: dict[str, list[str]],
        produced_by_file: dict[str, set[str]],
        clean_files: set[str],
        report: IngestReport,
    ) -> None:
        """Articles a re-read file no longer contains lose that origin; orphans are deleted.

        Only files read without any rejection count: an article that now fails to parse is
        reported, not silently dropped from the index.
        """
        doomed: list[str] = []
        for article_id, record in records.items():
            gone_from = [f for f in record.origins
                         if f in clean_files and article_id not in produced_by_file.get(f, set())]
            if not gone_from:
                continue
            remaining = [f for f in origins.get(article_id, []) if f not in gone_from]
            origins[article_id] = remaining
            if remaining:
                self.store.set_origins(article_id, remaining)
            else:
                doomed.append(article_id)
                report.removed.append(ArticleRef(article_id, record.title, gone_from[0]))
        self.store.delete(doomed)
        for article_id in doomed:
            records.pop(article_id, None)
            if self._stories is not None:
                self._stories.remove(article_id)

    def _write(
        self,
        pending: dict[str, tuple[Article, str]],
        records: dict[str, ArticleRecord],
        origins: dict[str, list[str]],
        report: IngestReport,
        notify: ProgressCallback,
    ) -> None:
        total = len(pending)
        notify(IngestProgress("embedding", total, 0, 0))
        if not pending:
            return
        chunker = Chunker(self.settings.ingest.chunk_size, self.settings.ingest.chunk_overlap)
        batch: list[tuple[Article, str, list]] = []
        batch_size = 0
        done = 0

        def flush() -> None:
            nonlocal batch, batch_size, done
            texts = [chunker.embedding_text(a, c) for a, _, chunks in batch for c in chunks]
            vectors = self.embedder.embed(texts)
            prepared, offset = [], 0
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            for article, fingerprint, chunks in batch:
                prepared.append(self._prepare(
                    article, fingerprint, chunks, vectors[offset : offset + len(chunks)],
                    origins.get(article.id, []), records.get(article.id), now,
                ))
                offset += len(chunks)
            self.store.write(prepared)
            for item in prepared:
                article = item.article
                target = report.updated if article.id in records else report.added
                target.append(_ref(article))
                report.chunks += len(item.chunks)
                records[article.id] = ArticleRecord(
                    article.id, item.fingerprint, article.title, article.source, article.url,
                    article.published, len(item.chunks), item.origins, item.story,
                    item.minhash, item.content, item.added, item.updated,
                )
            done += len(batch)
            batch, batch_size = [], 0
            notify(IngestProgress("embedding", total, done, report.chunks))

        for article, fingerprint in pending.values():
            try:
                chunks = chunker.split(article)
            except Exception as exc:  # one odd article must not stop the run
                report.rejected.append(Rejection(
                    article.origin, f"cannot be split into passages ({_first_line(exc)}); "
                    "add paragraph breaks or check the text"))
                continue
            batch.append((article, fingerprint, chunks))
            batch_size += len(chunks)
            if batch_size >= self.batch_chunks:
                flush()
        if batch:
            flush()

    def _prepare(
        self,
        article: Article,
        fingerprint: str,
        chunks: list,
        vectors: object,
        origins: list[str],
        record: ArticleRecord | None,
        now: str,
    ) -> PreparedArticle:
        """An article ready to write: its story, and when it was added and last changed."""
        assert self._stories is not None  # loaded by run / add_articles
        story, minhash = self._stories.assign(article.id, article.text, article.published)
        content = content_id(article.title, article.text)
        changed = record is not None and record.content != content
        return PreparedArticle(
            article, fingerprint, chunks, vectors, origins,  # type: ignore[arg-type]
            story=story, minhash=minhash, content=content,
            added=(record.added if record and record.added else now),
            updated=now if changed else (record.updated if record else ""),
        )

"""The news index: one object that owns the store, the keyword index and the embedder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.documents import Article, Passage
from assistant.embedders import Embedder, load_embedder
from assistant.errors import InputError
from assistant.filters import SearchFilters
from assistant.ingest import Ingestor, IngestProgress, IngestReport, ProgressCallback
from assistant.locking import WriteLock
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.stores.chroma import ChromaStore
from assistant.stores.keyword import KeywordIndex
from assistant.stores.keyword_sync import KeywordSync
from assistant.stories import count_stories


class NewsIndex:
    """Ingest, search, remove and describe the articles of one collection."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or load_embedder(settings)
        self.store = ChromaStore(settings, self.embedder.name, self.embedder.dim)
        self.keyword = KeywordIndex(settings.data_dir / "keyword" / self._keyword_dir_name())
        self.keyword_sync = KeywordSync(self.store, self.keyword)
        self.lock = WriteLock(settings.data_dir / "write.lock")
        retrieval = settings.retrieval
        self.retriever = HybridRetriever(
            self.store, self.keyword, self.embedder, retrieval.candidates, retrieval.rrf_k,
            retrieval.prefer_boost,
        )

    def _keyword_dir_name(self) -> str:
        s = self.settings
        where = f"{s.store.host}-{s.store.port}-" if s.store.host else ""
        return f"{where}{s.store.collection}"

    # -- writing -----------------------------------------------------------------------------
    def ingest(
        self, paths: Sequence[Path | str], progress: ProgressCallback | None = None, *,
        wait: bool = True,
    ) -> IngestReport:
        """Add, update and remove articles from files and folders (incremental).

        Another process writing to the same data dir is waited for (``progress`` hears a
        "waiting" event), or, with ``wait=False``, refused with a StorageError.
        """
        notify = progress or (lambda _event: None)
        with self.lock.hold(wait=wait, on_wait=lambda: notify(IngestProgress("waiting"))):
            report = Ingestor(self.settings, self.store, self.embedder).run(
                [Path(p) for p in paths], progress
            )
            notify(IngestProgress("indexing"))
            self.keyword_sync.sync()
        return report

    def add_articles(
        self, articles: Sequence[Article], progress: ProgressCallback | None = None, *,
        wait: bool = True,
    ) -> IngestReport:
        """Write articles that do not come from files (pages, feed entries); see
        ``Ingestor.add_articles``. The keyword index is brought up to date after."""
        with self.lock.hold(wait=wait):
            report = Ingestor(self.settings, self.store, self.embedder).add_articles(
                articles, progress)
            if report.changed:
                self.keyword_sync.sync()
        return report

    def refresh_keyword(self) -> None:
        """Bring the keyword index up to date with the store (after a batch of writes)."""
        self.keyword_sync.sync()

    def ensure_built(self, progress: ProgressCallback | None = None) -> IngestReport | None:
        """On first use (empty collection), ingest the default corpus; else do nothing."""
        if self.store.count_chunks() > 0:
            return None
        corpus = self.settings.corpus_dir
        if not corpus.exists():
            raise InputError(f"{corpus}: default corpus not found; set corpus_dir or run "
                             "'assistant ingest PATH' first")
        return self.ingest([corpus], progress)

    def remove(self, article_id: str, *, wait: bool = True) -> bool:
        """Delete one article (by id or url) and its chunks; False if there is no such article."""
        with self.lock.hold(wait=wait):
            records = self.store.article_records()
            if article_id not in records:
                return False
            self.store.delete([article_id])
            self.keyword_sync.sync()
        return True

    # -- reading -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        prefer: SearchFilters | None = None,
        all_copies: bool = False,
    ) -> list[Passage]:
        """Best passages; copies of one story count once unless ``all_copies``."""
        if not query.strip():
            raise InputError("empty question: type some words to search for")
        self.keyword_sync.sync()
        return self.retriever.search(query, k or self.settings.retrieval.top_k, filters, prefer,
                                     all_copies)

    def stats(self) -> dict[str, Any]:
        records = self.store.article_records()
        dates = sorted(r.published for r in records.values() if r.published)
        sources: dict[str, int] = {}
        for record in records.values():
            name = record.source or "(unknown)"
            sources[name] = sources.get(name, 0) + 1
        return {
            "articles": len(records),
            "stories": count_stories(records.values()),
            "chunks": self.store.count_chunks(),
            "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            "date_range": [dates[0].isoformat(), dates[-1].isoformat()] if dates else None,
            "undated": sum(1 for r in records.values() if r.published is None),
            "disk_bytes": _disk_bytes(self.settings.data_dir),
            "collection": self.settings.store.collection,
            "store": (f"chroma server {self.settings.store.host}:{self.settings.store.port}"
                      if self.settings.store.host else f"embedded {self.settings.chroma_dir}"),
        }


def _disk_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())

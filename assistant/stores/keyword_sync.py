"""Keep a client's keyword index in step with the store, reading only what changed.

The store's ``generation`` token changes after every write, by any client. When it differs from
the one the keyword index was synced at, the index reads the article records written (and the
tombstones left) since its last write sequence, minus a safety window, re-fetches the chunks of
the articles whose version it does not have (by ``article_id`` in batches, never by offset), and
drops the deleted ones. A complete pass (every article's version compared) runs on first use,
after an interrupted pass, or when the article count shows that something was missed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.stores.chroma import ChromaStore, StoreChanges
from assistant.stores.keyword import KeywordIndex, KeywordState

#: Re-read writes this much older than the last one seen (microseconds): a write is stamped just
#: before its records are sent, so a slow request, or a writer whose clock is a little behind,
#: can land after a newer write was already read.
SEQ_WINDOW_US = 300_000_000
#: Articles fetched and committed together during a complete pass (bounds the work an
#: interruption loses: the next pass resumes from the articles already committed).
COMMIT_ARTICLES = 2000
FETCH_ARTICLES = 100  # article ids per ``$in`` read of chunks


@dataclass
class SyncReport:
    """What one sync did."""

    synced: bool = False  # False: already up to date
    complete: bool = False  # a complete pass (every article compared)
    indexed_articles: int = 0
    indexed_chunks: int = 0
    deleted_articles: int = 0
    seconds: float = 0.0


ProgressFn = Callable[[int, int], None]  # (articles done, articles to do)


class KeywordSync:
    def __init__(self, store: ChromaStore, keyword: KeywordIndex) -> None:
        self.store = store
        self.keyword = keyword

    def sync(self, progress: ProgressFn | None = None) -> SyncReport:
        """Bring the keyword index up to date with the store (a no-op when it already is)."""
        started = time.perf_counter()
        generation = self.store.generation
        if self.keyword.generation == generation and self.keyword.state.seq is not None:
            return SyncReport()
        with self.keyword.lock():
            self.keyword.refresh()  # another process sharing the index may have synced it
            report = SyncReport()
            if self.keyword.generation != generation or self.keyword.state.seq is None:
                report = self._catch_up(generation, progress)
        report.seconds = time.perf_counter() - started
        return report

    def rebuild(self, progress: ProgressFn | None = None) -> SyncReport:
        """Forget the keyword index and rebuild it from the store."""
        with self.keyword.lock():
            self.keyword.reset()
            return self._catch_up(self.store.generation, progress)

    def _catch_up(self, generation: str, progress: ProgressFn | None) -> SyncReport:
        state = self.keyword.state
        if state.seq is not None:
            changes = self.store.changes_since(max(0, state.seq - SEQ_WINDOW_US))
            report = self._apply(changes, generation, progress)
            if len(self.keyword.state.articles) == self.store.count_articles():
                return report
            # Counts disagree: a write escaped the window (e.g. a badly skewed clock).
        changes = self.store.changes_since(None)
        report = self._apply(changes, generation, progress)
        report.complete = True
        return report

    def _apply(
        self, changes: StoreChanges, generation: str, progress: ProgressFn | None
    ) -> SyncReport:
        state = self.keyword.state
        known = dict(state.articles)
        stale = [aid for aid, version in changes.present.items() if known.get(aid) != version]
        gone = set(changes.deleted) & set(known)
        if changes.complete:
            gone |= set(known) - set(changes.present)
        report = SyncReport(synced=True)
        if gone:
            with self.keyword.writing() as writer:
                writer.delete_articles(sorted(gone))
            for aid in gone:
                known.pop(aid, None)
            report.deleted_articles = len(gone)
            self.keyword.save_state(KeywordState(state.generation, state.seq, known))
        # Articles in commits of COMMIT_ARTICLES: a complete pass that is interrupted keeps what
        # it committed (``seq`` stays None until it finishes, so the next sync resumes it).
        resume_seq = state.seq if not changes.complete else None
        for start in range(0, len(stale), COMMIT_ARTICLES):
            part = stale[start:start + COMMIT_ARTICLES]
            with self.keyword.writing() as writer:
                for first in range(0, len(part), FETCH_ARTICLES):
                    ids = part[first:first + FETCH_ARTICLES]
                    before = writer.added
                    writer.replace_articles(ids, self.store.chunks_of(ids, FETCH_ARTICLES))
                    report.indexed_chunks += writer.added - before
            for aid in part:
                known[aid] = changes.present[aid]
            report.indexed_articles += len(part)
            self.keyword.save_state(KeywordState(state.generation, resume_seq, known))
            if progress:
                progress(report.indexed_articles, len(stale))
        seq = max(changes.seq, state.seq or 0)
        self.keyword.save_state(KeywordState(generation, seq, known))
        return report

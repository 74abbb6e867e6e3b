"""One update of the followed feeds: poll them all, fetch the new pages, write the articles.

1. Every feed is polled (conditional GET; a 304 costs nothing more). New entries, and entries
   the feed says changed, are recorded as pending in the feed state with the feed's new
   validators, in one transaction.
2. The pending entries of every feed (new ones and those an earlier, interrupted update left)
   are fetched by a host-aware scheduler, at most ``max_pages_per_feed`` per feed; the rest
   wait for the next update. A page already fetched for another entry is not fetched again.
3. Feed by feed, in order, the articles are written through ``Ingestor.add_articles`` (same
   embedding and writing path as files; copies join their story), then the entries are marked
   done. A stop request (Ctrl-C) is honoured between feeds.

One feed's failure (dead, slow, malformed, hostile) is recorded on that feed and never stops
the others. Fetching runs in worker threads while the main thread embeds, so an update is
bound by embedding, not by the network.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from assistant.documents import Article
from assistant.feeds.parse import FeedParseError, ParsedFeed, parse_feed
from assistant.feeds.scheduler import HostScheduler
from assistant.feeds.state import Feed, FeedState, PendingEntry
from assistant.fetch import Fetcher, FetchError
from assistant.ingest import ArticleRef, Ingestor
from assistant.pages import PageRejected, article_from_page
from assistant.settings import Settings

FEED_TYPES_REFUSED = ("image/", "audio/", "video/", "application/pdf", "application/zip",
                      "application/octet-stream", "font/")


@dataclass
class PageProblem:
    """A page that could not become an article; ``transient`` ones are retried next update."""

    feed: str
    url: str
    reason: str
    transient: bool = False

    def __str__(self) -> str:
        return f"{self.url} (feed {self.feed}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"feed": self.feed, "url": self.url, "reason": self.reason,
                "retry": self.transient}


@dataclass
class FeedReport:
    """What one update did for one feed."""

    name: str
    url: str
    status: str = "not polled"  # changed | unchanged (304 or nothing new) | failed | stopped
    error: str | None = None
    kind: str = ""
    entries: int = 0  # entries in the feed document
    new: int = 0
    changed: int = 0
    added: list[ArticleRef] = field(default_factory=list)
    updated: list[ArticleRef] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[PageProblem] = field(default_factory=list)
    waiting: int = 0  # pending entries left for the next update
    pages_fetched: int = 0
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """One line naming the feed and what happened (the reason, for a failure)."""
        if self.failed:
            return f"feed {self.name} ({self.url}): {self.error}"
        parts = [f"{len(self.added)} new", f"{len(self.updated)} updated"]
        if self.rejected:
            parts.append(f"{len(self.rejected)} rejected")
        if self.waiting:
            parts.append(f"{self.waiting} waiting")
        return f"feed {self.name}: {self.status}, " + ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def refs(items: list[ArticleRef]) -> list[dict[str, str]]:
            return [{"id": r.id, "title": r.title} for r in items]

        return {"name": self.name, "url": self.url, "status": self.status,
                "error": self.error, "kind": self.kind, "entries": self.entries,
                "new_entries": self.new, "changed_entries": self.changed,
                "added": refs(self.added), "updated": refs(self.updated),
                "unchanged": self.unchanged,
                "rejected": [p.to_dict() for p in self.rejected], "waiting": self.waiting,
                "pages_fetched": self.pages_fetched, "chunks": self.chunks,
                "warnings": self.warnings}


@dataclass
class UpdateReport:
    """What one ``update`` did: per feed, and in total. ``failed`` feeds make the exit code."""

    feeds: list[FeedReport] = field(default_factory=list)
    seconds: float = 0.0
    stopped: bool = False  # interrupted between feeds; the next update carries on
    requests: dict[str, int] = field(default_factory=dict)  # HTTP requests by kind

    @property
    def failed(self) -> list[FeedReport]:
        return [f for f in self.feeds if f.failed]

    @property
    def added(self) -> list[ArticleRef]:
        return [ref for f in self.feeds for ref in f.added]

    @property
    def updated(self) -> list[ArticleRef]:
        return [ref for f in self.feeds for ref in f.updated]

    @property
    def rejected(self) -> list[PageProblem]:
        return [p for f in self.feeds for p in f.rejected]

    @property
    def pages_fetched(self) -> int:
        """Page requests made (redirect hops count once each)."""
        return self.requests.get("page", 0)

    @property
    def chunks(self) -> int:
        return sum(f.chunks for f in self.feeds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "feeds": [f.to_dict() for f in self.feeds],
            "failed": [f.name for f in self.failed],
            "added": len(self.added),
            "updated": len(self.updated),
            "rejected": len(self.rejected),
            "pages_fetched": self.pages_fetched,
            "requests": self.requests,
            "chunks": self.chunks,
            "stopped": self.stopped,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class UpdateProgress:
    """Reported during an update; ``phase`` is "polling", "fetching" or "indexing"."""

    phase: str
    feed: str = ""
    done: int = 0
    total: int = 0
    articles: int = 0


UpdateCallback = Callable[[UpdateProgress], None]


@dataclass
class _Poll:
    parsed: ParsedFeed | None = None  # None with no error: 304, nothing changed
    etag: str | None = None
    last_modified: str | None = None
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class _Page:
    entry: PendingEntry
    article: Article | None = None
    article_id: str | None = None  # known without fetching (304, or fetched for another entry)
    etag: str | None = None
    last_modified: str | None = None
    problem: str | None = None
    transient: bool = False
    fetched: bool = False


class FeedUpdater:
    """Polls feeds and writes their new pages into an index. One per update."""

    def __init__(self, settings: Settings, ingestor: Ingestor, state: FeedState,
                 fetcher: Fetcher) -> None:
        self.settings = settings
        self.feed_settings = settings.feeds
        self.ingestor = ingestor
        self.state = state
        self.fetcher = fetcher

    def run(
        self,
        feeds: Sequence[Feed],
        stop: threading.Event | None = None,
        progress: UpdateCallback | None = None,
    ) -> UpdateReport:
        started = time.perf_counter()
        stop = stop or threading.Event()
        notify = progress or (lambda _event: None)
        report = UpdateReport([FeedReport(f.name, f.url, kind=f.kind) for f in feeds])
        reports = {r.url: r for r in report.feeds}
        self._poll_all(feeds, reports, stop, notify)
        if not stop.is_set():
            self._fetch_and_write(feeds, reports, stop, notify)
        if stop.is_set():
            report.stopped = True
            for feed_report in report.feeds:
                if feed_report.status == "not polled":
                    feed_report.status = "stopped"
        report.requests = dict(self.fetcher.requests_by_kind)
        report.seconds = time.perf_counter() - started
        return report

    # -- 1. polling --------------------------------------------------------------------------
    def _poll_all(
        self, feeds: Sequence[Feed], reports: dict[str, FeedReport],
        stop: threading.Event, notify: UpdateCallback,
    ) -> None:
        if not feeds:
            return
        notify(UpdateProgress("polling", total=len(feeds)))
        with ThreadPoolExecutor(max_workers=self.feed_settings.workers,
                                thread_name_prefix="poll") as pool:
            futures = {pool.submit(self._poll, feed): feed for feed in feeds}
            for done, future in enumerate(as_completed(futures), start=1):
                feed = futures[future]
                report = reports[feed.url]
                poll = future.result()
                if poll.error is not None:
                    self.state.record_failure(feed, poll.error)
                    report.status, report.error = "failed", poll.error
                else:
                    parsed = poll.parsed
                    new, changed = self.state.record_poll(
                        feed, parsed.entries if parsed else None, poll.etag,
                        poll.last_modified, parsed.kind if parsed else "",
                        parsed.title if parsed else "", poll.validators)
                    report.new, report.changed = new, changed
                    report.status = "changed" if new or changed else "unchanged"
                    if parsed:
                        report.kind = parsed.kind
                        report.entries = len(parsed.entries)
                        report.warnings.extend(parsed.warnings)
                notify(UpdateProgress("polling", feed.name, done, len(feeds)))
                if stop.is_set():
                    for other in futures:
                        other.cancel()
                    break

    def _obey_robots(self, feed: Feed) -> bool:
        return self.feed_settings.respect_robots and feed.respect_robots

    def _poll(self, feed: Feed) -> _Poll:
        """Fetch and parse one feed; never raises (a failure is the poll's ``error``)."""
        try:
            response = self.fetcher.get(feed.url, kind="feed", etag=feed.etag,
                                        last_modified=feed.last_modified,
                                        respect_robots=self._obey_robots(feed))
            if response.not_modified:
                return _Poll(None, feed.etag, feed.last_modified)
            if response.content_type.startswith(FEED_TYPES_REFUSED):
                return _Poll(error=f"not a feed (content type {response.content_type})")
            parsed = parse_feed(response.body, response.url, response.content_type)
            poll = _Poll(parsed, response.etag, response.last_modified)
            if parsed.sitemaps:
                self._read_children(feed, parsed, poll)
            return poll
        except FetchError as exc:
            return _Poll(error=exc.reason)
        except FeedParseError as exc:
            return _Poll(error=str(exc))
        except Exception as exc:  # a hostile document must not stop the other feeds
            return _Poll(error=f"cannot read the feed ({type(exc).__name__}: {exc})"[:300])

    def _read_children(self, feed: Feed, index: ParsedFeed, poll: _Poll) -> None:
        """Entries of a sitemap index's child sitemaps (each with its own conditional GET)."""
        limit = self.feed_settings.max_sitemaps
        if len(index.sitemaps) > limit:
            index.warnings.append(f"sitemap index lists {len(index.sitemaps)} sitemaps; "
                                  f"read the first {limit} (max_sitemaps)")
        for child in index.sitemaps[:limit]:
            etag, modified = self.state.validators(child)
            try:
                response = self.fetcher.get(child, kind="feed", etag=etag,
                                            last_modified=modified,
                                            respect_robots=self._obey_robots(feed))
                if response.not_modified:
                    continue
                parsed = parse_feed(response.body, response.url, response.content_type)
            except (FetchError, FeedParseError) as exc:
                index.warnings.append(f"sitemap {child}: {exc}")
                continue
            index.entries.extend(parsed.entries)
            index.kind = parsed.kind if parsed.kind != "sitemap-index" else index.kind
            poll.validators[child] = (response.etag, response.last_modified)

    # -- 2 and 3. pages and articles ---------------------------------------------------------
    def _fetch_and_write(
        self, feeds: Sequence[Feed], reports: dict[str, FeedReport],
        stop: threading.Event, notify: UpdateCallback,
    ) -> None:
        cap = self.feed_settings.max_pages_per_feed
        plan: list[tuple[Feed, list[PendingEntry]]] = []
        for feed in feeds:
            pending = self.state.pending(feed)
            reports[feed.url].waiting = max(len(pending) - cap, 0)
            plan.append((feed, pending[:cap]))
        tasks: list[tuple[str, tuple[Feed, PendingEntry]]] = []
        first_seq: dict[str, int] = {}  # url -> the task that fetches it
        aliases: dict[tuple[str, str], int] = {}  # (feed url, key) -> task fetching its url
        ranges: list[tuple[int, int]] = []
        for feed, entries in plan:
            start = len(tasks)
            for entry in entries:
                if entry.url in first_seq and not entry.changed:
                    aliases[(entry.feed_url, entry.key)] = first_seq[entry.url]
                    continue
                first_seq.setdefault(entry.url, len(tasks))
                tasks.append(((urlsplit(entry.url).hostname or "").lower(), (feed, entry)))
            ranges.append((start, len(tasks)))
        shared = set(aliases.values())
        total = sum(len(entries) for _, entries in plan)
        if total == 0:
            return
        window = max(self.feed_settings.workers * 8, 64)
        scheduler: HostScheduler[tuple[Feed, PendingEntry], _Page] = HostScheduler(
            tasks, self._fetch_page, workers=self.feed_settings.workers,
            per_host=self.feed_settings.per_host, ready_in=self._ready_in, window=window)
        results: dict[int, _Page] = {}
        written = 0
        try:
            for (feed, entries), (start, end) in zip(plan, ranges, strict=True):
                if stop.is_set():
                    break
                report = reports[feed.url]
                if not entries:
                    continue
                notify(UpdateProgress("fetching", feed.name, written, total, written))
                scheduler.advance(start)
                pages: list[_Page] = []
                for entry in entries:
                    seq = aliases.get((entry.feed_url, entry.key))
                    if seq is not None:
                        if seq not in results:
                            results[seq] = scheduler.result(seq)
                        original = results[seq]
                        article_id = original.article_id or (
                            original.article.id if original.article else None)
                        pages.append(_Page(entry, article_id=article_id,
                                           problem=original.problem,
                                           transient=original.transient))
                for seq in range(start, end):
                    if seq not in results:
                        results[seq] = scheduler.result(seq)
                    pages.append(results[seq])
                self._write_feed(feed, pages, report)
                written += len(entries)
                if report.status == "unchanged" and (report.added or report.updated):
                    report.status = "changed"
                notify(UpdateProgress("fetching", feed.name, written, total, written))
                # This feed's results are no longer needed, unless a later entry shares a page.
                for seq in range(start, end):
                    if seq not in shared:
                        results.pop(seq, None)
        finally:
            scheduler.stop()

    def _ready_in(self, host: str) -> float:
        return self.fetcher.host_ready_in(f"http://{host}/")

    def _fetch_page(self, task: tuple[Feed, PendingEntry]) -> _Page:
        """Fetch and extract one entry's page; never raises (problems are recorded)."""
        feed, entry = task
        page = _Page(entry)
        known = self.state.page(entry.url)
        if known and known.get("article_id") and not entry.changed:
            page.article_id = known["article_id"]  # fetched before, for another entry
            return page
        etag = known.get("etag") if known and entry.changed else None
        modified = known.get("last_modified") if known and entry.changed else None
        try:
            response = self.fetcher.get(entry.url, kind="page", etag=etag,
                                        last_modified=modified,
                                        respect_robots=self._obey_robots(feed))
            page.fetched = True
            if response.not_modified and known:
                page.article_id = known.get("article_id")
                page.etag, page.last_modified = etag, modified
                return page
            page.etag, page.last_modified = response.etag, response.last_modified
            page.article = article_from_page(response.body, response.url,
                                             response.content_type, response.charset,
                                             entry.hints, origin=feed.url)
        except FetchError as exc:
            page.fetched = "robots.txt" not in exc.reason
            page.problem, page.transient = exc.reason, exc.transient
        except PageRejected as exc:
            page.problem = str(exc)
        except Exception as exc:  # a hostile page must not stop the update
            page.problem = f"cannot read the page ({type(exc).__name__}: {exc})"[:300]
        return page

    def _write_feed(self, feed: Feed, pages: list[_Page], report: FeedReport) -> None:
        articles = [p.article for p in pages if p.article is not None]
        report.pages_fetched += sum(p.fetched for p in pages)
        if articles:
            written = self.ingestor.add_articles(articles)
            report.added.extend(written.added)
            report.updated.extend(written.updated)
            report.unchanged += len(written.unchanged)
            report.chunks += written.chunks
            report.warnings.extend(w.reason for w in written.warnings)
        done: list[tuple[PendingEntry, str, str | None, str | None]] = []
        failed: list[tuple[PendingEntry, str, bool]] = []
        for page in pages:
            if page.article is not None:
                done.append((page.entry, page.article.id, page.etag, page.last_modified))
            elif page.article_id:
                report.unchanged += 1
                done.append((page.entry, page.article_id, page.etag, page.last_modified))
            else:
                reason = page.problem or "no article"
                failed.append((page.entry, reason, page.transient))
                report.rejected.append(PageProblem(feed.name, page.entry.url, reason,
                                                   page.transient))
        self.state.finish_entries(feed, done, failed, self.feed_settings.page_attempts,
                                  len({ref.id for ref in report.added}))


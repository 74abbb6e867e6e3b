"""Following the news: feeds and sitemaps polled into the index, kept current.

>>> from assistant.feeds import Feeds
>>> feeds = Feeds()                       # the configured settings and index
>>> feeds.follow("https://example.org/rss.xml", name="example")
>>> report = feeds.update()               # UpdateReport: per feed, new/updated/failed
>>> [f.line() for f in report.failed]
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from assistant.errors import InputError
from assistant.feeds.state import Feed, FeedState
from assistant.feeds.update import (
    FeedReport,
    PageProblem,
    UpdateCallback,
    UpdateProgress,
    UpdateReport,
)
from assistant.fetch import FetchError, check_url
from assistant.settings import Settings, load_settings

if TYPE_CHECKING:
    from assistant.index import NewsIndex
    from assistant.ingest import IngestReport, ProgressCallback

__all__ = ["Feed", "FeedReport", "Feeds", "PageProblem", "UpdateProgress", "UpdateReport"]


def state_name(settings: Settings) -> str:
    """One feed state per collection (and Chroma server), like the keyword index."""
    where = f"{settings.store.host}-{settings.store.port}-" if settings.store.host else ""
    return f"{where}{settings.store.collection}"


class Feeds:
    """Follow and unfollow feeds, and update the index from them."""

    def __init__(self, settings: Settings | None = None, *, index: NewsIndex | None = None):
        self.settings = settings or (index.settings if index else load_settings())
        self._index = index
        folder = self.settings.data_dir / "feeds"
        self.state = FeedState(folder / f"{state_name(self.settings)}.sqlite3")

    @property
    def index(self) -> NewsIndex:
        if self._index is None:
            from assistant.index import NewsIndex

            self._index = NewsIndex(self.settings)
        return self._index

    def close(self) -> None:
        self.state.close()

    # -- following ---------------------------------------------------------------------------
    def follow(self, url: str, name: str | None = None, *, respect_robots: bool = True) -> Feed:
        """Start following a feed or sitemap (nothing is fetched until ``update``)."""
        try:
            url = check_url(url)
        except FetchError as exc:
            raise InputError(f"{url}: {exc.reason}; give the feed's http(s) address") from None
        if name is not None:
            name = name.strip()
            if not re.fullmatch(r"[\w.@:+-][\w .@:+/-]{0,79}", name):
                raise InputError(f"feed name {name!r}: use letters, digits, '.', '-', '_' "
                                 "(at most 80 characters)")
        return self.state.add(url, name or self._default_name(url), respect_robots)

    def unfollow(self, name_or_url: str) -> Feed:
        """Stop following a feed; the articles it brought stay in the index."""
        feed = self.state.find(name_or_url)
        if feed is None:
            raise InputError(f"no feed named {name_or_url!r}; 'assistant feeds list' shows them")
        self.state.remove(feed)
        return feed

    def list(self) -> list[Feed]:
        return self.state.feeds()

    def _default_name(self, url: str) -> str:
        host = (urlsplit(url).hostname or "feed").removeprefix("www.")
        name, n = host, 2
        while self.state.name_taken(name):
            name, n = f"{host}-{n}", n + 1
        return name

    # -- updating ----------------------------------------------------------------------------
    def update(
        self,
        names: Sequence[str] | None = None,
        *,
        stop: threading.Event | None = None,
        progress: UpdateCallback | None = None,
        wait: bool = False,
    ) -> UpdateReport:
        """Poll the feeds (all, or those named) and write what is new into the index.

        While another process writes to the index, fail at once (``wait=False``) or wait.

        ``stop`` (set it from another thread or a signal handler) ends the update cleanly
        between feeds; what is left is picked up by the next update.
        """
        from assistant.feeds.update import FeedUpdater
        from assistant.fetch import Fetcher
        from assistant.ingest import Ingestor

        feeds = self._select(names)
        index = self.index
        # One writer per index (an ingest, a remove or another update): a second update
        # started by cron while one runs fails at once rather than piling up.
        with index.lock.hold(wait=wait):
            ingestor = Ingestor(self.settings, index.store, index.embedder)
            with Fetcher(self.settings.feeds, robots_cache=self.state) as fetcher:
                report = FeedUpdater(self.settings, ingestor, self.state, fetcher).run(
                    feeds, stop, progress)
            if report.added or report.updated:
                if progress:
                    progress(UpdateProgress("indexing"))
                index.refresh_keyword()
        return report

    def _select(self, names: Sequence[str] | None) -> list[Feed]:
        feeds = self.state.feeds()
        if not names:
            return feeds
        chosen = []
        for name in names:
            feed = next((f for f in feeds if name in (f.name, f.url)), None)
            if feed is None:
                raise InputError(f"no feed named {name!r}; 'assistant feeds list' shows them")
            chosen.append(feed)
        return chosen

    # -- single pages --------------------------------------------------------------------------
    def ingest_urls(
        self, urls: Sequence[str], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Fetch article pages and write them into the index (``assistant ingest URL``)."""
        from assistant.feeds.urls import fetch_articles
        from assistant.ingest import IngestReport

        articles, rejected = fetch_articles(self.settings, urls, self.state)
        report = self.index.add_articles(articles, progress) if articles else IngestReport()
        report.rejected.extend(rejected)
        report.files += len(urls)
        return report


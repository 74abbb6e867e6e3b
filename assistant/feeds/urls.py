"""Article pages named by url (``assistant ingest https://…``): fetched politely, extracted."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from assistant.documents import Article, Rejection
from assistant.feeds.scheduler import HostScheduler
from assistant.fetch import Fetcher, FetchError, RobotsCache, check_url
from assistant.pages import PageRejected, article_from_page
from assistant.settings import Settings


def is_url(value: str) -> bool:
    """Looks like a url (``scheme://``) rather than a path."""
    return "://" in value and not value.startswith(("/", "."))


def fetch_articles(
    settings: Settings, urls: Sequence[str], robots_cache: RobotsCache | None = None
) -> tuple[list[Article], list[Rejection]]:
    """The articles of these pages, and one rejection (url and reason) per page that failed."""
    rejected: list[Rejection] = []
    valid: list[str] = []
    for url in dict.fromkeys(urls):
        try:
            valid.append(check_url(url))
        except FetchError as exc:
            rejected.append(Rejection(url, exc.reason))
    if not valid:
        return [], rejected
    fs = settings.feeds
    with Fetcher(fs, robots_cache=robots_cache) as fetcher:

        def work(url: str) -> Article:
            response = fetcher.get(url, kind="page")
            return article_from_page(response.body, response.url, response.content_type,
                                     response.charset, origin=url)

        scheduler: HostScheduler[str, Article] = HostScheduler(
            [((urlsplit(u).hostname or "").lower(), u) for u in valid], work,
            workers=fs.workers, per_host=fs.per_host,
            ready_in=lambda host: fetcher.host_ready_in(f"http://{host}/"), window=len(valid))
        articles: list[Article] = []
        try:
            for seq, url in enumerate(valid):
                try:
                    articles.append(scheduler.result(seq))
                except (FetchError, PageRejected) as exc:
                    rejected.append(Rejection(url, str(exc)))
                except Exception as exc:  # a hostile page must not stop the others
                    rejected.append(Rejection(url, f"cannot read the page "
                                              f"({type(exc).__name__}: {exc})"[:300]))
        finally:
            scheduler.stop()
    return articles, rejected

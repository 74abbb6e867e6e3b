"""Web pages to articles: trafilatura finds the main text and the page's metadata.

Navigation, ads, scripts and comments are left out (``include_comments=False``,
``favor_precision=True``). The canonical url (``<link rel=canonical>`` / ``og:url``) becomes
the article id; a feed entry's own title, date and authors fill what the page lacks. A page
with no main text is not an article and is rejected with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from assistant.documents import Article
from assistant.readers.fields import ArticleFieldError, article_from_fields

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

HTML_TYPES = {"text/html", "application/xhtml+xml", ""}  # "" = the server did not say
# Fewer words than this is a menu, a caption or a paywall stub that trafilatura fell back to,
# not an article (the shortest news briefs run to a few sentences).
MIN_ARTICLE_WORDS = 15


class PageRejected(Exception):
    """The page is not an article we can index; the message says why."""


@dataclass
class EntryHints:
    """What a feed or sitemap says about an entry: used where the page says nothing."""

    title: str = ""
    published: date | None = None
    published_time: str = ""  # ISO 8601 timestamp, when the feed gives one
    authors: list[str] = field(default_factory=list)
    source: str = ""  # the feed's or publication's name

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title,
                "published": self.published.isoformat() if self.published else None,
                "published_time": self.published_time, "authors": self.authors,
                "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryHints:
        published = data.get("published")
        return cls(data.get("title") or "",
                   date.fromisoformat(published) if published else None,
                   data.get("published_time") or "", list(data.get("authors") or []),
                   data.get("source") or "")


def canonical_url(found: str | None, final_url: str) -> str:
    """The page's canonical url when it is a usable absolute http(s) url, else the url the
    page was served from. A canonical pointing at a site's home page is ignored (some sites
    set it on every page)."""
    if found:
        parts = urlsplit(found)
        if parts.scheme in {"http", "https"} and parts.hostname and parts.path not in {"", "/"}:
            return found.split("#", 1)[0]
    return final_url.split("#", 1)[0]


def article_from_page(
    body: bytes,
    url: str,
    content_type: str = "",
    charset: str | None = None,
    hints: EntryHints | None = None,
    origin: str = "",
) -> Article:
    """The article in an HTML page served from ``url``; PageRejected when there is none."""
    import trafilatura  # heavy import: only when a page is read

    if content_type not in HTML_TYPES:
        raise PageRejected(f"not an HTML page (content type {content_type})")
    hints = hints or EntryHints()
    html: str | bytes = body
    if charset:
        try:
            html = body.decode(charset, errors="replace")
        except LookupError:
            html = body  # unknown charset name: let trafilatura detect it
    try:
        # Only dates the page states (metadata, markup): htmldate's extensive search guesses
        # from copyright lines and the like, and a feed's own date is better than a guess.
        extracted = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, favor_precision=True,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many types on hostile markup
        raise PageRejected(f"cannot parse the page ({type(exc).__name__})") from None
    doc = extracted.as_dict() if extracted is not None else {}
    text = (doc.get("text") or "").strip()
    if len(text.split()) < MIN_ARTICLE_WORDS:
        found = f" (only {len(text.split())} words)" if text else ""
        raise PageRejected(f"no article text found in the page{found}; not an article?")
    page_url = canonical_url(doc.get("url"), url)
    fields = {
        "title": doc.get("title") or hints.title,
        "text": text,
        "date": doc.get("date") or hints.published,
        "source": doc.get("sitename") or hints.source
        or (urlsplit(page_url).hostname or "").removeprefix("www."),
        "url": page_url,
        "author": doc.get("author") or hints.authors or None,
    }
    if doc.get("description"):
        fields["description"] = doc["description"]
    if hints.published_time:
        fields["published_time"] = hints.published_time
    try:
        article, _warnings = article_from_fields(fields, origin or url)
    except ArticleFieldError as exc:
        raise PageRejected(str(exc)) from None
    return article

"""Feeds and sitemaps to entries: RSS 2.0, RSS 1.0 (RDF) and Atom through feedparser;
sitemaps, sitemap indexes and Google News sitemaps through lxml (entities and network access
off, so a hostile document cannot expand or fetch anything)."""

from __future__ import annotations

import calendar
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

from assistant.pages import EntryHints
from assistant.readers.fields import parse_date

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


class FeedParseError(Exception):
    """The document is not a feed or sitemap we can read (the message says why)."""


@dataclass
class Entry:
    """One item of a feed or sitemap: the page it points to, and what it says about it."""

    key: str  # guid / id / link: what makes the entry "already seen"
    url: str
    hints: EntryHints = field(default_factory=EntryHints)
    version: str = ""  # the entry's updated/lastmod stamp, when it has one

    @property
    def digest(self) -> str:
        """Changes when the feed says the entry changed (new link, title or updated date)."""
        payload = json.dumps([self.url, self.hints.title, self.version], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


@dataclass
class ParsedFeed:
    kind: str  # rss20, rss10, atom10, ..., sitemap, news-sitemap, sitemap-index
    title: str = ""
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # children of a sitemap index
    warnings: list[str] = field(default_factory=list)


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Entries of a feed or sitemap; FeedParseError when it is neither."""
    head = body[:2048].lstrip().lower()
    if b"<urlset" in head or b"<sitemapindex" in head:
        return _parse_sitemap(body, url)
    return _parse_syndication(body, url, content_type)


def _iso(struct: Any) -> str:
    if not struct:
        return ""
    stamp = datetime.fromtimestamp(calendar.timegm(struct), tz=timezone.utc)
    return stamp.isoformat(timespec="seconds")


def _parse_syndication(body: bytes, url: str, content_type: str) -> ParsedFeed:
    import feedparser

    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.version:
        why = f": {_first_line(problem)}" if problem else ""
        raise FeedParseError(f"not an RSS/Atom feed or sitemap{why}")
    title = (parsed.feed.get("title") or "").strip()
    result = ParsedFeed(parsed.version, title)
    for item in parsed.entries:
        link = (item.get("link") or "").strip()
        if not link:
            for candidate in item.get("links") or []:
                if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                    link = candidate["href"]
                    break
        key = (item.get("id") or item.get("guid") or link or "").strip()
        if not link or not key:
            continue
        link = urljoin(url, link)
        # Read "updated" only when the entry has one: feedparser otherwise maps it to
        # "published" with a deprecation warning.
        updated = item.get("updated_parsed") if "updated" in item else None
        published = item.get("published_parsed") or updated
        authors = [a.get("name", "").strip() for a in item.get("authors") or []
                   if a.get("name")] or ([item["author"]] if item.get("author") else [])
        hints = EntryHints(
            title=(item.get("title") or "").strip(),
            published=parse_date(_iso(published)) if published else None,
            published_time=_iso(published),
            authors=authors,
            source=title,
        )
        version = _iso(updated) or _iso(item.get("published_parsed"))
        result.entries.append(Entry(key, link, hints, version))
    if problem is not None:
        if not result.entries:
            raise FeedParseError(f"malformed XML: {_first_line(problem)}")
        result.warnings.append(f"malformed XML, {len(result.entries)} entries recovered: "
                               f"{_first_line(problem)}")
    return result


def _parse_sitemap(body: bytes, url: str) -> ParsedFeed:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedParseError(f"malformed XML: {_first_line(exc)}") from None
    tag = etree.QName(root).localname
    if tag == "sitemapindex":
        result = ParsedFeed("sitemap-index")
        for loc in root.iterfind(f"{{{SITEMAP_NS}}}sitemap/{{{SITEMAP_NS}}}loc"):
            if loc.text and loc.text.strip():
                result.sitemaps.append(urljoin(url, loc.text.strip()))
        return result
    if tag != "urlset":
        raise FeedParseError(f"not a sitemap (root element <{tag}>)")
    result = ParsedFeed("sitemap")
    for node in root.iterfind(f"{{{SITEMAP_NS}}}url"):
        loc = (node.findtext(f"{{{SITEMAP_NS}}}loc") or "").strip()
        if not loc:
            continue
        loc = urljoin(url, loc)
        lastmod = (node.findtext(f"{{{SITEMAP_NS}}}lastmod") or "").strip()
        news = node.find(f"{{{NEWS_NS}}}news")
        hints = EntryHints()
        if news is not None:
            result.kind = "news-sitemap"
            when = (news.findtext(f"{{{NEWS_NS}}}publication_date") or "").strip()
            hints = EntryHints(
                title=(news.findtext(f"{{{NEWS_NS}}}title") or "").strip(),
                published=parse_date(when),
                published_time=when if "T" in when else "",
                source=(news.findtext(f"{{{NEWS_NS}}}publication/{{{NEWS_NS}}}name")
                        or "").strip(),
            )
        result.entries.append(Entry(loc, loc, hints, lastmod))
    return result


def _first_line(problem: object) -> str:
    if hasattr(problem, "getLineNumber") and hasattr(problem, "getMessage"):  # SAX errors
        return (f"{problem.getMessage()} (line {problem.getLineNumber()}, "
                f"column {problem.getColumnNumber()})")
    text = str(problem).strip() or type(problem).__name__
    return text.splitlines()[0][:160]

"""Turn loosely named article fields (front matter, JSON objects, page metadata) into an Article."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlparse

import dateutil.parser

from assistant.documents import Article, Scalar

TITLE_KEYS = ("title", "headline")
TEXT_KEYS = ("text", "body", "content")
DATE_KEYS = ("published", "published_at", "publishedAt", "date", "pubdate")
SOURCE_KEYS = ("source", "publisher", "site", "sitename")
URL_KEYS = ("url", "link")
AUTHOR_KEYS = ("authors", "author", "byline")


class ArticleFieldError(ValueError):
    """The fields do not make an article (the message says why)."""


_PROBES = (datetime(2001, 1, 1), datetime(2002, 2, 2))  # see parse_date


def parse_date(value: Any) -> date | None:
    """A publication date from the usual shapes: date, ISO 8601, RFC 2822, "14 July 2022",
    "July 14, 2022", "14/07/2022", epoch seconds. None when it is not a full calendar date."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc).date() if value > 10**8 else None
    text = str(value).strip()
    if not re.search(r"\d", text) or len(text) > 80:
        return None
    iso = re.match(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])", text)
    if iso:  # dateutil would read "2022-09-01" day first, as 9 January
        try:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        except ValueError:
            return None
    # dateutil fills missing parts ("March 2021" has no day) from a default date: parsing with
    # two different defaults and requiring the same result accepts only complete dates.
    try:
        found = {dateutil.parser.parse(text, default=probe, dayfirst=True).date()
                 for probe in _PROBES}
    except (ValueError, OverflowError):
        return None
    return found.pop() if len(found) == 1 else None


def _first(fields: dict[str, Any], keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if key in fields and fields[key] not in (None, "", []):
            return key, fields[key]
    return None, None


def _authors(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r",| and ", value) if part.strip()]
    if isinstance(value, (list, tuple)):
        names = []
        for item in value:
            name = item.get("name") if isinstance(item, dict) else item
            if name:
                names.append(str(name).strip())
        return names
    return [str(value)]


def _scalar(value: Any) -> Scalar:
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def title_from_text(text: str, limit: int = 120) -> str:
    """A title for an article that has none: its first line, shortened."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def article_from_fields(fields: dict[str, Any], origin: str) -> tuple[Article, list[str]]:
    """Build an article from a mapping; unknown fields are kept as metadata.

    Returns the article and warnings (e.g. a date that could not be read, kept as metadata).
    Raises ArticleFieldError when there is no usable text.
    """
    used: set[str] = set()
    warnings: list[str] = []

    text_key, text = _first(fields, TEXT_KEYS)
    if text_key is None or not isinstance(text, str) or not text.strip():
        raise ArticleFieldError("no article text (expected a non-empty 'text' or 'body' field)")
    used.add(text_key)
    text = text.strip()

    title_key, title = _first(fields, TITLE_KEYS)
    if title_key:
        used.add(title_key)
    title = str(title).strip() if title else title_from_text(text)

    extra: dict[str, Scalar] = {}
    date_key, raw_date = _first(fields, DATE_KEYS)
    published = None
    if date_key:
        used.add(date_key)
        published = parse_date(raw_date)
        if published is None:
            extra["published_raw"] = _scalar(raw_date)
            warnings.append(f"unreadable date {raw_date!r} kept as metadata 'published_raw'")

    url_key, url = _first(fields, URL_KEYS)
    if url_key:
        used.add(url_key)
    url = str(url).strip() if url else ""

    source_key, source = _first(fields, SOURCE_KEYS)
    if source_key:
        used.add(source_key)
    source = str(source).strip() if source else (urlparse(url).hostname or "").removeprefix("www.")

    author_key, authors = _first(fields, AUTHOR_KEYS)
    if author_key:
        used.add(author_key)

    for key, value in fields.items():
        if key not in used and key not in TEXT_KEYS + TITLE_KEYS and value not in (None, "", []):
            extra[str(key)] = _scalar(value)

    article = Article(
        title=title,
        text=text,
        published=published,
        source=source,
        url=url,
        authors=_authors(authors),
        extra=extra,
        origin=origin,
    )
    return article, warnings

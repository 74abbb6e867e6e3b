"""HTML pages: main-text extraction and page metadata with trafilatura."""

from __future__ import annotations

import logging

from assistant.readers.fields import ArticleFieldError, article_from_fields
from assistant.readers.types import FileResult

# trafilatura logs every page it finds thin; the ingest report is where problems go.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)


def parse_html(html: str, path: str) -> FileResult:
    import trafilatura  # heavy import: only when an HTML file is read

    result = FileResult()
    extracted = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, favor_precision=True
    )
    doc = extracted.as_dict() if extracted is not None else {}
    if not (doc.get("text") or "").strip():
        result.reject(path, "no article text found in the HTML page")
        return result
    fields = {
        "title": doc.get("title"),
        "text": doc.get("text"),
        "date": doc.get("date"),
        "source": doc.get("sitename") or doc.get("hostname"),
        "url": doc.get("url"),
        "author": doc.get("author"),
    }
    if doc.get("description"):
        fields["description"] = doc["description"]
    try:
        article, warnings = article_from_fields(fields, path)
    except ArticleFieldError as exc:
        result.reject(path, str(exc))
        return result
    result.articles.append(article)
    for warning in warnings:
        result.warn(path, warning)
    return result

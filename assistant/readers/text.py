"""Plain text and Markdown articles: optional YAML front matter, else the first line is title."""

from __future__ import annotations

import re
from typing import Any

import yaml

from assistant.readers.fields import ArticleFieldError, article_from_fields
from assistant.readers.types import FileResult

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def parse_text_article(text: str, origin: str, markdown: bool) -> FileResult:
    result = FileResult()
    fields: dict[str, Any] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            problem = str(exc).splitlines()[0]
            result.reject(origin, f"invalid YAML front matter ({problem}); fix or remove it")
            return result
        if not isinstance(loaded, dict):
            result.reject(origin, "front matter is not a mapping of fields (key: value)")
            return result
        fields = {str(key): value for key, value in loaded.items()}
        body = text[match.end() :]

    if not fields.get("title"):
        lines = body.strip("\n").split("\n", 1)
        first = lines[0].strip()
        if markdown:
            first = re.sub(r"^#+\s*", "", first)
        fields["title"] = first
        body = lines[1] if len(lines) > 1 else ""
    fields["text"] = body.strip()

    try:
        article, warnings = article_from_fields(fields, origin)
    except ArticleFieldError as exc:
        result.reject(origin, str(exc))
        return result
    result.articles.append(article)
    for warning in warnings:
        result.warn(origin, warning)
    return result

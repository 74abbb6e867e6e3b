"""JSON and JSON Lines: one article per object."""

from __future__ import annotations

import json
from typing import Any

from assistant.readers.fields import ArticleFieldError, article_from_fields
from assistant.readers.types import FileResult


def _add(result: FileResult, obj: Any, path: str, line: int | None) -> None:
    origin = f"{path}:{line}" if line else path
    if not isinstance(obj, dict):
        result.reject(path, f"expected a JSON object, got {type(obj).__name__}", line)
        return
    try:
        article, warnings = article_from_fields(obj, origin)
    except ArticleFieldError as exc:
        result.reject(path, str(exc), line)
        return
    result.articles.append(article)
    for warning in warnings:
        result.warn(path, warning, line)


def parse_jsonl(text: str, path: str) -> FileResult:
    result = FileResult()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            result.reject(path, f"malformed JSON ({exc.msg} at column {exc.colno})", number)
            continue
        _add(result, obj, path, number)
    return result


def parse_json(text: str, path: str) -> FileResult:
    result = FileResult()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        result.reject(path, f"malformed JSON ({exc.msg})", exc.lineno)
        return result
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if isinstance(data, list):
        for index, obj in enumerate(data):
            before = len(result.rejected)
            _add(result, obj, path, None)
            for i in range(before, len(result.rejected)):
                rejection = result.rejected[i]
                result.rejected[i] = type(rejection)(
                    path, f"item {index}: {rejection.reason}", rejection.line
                )
    else:
        _add(result, data, path, None)
    return result

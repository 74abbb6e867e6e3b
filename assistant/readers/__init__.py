"""Read articles from files and folders: .txt, .md, .html/.htm, .json, .jsonl."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from assistant.errors import InputError
from assistant.readers.decode import NotText, decode_text
from assistant.readers.html import parse_html
from assistant.readers.jsonfile import parse_json, parse_jsonl
from assistant.readers.text import parse_text_article
from assistant.readers.types import FileResult

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}
# Folder documentation, not news: skipped when walking a folder (read if named explicitly).
_NOT_ARTICLES = {"readme", "license", "licence", "changelog", "notice", "copying"}

__all__ = ["SUFFIXES", "FileResult", "find_files", "read_file", "read_paths"]


def find_files(path: Path) -> Iterator[Path]:
    """Article files under ``path`` (or ``path`` itself), in a stable order."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            candidate = Path(root) / name
            if name.startswith(".") or candidate.suffix.lower() not in SUFFIXES:
                continue
            if candidate.stem.lower() in _NOT_ARTICLES:
                continue
            yield candidate


def read_file(path: Path, fallback_encoding: str | None = None) -> FileResult:
    """Read one file into articles; problems become rejections naming the file (and line)."""
    result = FileResult()
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        result.reject(name, f"unsupported file type '{suffix or path.name}'; use one of "
                      + ", ".join(sorted(SUFFIXES)))
        return result
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.reject(name, f"cannot read file ({exc.strerror or exc})")
        return result
    try:
        text, warning = decode_text(data, fallback_encoding)
    except NotText as exc:
        result.reject(name, str(exc))
        return result
    if warning:
        result.warn(name, warning)
    if suffix in {".jsonl", ".ndjson"}:
        result.extend(parse_jsonl(text, name))
    elif suffix == ".json":
        result.extend(parse_json(text, name))
    elif suffix in {".html", ".htm"}:
        result.extend(parse_html(text, name))
    else:
        result.extend(parse_text_article(text, name, markdown=suffix != ".txt"))
    return result


def read_paths(paths: list[Path], fallback_encoding: str | None = None) -> Iterator[FileResult]:
    """Read every article file under the given paths, one result per file."""
    for path in paths:
        for file in find_files(path):
            yield read_file(file, fallback_encoding)

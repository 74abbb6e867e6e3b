"""Read articles from files and folders: .txt, .md, .html/.htm, .json, .jsonl."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from assistant.documents import Rejection
from assistant.errors import InputError
from assistant.readers.decode import NotText, decode_text
from assistant.readers.html import parse_html
from assistant.readers.jsonfile import parse_json, parse_jsonl
from assistant.readers.text import parse_text_article
from assistant.readers.types import FileResult, oversize

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".ndjson"}
# Folder documentation, not news: skipped when walking a folder (read if named explicitly).
_NOT_ARTICLES = {"readme", "license", "licence", "changelog", "notice", "copying"}

__all__ = ["SUFFIXES", "FileResult", "find_files", "read_file", "read_paths"]


def find_files(path: Path) -> Iterator[Path | Rejection]:
    """Article files under ``path`` (or ``path`` itself), in a stable order.

    Symbolic links to folders are followed; one that leads back to a folder already being
    read (a loop, or the same folder twice) is skipped with a warning naming it.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        yield path
        return
    visited = {os.path.realpath(path)}
    for root, dirs, files in os.walk(path, followlinks=True):
        kept = []
        for name in sorted(d for d in dirs if not d.startswith(".")):
            folder = Path(root) / name
            real = os.path.realpath(folder)
            if real in visited:
                yield Rejection(str(folder), f"symbolic link to {real}, a folder already read "
                                "(a loop or a duplicate); skipped")
                continue
            visited.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            candidate = Path(root) / name
            if name.startswith(".") or candidate.suffix.lower() not in SUFFIXES:
                continue
            if candidate.stem.lower() in _NOT_ARTICLES:
                continue
            yield candidate


def read_file(path: Path, fallback_encoding: str | None = None,
              max_chars: int | None = None) -> FileResult:
    """Read one file into articles; problems become rejections naming the file (and line).

    ``max_chars`` rejects a single-article file (text, Markdown, HTML) longer than that before
    it is parsed: one huge file must not stall or abort a run.
    """
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
    single = suffix not in {".jsonl", ".ndjson", ".json"}
    if single and max_chars is not None and len(text) > max_chars:
        result.reject(name, oversize(len(text), max_chars))
        return result
    if suffix in {".jsonl", ".ndjson"}:
        result.extend(parse_jsonl(text, name))
    elif suffix == ".json":
        result.extend(parse_json(text, name))
    elif suffix in {".html", ".htm"}:
        result.extend(parse_html(text, name))
    else:
        result.extend(parse_text_article(text, name, markdown=suffix != ".txt"))
    return result


def read_paths(paths: list[Path], fallback_encoding: str | None = None,
               max_chars: int | None = None) -> Iterator[FileResult]:
    """Read every article file under the given paths, one result per file (a file that
    cannot be read is a rejection in its result, never an exception that ends the run)."""
    for path in paths:
        for found in find_files(path):
            if isinstance(found, Rejection):
                skipped = FileResult()
                skipped.warnings.append(found)
                yield skipped
                continue
            try:
                yield read_file(found, fallback_encoding, max_chars)
            except Exception as exc:  # a parser crash on one file must not end the run
                failed = FileResult()
                detail = " ".join(str(exc).split())[:160] or type(exc).__name__
                failed.reject(str(found), f"cannot be read ({detail})")
                yield failed

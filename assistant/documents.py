"""The records that flow through the assistant: articles, chunks, rejected inputs, passages."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

Scalar = str | int | float | bool


def normalise_text(text: str) -> str:
    """Unicode-normalised, whitespace-collapsed text: the form article ids are hashed from."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def content_id(title: str, text: str) -> str:
    """Stable id of an article that has no url: a hash of its normalised content."""
    digest = hashlib.sha256(normalise_text(f"{title}\n{text}").encode("utf-8")).hexdigest()
    return digest[:16]


def day_number(day: date) -> int:
    """Days since 1970-01-01; stored in Chroma so date ranges are integer comparisons."""
    return day.toordinal() - date(1970, 1, 1).toordinal()


@dataclass
class Article:
    """One news article, as read from a file or a JSON record."""

    title: str
    text: str
    published: date | None = None
    source: str = ""
    url: str = ""
    authors: list[str] = field(default_factory=list)
    extra: dict[str, Scalar] = field(default_factory=dict)
    origin: str = ""  # the file it came from ("path" or "path:line")

    @property
    def id(self) -> str:
        return self.url or content_id(self.title, self.text)

    def fingerprint(self, salt: str = "") -> str:
        """Hash of everything stored about the article; a change means re-chunking."""
        payload = json.dumps(
            [
                self.title,
                self.text,
                self.published.isoformat() if self.published else None,
                self.source,
                self.url,
                self.authors,
                sorted(self.extra.items()),
                salt,
            ],
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rejection:
    """An input that was skipped, and why."""

    path: str
    reason: str
    line: int | None = None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, with its character offsets in the article text."""

    article_id: str
    index: int
    text: str
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.index}"


@dataclass
class Passage:
    """A retrieved chunk with its article's metadata and its scores."""

    chunk_id: str
    article_id: str
    title: str
    source: str
    url: str
    published: date | None
    text: str
    start: int
    end: int
    score: float = 0.0  # fused rank score (higher is better)
    dense: float | None = None  # cosine similarity to the question, when the dense side found it
    lexical: float | None = None  # BM25 score, when the keyword side found it
    authors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    story: str = ""  # story id: near-duplicate copies of one article share it
    copies: list[dict[str, Any]] = field(default_factory=list)  # the story's other articles

"""What reading one file produces."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.documents import Article, Rejection


def oversize(chars: int, limit: int) -> str:
    """Why an article over the size limit is rejected."""
    return (f"article text is {chars:,} characters, over the {limit:,} limit "
            "(ingest.max_article_chars); split it or raise the limit")


@dataclass
class FileResult:
    articles: list[Article] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)

    def reject(self, path: str, reason: str, line: int | None = None) -> None:
        self.rejected.append(Rejection(path, reason, line))

    def warn(self, path: str, reason: str, line: int | None = None) -> None:
        self.warnings.append(Rejection(path, reason, line))

    def extend(self, other: FileResult) -> None:
        self.articles.extend(other.articles)
        self.rejected.extend(other.rejected)
        self.warnings.extend(other.warnings)

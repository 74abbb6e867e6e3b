"""The structured result of a question: text, verified citations, refusal, timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.developments import Conflict, Event
from assistant.documents import Passage
from assistant.filters import SearchFilters

if TYPE_CHECKING:
    from assistant.index import NewsIndex

_MIN_IN_PERIOD = 2  # reports of the named period needed before older ones are set aside


@dataclass(frozen=True)
class RetrievalTrace:
    """The search an answer made: its query, the filters it searched within, and the scope it
    preferred inside them (e.g. the weeks before the reference date). Repeat it with
    :meth:`search` (a benchmark measures retrieval deeper than the answer read)."""

    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    prefer: SearchFilters | None = None
    # Set when the question names its period ("this week"): reports published before this
    # date are set aside once the period has reports of its own (see :meth:`read`).
    stale_before: date | None = None

    def search(self, index: NewsIndex, k: int | None = None) -> list[Passage]:
        return index.search(self.query, k, self.filters, self.prefer)

    def read(self, index: NewsIndex, k: int | None = None) -> list[Passage]:
        """The passages an answer reads: the search, less the reports from long before the
        period the question names when at least two reports of that period were found.

        "Which company announced this week that it is laying off 16,000 employees?" finds this
        week's report and a years-old one about another company's 16,000 layoffs; a small
        model given both names either. Without two reports of the period, nothing is set
        aside (the answer then says how old its sources are).
        """
        passages = self.search(index, k)
        since = self.prefer.since if self.prefer is not None else None
        if self.stale_before is None or since is None:
            return passages
        inside = sum(1 for p in passages if p.published is not None and p.published >= since)
        if inside < _MIN_IN_PERIOD or not any(self.is_stale(p) for p in passages):
            return passages
        deeper = self.search(index, 2 * len(passages))
        return [p for p in deeper if not self.is_stale(p)][: len(passages)]

    def is_stale(self, passage: Passage) -> bool:
        """Published before ``stale_before`` (never, without it)."""
        return (self.stale_before is not None and passage.published is not None
                and passage.published < self.stale_before)

    def to_dict(self) -> dict[str, Any]:
        f, prefer = self.filters, self.prefer
        return {
            "sources": list(f.sources),
            "since": f.since.isoformat() if f.since else None,
            "until": f.until.isoformat() if f.until else None,
            "include_undated": f.include_undated,
            "prefer_since": prefer.since.isoformat() if prefer and prefer.since else None,
        }


@dataclass
class Citation:
    """A source an answer cites as ``[n]``: the article and the exact passage the model read."""

    n: int
    article_id: str
    title: str
    source: str
    published: date | None
    url: str
    passage: str
    chunk_ids: list[str] = field(default_factory=list)
    # Other articles of the same story (copies printed by other outlets), earliest first.
    also_reported_by: list[dict[str, Any]] = field(default_factory=list)

    @property
    def outlets(self) -> int:
        """How many outlets carried the story (this one included)."""
        names = {self.source.strip().lower() or self.article_id}
        names |= {(c.get("source") or "").strip().lower() or c["id"]
                  for c in self.also_reported_by}
        return len(names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "id": self.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "url": self.url,
            "passage": self.passage,
            "chunks": self.chunk_ids,
            "also_reported_by": self.also_reported_by,
            "outlets": self.outlets,
        }


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    unsupported: list[str] = field(default_factory=list)  # sentences no passage supports
    timings: dict[str, float] = field(default_factory=dict)
    standalone_question: str = ""  # the question after rewriting a follow-up
    retrieval: RetrievalTrace | None = None  # the search behind the answer
    passages: list[Passage] = field(default_factory=list)  # what retrieval returned
    reason: str = ""  # why the assistant refused
    stopped: bool = False  # the user interrupted generation
    backend: str = ""
    events: list[Event] = field(default_factory=list)  # a timeline, oldest first
    conflicts: list[Conflict] = field(default_factory=list)  # reports that disagree
    as_of: date | None = None  # the newest cited source's date
    stale: bool = False  # asks about the present, but the newest source is older than allowed

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "text": self.text,
            "refused": self.refused,
            "reason": self.reason,
            "unsupported": self.unsupported,
            "citations": [c.to_dict() for c in self.citations],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "filters": self.retrieval.to_dict() if self.retrieval else {},
            "backend": self.backend,
            "stopped": self.stopped,
            "events": [e.to_dict() for e in self.events],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "stale": self.stale,
        }

"""The structured parts of an answer about a developing story: timeline events and conflicts.

Plain records, no logic beyond (de)serialising: ``timeline.py`` builds events,
``conflicts.py`` builds conflicts, and ``Answer`` carries both. Citations are the answer's
``[n]`` numbers, so every event and every reported value points at a listed source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

DatedBy = Literal["text", "article", "unknown"]


def format_day(day: date | None) -> str:
    """``14 March 2026`` (the form answers use), or ``date unknown``."""
    return f"{day.day} {day:%B %Y}" if day else "date unknown"


@dataclass
class Event:
    """One dated line of a timeline, with every source that reports it."""

    date: date | None
    text: str
    citations: list[int] = field(default_factory=list)
    dated_by: DatedBy = "article"  # the date the text names, else its article's date

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat() if self.date else None,
            "text": self.text,
            "citations": list(self.citations),
            "dated_by": self.dated_by,
        }


@dataclass
class ReportedValue:
    """One report of a value: what it said, who said it, when, and its citation."""

    value: str
    citation: int
    source: str
    date: date | None
    sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "citation": self.citation,
            "source": self.source,
            "date": self.date.isoformat() if self.date else None,
            "sentence": self.sentence,
        }


@dataclass
class Conflict:
    """Reports that give different values for the same thing; ``values`` newest first."""

    what: str
    values: list[ReportedValue] = field(default_factory=list)
    kind: str = "count"  # count | amount | percent | actor

    @property
    def latest(self) -> str | None:
        """The value of the newest report; None when the newest reports disagree."""
        if not self.values:
            return None
        newest = self.values[0].date
        same_day = {v.value for v in self.values if v.date == newest}
        return self.values[0].value if len(same_day) == 1 else None

    @property
    def distinct_values(self) -> list[str]:
        return list(dict.fromkeys(v.value for v in self.values))

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "kind": self.kind,
            "latest": self.latest,
            "values": [v.to_dict() for v in self.values],
        }

"""Every news answer is true as of some date: the newest source it cites.

A question about the present ("now", "currently", "the latest", "this week") asked on a
reference day long after the newest article on its topic gets a warning: the articles may
be out of date. The horizon is ``settings.developing.stale_days`` (7 by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from assistant.developments import format_day

_PRESENT = re.compile(
    r"\b(?:now|currently|current|presently|at present|right now|at the moment|as it stands|"
    r"latest|most recent|newest|today|tonight|this (?:week|morning|evening|afternoon)|"
    r"so far|to date|still|yet|ongoing|up to date|these days)\b",
    re.IGNORECASE,
)
AS_OF_LEAD = "As of "
STALE_LEAD = "Note: "


def asks_about_present(question: str) -> bool:
    """Does the question ask how things stand now (relative to its reference date)?"""
    return bool(_PRESENT.search(question))


def newest(days: Iterable[date | None]) -> date | None:
    known = [d for d in days if d is not None]
    return max(known) if known else None


def is_stale(question: str, newest_relevant: date | None, today: date, horizon_days: int
             ) -> bool:
    """True when the question is about the present and the newest relevant article is more
    than ``horizon_days`` before ``today`` (undated sources cannot be judged: False)."""
    if horizon_days <= 0 or newest_relevant is None or not asks_about_present(question):
        return False
    return (today - newest_relevant).days > horizon_days


def as_of_line(as_of: date) -> str:
    return f"{AS_OF_LEAD}{format_day(as_of)} (the newest source cited)."


def stale_line(newest_relevant: date, today: date) -> str:
    days = (today - newest_relevant).days
    return (f"{STALE_LEAD}The newest article I have on this is from {format_day(newest_relevant)}, "
            f"{days} days before {format_day(today)}; it may be out of date.")

"""The day a sentence of a news article says something happened, relative to its publication.

Built on ``timewords`` (which reads time phrases relative to a reference day), with the
conventions of news writing on top:

- "on Monday" in an article published on a Monday means that day, not a week earlier;
- "last night" is the evening before publication;
- a date after publication ("service resumes on 24 March") is a plan, not when the reported
  event happened, so it does not date the event; nor does a period ("last week", "in March");
- "since the river burst its banks on Monday" starts a period: background, not the event;
- when a sentence names several days ("The ferry, which ran aground on 15 March, was towed
  into harbour on Thursday"), the latest one is the news, the earlier ones are background.
"""

from __future__ import annotations

import re
from datetime import date

from assistant.timewords import infer_date_range

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SINCE = re.compile(r"\bsince\b[^,;]*", re.IGNORECASE)
_CLAUSES = re.compile(r",|;|\s[—–]\s|\s\(|\)\s|\bwhile\b|\bafter\b|\bbefore\b|\bwhich\b|\bwho\b")
_PLAN = re.compile(r"\b(?:will|would|shall|to be|due|scheduled|expected|planned|plans? to|"
                   r"set to|is to)\b", re.IGNORECASE)
# A yearless day read as "the most recent one" that lies this far back was meant ahead.
_FUTURE_SLACK_DAYS = 180


def _clause_day(clause: str, published: date) -> date | None:
    found = infer_date_range(clause, published)
    if found is None or found.since is None or found.until is None:
        return None
    phrase = found.phrase.lower()
    weekday = _WEEKDAYS[published.weekday()]
    if re.fullmatch(rf"(?:on\s+|last\s+)?{weekday}(?:['’]s)?", phrase):
        return published if not phrase.startswith("last") else found.since
    if "night" in phrase and (found.until - found.since).days <= 1:
        return found.since
    if found.since != found.until:
        return None  # a period, not a day
    day = found.since
    if day > published or (published - day).days > _FUTURE_SLACK_DAYS:
        return None
    if _PLAN.search(clause):
        return None  # "will reopen on Monday": a plan
    return day


def named_day(sentence: str, published: date | None) -> date | None:
    """The day ``sentence`` says its news happened (see the module notes), or None."""
    if published is None:
        return None
    days = [d for clause in _CLAUSES.split(_SINCE.sub(" ", sentence)) if clause and clause.strip()
            if (d := _clause_day(clause, published)) is not None]
    return max(days) if days else None


def event_day(sentence: str, published: date | None) -> tuple[date | None, bool]:
    """(the event's day, whether the sentence named it): the day named, else publication."""
    named = named_day(sentence, published)
    return (named, True) if named is not None else (published, False)

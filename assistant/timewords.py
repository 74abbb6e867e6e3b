"""Turn the time words of a news question into an inclusive publication-date range.

Written by hand, with no dependency: ``dateparser`` and friends turn text into a *point* in
time ("last week" -> a datetime seven days ago), while a question means a *range* of
publication dates ("last week" -> the articles of the past seven days), and they do not find
time words inside a longer question.

Grammar: ``[preposition] [modifier] ANCHOR['s]`` or ``between/from ANCHOR and/to ANCHOR``.
Every ANCHOR resolves to an inclusive period relative to ``today`` (table ``_ANCHORS``):

=====================================  =========================================================
today, tonight, this morning           today
yesterday                              yesterday
last night                             yesterday .. today
this week                              the 7 days ending today: today-6 .. today
last/past/this past week               today-7 .. today (same as "past 1 week" below)
past/last/previous N days|weeks|...    today minus N units .. today (hours round up to days;
                                       "few" = 3, "couple" = 2, "several" = 5, none = 1).
                                       So "past month" = same day last month .. today.
this month / this year                 the 1st of the month / January 1st .. today
last month / last year                 the previous *calendar* month / year (but "the last
                                       month" is the rolling "past month")
recently, lately, (the) latest,        the last ``RECENT_DAYS`` (30) days .. today; used only
recent days/weeks                      when the question has no other time phrase
2020-11-17, November 17(th)(,) 2020,   that day; without a year, the most recent such day not
17(th) (of) November 2020              after today, or the next one when the question speaks of
                                       the future ("will", "upcoming", "set to"...) and it is
                                       nearer: "who will play on February 8?" on 30 January
November 2020, Nov. 2020, March of     that calendar month; "March last/this year" too
2021
in March (no year)                     the most recent March not after today (may be this
                                       month); "last March" = the most recent *before* this month
in 2020, in the year 2020 (1900-2100)  that calendar year
last Friday                            the most recent Friday strictly before today
on Friday                              the same, or today when today is a Friday: news
                                       writes the weekday for today ("arrested on
                                       Thursday" in Thursday's paper), so both are kept
=====================================  =========================================================

A bare year, month name or weekday is ambiguous ("2000 troops", "Who may win?", "Black
Friday"), so it only counts after a preposition, inside between/from .. to, after a modifier,
after "last" (month, weekday), or with a year (month). For a bare year the preposition must be
a date one (not at, over, within, for, of, from: "over 2000", "plans for 2021"). Years must not be
part of a bigger number ("2,500", "2020.5", "45%") nor be followed by a count noun ("in 2000
troops", "since 2000 more soldiers").

Prepositions turn the anchor's period ``start .. end`` into a range: in, on, at, during,
throughout, over, within, for, of, from -> the period; since -> start .. today; after ->
end+1 .. today; before, prior to -> .. start-1; until, till, through -> .. end.
Modifiers take a third of the period, in days (a month: days 1-10, 11-20 or 21-30, the rest
going to the middle third): early / the beginning of / the start of -> the first third;
mid / the middle of -> the middle one; late / the end of -> the last one.
"between A and B" / "from A to B" -> A's start .. B's end; a yearless month or day in A takes
B's year ("between March and June 2021"), or the year before if it would start after B.

Several phrases: the narrowest two-sided range wins (a day over a week over a month over a
year; the vague "recently" words lose to anything else; ties go to the first in the question).
One-sided phrases ("since 2019", "before 2021") then narrow it, in question order, each only
if the range stays non-empty. A range with a start and no end ends today.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

RECENT_DAYS = 30  # "recently", "lately", "latest": generous, the news cycle of a month

Period = tuple[date, date]
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of publication dates; ``None`` means unbounded on that side."""

    since: date | None
    until: date | None
    phrase: str  # the words matched, e.g. "last week" or "in November 2020"


# -- building blocks -------------------------------------------------------------------------
_MONTH_NAMES = [
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
    ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"),
    ("october", "oct"), ("november", "nov"), ("december", "dec"),
]
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_COUNTS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
           "couple": 2, "few": 3, "several": 5}

_COUNT_NOUNS = (
    r"(?:(?:more|additional|extra|other)\s+)?(?:people|persons|troops|soldiers|men|women|"
    r"children|civilians|residents|refugees|migrants|workers|employees|staff|fighters|"
    r"personnel|cases|deaths|votes|jobs|homes|houses|members|times|units|dollars|euros|km|"
    r"miles|tons|tonnes)|of\s+(?:them|those|these|the|whom|which)"
)
_YEAR = rf"(?:19\d\d|20\d\d|2100)(?![.,]\d|%)(?!\s+(?:{_COUNT_NOUNS})\b)"
_MONTH = rf"(?P<mon>{'|'.join(sorted(_MONTHS, key=len, reverse=True))})\b(?:\.(?=\s*\d))?"
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?(?![.,]?\d)"
_OPT_YEAR = rf"(?:,?\s+(?:of\s+)?(?P<y>{_YEAR}|last\s+year|this\s+year))?"
_COUNT = rf"(?:an?\s+)?(?P<n>\d{{1,3}}|{'|'.join(_COUNTS)})(?:\s+of)?"


def _g(m: re.Match[str], name: str) -> str | None:
    """Group ``name`` of ``m``, or None when unmatched or absent from the pattern."""
    return m.groupdict().get(name)


def _add_months(d: date, n: int) -> date:
    years, month0 = divmod(d.month - 1 + n, 12)
    year = d.year + years
    return date(year, month0 + 1, min(d.day, calendar.monthrange(year, month0 + 1)[1]))


def _month_span(year: int, month: int) -> Period:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _explicit_year(m: re.Match[str], today: date, hint: int | None) -> int | None:
    """The anchor's year: written, "last/this year", else the hint (from a range's end)."""
    text = (_g(m, "y") or "").lower()
    if text.isdigit():
        return int(text)
    if text:
        return today.year - 1 if text.startswith("last") else today.year
    return hint


# -- anchor resolvers: (match, today, year hint) -> period -----------------------------------
def _month_of(m: re.Match[str]) -> int:
    mon = m["mon"]
    return int(mon) if mon.isdigit() else _MONTHS[mon.lower()]


def _day(m: re.Match[str], today: date, hint: int | None) -> Period | None:
    month = _month_of(m)
    year = _explicit_year(m, today, hint)
    years = [year] if year is not None else range(today.year, today.year - 8, -1)
    for y in years:
        try:
            day = date(y, month, int(m["d"]))
        except ValueError:  # February 30th, or February 29th of a common year
            continue
        if year is not None or day <= today:
            return day, day
    return None


def _month(m: re.Match[str], today: date, hint: int | None) -> Period:
    month = _MONTHS[m["mon"].lower()]
    year = _explicit_year(m, today, hint)
    if year is None:
        latest = today.month - 1 if _g(m, "last") else today.month
        year = today.year if month <= latest else today.year - 1
    return _month_span(year, month)


def _weekday(m: re.Match[str], today: date, _hint: int | None) -> Period:
    back = (today.weekday() - _WEEKDAYS.index(m["wd"].lower())) % 7 or 7
    if back == 7 and not _g(m, "last"):
        return today - timedelta(days=7), today  # last week's or today's, see the table above
    return today - timedelta(days=back), today - timedelta(days=back)


def _year(m: re.Match[str], _today: date, _hint: int | None) -> Period:
    return date(int(m["yr"]), 1, 1), date(int(m["yr"]), 12, 31)


def _rolling(m: re.Match[str], today: date, _hint: int | None) -> Period:
    n_text = (_g(m, "n") or "1").lower()
    n = int(n_text) if n_text.isdigit() else _COUNTS[n_text]
    unit = m["unit"].lower()
    if unit in ("month", "year"):
        return _add_months(today, -n * (12 if unit == "year" else 1)), today
    days = {"hour": -(-n // 24), "day": n, "week": 7 * n}[unit]
    return today - timedelta(days=days), today


def _previous_month(today: date) -> Period:
    first = _add_months(today, -1)
    return _month_span(first.year, first.month)


def _fixed(period: Callable[[date], Period]) -> Callable[..., Period]:
    return lambda _m, today, _hint: period(today)


@dataclass(frozen=True)
class _Anchor:
    pattern: re.Pattern[str]
    resolve: Callable[[re.Match[str], date, int | None], Period | None]
    bare: str = ""  # "name" (month, weekday) or "number" (year): alone, needs a preposition
    vague: bool = False  # "recently": used only when nothing more precise is asked


def _anchor(pattern: str, resolve: Callable[..., Period | None], *, bare: str = "",
            vague: bool = False) -> _Anchor:
    return _Anchor(re.compile(pattern, re.IGNORECASE), resolve, bare, vague)


# Order matters: at one position the first pattern that fits wins.
_ANCHORS = [
    _anchor(rf"(?P<y>{_YEAR})-(?P<mon>[01]?\d)-(?P<d>[0-3]?\d)", _day),
    _anchor(rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_OPT_YEAR}", _day),
    _anchor(rf"{_MONTH}\s+(?:the\s+)?{_DAY}{_OPT_YEAR}", _day),
    _anchor(rf"(?:(?P<last>last|this\s+past)\s+)?{_MONTH}{_OPT_YEAR}", _month, bare="name"),
    _anchor(rf"(?:(?P<last>last|this\s+past)\s+)?(?P<wd>{'|'.join(_WEEKDAYS)})", _weekday,
            bare="name"),
    _anchor(r"(?:earlier\s+)?today|tonight|this\s+(?:morning|afternoon|evening)",
            _fixed(lambda t: (t, t))),
    _anchor(r"yesterday", _fixed(lambda t: (t - _ONE_DAY, t - _ONE_DAY))),
    _anchor(r"last\s+night", _fixed(lambda t: (t - _ONE_DAY, t))),
    _anchor(r"this\s+week", _fixed(lambda t: (t - timedelta(days=6), t))),
    _anchor(r"this\s+month", _fixed(lambda t: (t.replace(day=1), t))),
    _anchor(r"last\s+month", _fixed(_previous_month)),
    _anchor(r"this\s+year", _fixed(lambda t: (date(t.year, 1, 1), t))),
    _anchor(r"last\s+year", _fixed(lambda t: (date(t.year - 1, 1, 1), date(t.year - 1, 12, 31)))),
    _anchor(rf"(?:the\s+|this\s+)?(?:past|last|previous)\s+(?:{_COUNT}\s+)?"
            r"(?P<unit>hour|day|week|month|year)s?", _rolling),
    _anchor(rf"(?:the\s+year\s+)?(?P<yr>{_YEAR})", _year, bare="number"),
    _anchor(r"(?:the\s+)?latest|recently|lately|recent\s+(?:days|weeks)",
            _fixed(lambda t: (t - timedelta(days=RECENT_DAYS), t)), vague=True),
]


# -- prepositions: anchor period (start, end) -> (since, until) ------------------------------
def _whole(start: date, end: date) -> tuple[date | None, date | None]:
    return start, end


_PREPOSITIONS: dict[str, Callable[[date, date], tuple[date | None, date | None]]] = {
    **dict.fromkeys(["in", "on", "at", "during", "throughout", "over", "within", "for", "of",
                     "from"], _whole),
    "since": lambda start, _end: (start, None),
    "after": lambda _start, end: (end + _ONE_DAY, None),
    "before": lambda start, _end: (None, start - _ONE_DAY),
    "prior to": lambda start, _end: (None, start - _ONE_DAY),
    **dict.fromkeys(["until", "till", "through"], lambda _start, end: (None, end)),
}
# These do not make a bare year a date: "over 2000", "plans for 2021", "a total of 2000".
_WEAK_PREPOSITIONS = {"at", "over", "within", "for", "of", "from"}
# "since February 8" looks back even in a question about the future.
_BACKWARD_PREPOSITIONS = {"since"}
# A question about what is still to come: a yearless day may then lie ahead of today.
_FUTURE = re.compile(r"\b(?:will|won't|shall|going to|upcoming|set to|scheduled|expected to|"
                     r"due to (?:be|take|start|open|begin)|next)\b", re.IGNORECASE)


def _any_anchor(tag: str) -> str:
    """All anchor patterns as one alternative, captured as group ``tag``.

    Their named groups are made anonymous (a pattern may not name a group twice); the
    matched text is parsed again by the first anchor pattern it fully matches.
    """
    body = "|".join(re.sub(r"\(\?P<\w+>", "(?:", a.pattern.pattern) for a in _ANCHORS)
    return rf"(?P<{tag}>{body})(?!\w)"


_PREPOSITION = "|".join(p.replace(" ", r"\s+") for p in
                        sorted(_PREPOSITIONS, key=len, reverse=True))
_SINGLE_RE = re.compile(
    rf"\b(?:(?P<prep>{_PREPOSITION})\s+)?"
    r"(?:(?P<mod>early|mid|late|(?:the\s+)?(?:beginning|start|middle|end)\s+of)(?:\s+|-))?"
    rf"{_any_anchor('a')}(?:['’]s)?",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(
    rf"\b(?:between|from)\s+{_any_anchor('a')}\s*(?:and|to|until|till|through|-)\s*"
    rf"{_any_anchor('b')}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    since: date | None
    until: date | None
    phrase: str
    vague: bool = False


def _parse(text: str) -> tuple[_Anchor, re.Match[str]]:
    for anchor in _ANCHORS:
        m = anchor.pattern.fullmatch(text)
        if m:
            return anchor, m
    raise AssertionError(f"unparsable anchor {text!r}")  # the search used the same patterns


_THIRDS = {"early": "early", "beginning": "early", "start": "early", "mid": "mid",
           "middle": "mid", "late": "late", "end": "late"}


def _third(period: Period, mod: str) -> Period:
    """The first ("early", "the beginning of"), middle or last ("late", "the end of") third."""
    start, end = period
    mod = _THIRDS[mod.split()[-2] if mod.endswith("of") else mod]
    k = ((end - start).days + 1) // 3
    if k == 0:
        return period
    return {"early": (start, start + timedelta(days=k - 1)),
            "mid": (start + timedelta(days=k), end - timedelta(days=k)),
            "late": (end - timedelta(days=k - 1), end)}[mod]


def _upcoming_day(m: re.Match[str], today: date, past: Period | None) -> Period | None:
    """The next occurrence of a yearless day, when it is nearer than ``past``."""
    month = _month_of(m)
    for year in (today.year, today.year + 1):
        with contextlib.suppress(ValueError):  # February 29th of a common year
            day = date(year, month, int(m["d"]))
            if day > today and (past is None or day - today < today - past[0]):
                return day, day
    return past


def _single_hit(m: re.Match[str], today: date, future: bool = False) -> _Hit | None:
    anchor, am = _parse(m["a"])
    prep = " ".join((m["prep"] or "in").lower().split())
    mod = (m["mod"] or "").lower()
    licensed = m["prep"] and (prep not in _WEAK_PREPOSITIONS or anchor.bare == "name")
    if anchor.bare and not (licensed or mod or _g(am, "y") or _g(am, "last")):
        return None
    period = anchor.resolve(am, today, None)
    if (future and anchor.resolve is _day and not _explicit_year(am, today, None)
            and prep not in _BACKWARD_PREPOSITIONS):
        period = _upcoming_day(am, today, period)
    if period is None:
        return None
    since, until = _PREPOSITIONS[prep](*(_third(period, mod) if mod else period))
    return _Hit(m.start(), m.end(), since, until, m[0].strip(), anchor.vague)


def _range_hit(m: re.Match[str], today: date, _future: bool = False) -> _Hit | None:
    (a_anchor, am), (b_anchor, bm) = _parse(m["a"]), _parse(m["b"])
    b = b_anchor.resolve(bm, today, None)
    if b is None:
        return None
    a = a_anchor.resolve(am, today, b[1].year)
    if a is not None and a[0] > b[1]:
        a = a_anchor.resolve(am, today, b[1].year - 1)
    if a is None or a[0] > b[1]:
        return None
    return _Hit(m.start(), m.end(), a[0], b[1], m[0].strip())


_FINDERS: list[tuple[re.Pattern[str], Callable[[re.Match[str], date, bool], _Hit | None]]] = [
    (_RANGE_RE, _range_hit),
    (_SINGLE_RE, _single_hit),
]


def _find(question: str, today: date) -> list[_Hit]:
    """Every time phrase of ``question``, in question order; ranges before single phrases."""
    hits: list[_Hit] = []
    future = bool(_FUTURE.search(question))
    for regex, make in _FINDERS:
        for m in regex.finditer(question):
            if any(m.start() < h.end and h.start < m.end() for h in hits):
                continue
            hit = make(m, today, future)
            if hit is not None:
                hits.append(hit)
    return sorted(hits, key=lambda h: h.start)


def infer_date_range(question: str, today: date) -> DateRange | None:
    """The inclusive publication-date range the question's time words mean, or None.

    ``today`` is the reference date (the quiz date for a news quiz). See the module docstring
    for what each phrase means and how several phrases combine.
    """
    hits = _find(question, today)
    if not hits:
        return None
    periods = [(h, h.since, h.until) for h in hits if h.since and h.until]
    since: date | None = None
    until: date | None = None
    used: list[_Hit] = []
    if periods:
        best, since, until = min(periods, key=lambda p: (p[0].vague, p[2] - p[1]))
        used.append(best)
    for bound in (h for h in hits if not (h.since and h.until)):
        s = max(filter(None, (since, bound.since)), default=None)
        u = min(filter(None, (until, bound.until)), default=None)
        if s is not None and u is not None and s > u:
            continue
        since, until = s, u
        used.append(bound)
    if since is not None and until is None and since <= today:
        until = today
    phrase = ", ".join(h.phrase for h in sorted(used, key=lambda h: h.start))
    return DateRange(since, until, phrase)


def strip_time_words(question: str) -> str:
    """``question`` without its time phrases (all of them), tidied: a timeline's topic."""
    hits = _find(question, date.today())  # which words are time words does not depend on it
    if not hits:
        return question
    text = question
    for hit in reversed(hits):
        text = text[:hit.start] + " " + text[hit.end:]
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([?.!,;:])", r"\1", text)
    text = re.sub(r"[,;:](?=[?.!,;:])", "", text)
    text = text.strip(" ,;:")
    if text and question[:1].isupper():
        text = text[0].upper() + text[1:]
    return text

"""Scoring of answers about developing stories: timelines, conflicting reports, as-of dates.

Pure functions over plain values (no index, no model), used by ``scoring.py``. Every metric
is pooled over the cases that qualify and is None when none does.

Matching rules:

- an expected event matches an observed one when all the words of one of its ``match``
  variants are in the event's text (stemmed, numbers normalised: "kill 12" matches "Floods
  killed 12 people"); expected events are matched in order, each to the first observed
  event not matched yet (else to one already matched: two expected events in one line);
- an observed conflict matches an expected one when all its values are among the expected
  values and at least two are (normalised like answers: "2,300" = "2300"; a name matches a
  longer form of itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.annotate import split_notes
from assistant.developments import format_day
from assistant.evals import metrics as m
from assistant.textutils import content_terms

if TYPE_CHECKING:
    from assistant.evals.suite import EvalCase, ExpectedConflict, ExpectedEvent


@dataclass
class ObservedEvent:
    date: date | None
    text: str
    cited: list[m.ArticleKey] = field(default_factory=list)


@dataclass
class ObservedConflict:
    what: str
    values: list[str]  # distinct values, newest report first
    latest: str | None


@dataclass
class DevelopingScore:
    """What one case contributes to the developing-story metrics."""

    order_pairs: int = 0
    order_correct: int = 0
    events_expected: int = 0
    events_covered: int = 0
    dated: int = 0
    dated_right: int = 0
    event_citation_recall: list[float] = field(default_factory=list)
    events_matched: int = 0
    duplicates: int = 0
    lookalike_citations: int | None = None  # set when the case lists look-alikes
    conflicts_expected: int = 0
    conflicts_found: int = 0
    conflicts_reported: int = 0  # by the answer, in cases that say which conflicts exist
    conflicts_right: int = 0
    invented: int | None = None  # conflicts reported where none exist (``conflicts: []``)
    newest_ok: bool | None = None
    newest_in_body: bool | None = None  # the model's own words give it, not only the notes
    as_of_ok: bool | None = None
    as_of_stated: bool | None = None
    stale_expected: bool | None = None
    stale_raised: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], 0)}


DEVELOPING_METRICS: dict[str, tuple[bool, str]] = {
    "event_order_accuracy": (True, "pairs of expected events (different days) in the right "
                                   "order in the timeline"),
    "event_coverage": (True, "expected events in the timeline, cited to an article that "
                             "states them"),
    "event_date_accuracy": (True, "matched events dated on the expected day"),
    "event_citation_recall": (True, "articles stating an event that the event cites"),
    "duplicate_event_rate": (False, "matched events that appear more than once (not merged)"),
    "lookalike_citations": (False, "citations of look-alike articles (count)"),
    "conflict_recall": (True, "expected conflicts the answer reports"),
    "conflict_precision": (True, "reported conflicts that are expected ones"),
    "invented_conflicts": (False, "conflicts reported where the articles have none (count)"),
    "newest_figure_accuracy": (True, "answers giving the newest figure (and calling it latest)"),
    "newest_in_body": (True, "answers whose own text (before the notes on conflicts) gives the "
                             "newest figure"),
    "as_of_accuracy": (True, "answers whose as-of date is the expected one and stated"),
    "as_of_stated": (True, "answers with dated sources that state the newest one's date"),
    "stale_recall": (True, "stale warnings raised when expected"),
    "stale_false_alarm_rate": (False, "stale warnings raised when not expected"),
}


def _terms(text: str) -> set[str]:
    return set(content_terms(text))


def event_matches(expected: ExpectedEvent, event: ObservedEvent) -> bool:
    words = _terms(event.text)
    return any((need := _terms(v)) and need <= words for v in expected.match)


def value_matches(expected: str, observed: str) -> bool:
    a, b = m.normalise_answer(expected), m.normalise_answer(observed)
    return bool(a and b) and (a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} ")


def conflict_matches(expected: ExpectedConflict, observed: ObservedConflict) -> bool:
    hits = [v for v in observed.values if any(value_matches(e, v) for e in expected.values)]
    return len(hits) == len(observed.values) and len(hits) >= 2


def _cites(event: ObservedEvent, articles: Sequence[str]) -> bool:
    return any(key.matches(a) for key in event.cited for a in articles)


def score_timeline(expected: Sequence[ExpectedEvent], observed: Sequence[ObservedEvent],
                   score: DevelopingScore, problems: list[str]) -> None:
    position: list[list[int]] = []  # per expected event: observed positions matching it
    used: set[int] = set()
    for item in expected:
        hits = [i for i, e in enumerate(observed) if event_matches(item, e)]
        position.append(hits)
    chosen: list[int | None] = []
    for hits in position:
        free = [i for i in hits if i not in used]
        pick = free[0] if free else (hits[0] if hits else None)
        chosen.append(pick)
        if pick is not None:
            used.add(pick)
    score.events_expected += len(expected)
    for item, hits, pick in zip(expected, position, chosen, strict=True):
        label = item.match[0]
        if pick is None:
            problems.append(f"no event matches '{label}'")
            continue
        score.events_matched += 1
        if len(hits) > 1 and all(i not in chosen or i == pick for i in hits):
            score.duplicates += 1
            problems.append(f"event '{label}' appears {len(hits)} times (not merged)")
        event = observed[pick]
        cited = [i for i in hits if _cites(observed[i], item.articles)]
        if cited:
            score.events_covered += 1
        else:
            problems.append(f"event '{label}' does not cite an article that states it")
        wanted = list(dict.fromkeys(item.articles))
        got = sum(1 for a in wanted if any(k.matches(a) for i in hits for k in observed[i].cited))
        score.event_citation_recall.append(got / len(wanted))
        if item.date is not None:
            score.dated += 1
            if event.date == item.date:
                score.dated_right += 1
            else:
                problems.append(f"event '{label}' dated {event.date}, expected {item.date}")
    for i in range(len(expected)):
        for j in range(i + 1, len(expected)):
            a, b = expected[i], expected[j]
            if a.date is not None and a.date == b.date:
                continue  # the same day: either order is right
            if chosen[i] is None or chosen[j] is None:
                continue
            score.order_pairs += 1
            if chosen[i] < chosen[j]:  # type: ignore[operator]
                score.order_correct += 1
            else:
                problems.append(f"'{a.match[0]}' is not before '{b.match[0]}'")


def score_conflicts(expected: Sequence[ExpectedConflict], observed: Sequence[ObservedConflict],
                    score: DevelopingScore, problems: list[str]) -> None:
    score.conflicts_expected += len(expected)
    score.conflicts_reported += len(observed)
    for conflict in observed:
        if any(conflict_matches(e, conflict) for e in expected):
            score.conflicts_right += 1
        else:
            problems.append(f"reported a conflict that is not expected: {conflict.what} "
                            f"({' / '.join(conflict.values)})")
    for item in expected:
        found = [c for c in observed if conflict_matches(item, c)]
        if not found:
            problems.append(f"conflict not reported: {item.what or ''} "
                            f"({' / '.join(item.values)})".replace(":  (", ": ("))
            continue
        score.conflicts_found += 1
        if item.latest and not any(c.latest and value_matches(item.latest, c.latest)
                                   for c in found):
            problems.append(f"conflict {item.what}: latest should be {item.latest}")
    if not expected:
        score.invented = len(observed)


def score_developing(case: EvalCase, text: str, refused: bool, cited: Sequence[m.ArticleKey],
                     cited_dates: Sequence[date | None], events: Sequence[ObservedEvent],
                     conflicts: Sequence[ObservedConflict], as_of: date | None,
                     stale: bool, problems: list[str]) -> DevelopingScore:
    """Score one case's developing-story expectations; failures are added to ``problems``."""
    score = DevelopingScore()
    dated = [d for d in cited_dates if d is not None]
    if not refused and dated:
        newest = max(dated)
        score.as_of_stated = as_of == newest and f"As of {format_day(newest)}" in text
        if not score.as_of_stated:
            problems.append(f"does not state 'As of {format_day(newest)}'")
    if case.events:
        score_timeline(case.events, events, score, problems)
    if case.not_articles:
        bad = [a for a in m.distinct(cited) if any(a.matches(x) for x in case.not_articles)]
        score.lookalike_citations = len(bad)
        if bad:
            problems.append("cites look-alike " + ", ".join(a.url or a.title for a in bad))
    if case.conflicts is not None:
        score_conflicts(case.conflicts, conflicts, score, problems)
    if case.newest is not None:
        in_text = m.answer_matches(text, [case.newest])
        called_latest = all(c.latest is None or value_matches(case.newest, c.latest)
                            for c in conflicts
                            if any(value_matches(case.newest, v) for v in c.values))
        score.newest_ok = in_text and called_latest and not refused
        body, _ = split_notes(text)
        score.newest_in_body = not refused and m.answer_matches(body, [case.newest])
        if not score.newest_ok:
            problems.append(f"does not give the newest figure {case.newest} as the latest")
    if case.as_of is not None:
        score.as_of_ok = as_of == case.as_of and f"As of {format_day(case.as_of)}" in text
        if not score.as_of_ok:
            problems.append(f"as of {as_of}, expected {case.as_of}")
    if case.stale is not None:
        score.stale_expected, score.stale_raised = case.stale, stale
        if stale != case.stale:
            problems.append("warned the sources may be out of date" if stale
                            else "no warning that the sources may be out of date")
    return score


def developing_metrics(scores: Sequence[DevelopingScore]) -> dict[str, float | None]:
    def ratio(num: int, den: int) -> float | None:
        return num / den if den else None

    total = DevelopingScore()
    recalls: list[float] = []
    invented: list[int] = []
    for s in scores:
        for name in ("order_pairs", "order_correct", "events_expected", "events_covered",
                     "dated", "dated_right", "events_matched", "duplicates",
                     "conflicts_expected", "conflicts_found",
                     "conflicts_reported", "conflicts_right"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        recalls.extend(s.event_citation_recall)
        if s.invented is not None:
            invented.append(s.invented)
    with_conflicts = [s for s in scores if s.conflicts_expected or s.invented is not None]
    stale_cases = [s for s in scores if s.stale_expected is not None]
    lookalikes = [s.lookalike_citations for s in scores if s.lookalike_citations is not None]
    return {
        "event_order_accuracy": ratio(total.order_correct, total.order_pairs),
        "event_coverage": ratio(total.events_covered, total.events_expected),
        "event_date_accuracy": ratio(total.dated_right, total.dated),
        "event_citation_recall": m.mean(recalls),
        "duplicate_event_rate": ratio(total.duplicates, total.events_matched),
        "lookalike_citations": float(sum(lookalikes)) if lookalikes else None,
        "conflict_recall": ratio(total.conflicts_found, total.conflicts_expected),
        # 1.0 when conflicts were checked and none was reported: nothing reported wrongly
        "conflict_precision": (ratio(total.conflicts_right, total.conflicts_reported)
                               if total.conflicts_reported else
                               (1.0 if with_conflicts else None)),
        "invented_conflicts": float(sum(invented)) if invented else None,
        "newest_figure_accuracy": m.rate([bool(s.newest_ok) for s in scores
                                          if s.newest_ok is not None]),
        "newest_in_body": m.rate([bool(s.newest_in_body) for s in scores
                                  if s.newest_in_body is not None]),
        "as_of_accuracy": m.rate([bool(s.as_of_ok) for s in scores if s.as_of_ok is not None]),
        "as_of_stated": m.rate([bool(s.as_of_stated) for s in scores
                                if s.as_of_stated is not None]),
        "stale_recall": m.rate([bool(s.stale_raised) for s in stale_cases if s.stale_expected]),
        "stale_false_alarm_rate": m.rate([bool(s.stale_raised) for s in stale_cases
                                          if not s.stale_expected]),
    }

"""Score suite cases and check a suite's metrics against its thresholds (no I/O, no models)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.evals import metrics as m
from assistant.evals.developing import (
    DEVELOPING_METRICS,
    DevelopingScore,
    ObservedConflict,
    ObservedEvent,
    developing_metrics,
    score_developing,
)

if TYPE_CHECKING:
    from assistant.evals.suite import EvalCase


@dataclass(frozen=True)
class MetricInfo:
    higher_is_better: bool
    description: str


SUITE_METRICS: dict[str, MetricInfo] = {
    "hit@1": MetricInfo(True, "expected article ranked first"),
    "hit@3": MetricInfo(True, "expected article in the top 3 retrieved"),
    "hit@5": MetricInfo(True, "expected article in the top 5 retrieved"),
    "mrr": MetricInfo(True, "mean reciprocal rank of the first expected article"),
    "answer_accuracy": MetricInfo(True, "answers containing an accepted answer"),
    "citation_precision": MetricInfo(True, "cited articles that are expected"),
    "citation_recall": MetricInfo(True, "expected articles that are cited"),
    "refusal_accuracy": MetricInfo(True, "unanswerable questions refused"),
    "false_refusal_rate": MetricInfo(False, "answerable questions refused"),
    "latency_p50_s": MetricInfo(False, "median seconds per answer"),
    "latency_p95_s": MetricInfo(False, "95th percentile seconds per answer"),
    **{name: MetricInfo(higher, text) for name, (higher, text) in DEVELOPING_METRICS.items()},
}

Judge = Callable[[str, Sequence[str], str], bool]  # (question, accepted answers, answer) -> ok


@dataclass
class Observation:
    """What the assistant did for one case."""

    text: str
    refused: bool
    reason: str = ""
    retrieved: list[m.ArticleKey] = field(default_factory=list)  # in rank order, per passage
    cited: list[m.ArticleKey] = field(default_factory=list)
    latency_s: float = 0.0
    standalone_question: str = ""
    cited_dates: list[date | None] = field(default_factory=list)
    events: list[ObservedEvent] = field(default_factory=list)
    conflicts: list[ObservedConflict] = field(default_factory=list)
    as_of: date | None = None
    stale: bool = False


@dataclass
class CaseOutcome:
    """A case, what happened, and why it failed (``problems`` empty: it passed)."""

    case: EvalCase
    observed: Observation
    rank: int | None = None
    correct: bool | None = None  # None: the case lists no answers
    judged: bool = False  # the judge, not the string match, accepted the answer
    problems: list[str] = field(default_factory=list)
    developing: DevelopingScore = field(default_factory=DevelopingScore)

    @property
    def passed(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        o = self.observed
        return {
            "id": self.case.id,
            "question": self.case.question,
            "history": list(self.case.history),
            "expected": {"answers": list(self.case.answers),
                         "articles": list(self.case.articles), "refuse": self.case.refuse},
            "answer": o.text,
            "refused": o.refused,
            "reason": o.reason,
            "rank": self.rank,
            "correct": self.correct,
            "judged": self.judged,
            "cited": [a.url or a.title or a.id for a in m.distinct(o.cited)],
            "latency_s": round(o.latency_s, 4),
            "as_of": o.as_of.isoformat() if o.as_of else None,
            "stale": o.stale,
            "events": [{"date": e.date.isoformat() if e.date else None, "text": e.text,
                        "cited": [a.url or a.title or a.id for a in e.cited]}
                       for e in o.events],
            "conflicts": [{"what": c.what, "values": c.values, "latest": c.latest}
                          for c in o.conflicts],
            "developing": self.developing.to_dict(),
            "passed": self.passed,
            "why": self.problems,
        }


def expected_text(case: EvalCase) -> str:
    """Short description of a good answer, for tables (the answers, else the articles)."""
    if case.refuse:
        return "refusal"
    if case.answers:
        return " | ".join(case.answers)
    if case.articles:
        return "cites " + " | ".join(case.articles)
    parts = []
    if case.events:
        parts.append(f"{len(case.events)} events in order")
    if case.conflicts is not None:
        parts.append("conflicts: " + ("none" if not case.conflicts else "; ".join(
            " / ".join(c.values) for c in case.conflicts)))
    if case.newest is not None:
        parts.append(f"newest {case.newest}")
    if case.as_of is not None:
        parts.append(f"as of {case.as_of}")
    if case.stale is not None:
        parts.append("stale" if case.stale else "not stale")
    return ", ".join(parts)


def _names(articles: Sequence[str]) -> str:
    return ", ".join(articles)


def score_case(case: EvalCase, observed: Observation, judge: Judge | None = None) -> CaseOutcome:
    """Compare one observation with what the case expects."""
    outcome = _score_answer(case, observed, judge)
    outcome.developing = score_developing(
        case, observed.text, observed.refused, observed.cited, observed.cited_dates,
        observed.events, observed.conflicts, observed.as_of, observed.stale, outcome.problems)
    return outcome


def _score_answer(case: EvalCase, observed: Observation, judge: Judge | None) -> CaseOutcome:
    outcome = CaseOutcome(case, observed)
    if case.refuse:
        if not observed.refused:
            outcome.problems.append("answered instead of refusing")
        return outcome
    if case.articles:
        outcome.rank = m.first_relevant_rank(observed.retrieved, case.articles)
        if outcome.rank is None:
            outcome.problems.append(f"expected article not retrieved ({_names(case.articles)})")
    if observed.refused:
        outcome.correct = False if case.answers else None
        outcome.problems.append(f"refused: {observed.reason or 'no reason given'}")
        return outcome
    if case.answers:
        outcome.correct = m.answer_matches(observed.text, case.answers)
        if not outcome.correct and judge is not None:
            outcome.correct = outcome.judged = judge(case.question, case.answers, observed.text)
        if not outcome.correct:
            outcome.problems.append(f"answer contains none of: {' | '.join(case.answers)}")
    if case.articles:
        missing = [a for a in case.articles
                   if not any(c.matches(a) for c in observed.cited)]
        if missing:
            outcome.problems.append(f"does not cite {_names(missing)}")
    return outcome


def suite_metrics(outcomes: Sequence[CaseOutcome]) -> dict[str, float | None]:
    """Every metric of ``SUITE_METRICS`` over the outcomes (None where no case qualifies)."""
    answerable = [o for o in outcomes if o.case.answerable]
    unanswerable = [o for o in outcomes if not o.case.answerable]
    with_articles = [o for o in answerable if o.case.articles]
    with_answers = [o for o in answerable if o.case.answers]
    ranks = [o.rank for o in with_articles]
    latencies = [o.observed.latency_s for o in outcomes]
    return {
        "hit@1": m.hit_at_k(ranks, 1),
        "hit@3": m.hit_at_k(ranks, 3),
        "hit@5": m.hit_at_k(ranks, 5),
        "mrr": m.mean_reciprocal_rank(ranks),
        "answer_accuracy": m.rate([bool(o.correct) for o in with_answers]),
        "citation_precision": m.mean(
            [m.citation_precision(o.observed.cited, o.case.articles) for o in with_articles]),
        "citation_recall": m.mean(
            [m.citation_recall(o.observed.cited, o.case.articles) for o in with_articles]),
        "refusal_accuracy": m.rate([o.observed.refused for o in unanswerable]),
        "false_refusal_rate": m.rate([o.observed.refused for o in answerable]),
        "latency_p50_s": m.percentile(latencies, 50),
        "latency_p95_s": m.percentile(latencies, 95),
        **developing_metrics([o.developing for o in outcomes]),
    }


@dataclass(frozen=True)
class Check:
    """One threshold: ``value`` must be >= ``bound`` (or <= for lower-is-better metrics)."""

    metric: str
    value: float | None
    bound: float
    higher_is_better: bool

    @property
    def passed(self) -> bool:
        if self.value is None:  # nothing measured: a threshold on it is a broken suite
            return False
        slack = 1e-9  # 0.1 + 0.2 style rounding must not fail a check
        if self.higher_is_better:
            return self.value >= self.bound - slack
        return self.value <= self.bound + slack

    @property
    def op(self) -> str:
        return ">=" if self.higher_is_better else "<="

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "op": self.op,
                "threshold": self.bound, "passed": self.passed}


def check_thresholds(
    values: Mapping[str, float | None], thresholds: Mapping[str, float]
) -> list[Check]:
    return [
        Check(name, values.get(name), bound, SUITE_METRICS[name].higher_is_better)
        for name, bound in thresholds.items()
    ]

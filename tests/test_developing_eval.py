"""The developing-stories suite: its scoring rules on plain data, and the suite end to end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, make_settings

from assistant.errors import InputError
from assistant.evals.developing import ObservedConflict, ObservedEvent
from assistant.evals.metrics import ArticleKey
from assistant.evals.runner import run_suite
from assistant.evals.scoring import Observation, score_case, suite_metrics
from assistant.evals.suite import EvalCase, load_suite

SUITE = ROOT / "evals" / "developing.yaml"
D1, D2, D3 = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 12)
A, B, C = ArticleKey("a", "https://x/a"), ArticleKey("b", "https://x/b"), ArticleKey("c",
                                                                                  "https://x/c")


def case(**fields: object) -> EvalCase:
    return EvalCase.model_validate({"id": "c", "question": "How did it unfold?", **fields})


TIMELINE = case(events=[
    {"match": ["burst banks", "12 dead"], "date": D1, "articles": ["https://x/a", "https://x/b"]},
    {"match": ["31"], "date": D2, "articles": ["https://x/b"]},
    {"match": ["48", "peak"], "date": D3, "articles": ["https://x/c"]},
], not_articles=["https://x/lookalike"])


def observed(events: list[ObservedEvent], **extra: object) -> Observation:
    cited = [k for e in events for k in e.cited]
    return Observation(text="timeline", refused=False, cited=cited, events=events,
                       **extra)  # type: ignore[arg-type]


def test_a_right_timeline_scores_full_marks() -> None:
    outcome = score_case(TIMELINE, observed([
        ObservedEvent(D1, "The river burst its banks, 12 dead", [A, B]),
        ObservedEvent(D2, "The toll rose to 31", [B]),
        ObservedEvent(D3, "The Lenna peaked; 48 dead", [C]),
    ]))
    assert outcome.passed, outcome.problems
    metrics = suite_metrics([outcome])
    assert metrics["event_order_accuracy"] == 1.0 and metrics["event_coverage"] == 1.0
    assert metrics["event_date_accuracy"] == 1.0 and metrics["event_citation_recall"] == 1.0
    assert metrics["duplicate_event_rate"] == 0.0 and metrics["lookalike_citations"] == 0.0


def test_wrong_order_dates_duplicates_and_citations_are_caught() -> None:
    outcome = score_case(TIMELINE, observed([
        ObservedEvent(D3, "The Lenna peaked; 48 dead", [C]),
        ObservedEvent(D1, "The river burst its banks", [A]),
        ObservedEvent(D1, "Floods: the river burst its banks", [B]),  # not merged
        ObservedEvent(D1, "The toll rose to 31", [ArticleKey("z", "https://x/lookalike")]),
    ]))
    metrics = suite_metrics([outcome])
    # pairs (1,2), (1,3), (2,3): only (1,2) is in order
    assert metrics["event_order_accuracy"] == pytest.approx(1 / 3)
    assert metrics["event_coverage"] == pytest.approx(2 / 3)  # "31" cites a look-alike only
    assert metrics["event_date_accuracy"] == pytest.approx(2 / 3)
    assert metrics["duplicate_event_rate"] == pytest.approx(1 / 3)
    assert metrics["lookalike_citations"] == 1.0
    why = " | ".join(outcome.problems)
    assert "appears 2 times (not merged)" in why and "dated 2026-03-09, expected 2026-03-10" in why
    assert "'burst banks' is not before '31'" not in why  # that pair is in order
    assert "'burst banks' is not before '48'" in why and "'31' is not before '48'" in why
    assert "cites look-alike https://x/lookalike" in why


def test_conflicts_recall_precision_invented_and_newest() -> None:
    expects = case(question="How many died?", conflicts=[
        {"what": "toll", "values": ["12", "31", "48"], "latest": "48"}], newest="48")
    good = score_case(expects, Observation(
        text="48 people died. Reports differ on the death toll: 48 … 12.", refused=False,
        conflicts=[ObservedConflict("death toll", ["48", "12"], "48")]))
    wrong = score_case(expects, Observation(
        text="31 people died.", refused=False,
        conflicts=[ObservedConflict("death toll", ["31", "12"], "31"),
                   ObservedConflict("damage", ["410 million", "350 million"], "350 million")]))
    lookalike = score_case(case(question="How many died in Vellmar?", conflicts=[]), Observation(
        text="Seven.", refused=False, conflicts=[ObservedConflict("toll", ["7", "48"], "48")]))
    assert good.passed, good.problems
    metrics = suite_metrics([good, wrong, lookalike])
    assert metrics["conflict_recall"] == 1.0  # {31, 12} is a subset of the expected values
    assert metrics["conflict_precision"] == pytest.approx(2 / 4)
    assert metrics["invented_conflicts"] == 1.0
    assert metrics["newest_figure_accuracy"] == pytest.approx(1 / 2)
    assert "latest should be 48" in " ".join(wrong.problems)


def test_as_of_and_stale_expectations() -> None:
    cited = [ArticleKey("a")]
    right = score_case(case(question="What now?", as_of=D3, stale=True), Observation(
        text="48. As of 12 March 2026 (the newest source cited).", refused=False, cited=cited,
        cited_dates=[D1, D3], as_of=D3, stale=True))
    silent = score_case(case(question="What now?", as_of=D3, stale=False), Observation(
        text="48.", refused=False, cited=cited, cited_dates=[D3], as_of=D3, stale=True))
    assert right.passed, right.problems
    metrics = suite_metrics([right, silent])
    assert metrics["as_of_accuracy"] == 0.5 and metrics["as_of_stated"] == 0.5
    assert metrics["stale_recall"] == 1.0 and metrics["stale_false_alarm_rate"] == 1.0
    assert "does not state 'As of 12 March 2026'" in silent.problems


def test_suite_errors_for_the_new_fields(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - id: x\n    question: Q?\n    conflicts:\n"
                   "      - {values: ['1', '2'], latest: '3'}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"case 'x'.*latest '3' is not one of the values"):
        load_suite(bad)
    bad.write_text("cases:\n  - id: x\n    question: Q?\n    events:\n"
                   "      - {match: river, date: 2026-03-09}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"case 'x': missing 'events.0.articles'"):
        load_suite(bad)


def test_the_shipped_suite_is_valid_and_covers_the_brief() -> None:
    suite = load_suite(SUITE)
    ids = {c.id for c in suite.cases}
    assert len(suite.cases) >= 25 and len(ids) == len(suite.cases)
    timelines = [c for c in suite.cases if c.events]
    assert len(timelines) >= 4 and any(c.timeline for c in timelines)
    assert sum(1 for c in suite.cases if c.conflicts) >= 8
    assert sum(1 for c in suite.cases if c.conflicts == []) >= 6  # look-alike cases
    assert {c.stale for c in suite.cases if c.stale is not None} == {True, False}
    files = list((ROOT / "evals" / "corpus-developing").glob("*.md"))
    assert len(files) >= 20
    for path in files:  # every article says it was written for the suite
        assert "Written for this project's eval suite" in path.read_text(encoding="utf-8")


def test_developing_suite_passes_with_the_fake_backend(tmp_path: Path) -> None:
    result = run_suite(load_suite(SUITE), make_settings(tmp_path, backend="fake"))
    assert result.passed, [(c.metric, c.value) for c in result.checks if not c.passed]
    metrics = result.metrics
    assert metrics["event_order_accuracy"] == 1.0 and metrics["invented_conflicts"] == 0.0
    assert metrics["conflict_recall"] >= 0.8 and metrics["stale_recall"] == 1.0
    by_id = {o.case.id: o for o in result.outcomes}
    flood = by_id["flood-timeline"].observed
    assert [e.date for e in flood.events] == sorted(e.date for e in flood.events)
    assert by_id["ferry-timeline-command"].passed  # `timeline: true` goes the command's way

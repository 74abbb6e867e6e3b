"""Timelines, conflicting reports and as-of dates through the engine, on the suite's corpus,
with the deterministic fake model and the extractive backend."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import ROOT, make_settings

from assistant import prompts
from assistant.backends.extractive import ExtractiveBackend
from assistant.backends.fake import FakeChatModel
from assistant.backends.llm import LLMBackend
from assistant.engine import Assistant
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.timeline import timeline_scope

CORPUS = ROOT / "evals" / "corpus-developing"
TODAY = date(2026, 3, 20)
WIRE_12 = "https://example.com/wire/2026/03/09/harbor-city-floods"
HERALD_12 = "https://example.com/herald/2026/03/09/floods-kill-12"
VELLMAR = "https://example.com/gazette/2026/03/10/vellmar-flash-floods"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> NewsIndex:
    tmp = tmp_path_factory.mktemp("developing")
    index = NewsIndex(make_settings(tmp, corpus_dir=CORPUS))
    report = index.ingest([CORPUS])
    assert not report.rejected and len(report.added) >= 20
    return index


def fake(index: NewsIndex, replies: list[str] | None = None) -> tuple[Assistant, FakeChatModel]:
    model = FakeChatModel(replies)
    return Assistant(index.settings, backend=LLMBackend(model, index.settings),
                     index=index), model


def urls(answer, numbers) -> set[str]:  # type: ignore[no-untyped-def]
    """The articles cited as ``numbers``, with the copies each stands for."""
    by_n = {c.n: c for c in answer.citations}
    return {url for n in numbers
            for url in [by_n[n].url, *(copy["url"] for copy in by_n[n].also_reported_by)]}


def test_a_timeline_question_gets_dated_events_in_order(index: NewsIndex) -> None:
    assistant, model = fake(index)
    answer = assistant.ask("How did the Harbor City floods unfold?", reference_date=TODAY)
    assert not answer.refused and answer.events
    days = [e.date for e in answer.events]
    assert days == sorted(days) and days[0] == date(2026, 3, 9) and days[-1] == date(2026, 3, 17)
    # The wire story and its reprint (one story at ingest) are one event: it cites the
    # earlier copy, which names the other as also reporting it.
    first = answer.events[0]
    assert len(first.citations) == 1 and urls(answer, first.citations) == {WIRE_12, HERALD_12}
    assert answer.text.splitlines()[0].endswith("from 9 articles and 1 copy):")
    assert all(c.url != VELLMAR for c in answer.citations)  # the look-alike flood stays out
    # One short model call per article read; the reprint was not read again.
    event_calls = [c for c in model.calls if c[-1].content.startswith(prompts.EVENT_INSTRUCTIONS)]
    assert len(event_calls) == len(answer.citations) == 9
    assert all(len(c[-1].content.split()) < 160 for c in event_calls)
    # Every citation is used by an event; the text lists the events with their markers.
    assert {n for e in answer.events for n in e.citations} == {c.n for c in answer.citations}
    assert answer.text.startswith("Timeline of the Harbor City floods (")
    assert "- 9 March 2026: " in answer.text
    # The revised toll is a conflict, newest first, every report cited.
    toll = next(c for c in answer.conflicts if c.what == "death toll")
    assert toll.latest == "48" and toll.distinct_values == ["48", "31", "27", "12"]
    assert "Reports differ on the death toll: the latest report gives 48" in answer.text
    assert answer.as_of == date(2026, 3, 17) and not answer.stale
    assert answer.timings["llm_calls"] == len(event_calls)


def test_an_unsupported_model_line_falls_back_to_the_article(index: NewsIndex) -> None:
    assistant, _ = fake(index, ["The Aurora sank with 900 people aboard near Oslo."] * 10)
    answer = assistant.timeline("the Aurora ferry", reference_date=TODAY)
    texts = " ".join(e.text for e in answer.events)
    assert "900" not in texts and "Oslo" not in texts
    assert answer.events[0].text.startswith("The ferry Aurora ran aground on rocks off Skarholm")
    # "service to resume on 24 March" is a plan: the towing is dated by its own day.
    assert answer.events[-1].date == date(2026, 3, 19)


def test_a_timeline_can_be_stopped(index: NewsIndex) -> None:
    assistant, _ = fake(index)
    stream = assistant.stream("How did the Harbor City floods unfold?", reference_date=TODAY)
    next(iter(stream))  # the first article is read
    answer = stream.stop()
    assert answer.stopped and 1 <= len(answer.citations) < 5


def test_timelines_without_a_model(index: NewsIndex) -> None:
    assistant = Assistant(index.settings, backend=ExtractiveBackend(), index=index)
    answer = assistant.ask("What happened with the Port of Keld strike since 4 March?",
                           reference_date=TODAY)
    assert [e.date for e in answer.events] == [date(2026, 3, 4), date(2026, 3, 6),
                                               date(2026, 3, 9)]
    assert answer.timings["llm_calls"] == 0
    assert all(e.dated_by == "text" for e in answer.events)  # each lead names its day
    ships = next(c for c in answer.conflicts if c.what == "ships waiting")
    assert ships.distinct_values == ["110", "85"]


def test_conflicting_reports_in_an_answer(index: NewsIndex) -> None:
    assistant, _ = fake(index)
    answer = assistant.ask("How many people died in the Harbor City floods?",
                           reference_date=TODAY)
    assert not answer.refused
    (toll,) = answer.conflicts
    assert toll.latest == "48" and set(toll.distinct_values) >= {"48", "31", "12"}
    # Each value points at a source of the answer, with its outlet and date.
    cited = {c.n: c for c in answer.citations}
    for value in toll.values:
        assert cited[value.citation].source == value.source
        assert cited[value.citation].published == value.date
    assert "Reports differ on the death toll: the latest report gives 48" in answer.text
    assert answer.as_of == max(c.published for c in answer.citations)
    assert f"As of {answer.as_of.day} March 2026" in answer.text


def test_no_conflict_is_invented_for_a_look_alike(index: NewsIndex) -> None:
    assistant, _ = fake(index)
    for question in ("How many people died in the Vellmar floods?",
                     "How many passengers were on the ferry Stella when it ran aground?",
                     "What pay rise did the Keld dockworkers accept to end the strike?"):
        answer = assistant.ask(question, reference_date=TODAY)
        assert answer.conflicts == [], (question, answer.text)
        assert "Reports differ" not in answer.text


def test_stale_warning_only_for_questions_about_the_present(index: NewsIndex) -> None:
    assistant = Assistant(index.settings, backend=ExtractiveBackend(), index=index)
    late = assistant.ask("What is the latest on the Port of Keld strike?",
                         reference_date=date(2026, 4, 20))
    # "latest" means the last 30 days, which hold nothing: answered from older articles, warned.
    assert not late.refused and late.stale
    assert "Note: The newest article I have on this is from 9 March 2026" in late.text
    recent = assistant.ask("What is the latest on the Port of Keld strike?",
                           reference_date=date(2026, 3, 12))
    assert not recent.stale and "Note:" not in recent.text
    past = assistant.ask("How many passengers were on the Aurora when it ran aground?",
                         reference_date=date(2026, 6, 1))
    assert not past.stale and past.as_of is not None


def test_an_explicit_date_filter_still_refuses(index: NewsIndex) -> None:
    assistant = Assistant(index.settings, backend=ExtractiveBackend(), index=index)
    answer = assistant.ask("What is the latest on the Port of Keld strike?",
                           since=date(2026, 4, 1), reference_date=date(2026, 4, 20))
    assert answer.refused and "no article matches the filters" in answer.reason


def test_latest_developments_long_after_the_story(index: NewsIndex) -> None:
    assistant = Assistant(index.settings, backend=ExtractiveBackend(), index=index)
    # "the latest" is the last 30 days, which hold nothing on the strike: the timeline of the
    # story as it stands, with the warning that it may be out of date.
    answer = assistant.ask("What are the latest developments in the Port of Keld strike?",
                           reference_date=date(2026, 5, 1))
    assert not answer.refused and answer.events and answer.stale
    assert answer.events[-1].date == date(2026, 3, 9)
    assert "Note: The newest article I have on this is from 9 March 2026" in answer.text
    # A period the question names bounds the events.
    answer = assistant.ask("What happened with the Port of Keld strike since 5 March?",
                           reference_date=TODAY)
    assert [e.date for e in answer.events] == [date(2026, 3, 6), date(2026, 3, 9)]
    assert not answer.stale


def test_a_timeline_searches_the_whole_story_and_keeps_its_period(index: NewsIndex) -> None:
    assistant, _ = fake(index)
    since = "What happened with the Port of Keld strike since 4 March?"
    trace, window = timeline_scope(since, "the Port of Keld strike", SearchFilters(), TODAY,
                                   assistant.scope)
    assert trace.query == "the Port of Keld strike"
    assert (window.since, window.until) == (date(2026, 3, 4), TODAY)  # bounds the events
    # Retrieval reads the words loosely, as for any answer: a preferred window, no filter
    # but the reference date (nothing published later is read).
    assert trace.filters.since is None and trace.filters.until == TODAY
    assert trace.prefer is not None
    assert trace.prefer.since is not None and trace.prefer.since < date(2026, 3, 4)
    # Without time words: no window and no recency preference (the whole story).
    trace, window = timeline_scope("the strike", "the strike", SearchFilters(), TODAY,
                                   assistant.scope)
    assert trace.prefer is None and window == SearchFilters()
    assert trace.filters.since is None and trace.filters.until == TODAY
    # The user's own filters win over the wording.
    explicit = SearchFilters.make("Keld Post", date(2026, 3, 1), date(2026, 3, 5))
    trace, window = timeline_scope(since, "the strike", explicit, TODAY, assistant.scope)
    assert trace.filters == explicit == window and trace.prefer is None


def test_recent_articles_do_not_crowd_out_the_story_a_question_names(index: NewsIndex) -> None:
    assistant = Assistant(index.settings, backend=ExtractiveBackend(), index=index)
    # Asked on 25 March, the weeks preferred by default hold only the ferry and flood stories.
    answer = assistant.ask("How many ships were waiting outside the Port of Keld?",
                           reference_date=date(2026, 3, 25))
    assert not answer.refused
    assert all("Keld" in c.title for c in answer.citations), answer.text
    assert answer.retrieval is not None and answer.retrieval.prefer is None
    ships = next(c for c in answer.conflicts if c.what == "ships waiting")
    assert ships.latest == "110"
    # A story the preferred weeks do cover keeps the preference.
    answer = assistant.ask("How many passengers were on the Aurora?",
                           reference_date=date(2026, 3, 25))
    assert answer.retrieval is not None and answer.retrieval.prefer is not None

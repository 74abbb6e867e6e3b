"""The answer engine end to end with the deterministic fake model and the extractive backend."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import make_settings

from assistant import prompts
from assistant.backends.base import Turn
from assistant.backends.fake import FakeChatModel
from assistant.backends.llm import LLMBackend
from assistant.engine import Assistant
from assistant.filters import SearchFilters
from assistant.index import NewsIndex

SEED_TITLE = "US reduces troop numbers in Iraq to 2,500: Pentagon"


def make(index: NewsIndex, replies: list[str] | None = None, **overrides: object):
    settings = index.settings.updated(**overrides)
    model = FakeChatModel(replies)
    return Assistant(settings, backend=LLMBackend(model, settings), index=index), model


def test_seed_question_answered_with_citation(shared_index: NewsIndex) -> None:
    assistant, model = make(shared_index)
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert not answer.refused and "2,500" in answer.text
    assert "[1]" in answer.text
    (citation,) = answer.citations
    assert citation.title == SEED_TITLE and citation.source == "Rudaw"
    assert citation.published == date(2021, 1, 15) and citation.n == 1
    assert "2,500" in citation.passage and citation.chunk_ids
    assert answer.unsupported == []
    assert {"retrieve_s", "context_s", "first_token_s", "generate_s", "total_s"} <= set(
        answer.timings)
    # The prompt the model saw: numbered, compact, with the fixed instructions first.
    prompt = model.calls[0][-1].content
    assert prompt.startswith(prompts.ANSWER_INSTRUCTIONS)
    age = prompts.age(date(2021, 1, 15), assistant.settings.today)
    assert f"[1] {SEED_TITLE} (Rudaw, 2021-01-15, {age})" in prompt and age.endswith("years ago")
    assert len(prompt.split()) < 400


def test_unanswerable_question_refused_without_calling_the_model(shared_index: NewsIndex) -> None:
    assistant, model = make(shared_index)
    answer = assistant.ask("What is the capital of France?")
    assert answer.refused and answer.text == prompts.REFUSAL
    assert "no passage is about the question" in answer.reason
    assert answer.citations == [] and model.calls == []


def test_hallucinated_number_is_refused(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index, ["The United States has 5,000 troops in Iraq [1]."])
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert answer.refused and answer.text == prompts.REFUSAL
    assert answer.unsupported == ["The United States has 5,000 troops in Iraq."]
    assert "not supported" in answer.reason


def test_partly_supported_answer_flags_the_bad_sentence(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index, [
        "The United States reduced its troops in Iraq to 2,500 [1]. "
        "The troops will all return home by Christmas to Texas [1]."
    ])
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert not answer.refused
    assert answer.unsupported == ["The troops will all return home by Christmas to Texas."]
    assert answer.text.startswith("The United States reduced its troops in Iraq to 2,500 [1].")


def test_bad_markers_dropped_and_citations_repaired(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index, ["The US reduced its troops in Iraq to 2,500 [7]."])
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert answer.text == ("The US reduced its troops in Iraq to 2,500 [1]. "
                           "(Source dated [1] 15 January 2021.)\n\n"
                           "As of 15 January 2021 (the newest source cited).")
    assert [c.title for c in answer.citations] == [SEED_TITLE]


def test_model_refusal_is_a_refusal(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index, [prompts.REFUSAL])
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert answer.refused and answer.citations == []


def test_dates_of_sources_are_mentioned(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index, ["The central bank raised its main rate by half a point."])
    answer = assistant.ask("What did the central bank do about interest rates?")
    assert not answer.refused
    assert answer.citations[0].published == date(2022, 7, 14)
    assert "14 July 2022" in answer.text


def test_time_words_become_a_preferred_window(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    july = assistant.ask("What happened to interest rates last week?",
                         reference_date=date(2022, 7, 20))
    assert july.retrieval is not None and july.retrieval.prefer is not None
    # "Last week" (13..20 July) read loosely: preferred from a week earlier, not required;
    # the reference date is the only bound.
    assert july.retrieval.filters.since is None
    assert july.retrieval.filters.until == date(2022, 7, 20)
    prefer = july.retrieval.prefer
    assert (prefer.since, prefer.until) == (date(2022, 7, 5), date(2022, 7, 20))
    assert not july.refused
    assert july.citations[0].title == "Central bank raises interest rates"
    later = assistant.ask("What happened to interest rates last week?",
                          reference_date=date(2023, 3, 1))
    # No article of that week: the older report is used, and the answer says how old it is.
    assert not later.refused and "14 July 2022" in later.text


def test_a_day_still_to_come_prefers_the_weeks_before_it(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    today = date(2022, 7, 27)
    # Asked on 27 July about 7 August: the coming one (reported in the weeks before), not the
    # 7 August of a year ago, whose reports are of another final.
    ahead = assistant.scope("Which teams will play in the final on August 7?", SearchFilters(),
                            today)
    recent = assistant.settings.retrieval.recent_days
    assert ahead.prefer is not None
    assert (ahead.prefer.since, ahead.prefer.until) == (today - timedelta(days=recent), today)
    # Said of the past, the same day is last year's.
    past = assistant.scope("Which teams played in the final on August 7?", SearchFilters(),
                           today)
    assert past.prefer is not None and past.prefer.since == date(2021, 8, 4)


def test_nothing_published_after_the_reference_date_is_read(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    question = "What did the central bank do about interest rates?"  # reported 14 July 2022
    before = assistant.ask(question, reference_date=date(2022, 7, 10))
    assert all(p.published is None or p.published <= date(2022, 7, 10)
               for p in before.passages)
    assert all(c.title != "Central bank raises interest rates" for c in before.citations)
    assert assistant.ask(question, reference_date=date(2022, 7, 14)).citations[0].title == (
        "Central bank raises interest rates")  # published that day: read
    # An explicit --until is the user's own bound and replaces the ceiling.
    later = assistant.ask(question, reference_date=date(2022, 7, 10), until=date(2022, 12, 31))
    assert later.citations[0].title == "Central bank raises interest rates"
    # Nothing published yet (only an undated page may be read): a refusal.
    early = assistant.ask(question, reference_date=date(2000, 1, 1))
    assert early.refused and all(p.published is None for p in early.passages)


def test_explicit_filters(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    answer = assistant.ask("How many US troops remain in Iraq?", source="cnn.com")
    assert answer.refused
    answer = assistant.ask("How many US troops remain in Iraq?", source="Rudaw",
                           since=date(2021, 2, 1))  # the Rudaw article is of 15 January
    assert answer.refused and "no article matches the filters" in answer.reason


def test_streaming_and_stopping(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    stream = assistant.stream("How many US troops remain in Iraq?")
    deltas = list(stream)
    assert len(deltas) > 5 and stream.answer is not None and "2,500" in "".join(deltas)
    stream = assistant.stream("How many US troops remain in Iraq?")
    iterator = iter(stream)
    first = [next(iterator), next(iterator)]
    answer = stream.stop()
    assert answer.stopped and answer.text.startswith("".join(first).split()[0])


def test_follow_up_is_rewritten_before_retrieval(shared_index: NewsIndex) -> None:
    assistant, model = make(shared_index)
    history = [Turn("How many US troops remain in Iraq?", "2,500 [1].")]
    answer = assistant.ask("And in Afghanistan?", history=history)
    assert answer.standalone_question == "How many US troops remain in Iraq? And in Afghanistan?"
    assert prompts.FOLLOW_UP_LABEL in model.calls[0][-1].content
    assert not answer.refused
    assert any("Afghanistan" in p.text for p in answer.passages)


def test_standalone_questions_are_not_rewritten(shared_index: NewsIndex) -> None:
    assistant, model = make(shared_index)
    history = [Turn("How many US troops remain in Iraq?", "2,500 [1].")]
    answer = assistant.ask("Who broke the marathon world record in Berlin?", history=history)
    assert answer.standalone_question == "Who broke the marathon world record in Berlin?"
    assert len(model.calls) == 1


def test_extractive_backend(shared_index: NewsIndex) -> None:
    assistant = Assistant(shared_index.settings, backend="extractive", index=shared_index)
    answer = assistant.ask("How many US troops remain in Iraq?")
    assert "2,500" in answer.text and answer.citations[0].title == SEED_TITLE
    assert assistant.ask("What is the capital of France?").refused


def test_empty_question_is_an_error(shared_index: NewsIndex) -> None:
    from assistant.errors import InputError

    assistant, _ = make(shared_index)
    with pytest.raises(InputError, match="empty question"):
        assistant.ask("   ")


def test_top_level_ask_builds_index_on_first_use(tmp_path: Path) -> None:
    from assistant import ask

    settings = make_settings(tmp_path)
    answer = ask("How many US troops remain in Iraq?", settings=settings)
    assert "2,500" in answer.text and answer.citations[0].source == "Rudaw"
    assert answer.to_dict()["citations"][0]["title"] == SEED_TITLE


def test_stopping_a_refusal_still_gives_an_answer(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    stream = assistant.stream("What is the capital of France?")
    next(iter(stream))
    answer = stream.stop()
    assert answer.refused and answer.text == prompts.REFUSAL


def test_time_words_are_a_floor_and_a_preference_not_a_window(shared_index: NewsIndex) -> None:
    assistant, _ = make(shared_index)
    # "This week" is said loosely: the heatwave report of 19 July, asked about on 27 July.
    answer = assistant.ask("Which city passed 40C this week?", reference_date=date(2022, 7, 27))
    assert not answer.refused
    assert answer.citations[0].title == "Heatwave breaks records in Europe"
    # An event's month is not its reports' month: the Rudaw article of January 2021 says who
    # was killed in January 2020.
    answer = assistant.ask("Which Iranian general was killed in a US airstrike in January 2020?",
                           reference_date=date(2021, 6, 1))
    assert not answer.refused and answer.citations[0].title == SEED_TITLE
    # ... but nothing reports an event long before it happened.
    answer = assistant.ask("What did the central bank do in March 2023?",
                           reference_date=date(2023, 6, 1))
    assert answer.refused
    # A future year is what articles look ahead to: no floor.
    ahead = assistant.ask("Where will the marathon world record be attempted in 2030?",
                          reference_date=date(2022, 10, 1))
    assert ahead.retrieval is not None and ahead.retrieval.filters.since is None

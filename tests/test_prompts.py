"""The prompts: each source's header says how old it is, relative to the question's date."""

from __future__ import annotations

from datetime import date

import pytest

from assistant import prompts
from assistant.backends.base import ContextPassage
from assistant.documents import Passage
from assistant.evals.quiz import choice_messages

TODAY = date(2026, 2, 19)


@pytest.mark.parametrize(("published", "words"), [
    (date(2026, 2, 19), "today"),
    (date(2026, 2, 18), "yesterday"),
    (date(2026, 2, 10), "9 days ago"),
    (date(2026, 2, 5), "2 weeks ago"),
    (date(2025, 12, 1), "2 months ago"),
    (date(2025, 1, 29), "1 year ago"),
    (date(2017, 3, 1), "8 years ago"),
    (date(2026, 2, 20), "after today"),
])
def test_age_in_words(published: date, words: str) -> None:
    assert prompts.age(published, TODAY) == words


def _source(n: int, published: date | None) -> ContextPassage:
    passage = Passage(f"a{n}#0", f"a{n}", f"Title {n}", "news.test", f"https://x.test/{n}",
                      published, "Some text.", 0, 10)
    return ContextPassage(n, passage, "Some text.", ["Some text."], [1.0], [passage])


def test_answer_and_choice_prompts_say_how_old_each_source_is() -> None:
    sources = [_source(1, date(2026, 2, 15)), _source(2, date(2025, 1, 29)), _source(3, None)]
    answer = prompts.answer_messages("Which animal?", sources, TODAY)[1].content
    choice = choice_messages("Which animal?", ["Horse", "Snake"], sources, TODAY)[1].content
    for user in (answer, choice):
        assert "[1] Title 1 (news.test, 2026-02-15, 4 days ago)" in user
        assert "[2] Title 2 (news.test, 2025-01-29, 1 year ago)" in user
        assert "[3] Title 3 (news.test, date unknown)" in user

"""Quiz solving (assistant/evals/quiz.py): multiple choice over the index, closed book."""

from __future__ import annotations

import math
import os
import re

import pytest

from assistant import prompts
from assistant.backends.base import TokenScores
from assistant.backends.fake import FakeChatModel
from assistant.backends.llm import LLMBackend
from assistant.engine import Assistant
from assistant.evals.quiz import (
    CHOICE_INSTRUCTIONS,
    CHOICE_INSTRUCTIONS_AFTER,
    QuizSolver,
    parse_choice,
)
from assistant.index import NewsIndex


def make(index: NewsIndex, replies: list[str] | None = None, **overrides: object):
    settings = index.settings.updated(**overrides)
    model = FakeChatModel(replies)
    assistant = Assistant(settings, backend=LLMBackend(model, settings), index=index)
    return QuizSolver(assistant), model


def test_multiple_choice(shared_index: NewsIndex) -> None:
    solver, _ = make(shared_index)
    choice = solver.choose("Who broke the marathon world record in Berlin?",
                              ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"])
    assert choice.index == 1 and choice.passages


def test_multiple_choice_has_its_own_context_budget(shared_index: NewsIndex) -> None:
    question = "Who broke the marathon world record in Berlin?"
    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    sizes = []
    for budget in (64, 2000):
        solver, model = make(shared_index, ["B"], choice_context_tokens=budget,
                             context_tokens=64)
        assert solver.choose(question, runners).index == 1
        sizes.append(len(model.calls[0][-1].content))
    assert sizes[0] < sizes[1]  # context_tokens (64 both times) does not limit it


class LetterBiasedModel(FakeChatModel):
    """Scores options like a small model: a strong pull to letter A, a weaker one to the truth."""

    def __init__(self, truth: str) -> None:
        super().__init__()
        self.truth = truth
        self.orders: list[list[str]] = []

    supports_token_scores = True

    def score_next_token(self, messages, candidates):  # type: ignore[no-untyped-def]
        listed = re.findall(r"^([A-D])\. (.+)$", messages[-1].content, re.MULTILINE)
        self.orders.append([text for _, text in listed])
        raw = [(2.0 if letter == "A" else 0.0) + (1.0 if text == self.truth else 0.0)
               for letter, text in listed]
        norm = math.log(sum(math.exp(x) for x in raw))
        return TokenScores([x - norm for x in raw])


def test_multiple_choice_averages_option_orders_to_cancel_letter_bias(
    shared_index: NewsIndex,
) -> None:
    question = "Who broke the marathon world record in Berlin?"
    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    settings = shared_index.settings.updated(choice_orders=1)
    model = LetterBiasedModel("Eliud Kipchoge")
    biased = QuizSolver(Assistant(settings, backend=LLMBackend(model, settings),
                                  index=shared_index))
    assert biased.choose(question, runners).index == 0  # read once, letter A wins
    settings = shared_index.settings.updated(choice_orders=4)
    model = LetterBiasedModel("Eliud Kipchoge")
    debiased = QuizSolver(Assistant(settings, backend=LLMBackend(model, settings),
                                    index=shared_index))
    assert debiased.choose(question, runners).index == 1
    # Every option was shown in every position once, passages unchanged between orders.
    assert [order[0] for order in model.orders] == runners[:4]
    assert all(sorted(order) == sorted(runners) for order in model.orders)


@pytest.mark.parametrize(("reply", "expected"), [
    ("B", 1), ("(C)", 2), ("Answer: D", 3), ("option b", 1),
    ("The correct answer is:\nA. Mo Farah", 0), ("I think it is Eliud Kipchoge.", 1),
    ("The answer is a runner from Kenya", None), ("The marathon was held in Berlin", None),
])
def test_parse_choice(reply: str, expected: int | None) -> None:
    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    assert parse_choice(reply, runners) == expected


def test_a_reply_naming_no_option_falls_back_to_the_evidence(shared_index: NewsIndex) -> None:
    question = "Who broke the marathon world record in Berlin?"
    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    solver, _ = make(shared_index, ["The marathon world record was broken in Berlin"])
    assert solver.choose(question, runners).index == 1  # the passage names Kipchoge
    # Closed book there is no evidence: no pick rather than a guess.
    solver, _ = make(shared_index, ["The marathon world record was broken in Berlin"])
    assert solver.choose(question, runners, closed_book=True).index is None


def test_the_extractive_backend_picks_by_evidence(shared_index: NewsIndex) -> None:
    solver = QuizSolver(Assistant(shared_index.settings, backend="extractive",
                                  index=shared_index))
    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    choice = solver.choose("Who broke the marathon world record in Berlin?", runners)
    assert choice.index == 1 and choice.retrieval is not None
    assert "Eliud Kipchoge" in choice.retrieval.query  # the options sharpen the search
    assert solver.answer_closed_book("Who won?", choice.retrieval.filters.since or
                                     shared_index.settings.today) == ""


def test_none_of_the_above_is_picked_when_the_passages_back_no_other_option(
    shared_index: NewsIndex,
) -> None:
    question = "Who broke the marathon world record in Berlin?"
    with_truth = ["Mo Farah", "Eliud Kipchoge", "Usain Bolt", "None of the above"]
    without = ["Mo Farah", "Paula Radcliffe", "Usain Bolt", "None of the above"]
    solver, model = make(shared_index)
    assert solver.choose(question, with_truth).index == 1
    choice = solver.choose(question, without)
    assert choice.index == 3 and choice.support == 0.0 and choice.best_real is not None
    # The judgement came from the model's own support check, not from a letter.
    judged = [c[-1].content for c in model.calls if prompts.SUPPORT_INSTRUCTIONS in
              c[-1].content]
    assert any("Proposed answer: Eliud Kipchoge" in p for p in judged)
    assert all("None of the above" not in p for p in judged)


class SupportScoringModel(FakeChatModel):
    """Scores letters by a fixed preference and yes/no by a fixed support, like the local
    model's next-token scores."""

    supports_token_scores = True

    def __init__(self, support: float) -> None:
        super().__init__()
        self.support = support

    def score_next_token(self, messages, candidates):  # type: ignore[no-untyped-def]
        if list(candidates)[:2] == ["yes", "Yes"]:
            yes = self.support / 2
            no = (1 - self.support) / 2
            return TokenScores([math.log(max(x, 1e-9)) for x in (yes, yes, no, no)])
        listed = re.findall(r"^([A-D])\. (.+)$", messages[-1].content, re.MULTILINE)
        raw = [1.0 if text == "Mo Farah" else 0.0 for _, text in listed]
        norm = math.log(sum(math.exp(x) for x in raw))
        return TokenScores([x - norm for x in raw])


@pytest.mark.parametrize(("support", "expected"), [(0.9, 0), (0.2, 3)])
def test_the_support_threshold_decides_none_of_the_above(
    shared_index: NewsIndex, support: float, expected: int,
) -> None:
    settings = shared_index.settings.updated(evals={"nota_threshold": 0.5})
    model = SupportScoringModel(support)
    solver = QuizSolver(Assistant(settings, backend=LLMBackend(model, settings),
                                  index=shared_index))
    choice = solver.choose("Who broke the marathon world record in Berlin?",
                           ["Mo Farah", "Paula Radcliffe", "Usain Bolt", "None of the above"])
    assert choice.index == expected and choice.support == pytest.approx(support)
    assert choice.best_real == 0  # what was weighed, recorded for choosing the threshold


def test_nota_index() -> None:
    from assistant.evals.quiz import nota_index

    assert nota_index(["A", "None of the above"]) == 1
    assert nota_index(["none of these.", "B"]) == 0
    assert nota_index(["None of them won", "B"]) is None


class RecordingSupportModel(SupportScoringModel):
    def __init__(self, support: float) -> None:
        super().__init__(support)
        self.scored: list[list] = []

    def score_next_token(self, messages, candidates):  # type: ignore[no-untyped-def]
        self.scored.append(list(messages))
        return super().score_next_token(messages, candidates)


def test_support_prompt_begins_like_the_choice_prompt(shared_index: NewsIndex) -> None:
    """The None-of-the-above judgement shares the choice prompt's beginning (system, passages,
    date, question): a model that caches the prompt prefix reads the passages once."""
    settings = shared_index.settings.updated(evals={"nota_threshold": 0.5})
    model = RecordingSupportModel(0.9)
    solver = QuizSolver(Assistant(settings, backend=LLMBackend(model, settings),
                                  index=shared_index))
    question = "Who broke the marathon world record in Berlin?"
    choice = solver.choose(question,
                           ["Paula Radcliffe", "Mo Farah", "Usain Bolt", "None of the above"])
    assert choice.index == 1 and choice.best_real == 1
    *orders, judged = model.scored
    assert len(orders) == 3  # three real options, three orders; NOTA is never shown
    last = orders[-1]
    assert judged[0] == last[0]  # the same system message
    shared = os.path.commonprefix([last[1].content, judged[1].content])  # noqa: RUF071 (text)
    asked = f"{prompts.QUESTION_LABEL} {question}\n"
    assert shared.startswith(prompts.PASSAGES_HEADING) and asked in shared
    tail = judged[1].content[shared.index(asked) + len(asked):]
    assert tail.startswith("Proposed answer: Mo Farah")
    # The options come last: another order of them re-reads nothing else.
    assert orders[0][1].content.split("Options:")[0] == last[1].content.split("Options:")[0]
    assert f"{asked}{CHOICE_INSTRUCTIONS_AFTER}\nOptions:" in last[1].content


def test_plain_multiple_choice_keeps_the_instructions_first(shared_index: NewsIndex) -> None:
    solver, model = make(shared_index, ["B"])
    solver.choose("Who broke the marathon world record in Berlin?",
                  ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"])
    prompt = model.calls[0][-1].content
    assert prompt.startswith(f"{CHOICE_INSTRUCTIONS}\n\n{prompts.PASSAGES_HEADING}")
    assert prompt.endswith("D. Usain Bolt")

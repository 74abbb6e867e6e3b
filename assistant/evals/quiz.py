"""Multiple-choice and closed-book quiz solving, for news benchmarks only.

The answer path (``assistant.engine``) knows nothing of quizzes: this module uses its public
parts (the search scope a question gets, the index, the context builder, the backend's chat
model) and adds what a quiz needs: the option prompts, option scoring, closed-book answers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant import prompts
from assistant.answer import RetrievalTrace
from assistant.backends.base import ChatModel, ContextPassage, Message
from assistant.context import build_context
from assistant.documents import Passage
from assistant.engine import MAX_SOURCES, Assistant
from assistant.filters import SearchFilters
from assistant.judgement import SupportJudge
from assistant.settings import EvalSettings
from assistant.textutils import content_terms

LETTERS = "ABCDEFGHIJ"
OPTIONS_LABEL = "Options:"
CHOICE_INSTRUCTIONS = (
    "Pick the option that correctly answers the question, using the passages below. "
    "Reply with the letter of the option only."
)
# The same, placed after the passages (``choice_messages(like_support=True)``).
CHOICE_INSTRUCTIONS_AFTER = CHOICE_INSTRUCTIONS.replace("passages below", "passages above")
CLOSED_BOOK_CHOICE_INSTRUCTIONS = (
    "Pick the option that correctly answers the question about recent news. "
    "Reply with the letter of the option only."
)
CLOSED_BOOK_ANSWER_INSTRUCTIONS = (
    "Answer the question about recent news from what you know, in one short sentence. "
    f"If you do not know, reply exactly: {prompts.REFUSAL}"
)
QUIZ_SYSTEM = "You answer news quiz questions."


def choice_messages(
    question: str, choices: Sequence[str], passages: Sequence[ContextPassage], today: date,
    *, like_support: bool = False,
) -> list[Message]:
    """The options come last, so reading them in another order re-reads only them.

    ``like_support`` (None of the above, where the pick is followed by a support judgement):
    the prompt begins exactly like the answer engine's support question
    (``prompts.support_messages``: system, passages, date, question) and the instructions
    move between the question and the options, so the judgement re-uses the model's cached
    passages instead of reading them again (RealTimeQA 2026 NOTA set: p50 20.7 -> 11.8 s,
    accuracy 0.655 -> 0.673). Plain multiple choice keeps the instructions first: on its 113
    questions that layout scored 0.788 and this one 0.779, and one question is within this
    set's noise, but the instructions-first figures are the ones confirmed on the 2022 set.
    """
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(choices))
    listed = f"{OPTIONS_LABEL}\n{options}"
    if not passages:
        user = (f"{CLOSED_BOOK_CHOICE_INSTRUCTIONS}\n\n{prompts.TODAY_LABEL} "
                f"{today.isoformat()}\n{prompts.QUESTION_LABEL} {question}\n{listed}")
        return [Message("system", QUIZ_SYSTEM), Message("user", user)]
    grounded = prompts.grounded_question(question, passages, today)
    if like_support:
        user = f"{grounded}\n{CHOICE_INSTRUCTIONS_AFTER}\n{listed}"
    else:
        user = f"{CHOICE_INSTRUCTIONS}\n\n{grounded}\n{listed}"
    return [Message("system", prompts.SYSTEM), Message("user", user)]


def closed_book_messages(question: str, today: date) -> list[Message]:
    """A question with no passages: the closed-book baseline of news benchmarks."""
    user = (f"{CLOSED_BOOK_ANSWER_INSTRUCTIONS}\n\n{prompts.TODAY_LABEL} {today.isoformat()}\n"
            f"{prompts.QUESTION_LABEL} {question}")
    return [Message("system", QUIZ_SYSTEM), Message("user", user)]


_NOTA = re.compile(r"^\W*none of (?:the )?(?:above|these|those)\W*$", re.IGNORECASE)


def nota_index(choices: Sequence[str]) -> int | None:
    """The position of a "None of the above" option, if there is one."""
    return next((i for i, choice in enumerate(choices) if _NOTA.match(choice)), None)


def parse_choice(reply: str, choices: Sequence[str]) -> int | None:
    """The option a reply names: a leading letter ("B", "B.", "(B)", "Answer: B") or its text."""
    letters = LETTERS[: len(choices)]
    text = reply.strip()
    match = re.match(rf"^\W*(?:answer|option)?\s*:?\s*\(?([{letters}])\b", text, re.IGNORECASE)
    if match:
        return letters.index(match[1].upper())
    # The letter itself is case-sensitive here: "the answer is a new law" names no option.
    match = re.search(rf"\b(?i:answer|option)(?: (?i:is))?\s*:?\s*\(?([{letters}])\b", text)
    if match:
        return letters.index(match[1].upper())
    lowered = text.lower()
    hits = [i for i, choice in enumerate(choices) if choice.strip().lower() in lowered]
    return hits[0] if len(hits) == 1 else None


def evidence_choice(choices: Sequence[str], passages: Sequence[ContextPassage]) -> int | None:
    """The option whose words the passages contain most (None on a tie or no evidence)."""
    evidence = set(content_terms(" ".join(p.text for p in passages)))
    if not evidence:
        return None
    scores = []
    for choice in choices:
        terms = set(content_terms(choice))
        scores.append(len(terms & evidence) / len(terms) if terms else 0.0)
    best = max(scores)
    return scores.index(best) if best > 0 and scores.count(best) == 1 else None


@dataclass
class Choice:
    """A multiple-choice pick, with what it was based on."""

    index: int | None
    passages: list[Passage] = field(default_factory=list)
    context: list[ContextPassage] = field(default_factory=list)
    retrieval: RetrievalTrace | None = None
    timings: dict[str, float] = field(default_factory=dict)
    support: float | None = None  # judged support of the best real option (with NOTA)
    best_real: int | None = None  # with NOTA: the best other option, the one support judged


class QuizSolver:
    """Answers quiz questions with an assistant's index and model."""

    def __init__(self, assistant: Assistant, settings: EvalSettings | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or assistant.settings.evals

    @property
    def model(self) -> ChatModel | None:
        return self.assistant.backend.model

    def choose(
        self,
        question: str,
        choices: Sequence[str],
        *,
        reference_date: date | None = None,
        k: int | None = None,
        filters: SearchFilters | None = None,
        closed_book: bool = False,
    ) -> Choice:
        """Pick one of ``choices``; ``closed_book`` gives the model no passages."""
        started = time.perf_counter()
        today = reference_date or self.assistant.settings.today
        if closed_book:
            index = self._pick(question, choices, [], today)
            return Choice(index, timings={"total_s": time.perf_counter() - started})
        trace, passages, context = self.read(question, choices, today, k, filters)
        retrieved = time.perf_counter()
        support = best_real = None
        nota = nota_index(choices)
        if nota is None:
            index = self._pick(question, choices, context, today)
        else:
            index, best_real, support = self._pick_or_none(question, choices, nota, context,
                                                           today)
        done = time.perf_counter()
        return Choice(index, passages, context, trace, {
            "retrieve_s": retrieved - started, "generate_s": done - retrieved,
            "total_s": done - started,
        }, support, best_real)

    def read(self, question: str, choices: Sequence[str], today: date, k: int | None = None,
             filters: SearchFilters | None = None
             ) -> tuple[RetrievalTrace, list[Passage], list[ContextPassage]]:
        """The search a quiz question gets, the passages it reads and the context built."""
        assistant = self.assistant
        scope = assistant.scope(question, filters or SearchFilters(), today)
        # The options name the entities the answer is about: they sharpen retrieval a lot.
        trace = RetrievalTrace(f"{question} {' '.join(choices)}", scope.filters, scope.prefer,
                               scope.stale_before)
        passages = assistant.read(trace, k)
        context = build_context(trace.query, passages, assistant.index.embedder,
                                self.settings.choice_context_tokens, MAX_SOURCES)
        return trace, passages, context

    def answer_closed_book(self, question: str, today: date) -> str:
        """An answer from the model's own knowledge ("" for a backend without a model)."""
        if self.model is None:
            return ""
        answer = self.assistant.settings.answer
        return self.model.complete(closed_book_messages(question, today),
                                   max_tokens=answer.max_tokens, temperature=answer.temperature)

    def _pick(self, question: str, choices: Sequence[str],
              passages: Sequence[ContextPassage], today: date,
              like_support: bool = False) -> int | None:
        model = self.model
        if model is None:  # the extractive backend: the passages' words decide
            return evidence_choice(choices, passages)
        scores = self._scores(model, question, choices, passages, today, like_support)
        if scores is not None:
            return max(range(len(choices)), key=scores.__getitem__)
        reply = model.complete(choice_messages(question, choices, passages, today,
                                               like_support=like_support),
                               max_tokens=12, temperature=0.0)
        picked = parse_choice(reply, choices)
        # A reply that names no option: the passages' evidence decides, if they have any.
        return picked if picked is not None else evidence_choice(choices, passages)

    def _pick_or_none(self, question: str, choices: Sequence[str], nota: int,
                      passages: Sequence[ContextPassage], today: date
                      ) -> tuple[int | None, int | None, float | None]:
        """With a "None of the above" option: the best of the other options, unless the
        passages do not back it. Whether they do is the answer engine's own judgement (the
        model's support of the claim; without a model, whether the passages hold its words),
        not a fourth guess among the letters. Returns the pick, the best other option and
        its judged support."""
        real = [i for i in range(len(choices)) if i != nota]
        picked = self._pick(question, [choices[i] for i in real], passages, today,
                            like_support=True)
        if picked is None:
            return nota, None, None
        best = real[picked]
        if self.model is None:  # the extractive backend picked by evidence: it has some
            return best, best, None
        support = SupportJudge(self.model).probability(question, choices[best], passages,
                                                       today)
        if support is not None and support < self.settings.nota_threshold:
            return nota, best, support
        return best, best, support

    def _scores(self, model: ChatModel, question: str, choices: Sequence[str],
                passages: Sequence[ContextPassage], today: date,
                like_support: bool = False) -> list[float] | None:
        """Each option's probability averaged over rotations of the option order.

        Small models favour some letters whatever they stand for; reading the options in
        several orders and averaging cancels that bias. Only the options change between
        the orders, so a model that caches the prompt prefix pays for the passages once.
        None when the model cannot score options.
        """
        if not model.supports_token_scores:
            return None
        letters = LETTERS[: len(choices)]
        totals = [0.0] * len(choices)
        for shift in range(min(self.settings.choice_orders, len(choices))):
            order = [(i + shift) % len(choices) for i in range(len(choices))]
            messages = choice_messages(question, [choices[i] for i in order], passages, today,
                                       like_support=like_support)
            scored = model.score_next_token(messages, letters)
            if scored is None:
                return None
            for position, i in enumerate(order):
                totals[i] += math.exp(scored.logprobs[position])
        return totals

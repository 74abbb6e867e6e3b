"""Any ChatModel becomes an answer backend through the prompts of ``assistant.prompts``."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from datetime import date

from assistant import prompts
from assistant.backends.base import AnswerRequest, Backend, ChatModel, ContextPassage, Turn, Usage
from assistant.backends.extractive import evidence_choice
from assistant.settings import Settings


def parse_choice(reply: str, choices: Sequence[str]) -> int | None:
    """The option a reply names: a leading letter ("B", "B.", "(B)", "Answer: B") or its text."""
    letters = prompts.LETTERS[: len(choices)]
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


class LLMBackend(Backend):
    def __init__(self, model: ChatModel, settings: Settings) -> None:
        self.model = model
        self.settings = settings
        self.name = model.name

    @property
    def usage(self) -> Usage:  # type: ignore[override]
        return self.model.usage

    def stream_answer(self, request: AnswerRequest) -> Iterator[str]:
        messages = prompts.answer_messages(request.question, request.passages, request.today)
        yield from self.model.stream(
            messages,
            max_tokens=self.settings.max_answer_tokens,
            temperature=self.settings.temperature,
        )

    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        reply = self.model.complete(
            prompts.rewrite_messages(history, question), max_tokens=60, temperature=0.0,
            stop=["\n"],
        )
        rewritten = re.sub(r"^(?:standalone |rewritten )?question:\s*", "", reply.strip(),
                           flags=re.IGNORECASE).strip().strip('"“”')
        # A runaway or empty rewrite is worse than the original question.
        if not rewritten or len(rewritten) > 4 * len(question) + 200:
            return question
        return rewritten

    def choose_option(
        self, question: str, choices: Sequence[str], passages: Sequence[ContextPassage],
        today: date,
    ) -> int | None:
        scores = self._choice_scores(question, choices, passages, today)
        if scores is not None:
            return max(range(len(choices)), key=scores.__getitem__)
        messages = prompts.choice_messages(question, choices, passages, today)
        reply = self.model.pick(messages, prompts.LETTERS[: len(choices)])
        picked = parse_choice(reply, choices)
        # A reply that names no option: the passages' evidence decides, if they have any.
        return picked if picked is not None else evidence_choice(choices, passages)

    def _choice_scores(
        self, question: str, choices: Sequence[str], passages: Sequence[ContextPassage],
        today: date,
    ) -> list[float] | None:
        """Each option's probability averaged over rotations of the option order.

        Small models favour some letters whatever they stand for; reading the options in
        several orders and averaging cancels that bias. Only the options change between
        the orders, so a model that caches the prompt prefix pays for the passages once.
        None when the model cannot score options.
        """
        letters = prompts.LETTERS[: len(choices)]
        totals = [0.0] * len(choices)
        for shift in range(min(self.settings.choice_orders, len(choices))):
            order = [(i + shift) % len(choices) for i in range(len(choices))]
            messages = prompts.choice_messages(
                question, [choices[i] for i in order], passages, today
            )
            logprobs = self.model.option_logprobs(messages, letters)
            if logprobs is None:
                return None
            for position, i in enumerate(order):
                totals[i] += math.exp(logprobs[position])
        return totals

    def answer_closed_book(self, question: str, today: date) -> str:
        return self.model.complete(
            prompts.closed_book_messages(question, today),
            max_tokens=self.settings.max_answer_tokens,
            temperature=self.settings.temperature,
        )

"""An optional LLM judge for answers the normalised string match rejects.

It is only consulted when a judge backend is configured (``--judge``), and only for answers
that were given (not refused) and match none of the accepted variants: a paraphrase like
"two and a half thousand" for "2,500". The string match stays the primary, reproducible test.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.backends import create_backend
from assistant.backends.base import ChatModel, Message
from assistant.errors import ConfigError
from assistant.settings import Settings

JUDGE_SYSTEM = "You grade answers to news questions strictly and reply with one word."
JUDGE_INSTRUCTIONS = (
    "Does the answer below give the same fact as one of the accepted answers? Wording may "
    "differ; a different number, name or date is wrong; an answer that hedges or gives "
    "several conflicting facts is wrong. Reply yes or no."
)


def judge_messages(question: str, accepted: Sequence[str], answer: str) -> list[Message]:
    user = (
        f"{JUDGE_INSTRUCTIONS}\n\nQuestion: {question}\n"
        f"Accepted answers: {' | '.join(accepted)}\nAnswer: {answer}\nVerdict:"
    )
    return [Message("system", JUDGE_SYSTEM), Message("user", user)]


class AnswerJudge:
    """Callable ``(question, accepted, answer) -> bool`` backed by a chat model."""

    def __init__(self, model: ChatModel, name: str = "") -> None:
        self.model = model
        self.name = name or model.name

    def __call__(self, question: str, accepted: Sequence[str], answer: str) -> bool:
        reply = self.model.complete(judge_messages(question, accepted, answer), max_tokens=3,
                                    temperature=0.0)
        return bool(re.match(r"\W*(yes|correct|true)\b", reply, re.IGNORECASE))


def make_judge(settings: Settings, name: str) -> AnswerJudge:
    """The judge for backend ``name``; it must be an LLM (the extractive backend cannot judge)."""
    backend = create_backend(settings, name)
    if backend.model is None:
        raise ConfigError(f"--judge {name}: the judge needs an LLM backend, and the {name} "
                          "backend has no language model; choose one that has")
    return AnswerJudge(backend.model, name)

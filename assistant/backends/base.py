"""The two small interfaces behind every answer.

``ChatModel`` is an LLM: chat messages in, text streamed out (local llama.cpp, an
OpenAI-compatible server, or the deterministic fake). ``Backend`` is what the answer engine
talks to: it writes an answer from numbered passages, rewrites follow-up questions and picks
a multiple-choice option. ``LLMBackend`` (in ``llm.py``) turns any ChatModel into a Backend
with the prompts of ``assistant.prompts``; the extractive backend needs no model at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from assistant.documents import Passage

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass
class Usage:
    """Token counts of the last call (None when the backend cannot tell)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ChatModel(ABC):
    """An LLM. Implementations raise ``BackendError`` with a one-line, actionable message."""

    name: str = "chat-model"

    def __init__(self) -> None:
        self.usage = Usage()

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Iterator[str]:
        """Yield the reply as it is generated; set ``self.usage`` when done.

        Closing the iterator early (the user pressed Ctrl-C) must stop generation.
        """

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> str:
        return "".join(
            self.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)
        )

    def pick(self, messages: Sequence[Message], options: Sequence[str]) -> str:
        """A reply naming one of ``options`` (single letters), for multiple choice.

        Models that can constrain their output (the local one) reply with exactly one option;
        the default is a short free reply, which the caller parses.
        """
        return self.complete(messages, max_tokens=12, temperature=0.0)

    def option_logprobs(
        self, messages: Sequence[Message], options: Sequence[str]
    ) -> list[float] | None:
        """Log-probabilities (normalised over ``options``) of each option as the next token.

        None when the model cannot report them (remote endpoints differ too much in what
        they expose); callers then fall back to ``pick``.
        """
        return None


@dataclass
class ContextPassage:
    """A numbered source as shown to the backend: the passage and its most relevant sentences."""

    n: int
    passage: Passage  # the article's best-ranked chunk (its metadata names the article)
    text: str  # the selected sentences, in article order
    sentences: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)  # relevance of each sentence to the question
    chunks: list[Passage] = field(default_factory=list)  # every retrieved chunk of this article

    @property
    def header(self) -> str:
        p = self.passage
        when = p.published.isoformat() if p.published else "date unknown"
        return f"[{self.n}] {p.title} ({p.source or 'unknown source'}, {when})"


@dataclass
class Turn:
    """One exchange of a conversation, for rewriting follow-up questions."""

    question: str
    answer: str


@dataclass
class AnswerRequest:
    question: str
    passages: list[ContextPassage]
    today: date
    history: list[Turn] = field(default_factory=list)


class Backend(ABC):
    """Writes answers from numbered passages. Citations are ``[n]`` markers into ``passages``."""

    name: str = "backend"
    usage: Usage

    @abstractmethod
    def stream_answer(self, request: AnswerRequest) -> Iterator[str]:
        """Yield the answer text, with ``[n]`` citations, as it is produced."""

    @abstractmethod
    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        """A follow-up question made standalone using the conversation so far."""

    @abstractmethod
    def choose_option(
        self, question: str, choices: Sequence[str], passages: Sequence[ContextPassage],
        today: date,
    ) -> int | None:
        """Index of the best choice given the passages (none: closed book), or None."""

    def answer_closed_book(self, question: str, today: date) -> str:
        """An answer from the model's own knowledge, no passages (a benchmark baseline).

        "" when the backend has no knowledge of its own (the extractive backend).
        """
        return ""

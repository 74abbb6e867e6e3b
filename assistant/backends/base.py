"""The two small interfaces behind every answer, and the per-call result they return.

``ChatModel`` is an LLM: chat messages in, a :class:`Completion` out (local llama.cpp, an
OpenAI-compatible server, or the deterministic fake). ``Backend`` is what the answer engine
talks to: it writes an answer from numbered passages and rewrites follow-up questions.
``LLMBackend`` (in ``llm.py``) turns any ChatModel into a Backend with the prompts of
``assistant.prompts``; the extractive backend needs no model at all.

Every call returns its own result object (text, usage, a way to stop it): nothing about a call
is kept on the shared model, so two calls never overwrite each other's figures.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import ClassVar, Literal

from assistant.documents import Passage

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Usage:
    """Token counts of one call (None when the model cannot tell)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Completion:
    """One reply being generated: iterate for text deltas; ``usage`` is filled as it goes.

    Built from an iterator of text pieces and :class:`Usage` reports (the latest report wins).
    ``close()`` (or leaving a ``with`` block) stops generation at once: the user pressed Ctrl-C.
    """

    def __init__(self, pieces: Iterator[str | Usage]) -> None:
        self._pieces = pieces
        self.usage = Usage()
        self.done = False

    def __iter__(self) -> Iterator[str]:
        for piece in self._pieces:
            if isinstance(piece, Usage):
                self.usage = piece
            elif piece:
                yield piece
        self.done = True

    def text(self) -> str:
        """The whole reply (consumes the completion)."""
        with self:
            return "".join(self)

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Completion:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@dataclass(frozen=True)
class TokenScores:
    """Log-probabilities of candidate next tokens (normalised over the candidates)."""

    logprobs: list[float]
    usage: Usage = field(default_factory=Usage)


class ChatModel(ABC):
    """An LLM. Implementations raise ``BackendError`` with a one-line, actionable message.

    Capabilities are declared, not assumed: callers check ``supports_token_scores`` before
    calling :meth:`score_next_token`.
    """

    name: str = "chat-model"
    supports_token_scores: ClassVar[bool] = False

    @abstractmethod
    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        """Start a reply; nothing is computed until the completion is iterated."""

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> str:
        """The whole reply as one string."""
        return self.generate(messages, max_tokens=max_tokens, temperature=temperature,
                             stop=stop).text()

    def score_next_token(
        self, messages: Sequence[Message], candidates: Sequence[str]
    ) -> TokenScores | None:
        """Log-probabilities of each candidate (one token each, e.g. letters or "yes"/"no") as
        the first token of the reply; None when a candidate is not a single token.

        Only for models with ``supports_token_scores``.
        """
        raise NotImplementedError(f"the {self.name} model cannot score tokens")


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
    model: ChatModel | None = None  # the LLM behind the backend, if it has one

    @abstractmethod
    def stream_answer(self, request: AnswerRequest) -> Completion:
        """The answer text, with ``[n]`` citations, as it is produced."""

    @abstractmethod
    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        """A follow-up question made standalone using the conversation so far."""

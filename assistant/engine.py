"""The answer engine: question -> filters -> passages -> context -> backend -> verified answer.

Whether the articles hold the answer is decided here, in code, from retrieval relevance and
from how well the passages support what the backend wrote; the model is never trusted to
refuse on its own.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from assistant import prompts
from assistant.annotate import annotate_answer
from assistant.answer import Answer
from assistant.asof import asks_about_present
from assistant.backends import AnswerRequest, Backend, ContextPassage, Turn, create_backend
from assistant.citations import parse_claims, renumber
from assistant.context import best_relevance, build_context
from assistant.documents import Passage
from assistant.errors import InputError
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.ingest import ProgressCallback
from assistant.settings import Settings, load_settings
from assistant.timeline import run_timeline, timeline_topic
from assistant.timewords import infer_date_range
from assistant.verification import Verifier, looks_like_refusal

# Follow-ups that lean on the conversation: pronouns, "what about", or very short questions.
_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|then|"
    r"the same|what about|how about|and|also|else|instead|before that|after that)\b",
    re.IGNORECASE,
)
_MAX_SOURCES = 4


class _Stop(Exception):
    """Thrown into a running answer when the user interrupts it."""


def needs_rewrite(question: str) -> bool:
    return len(question.split()) <= 5 or bool(_FOLLOW_UP.search(question))


@dataclass
class Choice:
    """A multiple-choice pick, with what it was based on."""

    index: int | None
    passages: list[Passage] = field(default_factory=list)
    context: list[ContextPassage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class AnswerStream:
    """Iterate for the answer's text as it is generated; ``answer`` holds the result after.

    ``stop()`` interrupts generation (Ctrl-C in the chat) and still yields a final Answer.
    """

    def __init__(self, run: Generator[str, None, Answer]) -> None:
        self._run = run
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        while self.answer is None:
            try:
                delta = next(self._run)
            except StopIteration as done:
                self.answer = done.value
                return
            yield delta

    def stop(self) -> Answer:
        if self.answer is None:
            try:
                self._run.throw(_Stop())
                # The run yields nothing more once stopped; drain defensively.
                for _ in self:
                    pass
            except StopIteration as done:
                self.answer = done.value
        assert self.answer is not None
        return self.answer


class Assistant:
    """Keeps the index and the models open, for many questions."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        backend: Backend | str | None = None,
        index: NewsIndex | None = None,
        build_progress: ProgressCallback | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or load_settings(**overrides)
        if settings is not None and overrides:
            self.settings = settings.model_copy(update=overrides)
        self.index = index or NewsIndex(self.settings)
        self._backend = backend if isinstance(backend, Backend) else None
        self._backend_name = backend if isinstance(backend, str) else None
        self._build_progress = build_progress
        self._built = False
        self.verifier = Verifier(self.index.embedder, self.settings.min_support)

    @property
    def backend(self) -> Backend:
        """The answer backend, created (and its model loaded) on first use."""
        if self._backend is None:
            self._backend = create_backend(self.settings, self._backend_name)
        return self._backend

    # -- public API -------------------------------------------------------------------------
    def ask(self, question: str, **options: Any) -> Answer:
        """Answer a question; see :meth:`stream` for the options."""
        stream = self.stream(question, **options)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(
        self,
        question: str,
        *,
        k: int | None = None,
        source: str | Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
        reference_date: date | None = None,
        history: Sequence[Turn] | None = None,
        timeline: bool = False,
    ) -> AnswerStream:
        """Start answering; iterate the result for text deltas, then read ``.answer``.

        ``timeline`` answers with a dated list of events whatever the wording (questions
        like "How did X unfold?" get one anyway).
        """
        question = (question or "").strip()
        if not question:
            raise InputError("empty question: ask something about the news articles")
        if since and until and since > until:
            raise InputError(f"--since {since} is after --until {until}; swap them")
        filters = SearchFilters.make(source, since, until)
        today = reference_date or self.settings.today
        return AnswerStream(
            self._run(question, k or self.settings.top_k, filters, today, list(history or []),
                      timeline)
        )

    def timeline(self, topic: str, **options: Any) -> Answer:
        """A timeline of ``topic``: dated events from many articles, in order, each cited."""
        return self.ask(topic, timeline=True, **options)

    def search(
        self, query: str, *, k: int | None = None, filters: SearchFilters | None = None
    ) -> list[Passage]:
        self._ensure_built()
        return self.index.search(query, k, filters)

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
        """Pick one of ``choices`` (a news quiz); ``closed_book`` gives the model no passages."""
        started = time.perf_counter()
        today = reference_date or self.settings.today
        if closed_book:
            index = self.backend.choose_option(question, choices, [], today)
            return Choice(index, timings={"total_s": time.perf_counter() - started})
        self._ensure_built()
        scope, prefer = self._scope(question, filters or SearchFilters(), today)
        # The options name the entities the answer is about: they sharpen retrieval a lot.
        query = f"{question} {' '.join(choices)}"
        passages = self.index.search(query, k or self.settings.top_k, scope, prefer)
        retrieved = time.perf_counter()
        context = build_context(query, passages, self.index.embedder,
                                self.settings.choice_context_tokens, _MAX_SOURCES)
        index = self.backend.choose_option(question, choices, context, today)
        done = time.perf_counter()
        return Choice(index, passages, context, {
            "retrieve_s": retrieved - started, "generate_s": done - retrieved,
            "total_s": done - started,
        })

    # -- the pipeline ------------------------------------------------------------------------
    def _ensure_built(self) -> None:
        if not self._built:
            self.index.ensure_built(self._build_progress)
            self._built = True

    def _scope(
        self, question: str, explicit: SearchFilters, today: date
    ) -> tuple[SearchFilters, SearchFilters | None]:
        """The filters to search within, and the scope to prefer inside them.

        Time words in the question become a date range (undated articles stay eligible, as
        the wording is only a hint). Without any date range, news questions are about recent
        events: the weeks before the reference date are preferred, not required.
        """
        filters = explicit
        inferred = infer_date_range(question, today)
        if inferred is not None:
            filters = explicit.merged(SearchFilters(since=inferred.since, until=inferred.until,
                                                    include_undated=True))
        prefer = None
        if not filters.has_dates and self.settings.recent_days:
            prefer = replace(filters, since=today - timedelta(days=self.settings.recent_days),
                             until=today, include_undated=False)
        return filters, prefer

    def _run(
        self, question: str, k: int, explicit: SearchFilters, today: date, history: list[Turn],
        timeline: bool = False,
    ) -> Generator[str, None, Answer]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        standalone = question
        if history and needs_rewrite(question):
            standalone = self.backend.rewrite_question(history, question)
            timings["rewrite_s"] = time.perf_counter() - started
        filters, prefer = self._scope(standalone, explicit, today)
        self._ensure_built()
        topic = timeline_topic(standalone, forced=timeline)
        if topic is not None:
            return (yield from run_timeline(self, question, standalone, topic, filters, today,
                                            self._irrelevant, _Stop))
        mark = time.perf_counter()
        passages = self.index.search(standalone, k, filters, prefer)
        if (filters != explicit and asks_about_present(standalone)
                and self._irrelevant(standalone, passages, filters)):
            # "the latest on X" with nothing that recent: answer from what there is; the
            # answer then says how old its sources are (stale).
            filters, prefer = explicit, None
            passages = self.index.search(standalone, k, filters)
        timings["retrieve_s"] = time.perf_counter() - mark
        answer = Answer(
            question=question,
            text="",
            standalone_question=standalone,
            filters=_describe_filters(filters, prefer),
            passages=passages,
            backend=self.backend.name,
        )

        reason = self._irrelevant(standalone, passages, filters)
        if reason:
            answer.refused, answer.reason, answer.text = True, reason, prompts.REFUSAL
            timings["total_s"] = time.perf_counter() - started
            answer.timings = timings
            with contextlib.suppress(_Stop):  # a stop asked for now has nothing left to stop
                yield prompts.REFUSAL
            return answer

        mark = time.perf_counter()
        context = build_context(standalone, passages, self.index.embedder,
                                self.settings.context_tokens, _MAX_SOURCES)
        timings["context_s"] = time.perf_counter() - mark
        request = AnswerRequest(standalone, context, today, history)
        generation = self.backend.stream_answer(request)
        pieces: list[str] = []
        mark = time.perf_counter()
        try:
            for delta in generation:
                if not pieces:
                    timings["first_token_s"] = time.perf_counter() - started
                pieces.append(delta)
                yield delta
        except _Stop:
            answer.stopped = True
        finally:
            close = getattr(generation, "close", None)
            if close:
                close()
        timings["generate_s"] = time.perf_counter() - mark
        usage = getattr(self.backend, "usage", None)
        if usage is not None and usage.prompt_tokens is not None:
            timings["prompt_tokens"] = float(usage.prompt_tokens)
        if usage is not None and usage.completion_tokens:
            timings["completion_tokens"] = float(usage.completion_tokens)
            if timings["generate_s"] > 0:
                timings["tokens_per_s"] = usage.completion_tokens / timings["generate_s"]

        self._finish(answer, "".join(pieces), context)
        if not answer.refused:
            mark = time.perf_counter()
            developing = self.settings.developing
            wide = (self.index.search(standalone, developing.conflict_passages, filters)
                    if developing.conflict_passages else [])
            annotate_answer(answer, standalone, context, wide, today, developing)
            timings["annotate_s"] = time.perf_counter() - mark
        timings["total_s"] = time.perf_counter() - started
        answer.timings = timings
        return answer

    def _irrelevant(
        self, question: str, passages: Sequence[Passage], filters: SearchFilters
    ) -> str:
        """Why the passages cannot answer the question, or "" when they might."""
        if not passages:
            if filters.has_dates or filters.sources:
                return f"no article matches the filters ({_filter_text(filters)})"
            return "the index has no articles"
        dense, coverage = best_relevance(question, passages)
        if dense < self.settings.min_relevance and coverage < 0.5:
            return (f"no passage is about the question (best similarity {dense:.2f}, "
                    f"{coverage:.0%} of its words found)")
        return ""

    def _finish(self, answer: Answer, raw: str, context: list[ContextPassage]) -> None:
        claims = parse_claims(raw, [p.n for p in context])
        self.verifier.check(claims, context)
        statements = [c for c in claims if not looks_like_refusal(c.text)]
        supported = [c for c in statements if c.supported]
        if not supported:
            answer.refused = True
            answer.text = prompts.REFUSAL
            answer.unsupported = [c.text for c in statements]
            answer.reason = ("the model's answer is not supported by the articles"
                             if statements else "the articles do not contain the answer")
            return
        answer.text, answer.citations = renumber(claims, context)
        answer.unsupported = [c.text for c in statements if not c.supported]
        answer.text = _with_dates(answer.text, answer.citations)


_MONTHS = ("January February March April May June July August September October November "
           "December").split()


def _date_mentioned(text: str, day: date) -> bool:
    month = _MONTHS[day.month - 1]
    return (day.isoformat() in text
            or bool(re.search(rf"\b{month[:3]}\w*\.? {day.day}\b|\b{day.day} {month[:3]}", text)))


def _with_dates(text: str, citations: Sequence[Any]) -> str:
    """Make sure the answer says when its sources were published (the model may not)."""
    missing = [c for c in citations if c.published and not _date_mentioned(text, c.published)]
    if not missing:
        return text
    notes = "; ".join(f"[{c.n}] {c.published.day} {_MONTHS[c.published.month - 1]} "
                      f"{c.published.year}" for c in missing)
    label = "Source" if len(missing) == 1 else "Sources"
    return f"{text} ({label} dated {notes}.)"


def _filter_text(filters: SearchFilters) -> str:
    parts = []
    if filters.sources:
        parts.append("source " + " or ".join(filters.sources))
    if filters.since:
        parts.append(f"since {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    return ", ".join(parts)


def _describe_filters(filters: SearchFilters, prefer: SearchFilters | None) -> dict[str, Any]:
    return {
        "sources": list(filters.sources),
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
        "include_undated": filters.include_undated,
        "prefer_since": prefer.since.isoformat() if prefer and prefer.since else None,
    }

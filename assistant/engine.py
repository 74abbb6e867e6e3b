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
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from assistant import prompts
from assistant.annotate import annotate_answer
from assistant.answer import Answer, RetrievalTrace
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
from assistant.topics import names_missing
from assistant.verification import Verifier, looks_like_refusal

if TYPE_CHECKING:
    from assistant.feeds import Feeds

# Follow-ups that lean on the conversation: pronouns, "what about", or very short questions.
_FOLLOW_UP = re.compile(
    r"\b(it|its|they|them|their|he|him|his|she|her|this|that|these|those|there|then|"
    r"the same|what about|how about|and|also|else|instead|before that|after that)\b",
    re.IGNORECASE,
)
MAX_SOURCES = 4
_MIN_SLACK_DAYS, _MAX_SLACK_DAYS = 3, 31  # how loosely a question's time words are read
# Reports this long before a period the question names are not about that period's events
# ("this week": a years-old report of a similar layoff), once the period has reports.
_STALE_DAYS = 90
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


class _Stop(Exception):
    """Thrown into a running answer when the user interrupts it."""


def needs_rewrite(question: str) -> bool:
    return len(question.split()) <= 5 or bool(_FOLLOW_UP.search(question))


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
        self.settings = (settings.updated(**overrides) if settings is not None
                         else load_settings(**overrides))
        self.index = index or NewsIndex(self.settings)
        self._backend = backend if isinstance(backend, Backend) else None
        self._backend_name = backend if isinstance(backend, str) else None
        self._build_progress = build_progress
        self._built = False
        self._feeds: Feeds | None = None
        self.verifier = Verifier(self.index.embedder, self.settings.answer.min_support)

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
        k = k or self.settings.retrieval.top_k
        return AnswerStream(self._run(question, k, filters, today, list(history or []),
                                      timeline))

    def timeline(self, topic: str, **options: Any) -> Answer:
        """A timeline of ``topic``: dated events from many articles, in order, each cited;
        options as for :meth:`stream`."""
        return self.ask(topic, timeline=True, **options)

    def search(
        self, query: str, *, k: int | None = None, filters: SearchFilters | None = None,
        prefer: SearchFilters | None = None, all_copies: bool = False,
    ) -> list[Passage]:
        """Passages for ``query`` within ``filters``, ranking ``prefer``'s scope higher; copies
        of one story count once unless ``all_copies``."""
        self._ensure_built()
        return self.index.search(query, k, filters, prefer, all_copies=all_copies)

    def read(self, trace: RetrievalTrace, k: int | None = None) -> list[Passage]:
        """The passages an answer with this search reads (:meth:`RetrievalTrace.read`)."""
        self._ensure_built()
        return trace.read(self.index, k)

    @property
    def feeds(self) -> Feeds:
        """Follow feeds and keep this assistant's index current (``assistant.feeds.Feeds``)."""
        from assistant.feeds import Feeds

        if self._feeds is None:
            self._feeds = Feeds(self.settings, index=self.index)
        return self._feeds

    # -- the pipeline ------------------------------------------------------------------------
    def _ensure_built(self) -> None:
        if not self._built:
            self.index.ensure_built(self._build_progress)
            self._built = True

    def scope(self, question: str, explicit: SearchFilters, today: date) -> RetrievalTrace:
        """The search a question gets: the filters to search within, and the scope to prefer
        inside them.

        Filters the user gives (source, since, until) are hard. Time words in the question
        name when the *event* happened, not when every article about it was published, and
        they are said loosely ("this week" for a report of eight days ago; a report of
        January 2021 says who was killed "in January 2020"). So they set a preferred window
        (the period widened by a slack of its own length, 3 to 31 days), not a filter; the
        answer says how old its sources are. Only a past period with a written year also sets
        a floor: nothing reports an event long before it happened (a yearless "on February 8"
        may be the coming one, and "in 2030" is reported on years before). Without any date,
        or with a period still to come, news questions are about recent events: the weeks
        before the reference date are preferred, not required.

        The reference date is the present of the question: articles published after it are
        not read (an answer "as of 15 January" cannot know what was reported on 26 January;
        in a long archive, next month's reports of a similar event are wrong answers). Only
        an explicit ``until`` replaces that bound.
        """
        filters = explicit
        prefer = None
        inferred = infer_date_range(question, today) if not explicit.has_dates else None
        if inferred is not None:
            floor, until = inferred.since, inferred.until
            if inferred.since is not None:
                length = ((inferred.until or today) - inferred.since).days + 1
                slack = timedelta(days=min(max(length, _MIN_SLACK_DAYS), _MAX_SLACK_DAYS))
                floor = inferred.since - slack
                if inferred.until is not None:
                    until = min(inferred.until + slack, max(today, inferred.until))
                if _YEAR.search(inferred.phrase) and inferred.since <= today:
                    filters = replace(explicit, since=floor, include_undated=True)
            prefer = replace(explicit, since=floor, until=until, include_undated=False)
        recent = self.settings.retrieval.recent_days
        if prefer is not None and prefer.since is not None and prefer.since > today:
            # An event still to come ("the Super Bowl on February 8", asked on 30 January): what
            # is known of it was reported in the days before, not in its own (empty) window.
            prefer = None
        if prefer is None and not filters.has_dates and recent:
            prefer = replace(filters, since=today - timedelta(days=recent), until=today,
                             include_undated=False)
        stale_before = None
        if inferred is not None and prefer is not None and prefer.since is not None:
            stale_before = prefer.since - timedelta(days=_STALE_DAYS)
        if filters.until is None and today < date.today():
            # Asked as of a past date. (For the present there is nothing later to exclude, and
            # a filter on every question would cost each search a client-side pass.)
            filters = replace(filters, until=today,
                              include_undated=filters.include_undated or not filters.has_dates)
        return RetrievalTrace(question, filters, prefer, stale_before)

    def retrieve(self, question: str, explicit: SearchFilters, today: date, k: int
                 ) -> tuple[RetrievalTrace, list[Passage]]:
        """The search an answer makes (:meth:`scope`) and the passages it reads."""
        self._ensure_built()
        trace = self.scope(question, explicit, today)
        passages = trace.read(self.index, k)
        if trace.prefer is not None and names_missing(question, _texts(passages)):
            # The preferred window (recent weeks, "this week") filled the top k with other
            # stories: a question about an older story it names ("the Port of Keld", two weeks
            # on) gets that story's articles, and the answer says how old they are.
            unpreferred = self.index.search(question, k, trace.filters)
            if not names_missing(question, _texts(unpreferred)):
                trace, passages = replace(trace, prefer=None), unpreferred
        return trace, passages

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
        self._ensure_built()
        topic = timeline_topic(standalone, forced=timeline)
        if topic is not None:
            return (yield from run_timeline(self, question, standalone, topic, explicit, today,
                                            self._irrelevant, _Stop))
        mark = time.perf_counter()
        trace, passages = self.retrieve(standalone, explicit, today, k)
        timings["retrieve_s"] = time.perf_counter() - mark
        answer = Answer(
            question=question,
            text="",
            standalone_question=standalone,
            retrieval=trace,
            passages=passages,
            backend=self.backend.name,
        )

        reason = self._irrelevant(standalone, passages, trace.filters)
        if reason and trace.stale_before is not None:
            reason = self._set_aside(standalone, trace, k) or reason
        if reason:
            answer.refused, answer.reason, answer.text = True, reason, prompts.REFUSAL
            timings["total_s"] = time.perf_counter() - started
            answer.timings = timings
            with contextlib.suppress(_Stop):  # a stop asked for now has nothing left to stop
                yield prompts.REFUSAL
            return answer

        mark = time.perf_counter()
        context = build_context(standalone, passages, self.index.embedder,
                                self.settings.answer.context_tokens, MAX_SOURCES)
        timings["context_s"] = time.perf_counter() - mark
        request = AnswerRequest(standalone, context, today, history)
        pieces: list[str] = []
        mark = time.perf_counter()
        with self.backend.stream_answer(request) as completion:
            try:
                for delta in completion:
                    if not pieces:
                        timings["first_token_s"] = time.perf_counter() - started
                    pieces.append(delta)
                    yield delta
            except _Stop:
                answer.stopped = True
        timings["generate_s"] = time.perf_counter() - mark
        usage = completion.usage
        if usage.prompt_tokens is not None:
            timings["prompt_tokens"] = float(usage.prompt_tokens)
        if usage.completion_tokens:
            timings["completion_tokens"] = float(usage.completion_tokens)
            if timings["generate_s"] > 0:
                timings["tokens_per_s"] = usage.completion_tokens / timings["generate_s"]

        self._finish(answer, "".join(pieces), context, standalone)
        if not answer.refused:
            mark = time.perf_counter()
            developing = self.settings.developing
            # The whole story, not only its recent reports: no preferred window here.
            wide = (self.index.search(standalone, developing.conflict_passages, trace.filters)
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
            if self.index.store.count_chunks() == 0:
                return "the index has no articles"
            if filters.since or filters.sources:
                return f"no article matches the filters ({_filter_text(filters)})"
            return (f"no article was published by the reference date ({filters.until}); "
                    "ask with a later --date")
        dense, coverage = best_relevance(question, passages)
        if dense < self.settings.answer.min_relevance and coverage < 0.5:
            return (f"no passage is about the question (best similarity {dense:.2f}, "
                    f"{coverage:.0%} of its words found)")
        return ""

    def _set_aside(self, question: str, trace: RetrievalTrace, k: int | None) -> str:
        """Why the answer is refused when only reports from long before the period the
        question names are about it ("" when that is not the case)."""
        older = [p for p in trace.search(self.index, k) if trace.is_stale(p)]
        if not older or self._irrelevant(question, older, trace.filters):
            return ""
        newest = max(p.published for p in older if p.published is not None)
        return (f"no report from the period the question names is about it (only older ones, "
                f"the newest of {newest.isoformat()}, before {trace.stale_before} set aside)")

    def _finish(self, answer: Answer, raw: str, context: list[ContextPassage],
                question: str) -> None:
        claims = parse_claims(raw, [p.n for p in context])
        self.verifier.check(claims, context, question)
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


def _texts(passages: Sequence[Passage]) -> Iterator[str]:
    for p in passages:
        yield p.title
        yield p.text


def _filter_text(filters: SearchFilters) -> str:
    parts = []
    if filters.sources:
        parts.append("source " + " or ".join(filters.sources))
    if filters.since:
        parts.append(f"since {filters.since}")
    if filters.until:
        parts.append(f"until {filters.until}")
    return ", ".join(parts)

"""Timelines: "How did X unfold?" answered with dated events from many articles, in order.

1. *Detect* a timeline question (:func:`timeline_topic`) and take its topic.
2. *Retrieve wide* (``timeline_passages`` chunks, no recency preference), group the chunks by
   article and keep the articles of one developing story (``topics.py``), at most
   ``timeline_articles`` of them, most relevant first. Copies of one wire story (the ingest's
   story ids, ``stories.py``) arrive folded into their earliest article: the event is read
   once and cites the copies as "also reported by".
3. *Extract* events per article. With a model: one short call per article (its lead and
   most relevant sentences, ~100 prompt tokens, one line back), checked against the
   article's sentences; a line the article does not support falls back to the code's event.
   Without a model (extractive backend): the article's lead sentence and any other sentence
   that names a different day.
4. *Date* each event in code (``eventdates.py``): the day its source sentence names, else the
   article's publication date.
5. *Merge* events of the same day that say the same thing (several outlets, a wire story
   reprinted: similar wording, more so when they report the same figure) into one event
   carrying all their citations, and *order* them by date.

The model never orders, dates or merges anything: it only shortens one article at a time.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from assistant import annotate, prompts
from assistant.answer import Answer, Citation, RetrievalTrace
from assistant.asof import asks_about_present
from assistant.backends.base import ChatModel, ContextPassage
from assistant.citations import Claim
from assistant.developments import DatedBy, Event, format_day
from assistant.documents import Passage, normalise_text
from assistant.eventdates import event_day
from assistant.filters import SearchFilters
from assistant.textutils import content_terms, estimate_tokens, numbers, split_sentences
from assistant.timewords import infer_date_range, strip_time_words

if TYPE_CHECKING:
    from assistant.engine import Assistant

_TRIGGERS = [
    re.compile(r"^(?:please\s+)?(?:give me |show me |make |build |write )?(?:a |the )?"
               r"(?:timeline|chronology)\s+(?:of|for|on|about)\s+(?P<t>.+)$", re.I),
    re.compile(r"^(?:please\s+)?(?:give me |show me )?(?:a |the )?(?:timeline|chronology)"
               r"\s*[:\-–]\s*(?P<t>.+)$", re.I),
    re.compile(r"^how\s+(?:did|has|have|had|is|are|was|were)\s+(?P<t>.+?)\s+"
               r"(?:unfold(?:ed|ing)?|develop(?:ed|ing)?|evolve[d]?|evolving|progress(?:ed|ing)?|"
               r"play(?:ed)? out|playing out|come about|turn(?:ed)? out|gone|go)\b.*$", re.I),
    re.compile(r"^(?:walk me through|take me through|summari[sz]e)\s+(?:the\s+)?"
               r"(?:events|developments|story)?\s*(?:of|in|on|at|around)?\s*(?P<t>.+)$", re.I),
    re.compile(r"^what\s+(?:are|were)\s+the\s+(?:key\s+|main\s+|latest\s+)?"
               r"(?:events|developments|stages)\s+(?:of|in|on|at)\s+(?P<t>.+)$", re.I),
    re.compile(r"^(?P<t>.+?)\s*[:,-]?\s+(?:a\s+)?(?:timeline|chronology|sequence of events)$",
               re.I),
]
# "What happened with Y?" asks for a story's course, unless its time words name one short
# moment: "What happened to interest rates last week?" wants what happened then (an answer),
# "... since March", "... in March" a course of events (a timeline).
_WHAT_HAPPENED = re.compile(r"^what\s+(?:has\s+|have\s+)?happened\s+(?:with|to|in|during|at|"
                            r"on|over|around|regarding)\s+(?P<t>.+)$", re.I)
_MOMENT_DAYS = 14
_DATELINE = re.compile(r"^\s*[A-Z][A-Z .'’-]{1,40}?(?:,[^—–\n]{0,30})?\s*(?:\([^)]{1,40}\))?"
                       r"\s*[—–]\s*")
_MAX_EVENT_WORDS = 40
log = logging.getLogger(__name__)
_SHARED_FIGURE_BONUS = 0.15
_DATE_PHRASE = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d{1,2}\b|"
    r"\b(?:19|20)\d\d\b", re.IGNORECASE)


def _figures(text: str) -> set[str]:
    """The numbers a text reports, leaving out dates and years."""
    return numbers(_DATE_PHRASE.sub(" ", text))


def timeline_topic(question: str, forced: bool = False) -> str | None:
    """The topic of a question that asks for a timeline, or None for other questions.

    ``forced`` (``assistant timeline TOPIC``): the whole text is the topic unless it is
    worded as a timeline question; its time words still filter the articles.
    """
    text = question.strip().rstrip("?.! ")
    for pattern in _TRIGGERS:
        match = pattern.match(text)
        if match:
            topic = _tidy(match["t"])
            if content_terms(topic):
                return topic
    match = _WHAT_HAPPENED.match(text)
    if match and not _names_a_moment(text):
        topic = _tidy(match["t"])
        if content_terms(topic):
            return topic
    if forced:
        return _tidy(text) or text
    return None


def _names_a_moment(question: str) -> bool:
    today = date.today()  # the length of a period does not depend on the day it is read
    found = infer_date_range(question, today)
    if found is None or found.since is None or re.search(r"\bsince\b", found.phrase, re.I):
        return False
    return ((found.until or today) - found.since).days < _MOMENT_DAYS


def _tidy(topic: str) -> str:
    topic = strip_time_words(topic).strip(" ,;:")
    return re.sub(r"^(?:so far|until now|to date)\b|\b(?:so far|until now|to date)$", "",
                  topic, flags=re.I).strip(" ,;:")


@dataclass
class _Found:
    """An event as one article tells it."""

    article: int  # index into the timeline's articles
    text: str
    sentence: str  # the article's sentence it rests on (what the citation shows)
    date: date | None
    dated_by: DatedBy


@dataclass
class _Merged:
    date: date | None
    text: str
    dated_by: DatedBy
    members: list[_Found] = field(default_factory=list)
    vector: np.ndarray | None = None


def clean_sentence(sentence: str) -> str:
    """A sentence as a timeline line: no dateline ("HARBOR CITY (Wire) —"), at most 40 words."""
    text = _DATELINE.sub("", sentence).strip()
    words = text.split()
    if len(words) > _MAX_EVENT_WORDS:
        text = " ".join(words[:_MAX_EVENT_WORDS]).rstrip(",;:") + " …"
    return text[:1].upper() + text[1:]


def article_sentences(article: annotate.ArticleText) -> list[str]:
    sentences: list[str] = []
    seen: set[str] = set()
    for chunk in sorted(article.chunks, key=lambda c: c.start):
        for sentence in split_sentences(chunk.text):
            key = normalise_text(sentence).lower()
            aside = sentence.startswith("(") or (sentence.endswith(")") and "(" not in sentence)
            if key not in seen and len(sentence) >= 12 and not aside:
                seen.add(key)
                sentences.append(sentence)
    return sentences


def code_events(index: int, article: annotate.ArticleText, sentences: Sequence[str],
                relevance: Sequence[float], limit: int) -> list[_Found]:
    """Events without a model: the lead (else the most relevant sentence), then sentences
    that name a day other than the lead's."""
    if not sentences:
        return []
    published = article.first.published
    first = 0 if article.lead_known else int(np.argmax(relevance))
    day, named = event_day(sentences[first], published)
    found = [_Found(index, clean_sentence(sentences[first]), sentences[first], day,
                    "text" if named else ("article" if day else "unknown"))]
    order = sorted(range(len(sentences)), key=lambda i: -relevance[i])
    for i in order:
        if len(found) >= limit:
            break
        if i == first or relevance[i] <= 0:
            continue
        other, named = event_day(sentences[i], published)
        if named and other != day and all(f.date != other for f in found):
            found.append(_Found(index, clean_sentence(sentences[i]), sentences[i], other,
                                "text"))
    return found


class TimelineBuilder:
    """The steps of one timeline (``run_timeline`` drives them, one article at a time)."""

    def __init__(self, assistant: Assistant, topic: str) -> None:
        self.assistant = assistant
        self.settings = assistant.settings.developing
        self.topic = topic
        self.embedder = assistant.index.embedder
        self.model: ChatModel | None = assistant.backend.model
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.found: list[_Found] = []
        self.articles: list[annotate.ArticleText] = []

    # -- steps -----------------------------------------------------------------------------
    def retrieve(self, trace: RetrievalTrace) -> list[Passage]:
        return self.assistant.index.search(self.topic, self.settings.timeline_passages,
                                           trace.filters, trace.prefer)

    def choose_articles(self, passages: Sequence[Passage]) -> list[annotate.ArticleText]:
        story = annotate.story_articles(self.topic, annotate.group_articles(passages))
        self.articles = story[: self.settings.timeline_articles]
        return self.articles

    def extract(self, index: int) -> None:
        """The events of one article (one model call at most)."""
        article = self.articles[index]
        sentences = article_sentences(article)
        if not sentences:
            return
        relevance = self._relevance(sentences)
        code = code_events(index, article, sentences, relevance,
                           self.settings.events_per_article if self.model is None else 1)
        if self.model is None or not code:
            self.found.extend(code)
            return
        chosen = self._prompt_sentences(sentences, relevance, article.lead_known)
        line = self._ask_model(article, chosen)
        event = self._checked(index, article, line, sentences) if line else None
        self.found.append(event if event is not None else code[0])

    def events(self, since: date | None = None, until: date | None = None
               ) -> tuple[list[Event], list[Citation]]:
        """The merged, ordered events and the citations they use (numbered in order)."""
        merged = self._merge([f for f in self.found
                              if not ((since and f.date and f.date < since)
                                      or (until and f.date and f.date > until))])
        merged.sort(key=lambda m: (m.date is None, m.date or date.min,
                                   min(self._published_key(f) for f in m.members),
                                   min(f.article for f in m.members)))
        citations: list[Citation] = []
        by_article: dict[int, int] = {}
        events = []
        for m in merged:
            numbers = []
            for member in sorted(m.members, key=self._published_key):
                if member.article not in by_article:
                    by_article[member.article] = len(citations) + 1
                    citations.append(annotate.citation_for(
                        self.articles[member.article], by_article[member.article],
                        member.sentence))
                if by_article[member.article] not in numbers:
                    numbers.append(by_article[member.article])
            events.append(Event(m.date, m.text, numbers, m.dated_by))
        return events, citations

    # -- helpers ---------------------------------------------------------------------------
    def _published_key(self, found: _Found) -> tuple[date, int]:
        published = self.articles[found.article].first.published
        return (published or date.max, found.article)

    def _relevance(self, sentences: Sequence[str]) -> list[float]:
        terms = set(content_terms(self.topic))
        vectors = self.embedder.embed(list(sentences))
        similarity = vectors @ self.embedder.embed_query(self.topic)
        scores = []
        for sentence, sim in zip(sentences, similarity, strict=True):
            words = set(content_terms(sentence))
            coverage = len(terms & words) / len(terms) if terms else 0.0
            scores.append(float(sim) + 0.5 * coverage)
        return scores

    def _prompt_sentences(self, sentences: Sequence[str], relevance: Sequence[float],
                          lead_known: bool) -> list[str]:
        """The lead and the most relevant sentences within ``event_tokens``, in article order."""
        budget = self.settings.event_tokens
        picked: list[int] = [0] if lead_known else []
        used = sum(estimate_tokens(sentences[i]) for i in picked)
        for i in sorted(range(len(sentences)), key=lambda i: -relevance[i]):
            if i in picked:
                continue
            cost = estimate_tokens(sentences[i])
            if used + cost > budget and picked:
                continue
            picked.append(i)
            used += cost
        return [_DATELINE.sub("", sentences[i]) for i in sorted(picked)]

    def _ask_model(self, article: annotate.ArticleText, chosen: Sequence[str]) -> str:
        assert self.model is not None
        p = article.first
        messages = prompts.event_messages(self.topic, p.title, p.source, p.published, chosen)
        completion = self.model.generate(messages, max_tokens=self.settings.max_event_tokens,
                                         temperature=0.0, stop=["\n"])
        reply = completion.text()
        self.calls += 1
        usage = completion.usage
        self.prompt_tokens += usage.prompt_tokens or 0
        self.completion_tokens += usage.completion_tokens or 0
        line = reply.strip().splitlines()[0] if reply.strip() else ""
        line = re.sub(r"^(?:[-*•]\s*|\d+[.)]\s*|(?:event|summary)\s*:\s*)", "", line,
                      flags=re.I)
        return line.strip().strip('"“”').strip()

    def _checked(self, index: int, article: annotate.ArticleText, line: str,
                 sentences: Sequence[str]) -> _Found | None:
        """The model's line as an event if the article supports it, dated by the sentence it
        rests on; None when unsupported (a wrong number, words the article does not have)."""
        source = ContextPassage(n=1, passage=article.first, text=" ".join(sentences),
                                sentences=list(sentences))
        claim = Claim(line, [1])
        self.assistant.verifier.check([claim], [source])
        log.debug("event from %s: %r (support %.2f)", article.article_id, line,
                  claim.support or 0.0)
        if not claim.supported:
            return None
        similarity = self.embedder.embed(list(sentences)) @ self.embedder.embed_query(line)
        best = int(np.argmax(similarity))
        day, named = event_day(sentences[best], article.first.published)
        text = line if line.endswith((".", "!", "?", "…")) else line + "."
        return _Found(index, text[:1].upper() + text[1:], sentences[best], day,
                      "text" if named else ("article" if day else "unknown"))

    def _merge(self, found: Sequence[_Found]) -> list[_Merged]:
        if not found:
            return []
        vectors = self.embedder.embed([f.text for f in found])
        merged: list[_Merged] = []
        for item, vector in sorted(zip(found, vectors, strict=True),
                                   key=lambda fv: self._published_key(fv[0])):
            same_day = [m for m in merged if m.date == item.date]
            best, score = None, -1.0
            for m in same_day:
                assert m.vector is not None
                if normalise_text(m.text).lower() == normalise_text(item.text).lower():
                    best, score = m, 1.0
                    break
                sim = float(m.vector @ vector)
                if _figures(m.text) & _figures(item.text):
                    sim += _SHARED_FIGURE_BONUS  # "48 dead", "toll reached 48": the same news
                if sim > score:
                    best, score = m, sim
            if best is not None and score >= self.settings.merge_similarity:
                if item.article not in {f.article for f in best.members}:
                    best.members.append(item)
                continue
            merged.append(_Merged(item.date, item.text, item.dated_by, [item], vector))
        return merged


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def timeline_text(topic: str, events: Sequence[Event], articles: int, copies: int = 0) -> str:
    """The timeline as plain text: a heading, then one line per event. ``articles`` were
    read; ``copies`` (other outlets' copies of them) are cited with them."""
    also = f" and {_count(copies, 'copy').replace('copys', 'copies')}" if copies else ""
    lines = [f"Timeline of {topic} ({_count(len(events), 'event')} from "
             f"{_count(articles, 'article')}{also}):"]
    for event in events:
        marks = "".join(f"[{n}]" for n in event.citations)
        text = event.text.rstrip()
        if text.endswith((".", "!", "?")):
            text = f"{text[:-1]} {marks}{text[-1]}"
        else:
            text = f"{text} {marks}"
        lines.append(f"- {format_day(event.date)}: {text}")
    return "\n".join(lines)


def timeline_scope(question: str, topic: str, explicit: SearchFilters, today: date,
                   scope: Callable[[str, SearchFilters, date], RetrievalTrace]
                   ) -> tuple[RetrievalTrace, SearchFilters]:
    """The timeline's search, and the window its events must fall in.

    The search is an ordinary answer's (``scope``, ``Assistant.scope``: the user's filters
    hard, the question's time words a loosely read preferred window), for the topic, without
    the recency preference of a question with no time words: a timeline is about the whole
    story. The time words do bound the events, strictly: "since 4 March" lists nothing of the
    3rd.
    """
    inferred = infer_date_range(question, today) if not explicit.has_dates else None
    scoped = scope(question, explicit, today)  # also: nothing published after ``today``
    if inferred is None:
        return RetrievalTrace(topic, scoped.filters, None), explicit
    window = replace(explicit, since=inferred.since, until=inferred.until)
    return RetrievalTrace(topic, scoped.filters, scoped.prefer), window


def run_timeline(
    assistant: Assistant,
    question: str,
    standalone: str,
    topic: str,
    explicit: SearchFilters,
    today: date,
    irrelevant: Callable[[str, Sequence[Passage], SearchFilters], str],
    stop: type[BaseException],
) -> Generator[str, None, Answer]:
    """Build the timeline answer; yields "" after each article (a chance to stop), then the
    text. ``stop`` thrown in ends extraction early with the events found so far."""
    started = time.perf_counter()
    builder = TimelineBuilder(assistant, topic)
    trace, window = timeline_scope(standalone, topic, explicit, today, assistant.scope)
    passages = builder.retrieve(trace)
    reason = irrelevant(topic, passages, trace.filters)
    timings = {"retrieve_s": time.perf_counter() - started}
    answer = Answer(question=question, text="", standalone_question=standalone,
                    retrieval=trace, passages=passages, backend=assistant.backend.name)
    if reason:
        answer.refused, answer.reason, answer.text = True, reason, prompts.REFUSAL
        timings["total_s"] = time.perf_counter() - started
        answer.timings = timings
        with contextlib.suppress(stop):
            yield prompts.REFUSAL
        return answer
    articles = builder.choose_articles(passages)
    mark = time.perf_counter()
    try:
        for i in range(len(articles)):
            builder.extract(i)
            yield ""
    except stop:
        answer.stopped = True
    timings["extract_s"] = time.perf_counter() - mark
    events, citations = builder.events(window.since, window.until)
    if not events and window != explicit and asks_about_present(standalone):
        # "The latest developments" long after the last article: the story as it stands,
        # with a warning that it may be out of date, rather than a refusal.
        events, citations = builder.events(explicit.since, explicit.until)
    answer.events, answer.citations = events, citations
    used = {c.article_id for c in citations}
    # Conflicts among the reports the timeline shows (not those outside its period).
    shown = [a for a in builder.articles if a.article_id in used]
    conflicts = annotate.story_conflicts(shown) if len(shown) > 1 else []
    annotate.cite_conflicts(conflicts, shown, answer.citations)
    copies = {copy["id"] for c in citations for copy in c.also_reported_by} - used
    body = timeline_text(topic, events, len(used), len(copies))
    annotate.finish(answer, body, conflicts, [a.first.published for a in builder.articles],
                    standalone, today, assistant.settings.developing)
    timings.update({"articles": float(len(articles)), "events": float(len(events)),
                    "llm_calls": float(builder.calls)})
    if builder.calls:
        timings["prompt_tokens"] = float(builder.prompt_tokens)
        timings["completion_tokens"] = float(builder.completion_tokens)
    timings["total_s"] = time.perf_counter() - started
    answer.timings = timings
    if not events:
        answer.refused, answer.reason, answer.text = (
            True, "no dated events found in the articles", prompts.REFUSAL)
    with contextlib.suppress(stop):
        yield answer.text
    return answer

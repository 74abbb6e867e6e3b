"""After an answer is written: conflicting reports, its "as of" date, and a stale warning.

The engine calls :func:`annotate_answer` on every answer it did not refuse (and
``timeline.py`` calls the same parts for timelines). Everything here is code over the
passages the answer was built from; the model is not asked again. What is added to the
text is added as separate paragraphs with fixed leads, so the terminal can draw them as a
table instead (:func:`split_notes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant import asof
from assistant.answer import Answer, Citation
from assistant.backends.base import ContextPassage
from assistant.conflicts import Report, find_conflicts, keyed_conflicts, relevant_conflicts
from assistant.developments import Conflict, ReportedValue, format_day
from assistant.documents import Passage
from assistant.settings import DevelopingSettings
from assistant.topics import StoryArticle, group_stories, story_for

CONFLICT_LEAD = "Reports differ on "
NOTE_LEADS = (CONFLICT_LEAD, asof.AS_OF_LEAD, asof.STALE_LEAD)


@dataclass
class ArticleText:
    """One article as far as an answer read it: its retrieved chunks, in article order."""

    article_id: str
    chunks: list[Passage] = field(default_factory=list)

    @property
    def first(self) -> Passage:
        return self.chunks[0]

    @property
    def text(self) -> str:
        return "\n\n".join(c.text for c in sorted(self.chunks, key=lambda c: c.start))

    @property
    def lead_known(self) -> bool:
        return any(c.start == 0 for c in self.chunks)

    def story_article(self) -> StoryArticle:
        p = self.first
        return StoryArticle(p.article_id, p.title, p.source, p.published, self.text,
                            self.lead_known)


def group_articles(passages: Sequence[Passage]) -> list[ArticleText]:
    """Chunks grouped by article, articles in order of their best chunk, chunks once each."""
    articles: dict[str, ArticleText] = {}
    seen: set[str] = set()
    for passage in passages:
        if passage.chunk_id in seen:
            continue
        seen.add(passage.chunk_id)
        articles.setdefault(passage.article_id, ArticleText(passage.article_id)).chunks.append(
            passage)
    return list(articles.values())


def story_articles(question: str, articles: Sequence[ArticleText],
                   anchor: str | None = None) -> list[ArticleText]:
    """The articles of one story: the one holding ``anchor`` (an article id), else the one
    the question names (see ``topics.story_for``)."""
    if not articles:
        return []
    described = [a.story_article() for a in articles]
    groups = group_stories(described)
    if anchor is not None:
        for group in groups:
            if any(articles[i].article_id == anchor for i in group):
                return [articles[i] for i in group]
    return [articles[i] for i in story_for(question, described, groups)]


def citation_for(article: ArticleText, n: int, passage: str) -> Citation:
    p = article.first
    return Citation(n=n, article_id=p.article_id, title=p.title, source=p.source,
                    published=p.published, url=p.url, passage=passage,
                    chunk_ids=[c.chunk_id for c in article.chunks],
                    also_reported_by=list(p.copies))


# -- notes -------------------------------------------------------------------------------------
def _report(value: ReportedValue) -> str:
    return f"{value.source or 'unknown source'}, {format_day(value.date)} [{value.citation}]"


def conflict_note(conflict: Conflict) -> str:
    """One paragraph: every value with who reported it, when and the citation; newest first."""
    by_value: dict[str, list[ReportedValue]] = {}
    for value in conflict.values:
        by_value.setdefault(value.value, []).append(value)
    parts = [f"{value} ({'; '.join(_report(v) for v in reports)})"
             for value, reports in by_value.items()]
    what = conflict.what if conflict.kind == "actor" else f"the {conflict.what}"
    if conflict.latest is None:
        return (f"{CONFLICT_LEAD}{what}, and the newest reports disagree: "
                f"{_join(parts)}.")
    return (f"{CONFLICT_LEAD}{what}: the latest report gives {parts[0]}; earlier "
            f"reports gave {_join(parts[1:])}.")


def _join(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def compose(body: str, conflicts: Sequence[Conflict], as_of: date | None,
            stale_since: date | None, today: date) -> str:
    """The answer's text: the body, then one paragraph per conflict, then the as-of line."""
    paragraphs = [body.rstrip()] + [conflict_note(c) for c in conflicts]
    tail = []
    if as_of is not None:
        tail.append(asof.as_of_line(as_of))
    if stale_since is not None:
        tail.append(asof.stale_line(stale_since, today))
    if tail:
        paragraphs.append(" ".join(tail))
    return "\n\n".join(p for p in paragraphs if p)


def split_notes(text: str) -> tuple[str, list[str]]:
    """(the body, the note paragraphs) of a composed answer text."""
    paragraphs = text.split("\n\n")
    body = [p for p in paragraphs if not p.startswith(NOTE_LEADS)]
    notes = [p for p in paragraphs if p.startswith(NOTE_LEADS)]
    return "\n\n".join(body), notes


# -- the hook ----------------------------------------------------------------------------------
def cite_conflicts(conflicts: Sequence[Conflict], articles: Sequence[ArticleText],
                   citations: list[Citation]) -> None:
    """Point every reported value at a citation of the answer, adding sources as needed.

    Before this, ``ReportedValue.citation`` is the index of the article in ``articles``.
    """
    by_article = {c.article_id: c.n for c in citations}
    for conflict in conflicts:
        for value in conflict.values:
            article = articles[value.citation]
            n = by_article.get(article.article_id)
            if n is None:
                n = len(citations) + 1
                citations.append(citation_for(article, n, value.sentence))
                by_article[article.article_id] = n
            value.citation = n


def story_conflicts(articles: Sequence[ArticleText]) -> list[Conflict]:
    """Conflicts among articles of one story; value citations index ``articles``."""
    reports = [Report(i, a.article_id, a.first.source, a.first.published, a.text)
               for i, a in enumerate(articles)]
    return find_conflicts(reports)


def annotate_answer(answer: Answer, question: str, context: Sequence[ContextPassage],
                    wide: Sequence[Passage], today: date, settings: DevelopingSettings
                    ) -> None:
    """Add conflicts (about what the question asks), the as-of date and a stale warning."""
    if answer.refused:
        return
    passages = [c for source in context for c in (source.chunks or [source.passage])]
    articles = group_articles([*passages, *wide])
    # The story the question names (else the most relevant article's), not the one the model
    # happened to cite first: a model that strays into a look-alike must not take the
    # conflicts with it.
    story = story_articles(question, articles)
    conflicts: list[Conflict] = []
    if settings.conflict_passages and len(story) > 1:
        reports = [Report(i, a.article_id, a.first.source, a.first.published, a.text)
                   for i, a in enumerate(story)]
        keyed = keyed_conflicts(reports)
        conflicts = relevant_conflicts(keyed, question,
                                       [f for report in reports for f in report.facts])
        cite_conflicts(conflicts, story, answer.citations)
    finish(answer, answer.text, conflicts, [a.first.published for a in story], question,
           today, settings)


def finish(answer: Answer, body: str, conflicts: Sequence[Conflict],
           relevant_days: Sequence[date | None], question: str, today: date,
           settings: DevelopingSettings) -> None:
    """Set conflicts, as_of and stale on ``answer`` and compose its text from ``body``."""
    answer.conflicts = list(conflicts)
    answer.as_of = asof.newest(c.published for c in answer.citations)
    # How current the articles are is judged on the question's story: a cited article of
    # another story (a model straying into a look-alike) says nothing about it.
    newest_relevant = asof.newest(relevant_days) or answer.as_of
    answer.stale = asof.is_stale(question, newest_relevant, today, settings.stale_days)
    answer.text = compose(body, answer.conflicts, answer.as_of,
                          newest_relevant if answer.stale else None, today)

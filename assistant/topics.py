"""Group articles into stories: one developing event, told by several outlets over several days.

Two floods in two countries read alike to an embedder ("floods", "death toll", "state of
emergency"); what tells them apart is who and where: the places, people and organisations
they name. So articles are linked when their leads (title and first sentences) name the same
proper-noun phrase and they agree on more than one name, or name it in both titles.

Written by hand: the names are capitalised phrases found with a regular expression; a named
entity recogniser (spaCy and the like) would need a model download this project cannot do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant.textutils import split_sentences

MAX_STORY_DAYS = 60  # articles further apart than this are not one developing story

_WORD = r"[A-Z][\w’'.-]*[\w’']|[A-Z]"
_PHRASE = re.compile(
    rf"(?:{_WORD})(?:\s+(?:of|the|de|del|van|von|al|la|le)\s+(?:{_WORD})|\s+(?:{_WORD}))*"
)
_UPPER_WORD = re.compile(r"\b[A-Z][A-Z’'-]+\b")
# "HARBOR CITY (Global Wire) — The river ...": the place, then the story's first sentence.
_DATELINE = re.compile(r"^\s*([A-Z][A-Z .'’-]{1,40}?)(?:,[^—–\n]{0,30})?\s*(?:\([^)]{1,40}\))?"
                       r"\s*[—–]\s*")
# Capitalised words that name no one: function words, calendar words, titles before names.
_NOT_NAMES = frozenset(
    """a an the in on at of for to from by with and or but as after before since until this
    that these those it its he she they we i his her their our there here when where while
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december mr mrs ms dr sir mayor president
    minister prime chancellor governor captain capt officer police says said new""".split()
)


def _normalise(phrase: str) -> str:
    phrase = re.sub(r"[’']s$", "", phrase.strip(" .,'’-"))
    words = phrase.split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    while words and words[-1].lower() in _NOT_NAMES:
        words = words[:-1]
    return " ".join(words)


def _mostly_capitalised(title: str) -> bool:
    words = [w for w in title.split() if w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) / len(words) > 0.6


def names_in(text: str, outlets: Iterable[str] = ()) -> set[str]:
    """The proper-noun phrases of ``text`` ("Harbor City", "Dockers' Union of Keld").

    A capitalised word that opens a sentence counts only when the text also capitalises it
    elsewhere ("Rescuers searched ..." names no one). Outlet names are dropped: a wire story
    credits "Global Wire" whatever it is about.
    """
    skip = {o.strip().lower() for o in outlets if o.strip()}
    found: set[str] = set()
    dateline = _DATELINE.match(text)
    if dateline:
        found.add(" ".join(w.capitalize() for w in dateline[1].split()))
        text = text[dateline.end():]
    text = _UPPER_WORD.sub(lambda m: m[0].capitalize() if len(m[0]) > 1 else m[0], text)
    sentence_openers: set[str] = set()
    for sentence in split_sentences(text) or [text]:
        for match in _PHRASE.finditer(sentence):
            name = _normalise(match[0])
            if not name or name.lower() in skip or len(name) < 2:
                continue
            opener = sentence[: match.start()].strip(" \"“'‘(") == ""
            if opener and " " not in name:
                sentence_openers.add(name)
                continue
            found.add(name)
    mid_sentence_words = {w for name in found for w in name.split()}
    found |= {w for w in sentence_openers if w in mid_sentence_words}
    return found


@dataclass
class StoryArticle:
    """What story grouping needs to know about one article."""

    id: str
    title: str
    source: str
    published: date | None
    text: str  # the article's text as far as it is known (e.g. its retrieved chunks, in order)
    lead_known: bool = True  # ``text`` starts at the article's beginning
    lead_names: set[str] = field(default_factory=set)
    title_names: set[str] = field(default_factory=set)
    all_names: set[str] = field(default_factory=set)


def describe(articles: Sequence[StoryArticle]) -> None:
    """Fill in each article's names (outlets of all the articles are ignored as names)."""
    outlets = {a.source for a in articles}
    for article in articles:
        title = "" if _mostly_capitalised(article.title) else article.title
        article.title_names = names_in(title, outlets) if title else set()
        lead = " ".join(split_sentences(article.text)[:2]) if article.lead_known else ""
        article.lead_names = article.title_names | names_in(lead, outlets)
        article.all_names = article.lead_names | names_in(article.text, outlets)


def same_story(a: StoryArticle, b: StoryArticle) -> bool:
    """Do two described articles tell the same story?"""
    if a.published and b.published and abs((a.published - b.published).days) > MAX_STORY_DAYS:
        return False
    if a.id == b.id:
        return True
    shared_lead = (a.lead_names & b.all_names) | (b.lead_names & a.all_names)
    if not shared_lead:
        return False
    return len(a.all_names & b.all_names) >= 2 or bool(shared_lead & a.title_names
                                                        & b.title_names)


def group_stories(articles: Sequence[StoryArticle]) -> list[list[int]]:
    """Indices of ``articles`` grouped into stories (linked transitively), each in input
    order; stories ordered by their first article (input order = relevance order)."""
    describe(articles)
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(articles)):
        for j in range(i + 1, len(articles)):
            if root(i) != root(j) and same_story(articles[i], articles[j]):
                parent[max(root(i), root(j))] = min(root(i), root(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(articles)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def names_missing(question: str, texts: Iterable[str]) -> bool:
    """The question names someone or somewhere ("the Port of Keld") and no text mentions any
    of those names (every word of a name, in any case)."""
    asked = names_in(question)
    if not asked:
        return False
    words = {w.lower() for text in texts for w in re.findall(r"[\w’']+", text)}
    return not any(all(w.lower() in words for w in name.split()) for name in asked)


def story_for(question: str, articles: Sequence[StoryArticle],
              groups: Sequence[Sequence[int]]) -> list[int]:
    """The story the question is about: the one naming the question's names (most of them),
    else the one holding the most relevant article (the first)."""
    if not groups:
        return []
    asked = {n.lower() for n in names_in(question)}
    if asked:
        def named(group: Sequence[int]) -> int:
            names = {n.lower() for i in group for n in articles[i].all_names}
            words = {w for n in names for w in n.split()}
            return sum(1 for n in asked if n in names or all(w in words for w in n.split()))

        best = max(named(g) for g in groups)
        if best:
            return list(next(g for g in groups if named(g) == best))
    return list(groups[0])

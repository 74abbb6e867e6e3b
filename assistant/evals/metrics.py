"""Evaluation metrics: pure functions over plain values, no index or model involved.

Every rate returns ``None`` when no case qualifies for it (e.g. refusal accuracy of a suite
without unanswerable cases), so "not measured" is never mistaken for 0 or 1.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

from assistant.citations import MARKER

_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u00a0'](?=\d{3}(?!\d))")  # 2,500 / 2 500 -> 2500
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")
_ARTICLES = frozenset({"a", "an", "the"})


def normalise_answer(text: str) -> str:
    """Lower-case words of ``text`` for matching answers.

    Citation markers are removed, accents stripped, digit group separators dropped ("2,500" ->
    "2500"), punctuation and symbols become spaces (a decimal point between digits is kept),
    and the articles a/an/the are removed.
    """
    text = MARKER.sub(" ", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _THOUSANDS.sub("", text.lower())
    text = _DECIMAL.sub("\0", text)  # protect decimal points from the punctuation pass
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    words = [w for w in text.replace("\0", ".").split() if w not in _ARTICLES]
    return " ".join(words)


def answer_matches(text: str, accepted: Iterable[str]) -> bool:
    """True when some accepted variant, normalised, occurs in the normalised text as whole words.

    The strict match of RealTimeQA's open answers (the right option's text contained in the
    answer after :func:`normalise_answer`). One known difference from the scorer behind the
    published 2026 figures: that one deletes non-ASCII characters, so a typographic apostrophe
    joins words ("O’Brien" -> "obrien") where ASCII "'" splits them ("o brien"); here both
    split, so "Conan O'Brien" matches "Conan O’Brien".
    """
    haystack = f" {normalise_answer(text)} "
    for variant in accepted:
        needle = normalise_answer(variant)
        if needle and f" {needle} " in haystack:
            return True
    return False


# -- the lenient open-answer score -------------------------------------------------------------
# Small words that carry no answer; deliberately short (unlike the retrieval stopwords, which
# drop "one", "first", "not" and the like, all of which can be an answer or change it).
FUNCTION_WORDS = frozenset(
    "a an the of in on at to for with by from and or as is was are were be been being it its "
    "this that these those into onto than s".split()
)
LENIENT_COVERAGE = 0.5  # the best option must have more than this share of its words covered


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer, the stemmer of assistant.textutils too

    return Stemmer.Stemmer("english")


# Roman numerals of sequels, missions and monarchs ("Artemis II", "King Charles III"), 2 to 20.
# Not I, V, X (a pronoun, a letter, a platform) nor XI (a surname).
_ROMAN = {numeral: str(value) for value, numeral in enumerate(
    "- - ii iii iv - vi vii viii ix - - xii xiii xiv xv xvi xvii xviii xix xx".split())
    if numeral != "-"}


def lenient_terms(text: str) -> list[str]:
    """The words of ``text`` for the lenient score: normalised, numbers written as words or
    roman numerals turned into digits ("four" -> "4", "twenty-five" -> "25"; text2num;
    "Artemis II" -> "artemis 2"), function words dropped, the rest stemmed ("astronauts" ->
    "astronaut")."""
    # threshold 0: single small numbers too ("one" -> "1"), the same on both sides
    words = alpha2digit(normalise_answer(text), "en", threshold=0)
    kept = [_ROMAN.get(w, w) for w in words.split() if w not in FUNCTION_WORDS]
    stems = _stemmer().stemWords(kept)
    return [w if w[0].isdigit() else s for w, s in zip(kept, stems, strict=True)]


@dataclass(frozen=True)
class OptionOverlap:
    """How well an answer matches one option: the share of the option's words it contains
    (``coverage``) and the token-overlap F1 of the two."""

    coverage: float
    f1: float


def option_overlaps(text: str, choices: Sequence[str], question: str = "") -> list[OptionOverlap]:
    """:class:`OptionOverlap` of ``text`` with each choice, on :func:`lenient_terms`.

    Words of an option that the question already contains, or that every option contains, are
    not counted (an answer that repeats them says nothing about which option it means), unless
    that would leave the option with no words at all.
    """
    answer_set = set(lenient_terms(text))
    options = [set(lenient_terms(choice)) for choice in choices]
    shared = set.intersection(*options) if len(options) > 1 else set()
    asked = set(lenient_terms(question)) | shared
    overlaps = []
    for terms in options:
        terms = (terms - asked) or terms
        common = len(terms & answer_set)
        if not terms or not common:
            overlaps.append(OptionOverlap(0.0, 0.0))
            continue
        coverage = common / len(terms)
        precision = common / len(answer_set)
        overlaps.append(OptionOverlap(coverage, 2 * coverage * precision / (coverage + precision)))
    return overlaps


def lenient_matches(text: str, choices: Sequence[str], answer_index: int,
                    question: str = "") -> bool:
    """The lenient open-answer score: strict match, or the right option is the answer's best
    match among the choices.

    Best match: the answer covers a larger share of the right option's words than of any
    other option's (ties broken by token F1, a tie on both is no match), and more than half
    of them (so "Stephen Nolan" is no match for "Stephen Colbert"). Words are compared as
    :func:`lenient_terms` (numbers as digits, any order, function words dropped, stemmed), so
    "four astronauts" matches "4" and "cheddar cheese made with raw milk" matches "Raw cheddar
    cheese".
    """
    if answer_matches(text, [choices[answer_index]]):
        return True
    overlaps = option_overlaps(text, choices, question)
    right = overlaps[answer_index]
    if right.coverage <= LENIENT_COVERAGE:
        return False
    best = (right.coverage, right.f1)
    return all((o.coverage, o.f1) < best for i, o in enumerate(overlaps) if i != answer_index)


def reason_kind(reason: str) -> str:
    """A refusal reason without its particulars: "no passage is about the question (best
    similarity 0.19, ...)" -> "no passage is about the question"."""
    kind = re.split(r"\s*[(:;]", reason.strip(), maxsplit=1)[0].strip().rstrip(".")
    return kind or "no reason given"


@dataclass(frozen=True)
class ArticleKey:
    """What identifies an article for scoring: its id, url and title."""

    id: str
    url: str = ""
    title: str = ""

    def matches(self, expected: str) -> bool:
        """An expected article names this one by its id, its url or its exact title."""
        wanted = expected.strip()
        return bool(wanted) and wanted in {self.id, self.url, self.title.strip()} - {""}


def distinct(articles: Iterable[ArticleKey]) -> list[ArticleKey]:
    """Articles in first-seen order, each once (a retrieval returns several chunks of one)."""
    seen: dict[str, ArticleKey] = {}
    for article in articles:
        seen.setdefault(article.id, article)
    return list(seen.values())


def _expected_hit(article: ArticleKey, expected: Sequence[str]) -> bool:
    return any(article.matches(e) for e in expected)


def first_relevant_rank(retrieved: Sequence[ArticleKey], expected: Sequence[str]) -> int | None:
    """1-based rank, among the distinct retrieved articles, of the first expected one."""
    for rank, article in enumerate(distinct(retrieved), start=1):
        if _expected_hit(article, expected):
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of cases whose first expected article is ranked k or better."""
    if not ranks:
        return None
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank over cases; a case with no expected article retrieved counts 0."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


def citation_precision(cited: Sequence[ArticleKey], expected: Sequence[str]) -> float | None:
    """Share of the distinct cited articles that are expected; None when nothing is cited."""
    articles = distinct(cited)
    if not articles:
        return None
    return sum(1 for a in articles if _expected_hit(a, expected)) / len(articles)


def citation_recall(cited: Sequence[ArticleKey], expected: Sequence[str]) -> float | None:
    """Share of the expected articles that some citation names; None when none is expected."""
    wanted = list(dict.fromkeys(e.strip() for e in expected if e.strip()))
    if not wanted:
        return None
    articles = distinct(cited)
    return sum(1 for e in wanted if any(a.matches(e) for a in articles)) / len(wanted)


def rate(flags: Sequence[bool]) -> float | None:
    """Share of True values (None for no values)."""
    return sum(1 for f in flags if f) / len(flags) if flags else None


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the values that are not None (None if there are none)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating linearly between the closest ranks.

    Same definition as numpy's default: position ``(n - 1) * q / 100`` in the sorted values.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

"""Small text tools shared by context building, verification and the extractive backend."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*\d|\d")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")

# Function words carry no evidence: they match everywhere.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also said says say according many much what's who's whose did does told tell
    last first new one two year years week weeks month months day days today yesterday
    recently""".split()
)


# News abbreviations that NLTK's English Punkt model lacks ("Gov. Walz", "Sgt. Smith", the AP
# state abbreviations it misses); the ones it has (U.S., Feb., Sen., Calif., ...) are kept.
_EXTRA_ABBREVIATIONS = frozenset(
    "gov sgt capt cmdr supt dept univ assn mt rev atty ark md mass mont neb wyo ind".split()
)


@lru_cache(maxsize=1)
def _sentence_splitter() -> Callable[[str], list[str]]:
    """NLTK's Punkt with its trained English model (bundled with llama-index).

    llama-index's own ``split_by_sentence_tokenizer`` uses an *untrained* Punkt, which knows no
    abbreviation and splits "The average life expectancy in the U.S. | is 79", "arrested on
    Feb. | 19" and "Mr. | Smith": the answer of many a US news question lost its subject.
    """
    from llama_index.core.utils import globals_helper
    from nltk.data import find
    from nltk.tokenize.punkt import PunktSentenceTokenizer, load_punkt_params

    from assistant.chunking import _use_bundled_tiktoken

    _use_bundled_tiktoken()
    globals_helper.punkt_tokenizer  # noqa: B018 (puts llama-index's NLTK data on NLTK's path)
    params = load_punkt_params(find("tokenizers/punkt_tab/english/"))
    params.abbrev_types.update(_EXTRA_ABBREVIATIONS)
    return PunktSentenceTokenizer(params).tokenize


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage (NLTK punkt via llama-index; paragraph breaks also split)."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        for sentence in _sentence_splitter()(paragraph):
            cleaned = re.sub(r"\s+", " ", sentence.replace("\xa0", " ")).strip()
            if cleaned:
                sentences.append(cleaned)
    return sentences


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def content_terms(text: str) -> list[str]:
    """Stemmed, lower-cased content words and normalised numbers, in order."""
    words = [w.strip("'’-").lower() for w in _WORD.findall(text)]
    words = [w for w in words if w and w not in STOPWORDS]
    stems = _stemmer().stemWords([w for w in words if not w[0].isdigit()])
    out, it = [], iter(stems)
    for word in words:
        out.append(normalise_number(word) if word[0].isdigit() else next(it))
    return out


def normalise_number(token: str) -> str:
    return token.replace(",", "").rstrip(".")


def numbers(text: str) -> set[str]:
    """Numbers written in the text, normalised ("2,500" -> "2500")."""
    return {normalise_number(n) for n in _NUMBER.findall(text)}


NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SPELLED = re.compile(rf"\b(?:{'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)


def spelled_numbers(text: str) -> set[str]:
    """Numbers written as words, as digits ("killing seven people" -> {"7"})."""
    return {str(NUMBER_WORDS[m[0].lower()]) for m in _SPELLED.finditer(text)}


def clip_words(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` words, marked with an ellipsis when cut."""
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " …"


def clip_line(text: str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters (tables cannot hold paragraphs)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def estimate_tokens(text: str) -> int:
    """Rough LLM token count (~0.75 words a token) without loading a tokenizer."""
    return int(len(text.split()) * 1.35) + 1

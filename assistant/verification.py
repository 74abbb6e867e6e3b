"""Check every sentence of an answer against the passage it cites.

Support mixes two signals: the share of the sentence's content words (and numbers) found in
the passage, and the embedding similarity of the sentence to the passage's closest sentence.
A number the passage does not contain halves the score: a wrong figure is the typical
hallucination of a small model, and similarity alone cannot see it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np

from assistant.backends.base import ContextPassage
from assistant.citations import Claim
from assistant.embedders import Embedder
from assistant.textutils import content_terms, numbers, spelled_numbers

_REFUSAL_PATTERNS = re.compile(
    r"cannot answer|can't answer|can not answer|unable to answer|"
    r"(?:do|does|did) not (?:contain|mention|provide|include|say|state|specify)|"
    r"no (?:information|mention|details?) (?:about|on|of|regarding)|"
    r"not (?:mentioned|provided|stated|specified|available) in",
    re.IGNORECASE,
)


def _date_numbers(published: date | None) -> set[str]:
    """The numbers of an article's date: answers are asked to say when things happened, and
    "In an article of 10 March 2023" must not count as an invented figure."""
    if published is None:
        return set()
    return numbers(published.isoformat()) | {str(published.day), str(published.month),
                                              str(published.year)}


def looks_like_refusal(text: str) -> bool:
    return bool(_REFUSAL_PATTERNS.search(text))


class Verifier:
    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def support_matrix(
        self, claims: Sequence[Claim], context: Sequence[ContextPassage], question: str = ""
    ) -> np.ndarray:
        """support[i, j]: how well context passage j supports claim i (0..1).

        With the ``question``, what a claim repeats of it is not evidence either way: the
        words are judged on what the claim adds (its answer), and a number the question
        gives ("the Super Bowl on February 8") is not an invented one.
        """
        matrix = np.zeros((len(claims), len(context)), dtype=np.float32)
        if not claims or not context:
            return matrix
        asked_terms = set(content_terms(question))
        asked_numbers = numbers(question) | spelled_numbers(question)
        claim_vectors = self.embedder.embed([c.text for c in claims])
        for j, source in enumerate(context):
            sentences = source.sentences or [source.text]
            similarity = (claim_vectors @ self.embedder.embed(sentences).T).max(axis=1)
            evidence_terms = set(content_terms(f"{source.passage.title} {source.text}"))
            evidence_numbers = (numbers(source.text) | numbers(source.passage.title)
                                | spelled_numbers(source.text)  # "seven" supports "7"
                                | _date_numbers(source.passage.published))
            for i, claim in enumerate(claims):
                terms = set(content_terms(claim.text))
                terms = (terms - asked_terms) or terms  # a bare restatement: all its words
                lexical = len(terms & evidence_terms) / len(terms) if terms else 1.0
                score = 0.5 * lexical + 0.5 * float(max(similarity[i], 0.0))
                if numbers(claim.text) - evidence_numbers - asked_numbers:
                    score *= 0.5
                matrix[i, j] = score
        return matrix

    def check(self, claims: list[Claim], context: Sequence[ContextPassage],
              question: str = "") -> list[Claim]:
        """Score each claim (against what it adds to ``question``); re-cite a claim whose
        support lies in another passage, cite an uncited one when a passage supports it, and
        flag the rest as unsupported."""
        matrix = self.support_matrix(claims, context, question)
        numbers_by_index = [p.n for p in context]
        for i, claim in enumerate(claims):
            if looks_like_refusal(claim.text):
                claim.cited, claim.supported, claim.support = [], True, None
                continue
            cited_cols = [numbers_by_index.index(n) for n in claim.cited]
            own = max((float(matrix[i, j]) for j in cited_cols), default=0.0)
            best_col = int(matrix[i].argmax()) if len(context) else -1
            best = float(matrix[i, best_col]) if best_col >= 0 else 0.0
            if own >= self.min_support:
                claim.support = own
                claim.cited = [n for n, j in zip(claim.cited, cited_cols, strict=True)
                               if matrix[i, j] >= self.min_support] or claim.cited
            elif best >= self.min_support:
                claim.support = best
                claim.cited = [numbers_by_index[best_col]]
                claim.repaired = True
            else:
                claim.support = max(own, best)
                claim.supported = False
        return claims

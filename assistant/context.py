"""Build the compact, numbered context an LLM reads: the most relevant sentences, not chunks.

The local model reads ~80 tokens a second, so every sentence in the prompt costs time to the
first word of the answer. Sentences are scored against the question (embedding similarity plus
the share of the question's words they contain), the best are kept within a token budget, and
they are grouped by article, one numbered source per article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.backends.base import ContextPassage
from assistant.documents import Passage, normalise_text
from assistant.embedders import Embedder
from assistant.textutils import clip_words, content_terms, estimate_tokens, split_sentences

HEADER_TOKENS = 18  # "[n] title (source, date)"
_SENTENCE_WORDS = int(90 / 1.35)  # ~90 tokens: a run-on "sentence" (tables, lists) is cut


@dataclass
class _Candidate:
    article: int  # index into the article order
    chunk: Passage
    position: int  # order inside the article (chunk start, then sentence)
    text: str
    score: float = 0.0


def lexical_coverage(question_terms: set[str], text: str) -> float:
    """Share of the question's content words found in ``text``."""
    if not question_terms:
        return 0.0
    return len(question_terms & set(content_terms(text))) / len(question_terms)


def build_context(
    question: str,
    passages: Sequence[Passage],
    embedder: Embedder,
    budget_tokens: int,
    max_sources: int = 4,
) -> list[ContextPassage]:
    """Numbered sources (1..n, best first) holding the best sentences within the budget."""
    if not passages:
        return []
    articles: list[str] = []
    candidates: list[_Candidate] = []
    seen: set[str] = set()
    for chunk in passages:
        if chunk.article_id not in articles:
            articles.append(chunk.article_id)
        article = articles.index(chunk.article_id)
        for i, sentence in enumerate(split_sentences(chunk.text)):
            key = normalise_text(sentence).lower()
            if key in seen or len(sentence) < 12:
                continue  # overlapping chunks repeat sentences; fragments carry no answer
            seen.add(key)
            candidates.append(_Candidate(article, chunk, chunk.start * 1000 + i,
                                         clip_words(sentence, _SENTENCE_WORDS)))
    if not candidates:
        return []

    question_terms = set(content_terms(question))
    vectors = embedder.embed([c.text for c in candidates])
    similarity = vectors @ embedder.embed_query(question)
    for candidate, sim in zip(candidates, similarity, strict=True):
        coverage = lexical_coverage(question_terms, candidate.text)
        # Retrieval order is a prior: the fused ranking saw the whole chunk, not one sentence.
        prior = 0.05 / (1 + candidate.article)
        candidate.score = float(sim) + 0.5 * coverage + prior

    chosen: list[_Candidate] = []
    used = 0
    sources: set[int] = set()
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
        header = 0 if candidate.article in sources else HEADER_TOKENS
        cost = estimate_tokens(candidate.text) + header
        if candidate.article not in sources and len(sources) >= max_sources:
            continue
        if used + cost > budget_tokens and chosen:
            continue
        chosen.append(candidate)
        sources.add(candidate.article)
        used += cost

    by_article: dict[int, list[_Candidate]] = {}
    for candidate in chosen:
        by_article.setdefault(candidate.article, []).append(candidate)
    ordered = sorted(by_article.items(), key=lambda kv: -max(c.score for c in kv[1]))
    context = []
    for n, (article, picked) in enumerate(ordered, start=1):
        picked.sort(key=lambda c: c.position)
        chunks = [p for p in passages if p.article_id == articles[article]]
        context.append(
            ContextPassage(
                n=n,
                passage=chunks[0],
                text=" ".join(c.text for c in picked),
                sentences=[c.text for c in picked],
                scores=[c.score for c in picked],
                chunks=chunks,
            )
        )
    return context


def best_relevance(question: str, passages: Sequence[Passage]) -> tuple[float, float]:
    """The strongest dense similarity and the best lexical coverage among the passages."""
    dense = max((p.dense or 0.0 for p in passages), default=0.0)
    terms = set(content_terms(question))
    coverage = max((lexical_coverage(terms, f"{p.title} {p.text}") for p in passages),
                   default=0.0)
    return float(dense), float(coverage)

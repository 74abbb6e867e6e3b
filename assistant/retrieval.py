"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank.

The fusion is written here rather than with llama-index's QueryFusionRetriever because that
one keys nodes by a hash of their content and metadata and overwrites their scores, while the
answer engine needs each passage's own dense similarity (an absolute relevance signal) to
decide when the articles do not hold the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from assistant.documents import Passage
from assistant.embedders import Embedder
from assistant.filters import SearchFilters
from assistant.stores.chroma import ChromaStore
from assistant.stores.keyword import KeywordIndex
from assistant.stories import one_copy_per_story


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Passage]], k: int = 60
) -> list[Passage]:
    """Merge ranked lists; each passage scores sum(1 / (k + rank)) and keeps every signal."""
    merged: dict[str, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            current = merged.get(passage.chunk_id)
            if current is None:
                current = merged[passage.chunk_id] = passage
                current.score = 0.0
            else:
                current.dense = current.dense if passage.dense is None else passage.dense
                current.lexical = current.lexical if passage.lexical is None else passage.lexical
            current.score += 1.0 / (k + rank)
    return sorted(merged.values(), key=lambda p: p.score, reverse=True)


def _by_score(rankings: Sequence[Sequence[Passage]],
              score: Callable[[Passage], float | None]) -> list[Passage]:
    """One ranking from several searches of the same kind (a chunk once, best score first)."""
    merged: dict[str, Passage] = {}
    for ranking in rankings:
        for passage in ranking:
            merged.setdefault(passage.chunk_id, passage)
    return sorted(merged.values(), key=lambda p: score(p) or 0.0, reverse=True)


class HybridRetriever:
    def __init__(
        self,
        store: ChromaStore,
        keyword: KeywordIndex,
        embedder: Embedder,
        candidates: int = 40,
        rrf_k: int = 60,
        prefer_boost: float = 0.0,
    ) -> None:
        self.store = store
        self.keyword = keyword
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.prefer_boost = prefer_boost

    def search(
        self,
        query: str,
        k: int,
        filters: SearchFilters | None = None,
        prefer: SearchFilters | None = None,
        all_copies: bool = False,
    ) -> list[Passage]:
        """Top ``k`` chunks for ``query`` within ``filters``.

        Copies of one story (a wire story printed by several outlets) count once: only the
        story's earliest article gives passages, the others are listed in ``Passage.copies``;
        ``all_copies`` returns every copy instead.

        ``prefer`` (e.g. the weeks before the reference date) runs the same two searches inside
        that narrower scope, so that its passages are candidates even when many others outrank
        them. Its results join the full-scope ones by their own scores (cosine similarity and
        BM25 are comparable across scopes), and the fused score of a preferred passage is then
        raised by ``prefer_boost``: a preferred passage wins against others about as relevant,
        not against clearly better ones. (Fusing the preferred scope's own rankings would give
        rank 1 to whatever passage that small scope holds, however unrelated.)
        """
        filters = filters or SearchFilters()
        vector = self.embedder.embed_query(query)
        depth = max(self.candidates, k)
        scopes = [filters] if prefer is None else [filters, prefer]
        dense = self.store.query_scopes(vector, depth, scopes, share=self.keyword.share)
        lexical = [self.keyword.search(query, depth, scope) for scope in scopes]
        fused = reciprocal_rank_fusion(
            [_by_score(dense, lambda p: p.dense), _by_score(lexical, lambda p: p.lexical)],
            self.rrf_k,
        )
        if prefer is not None and self.prefer_boost:
            for passage in fused:
                if prefer.admits(passage.source, passage.published):
                    passage.score *= 1.0 + self.prefer_boost
            fused.sort(key=lambda p: p.score, reverse=True)
        if not all_copies:
            fused = one_copy_per_story(fused, self.store, vector, filters)
        fused = fused[:k]
        self._fill_dense(fused, vector)
        return fused

    def _fill_dense(self, passages: list[Passage], vector: np.ndarray) -> None:
        """Give keyword-only hits their cosine similarity too, so every result has one."""
        missing = [p.chunk_id for p in passages if p.dense is None]
        if not missing:
            return
        stored = self.store.vectors(missing)
        for passage in passages:
            if passage.dense is None and passage.chunk_id in stored:
                passage.dense = float(stored[passage.chunk_id] @ vector)

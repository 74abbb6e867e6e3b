"""BM25 keyword index (llama-index's BM25Retriever over bm25s), kept beside the vector store.

It is rebuilt from the store's chunks whenever the store's generation token differs from the
one it was built from, so it can never drift from Chroma (after a crash, a ``remove``, or a
write by another client of the same Chroma server).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.documents import Passage
from assistant.filters import SearchFilters
from assistant.stores.chroma import passage_from_metadata

logging.getLogger("bm25s").setLevel(logging.ERROR)

_STATE = "assistant-state.json"


class KeywordIndex:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._retriever: Any = None
        self._days = np.zeros(0, dtype=np.int64)
        self._sources = np.zeros(0, dtype=object)
        self.generation: str | None = None

    @property
    def size(self) -> int:
        return len(self._days)

    def load(self, generation: str) -> bool:
        """Load the persisted index if it was built from ``generation``."""
        state_file = self.directory / _STATE
        if self.generation == generation:
            return True
        try:
            state = json.loads(state_file.read_text())
        except (OSError, ValueError):
            return False
        if state.get("generation") != generation:
            return False
        if state.get("size", 0) > 0:
            from llama_index.retrievers.bm25 import BM25Retriever

            try:
                self._retriever = BM25Retriever.from_persist_dir(
                    str(self.directory / "bm25"), show_progress=False
                )
            except Exception:  # a damaged index is rebuilt from the store
                return False
            self._set_arrays(self._retriever.corpus)
        else:
            self._retriever = None
            self._set_arrays([])
        self.generation = generation
        return True

    def build(self, chunks: Iterable[tuple[str, str, dict[str, Any]]], generation: str) -> None:
        from llama_index.core.schema import TextNode

        nodes = [
            TextNode(
                id_=chunk_id,
                text=text,
                metadata=meta,
                excluded_embed_metadata_keys=[k for k in meta if k != "title"],
                excluded_llm_metadata_keys=list(meta),
            )
            for chunk_id, text, meta in chunks
        ]
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if nodes:
            import Stemmer
            from llama_index.retrievers.bm25 import BM25Retriever

            retriever = BM25Retriever.from_defaults(
                nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="english",
                similarity_top_k=min(10, len(nodes)),
            )
            retriever.persist(str(tmp / "bm25"), show_progress=False)
            self._retriever = retriever
            self._set_arrays(retriever.corpus)
        else:
            self._retriever = None
            self._set_arrays([])
        (tmp / _STATE).write_text(json.dumps({"generation": generation, "size": len(nodes)}))
        # Swap in the new index whole, so a crash never leaves half of one.
        shutil.rmtree(self.directory, ignore_errors=True)
        tmp.rename(self.directory)
        self.generation = generation

    def _set_arrays(self, corpus: list[dict[str, Any]]) -> None:
        self._days = np.array([int(c.get("day", -1)) for c in corpus], dtype=np.int64)
        self._sources = np.array([str(c.get("source_key", "")) for c in corpus], dtype=object)

    def search(self, query: str, n: int, filters: SearchFilters) -> list[Passage]:
        if self._retriever is None or not query.strip():
            return []
        mask = filters.mask(self._days, self._sources)
        if mask is not None and not mask.any():
            return []
        retriever = self._retriever
        retriever.similarity_top_k = min(n, self.size)
        retriever.corpus_weight_mask = mask.astype(int).tolist() if mask is not None else None
        try:
            results = retriever.retrieve(query)
        finally:
            retriever.corpus_weight_mask = None
        passages = []
        for result in results:
            if not result.score or result.score <= 0:  # masked out or no shared term
                continue
            node = result.node
            passages.append(
                passage_from_metadata(node.node_id, node.get_content(), node.metadata,
                                      lexical=float(result.score))
            )
        return passages

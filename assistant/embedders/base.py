"""The embedder interface: texts in, L2-normalised float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str  # stored with the collection: vectors of different embedders never mix
    dim: int | None  # None while unknown (a remote embedder learns it from its first reply)
    parallel_chunks: int  # texts worth handing over at once (a remote one embeds concurrently)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages; returns an array of shape (len(texts), dim), rows of unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one question; a vector of unit length."""
        ...

"""Embedders, by name. A new one is a module with a class that satisfies ``Embedder``."""

from __future__ import annotations

from functools import lru_cache

from assistant.embedders.base import Embedder
from assistant.settings import Settings

__all__ = ["Embedder", "load_embedder"]


@lru_cache(maxsize=4)
def _minilm(threads: int, batch_size: int) -> Embedder:
    from assistant.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(threads=threads, batch_size=batch_size)


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder, loaded once per process."""
    return _minilm(settings.embed_threads, settings.embed_batch_size)

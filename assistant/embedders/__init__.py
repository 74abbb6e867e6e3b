"""Embedders, by name. A new one is a module with a class that satisfies ``Embedder``."""

from __future__ import annotations

from functools import lru_cache

from assistant.embedder_settings import EmbedderSettings
from assistant.embedders.base import Embedder
from assistant.settings import Settings

__all__ = ["Embedder", "load_embedder"]


@lru_cache(maxsize=4)
def _minilm(threads: int, batch_size: int) -> Embedder:
    from assistant.embedders.minilm import MiniLMEmbedder

    return MiniLMEmbedder(threads=threads, batch_size=batch_size)


_remote: dict[tuple[str, str], Embedder] = {}


def _openai(section: EmbedderSettings) -> Embedder:
    from assistant.embedders.openai_compat import OpenAIEmbedder

    key = section.api_key.get_secret_value() if section.api_key is not None else ""
    cache_key = (section.model_dump_json(exclude={"api_key"}), key)
    if cache_key not in _remote:
        _remote[cache_key] = OpenAIEmbedder(section)
    return _remote[cache_key]


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder, loaded once per process."""
    if settings.embedder.name == "openai":
        return _openai(settings.embedder)
    return _minilm(settings.embed_threads, settings.embed_batch_size)

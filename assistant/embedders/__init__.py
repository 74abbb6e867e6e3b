"""Embedders, created by name from ``assistant.registry.EMBEDDERS``.

A new embedder is a module with a ``create(settings: EmbedderSettings)`` function returning an
object that satisfies ``Embedder``, plus one line in the registry.
"""

from __future__ import annotations

from assistant.embedders.base import Embedder
from assistant.registry import EMBEDDERS
from assistant.settings import EmbedderSettings, Settings

__all__ = ["Embedder", "load_embedder"]

_LOADED: dict[str, Embedder] = {}


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedder, loaded once per process and configuration."""
    config: EmbedderSettings = settings.embedder
    # The key itself is not part of the cache key's text (model_dump_json masks it), so two
    # configurations differing only by key are told apart by its value.
    key = config.model_dump_json() + (config.api_key.get_secret_value() if config.api_key
                                       else "")
    embedder = _LOADED.get(key)
    if embedder is None:
        embedder = _LOADED[key] = EMBEDDERS.create(config.name, config)
    return embedder

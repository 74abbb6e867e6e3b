"""Answer backends, created by name from ``assistant.registry.BACKENDS``.

A new backend is one module with a ``create(settings) -> Backend`` function (usually a
ChatModel subclass wrapped by LLMBackend) plus one line in the registry.
"""

from __future__ import annotations

from assistant.backends.base import (
    AnswerRequest,
    Backend,
    ChatModel,
    Completion,
    ContextPassage,
    Message,
    TokenScores,
    Turn,
    Usage,
)
from assistant.registry import BACKENDS
from assistant.settings import Settings

__all__ = ["AnswerRequest", "Backend", "ChatModel", "Completion", "ContextPassage", "Message",
           "TokenScores", "Turn", "Usage", "create_backend"]


def create_backend(settings: Settings, name: str | None = None) -> Backend:
    """The backend called ``name`` (default: ``settings.answer.backend``)."""
    backend: Backend = BACKENDS.create(name or settings.answer.backend, settings)
    return backend

"""Answer backends by name: local (default), openai, extractive, fake.

A new backend is one module: a ChatModel subclass (wrapped by LLMBackend) or a Backend.
"""

from __future__ import annotations

from assistant.backends.base import AnswerRequest, Backend, ChatModel, ContextPassage, Turn
from assistant.backends.llm import LLMBackend
from assistant.errors import ConfigError
from assistant.settings import Settings

BACKENDS = ("local", "openai", "extractive", "fake")

__all__ = ["BACKENDS", "AnswerRequest", "Backend", "ChatModel", "ContextPassage", "Turn",
           "create_backend"]


def create_backend(settings: Settings, name: str | None = None) -> Backend:
    """The backend called ``name`` (default: ``settings.backend``)."""
    name = name or settings.backend
    if name == "local":
        from assistant.backends.local import LocalChatModel

        return LLMBackend(LocalChatModel(settings), settings)
    if name == "openai":
        from assistant.backends.openai_compat import OpenAIChatModel

        return LLMBackend(OpenAIChatModel(settings), settings)
    if name == "extractive":
        from assistant.backends.extractive import ExtractiveBackend

        return ExtractiveBackend()
    if name == "fake":
        from assistant.backends.fake import FakeChatModel

        return LLMBackend(FakeChatModel(), settings)
    raise ConfigError(f"unknown backend '{name}'; choose one of {', '.join(BACKENDS)}")

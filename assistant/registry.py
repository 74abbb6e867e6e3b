"""Named, lazily imported implementations: backends, embedders, stores, local runtimes.

Each registry maps a name to ``"module:attribute"`` and a one-line description. The settings'
allowed values, the CLI's help and the "unknown name" errors are all derived from it, so adding
an implementation is one module plus one line here. Nothing is imported until it is created:
the CLI starts fast and optional dependencies stay optional.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from assistant.errors import ConfigError


@dataclass(frozen=True)
class Entry:
    target: str  # "package.module:attribute"
    description: str


class Registry:
    """Name -> implementation, for one kind of component (``kind`` names it in messages)."""

    def __init__(self, kind: str, setting: str, entries: dict[str, Entry]) -> None:
        self.kind = kind
        self.setting = setting  # where the user chooses it, e.g. "answer.backend"
        self._entries = dict(entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def describe(self) -> str:
        """``a | b | c``: for the CLI's help."""
        return " | ".join(self._entries)

    def check(self, name: str) -> str:
        if name not in self._entries:
            raise ConfigError(self.unknown(name))
        return name

    def unknown(self, name: str) -> str:
        return (f"unknown {self.kind} {name!r}; {self.setting} must be one of "
                f"{', '.join(self._entries)}")

    def load(self, name: str) -> Any:
        """The implementation registered as ``name`` (imported now)."""
        entry = self._entries.get(self.check(name))
        assert entry is not None
        module, _, attribute = entry.target.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self.load(name)(*args, **kwargs)

    def entries(self) -> dict[str, Entry]:
        return dict(self._entries)


BACKENDS = Registry("backend", "answer.backend", {
    "local": Entry("assistant.backends.local:create",
                   "the packaged Qwen2.5-Coder-1.5B model, in process (default)"),
    "openai": Entry("assistant.backends.openai_compat:create",
                    "any OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp)"),
    "extractive": Entry("assistant.backends.extractive:create",
                        "no LLM: the best-supported sentences of the passages, cited"),
    "fake": Entry("assistant.backends.fake:create",
                  "deterministic word-overlap model, for tests"),
})

EMBEDDERS = Registry("embedder", "embedder.name", {
    "minilm": Entry("assistant.embedders.minilm:create",
                    "all-MiniLM-L6-v2, int8 ONNX, packaged (default)"),
    "openai": Entry("assistant.embedders.openai_compat:create",
                    "any OpenAI-compatible /v1/embeddings server"),
})

RUNTIMES = Registry("local model runtime", "local.runtime", {
    "llama-cpp-python": Entry(
        "assistant.backends.runtimes.llama_cpp_python:load",
        "llama.cpp compiled on install (pip install -e '.[native]'): the fastest"),
    "xllamacpp": Entry(
        "assistant.backends.runtimes.xllamacpp:load",
        "prebuilt llama.cpp wheel, installed by default: no compile, somewhat slower"),
})

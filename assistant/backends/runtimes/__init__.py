"""The engines that run the local GGUF model in process, behind one small interface.

Two are registered in ``assistant.registry.RUNTIMES``: the compiled ``llama-cpp-python`` (the
``native`` extra: fastest, but pip compiles llama.cpp on install) and ``xllamacpp`` (one prebuilt
wheel, installed by default). ``local.runtime = "auto"`` takes the first when it is importable.

A runtime holds one loaded model and context. It is not thread-safe: ``LocalChatModel`` gives
one call at a time exclusive use of it, which also lets consecutive prompts share the KV cache
of their common prefix.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assistant.backends.base import Message, TokenScores, Usage
from assistant.errors import BackendError
from assistant.registry import RUNTIMES

AUTO = "auto"
PREFERENCE = ("llama-cpp-python", "xllamacpp")  # fastest first, for ``auto``
_IMPORT_NAMES = {"llama-cpp-python": "llama_cpp", "xllamacpp": "xllamacpp"}


@dataclass(frozen=True)
class RuntimeConfig:
    """What a runtime needs to load the model."""

    path: Path
    threads: int
    context: int  # context window, in tokens


class Runtime(Protocol):
    """One loaded model. Every method is called by one thread at a time."""

    name: str

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the chat as the model's own template renders it (with the reply header)."""
        ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str]) -> Iterator[str | Usage]:
        """Text pieces of the reply and usage reports; closing the iterator stops generation.

        Consecutive prompts that share a prefix only evaluate the tokens after it.
        """
        ...

    def score_next_token(self, messages: Sequence[Message],
                         candidates: Sequence[str]) -> TokenScores | None:
        """Log-probabilities of each candidate as the first reply token, normalised over the
        candidates; None when a candidate is not a single token."""
        ...

    @property
    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens actually decoded so far (tokens reused from the cache not counted)."""
        ...

    def close(self) -> None:
        """Free the model (the runtime is unusable afterwards)."""
        ...


def available() -> list[str]:
    """Registered runtimes whose package is installed, fastest first."""
    names = [n for n in PREFERENCE if n in RUNTIMES] + [n for n in RUNTIMES
                                                       if n not in PREFERENCE]
    return [n for n in names if importlib.util.find_spec(_IMPORT_NAMES.get(n, n)) is not None]


def resolve(name: str) -> str:
    """The runtime ``name`` stands for: ``auto`` is the fastest installed one."""
    if name != AUTO:
        return RUNTIMES.check(name)
    installed = available()
    if not installed:
        raise BackendError(
            "no local model runtime is installed; run: pip install -e . (brings xllamacpp), or "
            "pip install -e '.[native]' for the faster compiled llama-cpp-python"
        )
    return installed[0]


def load_runtime(name: str, config: RuntimeConfig) -> Runtime:
    """Load the model with the runtime ``name`` (not ``auto``: resolve it first)."""
    runtime: Runtime = RUNTIMES.create(name, config)
    return runtime

"""The default LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF) run in process by llama.cpp, offline.

The engine is a runtime (``assistant.backends.runtimes``): the compiled llama-cpp-python when
it is installed, else the prebuilt xllamacpp (``local.runtime``). The model is loaded once per
process and shared by every ``LocalChatModel`` with the same runtime, file, thread count and
context size. Calls are serialised on it: llama.cpp keeps one KV cache, and consecutive prompts
that share a prefix (same system message and instructions) only evaluate the tokens after that
prefix, which is where most of the time of a CPU-only answer goes.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.backends.base import ChatModel, Completion, Message, TokenScores, Usage
from assistant.backends.llm import LLMBackend
from assistant.backends.runtimes import Runtime, RuntimeConfig, load_runtime, resolve
from assistant.errors import BackendError
from assistant.model_files import ensure_local_model
from assistant.settings import Settings


@dataclass(eq=False)
class _LoadedModel:
    """One runtime with its model, shared process-wide, plus who is using it."""

    runtime: Runtime
    context: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    owner: int | None = None  # thread id holding ``lock``
    turn: int = 0  # bumped by every call; a call whose turn has passed must not touch the model
    active: Iterator[Any] | None = None  # the runtime's stream of the current turn


_MODELS: dict[tuple[str, str, int, int], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            with contextlib.suppress(Exception):
                loaded.runtime.close()
        _MODELS.clear()


def _load(runtime: str, config: RuntimeConfig) -> _LoadedModel:
    """The process-wide model for this runtime, file and configuration, loaded on first use."""
    key = (runtime, str(config.path.resolve()), config.threads, config.context)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            loaded = _MODELS[key] = _LoadedModel(load_runtime(runtime, config), config.context)
        return loaded


class LocalChatModel(ChatModel):
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M in process; weights assembled under ``cache_dir``.

    Construction is cheap; the model file is prepared and loaded on first use (or ``load()``).
    """

    name = "local"
    supports_token_scores = True

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: _LoadedModel | None = None

    def load(self) -> None:
        """Prepare and load the model now (the very first call also assembles the file)."""
        if self._loaded is None:
            local = self.settings.local
            runtime = resolve(local.runtime)
            path = ensure_local_model(self.settings.cache_dir)
            self._loaded = _load(runtime, RuntimeConfig(path, local.threads, local.context))

    @property
    def runtime(self) -> Runtime:
        """The shared runtime (loaded if needed)."""
        return self._model().runtime

    def _model(self) -> _LoadedModel:
        self.load()
        assert self._loaded is not None
        return self._loaded

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        return Completion(self._generate(messages, max_tokens, temperature, stop))

    def score_next_token(
        self, messages: Sequence[Message], candidates: Sequence[str]
    ) -> TokenScores | None:
        loaded = self._model()
        turn = self._take_turn(loaded)
        try:
            self._check_length(loaded, messages)
            return loaded.runtime.score_next_token(messages, candidates)
        finally:
            self._end_turn(loaded, turn)

    def _check_length(self, loaded: _LoadedModel, messages: Sequence[Message]) -> int:
        """The prompt's token count, checked against the context window."""
        tokens = loaded.runtime.count_prompt_tokens(messages)
        if tokens >= loaded.context:
            raise BackendError(
                f"the prompt is {tokens} tokens but the local model's context is "
                f"{loaded.context}: lower context_tokens or raise llm_context "
                "(ASSISTANT_LLM_CONTEXT)"
            )
        return tokens

    def _generate(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
    ) -> Iterator[str | Usage]:
        loaded = self._model()
        turn = self._take_turn(loaded)
        pieces: Iterator[str | Usage] | None = None
        try:
            prompt_tokens = self._check_length(loaded, messages)
            yield Usage(prompt_tokens=prompt_tokens)
            pieces = loaded.runtime.stream(messages, max_tokens=max_tokens,
                                           temperature=temperature, stop=stop)
            loaded.active = pieces
            for piece in pieces:
                if isinstance(piece, Usage):
                    yield Usage(piece.prompt_tokens or prompt_tokens, piece.completion_tokens)
                else:
                    yield piece
            if loaded.turn != turn:
                raise BackendError(
                    "this reply was cut short by a newer request to the local model; ask again"
                )
        finally:
            # Runs at the end, on errors, and when the consumer closes us early: closing the
            # runtime's stream stops generation right there.
            if loaded.turn == turn:  # else a newer call of this thread took the model over
                if pieces is not None:
                    _close(pieces)
                loaded.active = None
                self._end_turn(loaded, turn)

    def _take_turn(self, loaded: _LoadedModel) -> int:
        """Get exclusive use of the shared model; returns this call's turn number."""
        me = threading.get_ident()
        if loaded.owner == me:
            # An earlier stream of this thread was abandoned without being closed: end it so
            # its generation cannot interleave with this one on the shared KV cache.
            if loaded.active is not None:
                _close(loaded.active)
                loaded.active = None
        else:
            timeout = self.settings.local.wait_timeout
            if not loaded.lock.acquire(timeout=timeout):
                raise BackendError(
                    f"the local model stayed busy with another request for {timeout:g} s; "
                    "try again, or raise local_wait_timeout"
                )
            loaded.owner = me
        loaded.turn += 1
        return loaded.turn

    @staticmethod
    def _end_turn(loaded: _LoadedModel, turn: int) -> None:
        if loaded.turn == turn:
            loaded.owner = None
            loaded.lock.release()


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if callable(close):
        close()


def create(settings: Settings) -> LLMBackend:
    return LLMBackend(LocalChatModel(settings), settings)

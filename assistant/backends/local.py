"""The default LLM: Qwen2.5-Coder-1.5B-Instruct (GGUF) run in-process by llama.cpp, fully offline.

The model is loaded once per process and shared by every ``LocalChatModel`` with the same file,
thread count and context size. Calls are serialised on it: llama.cpp keeps one KV cache, and
consecutive prompts that share a prefix (same system message and instructions) only evaluate
the tokens after that prefix, which is where most of the time of a CPU-only answer goes.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from assistant.backends.base import ChatModel, Completion, Message, TokenScores, Usage
from assistant.backends.llm import LLMBackend
from assistant.errors import BackendError
from assistant.model_files import ensure_local_model
from assistant.settings import Settings

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

N_BATCH = 512  # prompt tokens per decode step: the whole of a typical prompt in one go


@dataclass(eq=False)
class _LoadedModel:
    """One llama.cpp model and context, shared process-wide, plus who is using it."""

    llama: Llama
    formatter: Jinja2ChatFormatter  # the GGUF's chat template, rendered as llama-cpp-python does
    lock: threading.Lock = field(default_factory=threading.Lock)
    owner: int | None = None  # thread id holding ``lock``
    turn: int = 0  # bumped by every call; a call whose turn has passed must not touch the model
    active: Iterator[Any] | None = None  # llama's chunk stream of the current turn


_MODELS: dict[tuple[str, int, int], _LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    # Freed by ``Llama.__del__`` during interpreter shutdown, llama-cpp-python finds its ctypes
    # bindings already gone and prints "Exception ignored ... TypeError" after every script
    # that used the model; closing while the interpreter is intact avoids it.
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            with contextlib.suppress(Exception):
                loaded.llama.close()
        _MODELS.clear()


def _load(path: Path, threads: int, n_ctx: int) -> _LoadedModel:
    """The process-wide model for this file and configuration, loaded on first use."""
    key = (str(path.resolve()), threads, n_ctx)
    with _MODELS_LOCK:
        loaded = _MODELS.get(key)
        if loaded is None:
            loaded = _MODELS[key] = _open(path, threads, n_ctx)
        return loaded


def _open(path: Path, threads: int, n_ctx: int) -> _LoadedModel:
    try:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    except ImportError as exc:
        raise BackendError(
            f"llama-cpp-python is not usable ({exc}); run: pip install -e . "
            "(compiles llama.cpp once, ~15 min), or choose another backend with --backend"
        ) from None
    try:
        with _plain_cpu_buffers_if_amx():
            llama = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=min(N_BATCH, n_ctx),
                n_threads=threads,
                # Defaults to every core: prompt evaluation would then fight other busy processes.
                n_threads_batch=threads,
                verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(
            f"cannot load the local model {path} ({_first_line(exc)}); it needs ~2 GB of free "
            "memory: close other programs or lower llm_context"
        ) from None
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError(
            f"the local model {path} has no chat template; delete it so it is assembled again"
        )
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(llama, llama.token_eos()),
        bos_token=_token_text(llama, llama.token_bos()),
    )
    return _LoadedModel(llama=llama, formatter=formatter)


@contextlib.contextmanager
def _plain_cpu_buffers_if_amx() -> Iterator[None]:
    """Load models without llama.cpp's extra CPU buffer types when its AMX kernels are built in.

    On CPUs with AMX (Sapphire Rapids and later) llama.cpp repacks Q4_K weights into AMX buffers
    and then crashes the process (SIGSEGV in ggml_backend_amx_mul_mat) at the first decode:
    ggml-org/llama.cpp#20824, seen with this model and llama-cpp-python 0.3.36. ``Llama()``
    has no argument for ``use_extra_bufts``, so the default model parameters are patched while
    loading (under ``_MODELS_LOCK``, the only place this module creates models).
    """
    import llama_cpp
    import llama_cpp.llama as high_level

    low_level = high_level.llama_cpp
    if b"AMX_INT8 = 1" not in llama_cpp.llama_print_system_info():
        yield
        return
    default_params = low_level.llama_model_default_params

    def params_without_extra_buffers() -> Any:
        params = default_params()
        params.use_extra_bufts = False
        return params

    low_level.llama_model_default_params = params_without_extra_buffers
    try:
        yield
    finally:
        low_level.llama_model_default_params = default_params


class LocalChatModel(ChatModel):
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M in-process; weights assembled under ``cache_dir``.

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
            path = ensure_local_model(self.settings.cache_dir)
            self._loaded = _load(path, self.settings.local.threads, self.settings.local.context)

    @property
    def llama(self) -> Llama:
        """The shared ``llama_cpp.Llama`` (loaded if needed)."""
        self.load()
        assert self._loaded is not None
        return self._loaded.llama

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
        # llama-cpp-python reports logprobs only with logits_all=True, which keeps a
        # context-sized logits matrix and slows every decode; reading the last position's
        # logits after one decode of the prompt costs nothing extra.
        self.load()
        loaded = self._loaded
        assert loaded is not None
        llama = loaded.llama
        ids = _option_tokens(llama, candidates)
        if ids is None:
            return None
        tokens = self._prompt_tokens(loaded, messages)
        turn = self._take_turn(loaded)
        try:
            # Reuse the KV cache for the prefix this prompt shares with the previous one (the
            # passages, when only the order of the options changed); at least one token is
            # decoded so that the logits belong to this prompt.
            shared = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
            llama.n_tokens = shared
            llama.eval(tokens[shared:])
            from llama_cpp import llama_get_logits_ith

            logits = np.ctypeslib.as_array(
                llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),)
            )
            chosen = logits[ids].astype(np.float64)
        except (ValueError, RuntimeError) as exc:
            llama.reset()  # a failed decode leaves the cache in an unknown state
            raise BackendError(
                f"the local model failed ({_first_line(exc)}); try a shorter prompt"
            ) from None
        finally:
            if loaded.turn == turn:
                loaded.owner = None
                loaded.lock.release()
        top = chosen.max()
        logprobs = list(chosen - top - np.log(np.exp(chosen - top).sum()))
        return TokenScores(logprobs, Usage(prompt_tokens=len(tokens), completion_tokens=0))

    def _prompt_tokens(self, loaded: _LoadedModel, messages: Sequence[Message]) -> list[int]:
        """The chat rendered by the model's template and tokenised, checked against n_ctx."""
        chat = [{"role": m.role, "content": m.content} for m in messages]
        try:
            result = loaded.formatter(messages=cast(Any, chat))
        except Exception as exc:  # jinja2 errors have no common base worth importing
            raise BackendError(
                f"cannot format the chat for the local model ({_first_line(exc)})"
            ) from None
        tokens = loaded.llama.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        n_ctx = loaded.llama.n_ctx()
        if len(tokens) >= n_ctx:
            raise BackendError(
                f"the prompt is {len(tokens)} tokens but the local model's context is {n_ctx}: "
                "lower context_tokens or raise llm_context (ASSISTANT_LLM_CONTEXT)"
            )
        return list(tokens)

    def _generate(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        stop: Sequence[str],
    ) -> Iterator[str | Usage]:
        self.load()
        loaded = self._loaded
        assert loaded is not None
        chat = [{"role": m.role, "content": m.content} for m in messages]
        prompt_tokens = len(self._prompt_tokens(loaded, messages))
        yield Usage(prompt_tokens=prompt_tokens)

        turn = self._take_turn(loaded)
        parts: list[str] = []
        chunks: Iterator[Any] | None = None
        try:
            chunks = cast(
                "Iterator[Any]",
                loaded.llama.create_chat_completion(
                    messages=cast(Any, chat),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=list(stop),
                    stream=True,
                ),
            )
            loaded.active = chunks
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    parts.append(text)
                    yield text
                    yield Usage(prompt_tokens, len(parts))  # llama.cpp streams one token a chunk
            if loaded.turn != turn:
                raise BackendError(
                    "this reply was cut short by a newer request to the local model; ask again"
                )
        except (ValueError, RuntimeError) as exc:
            raise BackendError(
                f"the local model failed ({_first_line(exc)}); try a shorter question, "
                "or lower context_tokens"
            ) from None
        finally:
            # Runs at the end, on errors, and when the consumer closes us early: closing llama's
            # generator stops generation right there (it only advances when pulled).
            if loaded.turn == turn:  # else a newer call of this thread took the model over
                if chunks is not None:
                    _close(chunks)
                loaded.active = None
                loaded.owner = None
                loaded.lock.release()

    def _take_turn(self, loaded: _LoadedModel) -> int:
        """Get exclusive use of the shared model; returns this call's turn number."""
        me = threading.get_ident()
        if loaded.owner == me:
            # An earlier stream of this thread was abandoned without being closed: end it so
            # its generation cannot interleave with this one on the shared KV cache.
            if loaded.active is not None:
                _close(loaded.active)
        else:
            timeout = self.settings.local.wait_timeout
            if not loaded.lock.acquire(timeout=timeout):
                raise BackendError(
                    f"the local model stayed busy with another request for {timeout:g} s; "
                    "try again, or raise request_timeout"
                )
            loaded.owner = me
        loaded.turn += 1
        return loaded.turn


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _option_tokens(llama: Llama, options: Sequence[str]) -> list[int] | None:
    """The token of each option (letters), or None when one is not a single token."""
    ids = []
    for option in options:
        tokens = llama.tokenize(option.encode("utf-8"), add_bos=False, special=False)
        if len(tokens) != 1:
            return None
        ids.append(tokens[0])
    return ids


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="replace")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def create(settings: Settings) -> LLMBackend:
    return LLMBackend(LocalChatModel(settings), settings)

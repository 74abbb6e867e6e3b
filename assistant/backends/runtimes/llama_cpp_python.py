"""``llama-cpp-python``: llama.cpp compiled for this CPU on install (the ``native`` extra).

The fastest runtime here (it uses every instruction set the CPU has), at the cost of a
~6-13 minute compile the first time pip installs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from assistant.backends.base import Message, TokenScores, Usage
from assistant.backends.runtimes import RuntimeConfig
from assistant.backends.runtimes.common import first_line, normalise, wait_passively
from assistant.errors import BackendError

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

N_BATCH = 512  # prompt tokens per decode step: the whole of a typical prompt in one go


def load(config: RuntimeConfig) -> LlamaCppPython:
    wait_passively()
    try:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    except ImportError as exc:
        raise BackendError(
            f"llama-cpp-python is not usable ({exc}); run: pip install -e '.[native]' "
            "(compiles llama.cpp once), or set llm_runtime=xllamacpp"
        ) from None
    try:
        with _plain_cpu_buffers_if_amx():
            llama = Llama(
                model_path=str(config.path),
                n_ctx=config.context,
                n_batch=min(N_BATCH, config.context),
                n_threads=config.threads,
                # Defaults to every core: prompt evaluation would then fight other busy processes.
                n_threads_batch=config.threads,
                verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(
            f"cannot load the local model {config.path} ({first_line(exc)}); it needs ~2 GB of "
            "free memory: close other programs or lower llm_context"
        ) from None
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError(f"the local model {config.path} has no chat template; delete it so "
                           "it is assembled again")
    formatter = Jinja2ChatFormatter(
        template=template,
        eos_token=_token_text(llama, llama.token_eos()),
        bos_token=_token_text(llama, llama.token_bos()),
    )
    return LlamaCppPython(llama, formatter)


class LlamaCppPython:
    """A ``llama_cpp.Llama`` and the chat template of its GGUF."""

    name = "llama-cpp-python"

    def __init__(self, llama: Llama, formatter: Jinja2ChatFormatter) -> None:
        self.llama = llama
        self.formatter = formatter  # renders the GGUF's template as llama-cpp-python does

    @property
    def prompt_tokens_evaluated(self) -> int:
        import llama_cpp

        return int(llama_cpp.llama_perf_context(self.llama.ctx).n_p_eval)

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._prompt_tokens(messages))

    def _prompt_tokens(self, messages: Sequence[Message]) -> list[int]:
        try:
            result = self.formatter(messages=cast(Any, _chat(messages)))
        except Exception as exc:  # jinja2 errors have no common base worth importing
            raise BackendError(
                f"cannot format the chat for the local model ({first_line(exc)})"
            ) from None
        tokens = self.llama.tokenize(result.prompt.encode("utf-8"),
                                     add_bos=not result.added_special, special=True)
        return list(tokens)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str]) -> Iterator[str | Usage]:
        prompt_tokens = self.count_prompt_tokens(messages)
        yield Usage(prompt_tokens=prompt_tokens)
        generated = 0
        chunks: Iterator[Any] | None = None
        try:
            chunks = cast("Iterator[Any]", self.llama.create_chat_completion(
                messages=cast(Any, _chat(messages)), max_tokens=max_tokens,
                temperature=temperature, stop=list(stop), stream=True))
            for chunk in chunks:
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    generated += 1  # llama-cpp-python streams one token a chunk
                    yield text
                    yield Usage(prompt_tokens, generated)
        except (ValueError, RuntimeError) as exc:
            raise BackendError(
                f"the local model failed ({first_line(exc)}); try a shorter question, "
                "or lower context_tokens"
            ) from None
        finally:
            # Closing llama's generator stops generation right there (it only advances when
            # pulled), also when our consumer closes us early.
            close = getattr(chunks, "close", None)
            if callable(close):
                close()

    def score_next_token(self, messages: Sequence[Message],
                         candidates: Sequence[str]) -> TokenScores | None:
        # llama-cpp-python reports logprobs only with logits_all=True, which keeps a
        # context-sized logits matrix and slows every decode; reading the last position's
        # logits after one decode of the prompt costs nothing extra.
        llama = self.llama
        ids = self._candidate_tokens(candidates)
        if ids is None:
            return None
        tokens = self._prompt_tokens(messages)
        try:
            # Reuse the KV cache for the prefix this prompt shares with the previous one (the
            # passages, when only the order of the options changed); at least one token is
            # decoded so that the logits belong to this prompt.
            shared = llama.longest_token_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
            llama.n_tokens = shared
            llama.eval(tokens[shared:])
            from llama_cpp import llama_get_logits_ith

            logits = np.ctypeslib.as_array(llama_get_logits_ith(llama.ctx, -1),
                                           shape=(llama.n_vocab(),))
            chosen = [float(logits[i]) for i in ids]
        except (ValueError, RuntimeError) as exc:
            llama.reset()  # a failed decode leaves the cache in an unknown state
            raise BackendError(
                f"the local model failed ({first_line(exc)}); try a shorter prompt"
            ) from None
        return TokenScores(normalise(chosen), Usage(prompt_tokens=len(tokens),
                                                    completion_tokens=0))

    def _candidate_tokens(self, candidates: Sequence[str]) -> list[int] | None:
        ids = []
        for candidate in candidates:
            tokens = self.llama.tokenize(candidate.encode("utf-8"), add_bos=False, special=False)
            if len(tokens) != 1:
                return None
            ids.append(tokens[0])
        return ids

    def close(self) -> None:
        # Freed by ``Llama.__del__`` during interpreter shutdown, llama-cpp-python finds its
        # ctypes bindings already gone and prints "Exception ignored ... TypeError"; closing
        # while the interpreter is intact avoids it.
        with contextlib.suppress(Exception):
            self.llama.close()


def _chat(messages: Sequence[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


@contextlib.contextmanager
def _plain_cpu_buffers_if_amx() -> Iterator[None]:
    """Load models without llama.cpp's extra CPU buffer types when its AMX kernels are built in.

    On CPUs with AMX (Sapphire Rapids and later) llama.cpp repacks Q4_K weights into AMX buffers
    and then crashes the process (SIGSEGV in ggml_backend_amx_mul_mat) at the first decode:
    ggml-org/llama.cpp#20824, seen with this model and llama-cpp-python 0.3.36. ``Llama()``
    has no argument for ``use_extra_bufts``, so the default model parameters are patched while
    loading (``LocalChatModel`` loads one model at a time).
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


def _token_text(llama: Llama, token: int) -> str:
    if token < 0:
        return ""
    return llama.detokenize([token], special=True).decode("utf-8", errors="replace")

"""The local llama.cpp backend with the real model (offline; ~20 s on one thread).

The model file is assembled once per machine into ``$ASSISTANT_CACHE_DIR`` or the user cache
dir, and loaded once per test session.
"""

from __future__ import annotations

import math
import os
import threading
import time
from pathlib import Path

import platformdirs
import pytest

from assistant.backends.base import Message
from assistant.backends.local import LocalChatModel
from assistant.errors import BackendError
from assistant.settings import APP_NAME, Settings

llama_cpp = pytest.importorskip("llama_cpp")

pytestmark = pytest.mark.llm

SYSTEM = "Answer only from the passage, in one short sentence."


def ask(passage: str, question: str) -> list[Message]:
    return [
        Message("system", SYSTEM),
        Message("user", f"Passage: {passage}\n\nQuestion: {question}"),
    ]


@pytest.fixture(scope="session")
def settings() -> Settings:
    cache = os.environ.get("ASSISTANT_CACHE_DIR")
    return Settings(
        cache_dir=Path(cache) if cache else platformdirs.user_cache_path(APP_NAME),
        llm_threads=1,  # other tests and processes share the cores
        llm_context=2048,
    )


@pytest.fixture(scope="session")
def model(settings: Settings) -> LocalChatModel:
    chat_model = LocalChatModel(settings)
    chat_model.load()
    return chat_model


def prompt_tokens_evaluated(model: LocalChatModel) -> int:
    """llama.cpp's running count of prompt tokens it actually decoded (not taken from cache)."""
    return int(llama_cpp.llama_perf_context(model.llama.ctx).n_p_eval)


def test_answers_from_passage_in_prompt(model: LocalChatModel) -> None:
    completion = model.generate(
        ask("The bridge is 42 metres long.", "How long is the bridge?"),
        max_tokens=24,
        temperature=0.0,
    )
    assert "42" in completion.text()
    usage = completion.usage
    assert usage.prompt_tokens is not None and usage.prompt_tokens > 20
    assert usage.completion_tokens is not None and 1 <= usage.completion_tokens <= 24


def test_scoring_the_first_token_reads_exactly_one_option(model: LocalChatModel) -> None:
    quiz = [Message("user", "Which city hosted the 2022 Berlin Marathon? Reply in a full "
                    "sentence.\nA. Paris\nB. Berlin\nC. Rome\nD. Oslo")]
    # Asked for a sentence, the model would write prose; scoring still ranks the letters.
    scores = model.score_next_token(quiz, "ABCD")
    assert scores is not None and max(range(4), key=scores.logprobs.__getitem__) == 1
    assert scores.usage.completion_tokens == 0


def test_prompt_token_count_matches_llama(model: LocalChatModel) -> None:
    messages = ask("The library opened in 1901.", "When did the library open?")
    completion = model.generate(messages, max_tokens=1)
    completion.text()
    reference = model.llama.create_chat_completion(
        [{"role": m.role, "content": m.content} for m in messages], max_tokens=1, temperature=0.0
    )
    assert completion.usage.prompt_tokens == reference["usage"]["prompt_tokens"]


def test_streaming_yields_several_deltas(model: LocalChatModel) -> None:
    completion = model.generate(
        [Message("user", "Count from 1 to 10, separated by commas.")],
        max_tokens=20,
        temperature=0.0,
    )
    deltas = list(completion)
    assert len(deltas) >= 5
    assert all(isinstance(d, str) and d for d in deltas)
    assert "1" in "".join(deltas)
    assert completion.usage.completion_tokens is not None
    assert len(deltas) <= completion.usage.completion_tokens <= 20


def test_stop_sequence_ends_reply(model: LocalChatModel) -> None:
    reply = model.complete(
        [Message("user", "Count from 1 to 10, separated by commas.")],
        max_tokens=30,
        stop=["5"],
    )
    assert "4" in reply and "5" not in reply and "6" not in reply


def test_closing_stream_early_stops_generation(model: LocalChatModel) -> None:
    completion = model.generate(
        [Message("user", "Count from 1 to 300, separated by commas.")], max_tokens=400
    )
    stream = iter(completion)
    first = [next(stream) for _ in range(3)]
    evaluated = model.llama.n_tokens
    started = time.perf_counter()
    completion.close()
    assert time.perf_counter() - started < 0.5
    assert model.llama.n_tokens == evaluated  # nothing decoded after the close
    used = completion.usage.completion_tokens
    assert used is not None and used <= 5
    assert "".join(first)
    # The shared model is free and consistent again.
    assert "42" in model.complete(
        ask("The bridge is 42 metres long.", "How long is the bridge?"), max_tokens=24
    )


def test_shared_prompt_prefix_is_not_evaluated_again(model: LocalChatModel) -> None:
    instructions = (
        "You answer questions about news articles using only the numbered passages. "
        "Cite passages as [n]. If the passages do not answer, say so. " * 4
    )
    first = [Message("system", instructions), Message("user", "[1] Rain fell on Monday. When?")]
    second = [Message("system", instructions), Message("user", "[1] Snow fell on Friday. When?")]
    model.complete(first, max_tokens=4)
    before = prompt_tokens_evaluated(model)
    completion = model.generate(second, max_tokens=4)
    completion.text()
    decoded = prompt_tokens_evaluated(model) - before
    prompt_tokens = completion.usage.prompt_tokens
    assert prompt_tokens is not None and prompt_tokens > 100
    assert decoded < prompt_tokens / 3


def test_second_instance_reuses_loaded_model(model: LocalChatModel, settings: Settings) -> None:
    other = LocalChatModel(settings)
    assert other.name == "local"
    assert other.llama is model.llama


def test_prompt_longer_than_context_raises_backend_error(model: LocalChatModel) -> None:
    too_long = [Message("user", "word " * 3000)]
    with pytest.raises(BackendError) as info:
        model.complete(too_long, max_tokens=4)
    message = str(info.value)
    assert "\n" not in message
    assert "2048" in message and "llm_context" in message
    # Still usable afterwards (the check happens before anything is decoded).
    assert model.complete([Message("user", "Say OK.")], max_tokens=4)


def test_calls_from_two_threads_are_serialised(model: LocalChatModel, settings: Settings) -> None:
    questions = {
        "bridge": ask("The bridge is 42 metres long.", "How long is the bridge?"),
        "tower": ask("The tower is 317 metres tall.", "How tall is the tower?"),
    }
    replies: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(key: str) -> None:
        try:
            replies[key] = LocalChatModel(settings).complete(questions[key], max_tokens=16)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(key,)) for key in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert "42" in replies["bridge"] and "317" in replies["tower"]


def test_abandoned_stream_is_ended_by_next_call(model: LocalChatModel) -> None:
    abandoned = iter(model.generate([Message("user", "Count from 1 to 300.")], max_tokens=400))
    next(abandoned)
    # Same thread, previous stream still open: the new call takes the model over.
    assert "42" in model.complete(
        ask("The bridge is 42 metres long.", "How long is the bridge?"), max_tokens=24
    )
    with pytest.raises(BackendError, match="cut short by a newer request"):
        next(abandoned)


def test_token_scores_rank_the_options_and_reuse_the_cached_prefix(
    model: LocalChatModel,
) -> None:
    passage = ("The 2022 Berlin Marathon was won by Eliud Kipchoge of Kenya, who ran 2:01:09 "
               "and broke his own world record by 30 seconds. ") * 3

    def quiz(options: list[str]) -> list[Message]:
        listed = "\n".join(f"{letter}. {text}" for letter, text in zip("ABCD", options,
                                                                       strict=True))
        return [Message("user", f"Passage: {passage}\n\nWho won the 2022 Berlin Marathon? "
                                f"Reply with the letter.\n{listed}")]

    runners = ["Mo Farah", "Eliud Kipchoge", "Paula Radcliffe", "Usain Bolt"]
    scored = model.score_next_token(quiz(runners), "ABCD")
    assert scored is not None and len(scored.logprobs) == 4
    first = scored.logprobs
    assert abs(sum(math.exp(x) for x in first) - 1.0) < 1e-6
    assert max(range(4), key=first.__getitem__) == 1
    assert scored.usage.prompt_tokens is not None and scored.usage.prompt_tokens > 60

    before = prompt_tokens_evaluated(model)
    rotated = model.score_next_token(quiz(runners[1:] + runners[:1]), "ABCD")
    assert rotated is not None and max(range(4), key=rotated.logprobs.__getitem__) == 0
    # Only the options after the shared passage were decoded again.
    assert prompt_tokens_evaluated(model) - before < 30

    # The KV cache stays consistent for ordinary generation afterwards.
    reply = model.complete(ask("The bridge is 42 metres long.", "How long is the bridge?"),
                           max_tokens=24, temperature=0.0)
    assert "42" in reply
    assert model.score_next_token(quiz(runners), ["A", "Mo Farah"]) is None  # not one token

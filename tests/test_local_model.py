"""The local backend with the real model, on every installed runtime (offline; ~20 s each on
one thread).

Each test runs once per runtime: the compiled llama-cpp-python (the ``native`` extra; skipped
with a reason when it is not installed) and the prebuilt xllamacpp. The model file is assembled
once per machine into ``$ASSISTANT_CACHE_DIR`` or the user cache dir, and loaded once per
runtime per test session.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import platformdirs
import pytest
from conftest import SIGINT_AT_START

from assistant.backends.base import Message
from assistant.backends.local import LocalChatModel
from assistant.errors import BackendError
from assistant.settings import APP_NAME, Settings

pytestmark = pytest.mark.llm

SYSTEM = "Answer only from the passage, in one short sentence."
RUNTIME_PACKAGES = {"llama-cpp-python": "llama_cpp", "xllamacpp": "xllamacpp"}


def ask(passage: str, question: str) -> list[Message]:
    return [
        Message("system", SYSTEM),
        Message("user", f"Passage: {passage}\n\nQuestion: {question}"),
    ]


@pytest.fixture(scope="session", params=list(RUNTIME_PACKAGES))
def settings(request: pytest.FixtureRequest) -> Settings:
    runtime = request.param
    if importlib.util.find_spec(RUNTIME_PACKAGES[runtime]) is None:
        extra = "'.[native]'" if runtime == "llama-cpp-python" else "."
        pytest.skip(f"{runtime} is not installed (pip install -e {extra})")
    cache = os.environ.get("ASSISTANT_CACHE_DIR")
    return Settings(
        cache_dir=Path(cache) if cache else platformdirs.user_cache_path(APP_NAME),
        llm_runtime=runtime,
        llm_threads=1,  # other tests and processes share the cores
        llm_context=2048,
    )


@pytest.fixture(scope="session")
def model(settings: Settings) -> LocalChatModel:
    chat_model = LocalChatModel(settings)
    chat_model.load()
    assert chat_model.runtime.name == settings.local.runtime
    return chat_model


def decoding(model: LocalChatModel, within: float = 1.0) -> bool:
    """Whether the runtime is still generating after ``within`` seconds (asked of the runtime
    itself: llama.cpp's server releases a cancelled slot at its next step)."""
    runtime = model.runtime
    if runtime.name == "llama-cpp-python":
        return False  # it decodes only while its generator is pulled, in the caller's thread
    request = urllib.request.Request(
        f"{runtime.url}/slots",  # type: ignore[attr-defined]
        headers={"Authorization": f"Bearer {runtime._key}"},  # type: ignore[attr-defined]
    )
    deadline = time.monotonic() + within
    while True:
        with urllib.request.urlopen(request, timeout=10) as response:
            busy = any(slot.get("is_processing") for slot in json.load(response))
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.05)


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


def test_prompt_token_count_matches_the_runtime(model: LocalChatModel) -> None:
    messages = ask("The library opened in 1901.", "When did the library open?")
    counted = model.runtime.count_prompt_tokens(messages)
    runtime = model.runtime
    if runtime.name == "llama-cpp-python":
        reference = runtime.llama.create_chat_completion(  # type: ignore[attr-defined]
            [{"role": m.role, "content": m.content} for m in messages], max_tokens=1,
            temperature=0.0)
        reported = reference["usage"]["prompt_tokens"]
    else:  # the server's own count, reported at the end of the stream
        reports = [p for p in runtime.stream(messages, max_tokens=1, temperature=0.0, stop=())
                   if not isinstance(p, str)]
        reported = reports[-1].prompt_tokens
    assert counted == reported
    completion = model.generate(messages, max_tokens=1)
    completion.text()
    assert completion.usage.prompt_tokens == counted


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
    started = time.perf_counter()
    completion.close()
    assert time.perf_counter() - started < 2.0  # at most one more token is decoded
    assert not decoding(model)
    if model.runtime.name == "llama-cpp-python":
        llama = model.runtime.llama  # type: ignore[attr-defined]
        evaluated = llama.n_tokens
        time.sleep(0.2)
        assert llama.n_tokens == evaluated  # nothing decoded after the close
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
    before = model.runtime.prompt_tokens_evaluated
    completion = model.generate(second, max_tokens=4)
    completion.text()
    decoded = model.runtime.prompt_tokens_evaluated - before
    prompt_tokens = completion.usage.prompt_tokens
    assert prompt_tokens is not None and prompt_tokens > 100
    assert 0 < decoded < prompt_tokens / 3


def test_second_instance_reuses_loaded_model(model: LocalChatModel, settings: Settings) -> None:
    other = LocalChatModel(settings)
    assert other.name == "local"
    assert other.runtime is model.runtime


def test_prompt_longer_than_context_raises_backend_error(model: LocalChatModel) -> None:
    too_long = [Message("user", "word " * 3000)]
    for call in (lambda: model.complete(too_long, max_tokens=4),
                 lambda: model.score_next_token(too_long, "AB")):
        with pytest.raises(BackendError) as info:
            call()
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
    assert not decoding(model)


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

    before = model.runtime.prompt_tokens_evaluated
    rotated = model.score_next_token(quiz(runners[1:] + runners[:1]), "ABCD")
    assert rotated is not None and max(range(4), key=rotated.logprobs.__getitem__) == 0
    # Only the options after the shared passage were decoded again.
    assert 0 < model.runtime.prompt_tokens_evaluated - before < 30

    # The KV cache stays consistent for ordinary generation afterwards.
    reply = model.complete(ask("The bridge is 42 metres long.", "How long is the bridge?"),
                           max_tokens=24, temperature=0.0)
    assert "42" in reply
    assert model.score_next_token(quiz(runners), ["A", "Mo Farah"]) is None  # not one token


def test_support_judgement_reuses_the_cached_choice_prompt(model: LocalChatModel) -> None:
    """None of the above (quiz.py) on the real model: the support question after a pick reads
    only its own tail, not the passages again, and tells a claim the passage backs from one
    it does not."""
    from datetime import date

    from assistant.backends.base import ContextPassage
    from assistant.documents import Passage
    from assistant.evals.quiz import choice_messages
    from assistant.judgement import SupportJudge

    text = ("Eliud Kipchoge of Kenya won the Berlin Marathon on Sunday in 2:01:09, breaking "
            "his own world record by 30 seconds. Amos Kipruto was second.")
    passage = Passage("c1", "a1", "Kipchoge breaks marathon world record in Berlin", "Wire",
                      "", date(2022, 9, 25), text, 0, len(text))
    context = [ContextPassage(1, passage, text, [text])]
    today = date(2022, 9, 27)
    question = "Who broke the marathon world record in Berlin?"
    judge = SupportJudge(model)

    def judged(options: list[str]) -> tuple[float, int]:
        picked = model.score_next_token(
            choice_messages(question, options, context, today, like_support=True), "ABC")
        assert picked is not None
        before = model.runtime.prompt_tokens_evaluated
        support = judge.probability(question, options[1], context, today)
        assert support is not None
        return support, model.runtime.prompt_tokens_evaluated - before

    right, cost = judged(["Mo Farah", "Eliud Kipchoge", "Usain Bolt"])
    wrong, _ = judged(["Mo Farah", "Paula Radcliffe", "Usain Bolt"])
    assert right > 0.5 > wrong, (right, wrong)
    assert 0 < cost < 40, cost  # the claim and the question to it, not the passage


def test_scores_agree_between_runtimes(model: LocalChatModel, settings: Settings) -> None:
    """Same letters, same ranking and nearly the same probabilities on both engines."""
    others = [name for name, package in RUNTIME_PACKAGES.items()
              if name != settings.local.runtime and importlib.util.find_spec(package)]
    if not others:
        pytest.skip("only one runtime is installed")
    other = LocalChatModel(settings.updated(llm_runtime=others[0]))
    quiz = [Message("user", "Which planet is known as the Red Planet? Reply with the letter."
                    "\nA. Venus\nB. Jupiter\nC. Mars\nD. Saturn")]
    mine, theirs = model.score_next_token(quiz, "ABCD"), other.score_next_token(quiz, "ABCD")
    assert mine is not None and theirs is not None
    assert max(range(4), key=mine.logprobs.__getitem__) == 2
    assert max(range(4), key=theirs.logprobs.__getitem__) == 2
    for a, b in zip(mine.logprobs, theirs.logprobs, strict=True):
        assert abs(math.exp(a) - math.exp(b)) < 0.05


# xllamacpp only ------------------------------------------------------------------------------


def _xllamacpp(model: LocalChatModel) -> None:
    if model.runtime.name != "xllamacpp":
        pytest.skip("xllamacpp only")


def test_candidates_missing_from_the_top_tokens_are_asked_again_then_bounded(
    model: LocalChatModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    _xllamacpp(model)
    from assistant.backends.runtimes import xllamacpp

    quiz = [Message("user", "Which city hosted the 2022 Berlin Marathon? Reply with the letter."
                    "\nA. Paris\nB. Berlin\nC. Rome\nD. Oslo")]
    # Scored twice so that both answers compared below come from the same state of the cache
    # (the whole prompt cached, its last token decoded again): a token decoded alone and the
    # same token decoded in a batch differ in the last digits.
    model.score_next_token(quiz, "ABCD")
    exact = model.score_next_token(quiz, "ABCD")
    assert exact is not None
    # Only the best token in the first answer: the others are asked for again, more widely,
    # and come back with the same probabilities.
    monkeypatch.setattr(xllamacpp, "TOP_K", 1)
    again = model.score_next_token(quiz, "ABCD")
    assert again is not None
    assert again.logprobs == pytest.approx(exact.logprobs, abs=1e-6)
    # Not even in the wider answer: they get the least probability listed, an upper bound
    # below every candidate that was found. The wider answer is cut one token after the best
    # letter here.
    server = model.runtime.server  # type: ignore[attr-defined]
    reply = server.handle_chat_completions({
        "messages": [{"role": "user", "content": quiz[0].content}], "max_tokens": 1,
        "temperature": 0.0, "logprobs": True, "top_logprobs": 50})
    ranked = [e["token"] for e in reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]]
    best = max(range(4), key=exact.logprobs.__getitem__)
    monkeypatch.setattr(xllamacpp, "WIDE_TOP_K", ranked.index("ABCD"[best]) + 2)
    bounded = model.score_next_token(quiz, "ABCD")
    assert bounded is not None
    assert abs(sum(math.exp(x) for x in bounded.logprobs) - 1.0) < 1e-6
    others = [x for i, x in enumerate(bounded.logprobs) if i != best]
    assert max(others) < bounded.logprobs[best]
    assert max(others) - min(others) < 1e-9  # all at the same bound


def test_ctrl_c_still_raises_keyboard_interrupt_after_loading(model: LocalChatModel) -> None:
    """llama.cpp's server installs its own SIGINT handler (Ctrl-C would shut the model down
    instead of stopping an answer); the runtime puts Python's back."""
    _xllamacpp(model)
    if SIGINT_AT_START is signal.SIG_IGN:
        # Loading must not have changed that either; but no Ctrl-C can reach this process.
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        pytest.skip("pytest was started with SIGINT ignored (a background job): no Ctrl-C "
                    "to test")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    # The model was not shut down by it.
    assert "42" in model.complete(ask("The bridge is 42 metres long.", "How long is the bridge?"),
                                  max_tokens=24)


def test_the_loopback_listener_refuses_requests_without_the_key(model: LocalChatModel) -> None:
    _xllamacpp(model)
    request = urllib.request.Request(
        f"{model.runtime.url}/v1/chat/completions",  # type: ignore[attr-defined]
        data=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 401

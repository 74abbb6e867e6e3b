"""Choosing the local runtime, and LocalChatModel's runtime-agnostic part (fast: no model).

The real runtimes are exercised in test_local_model.py; here a scripted runtime stands in for
them so that the choice, the serialisation, the usage reports and stopping are checked
exactly.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from assistant.backends import local, runtimes
from assistant.backends.base import Message, TokenScores, Usage
from assistant.backends.local import LocalChatModel
from assistant.backends.runtimes import RuntimeConfig, resolve
from assistant.backends.runtimes.common import WAIT_POLICY, normalise, wait_passively
from assistant.errors import BackendError, ConfigError
from assistant.settings import Settings, load_settings

# Choosing ------------------------------------------------------------------------------------


def installed(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    def find_spec(name: str) -> object | None:
        return object() if name in packages else None

    monkeypatch.setattr(runtimes.importlib.util, "find_spec", find_spec)


def test_auto_prefers_the_compiled_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, "llama_cpp", "xllamacpp")
    assert resolve("auto") == "llama-cpp-python"
    installed(monkeypatch, "xllamacpp")
    assert resolve("auto") == "xllamacpp"
    installed(monkeypatch, "llama_cpp")
    assert resolve("auto") == "llama-cpp-python"


def test_a_named_runtime_is_used_as_named(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, "llama_cpp", "xllamacpp")
    assert resolve("xllamacpp") == "xllamacpp"


def test_no_runtime_installed_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch)
    with pytest.raises(BackendError) as info:
        resolve("auto")
    message = str(info.value)
    assert "\n" not in message and "pip install -e ." in message and "[native]" in message


def test_runtime_setting_is_validated_on_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_LLM_RUNTIME", raising=False)  # CI sets it for the test run
    assert Settings().local.runtime == "auto"
    assert load_settings(llm_runtime="xllamacpp").local.runtime == "xllamacpp"
    assert load_settings(local={"runtime": "llama-cpp-python"}).local.runtime == (
        "llama-cpp-python")
    monkeypatch.setenv("ASSISTANT_LLM_RUNTIME", "xllamacpp")
    assert load_settings().local.runtime == "xllamacpp"
    monkeypatch.delenv("ASSISTANT_LLM_RUNTIME")
    for bad in (lambda: load_settings(llm_runtime="llamafile"),
                lambda: Settings().updated(llm_runtime="llamafile")):
        with pytest.raises(ConfigError) as info:
            bad()
        message = str(info.value)
        assert "\n" not in message and "llamafile" in message
        assert "auto" in message and "xllamacpp" in message and "llama-cpp-python" in message


@pytest.mark.parametrize(("runtime", "package"), [("xllamacpp", "xllamacpp"),
                                                  ("llama-cpp-python", "llama_cpp")])
def test_a_missing_runtime_package_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runtime: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # import fails as if not installed
    with pytest.raises(BackendError) as info:
        runtimes.load_runtime(runtime, RuntimeConfig(tmp_path / "m.gguf", 1, 512))
    message = str(info.value)
    assert "\n" not in message and runtime in message and "pip install" in message


def test_threads_wait_passively_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WAIT_POLICY, raising=False)
    wait_passively()
    assert os.environ[WAIT_POLICY] == "passive"
    monkeypatch.setenv(WAIT_POLICY, "active")
    wait_passively()
    assert os.environ[WAIT_POLICY] == "active"


def test_normalise_is_a_log_softmax() -> None:
    logprobs = normalise([-1.0, -2.0, -30.0])
    assert sum(math.exp(x) for x in logprobs) == pytest.approx(1.0)
    assert logprobs[0] - logprobs[1] == pytest.approx(1.0)
    assert normalise([-900.0, -901.0]) == pytest.approx(normalise([0.0, -1.0]))


# LocalChatModel over a scripted runtime --------------------------------------------------------


class ScriptedRuntime:
    """Replies with ``words``; records what it was asked and whether each stream was closed."""

    name = "scripted"

    def __init__(self, config: RuntimeConfig, words: Sequence[str] = ("a", "b", "c", "d")):
        self.config = config
        self.words = list(words)
        self.streams: list[dict[str, object]] = []
        self.closed = False

    def count_prompt_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m.content.split()) for m in messages)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
               stop: Sequence[str]) -> Iterator[str | Usage]:
        record: dict[str, object] = {"produced": 0, "closed": False, "stop": list(stop)}
        self.streams.append(record)
        try:
            for n, word in enumerate(self.words[:max_tokens], 1):
                record["produced"] = n
                yield word
                yield Usage(None, n)
            yield Usage(999, len(self.words[:max_tokens]))  # the final report
        finally:
            record["closed"] = True

    def score_next_token(self, messages: Sequence[Message],
                         candidates: Sequence[str]) -> TokenScores | None:
        return TokenScores(normalise([float(-i) for i in range(len(candidates))]))

    @property
    def prompt_tokens_evaluated(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[ScriptedRuntime]]:
    made: list[ScriptedRuntime] = []

    def load_runtime(name: str, config: RuntimeConfig) -> ScriptedRuntime:
        made.append(ScriptedRuntime(config))
        return made[-1]

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"")
    monkeypatch.setattr(local, "load_runtime", load_runtime)
    monkeypatch.setattr(local, "resolve", lambda name: "scripted")
    monkeypatch.setattr(local, "ensure_local_model", lambda cache_dir: gguf)
    monkeypatch.setattr(local, "_MODELS", {})
    yield made


def test_one_runtime_per_configuration_shared_by_instances(
    scripted: list[ScriptedRuntime],
) -> None:
    a, b = LocalChatModel(Settings(llm_threads=1)), LocalChatModel(Settings(llm_threads=1))
    assert a.runtime is b.runtime
    assert LocalChatModel(Settings(llm_threads=2, llm_context=1024)).runtime is not a.runtime
    assert [(r.config.threads, r.config.context) for r in scripted] == [(1, 2048), (2, 1024)]
    local._close_models()
    assert all(r.closed for r in scripted)


def test_usage_is_counted_first_then_the_runtime_report_wins(
    scripted: list[ScriptedRuntime],
) -> None:
    model = LocalChatModel(Settings())
    completion = model.generate([Message("user", "three words here")], max_tokens=8)
    stream = iter(completion)
    assert next(stream) == "a"
    assert completion.usage == Usage(3, None)  # counted before generation
    assert next(stream) == "b"
    assert completion.usage == Usage(3, 1)
    assert list(stream) == ["c", "d"]
    assert completion.usage == Usage(999, 4)


def test_closing_the_completion_closes_the_runtime_stream_and_frees_the_model(
    scripted: list[ScriptedRuntime],
) -> None:
    model = LocalChatModel(Settings(local_wait_timeout=0.5))
    completion = model.generate([Message("user", "q")], max_tokens=8)
    stream = iter(completion)
    next(stream)
    completion.close()
    record = scripted[0].streams[0]
    assert record["closed"] and record["produced"] == 1
    # Another thread gets the model at once.
    got: list[str] = []
    thread = threading.Thread(target=lambda: got.append(model.complete(
        [Message("user", "q")], max_tokens=2)))
    thread.start()
    thread.join(5)
    assert got == ["ab"]


def test_a_prompt_longer_than_the_context_is_refused_before_the_runtime_runs(
    scripted: list[ScriptedRuntime],
) -> None:
    model = LocalChatModel(Settings(llm_context=512))
    long = [Message("user", "word " * 600)]
    with pytest.raises(BackendError, match=r"600 tokens .* context is 512.*llm_context"):
        model.complete(long, max_tokens=4)
    with pytest.raises(BackendError, match="llm_context"):
        model.score_next_token(long, "AB")
    assert scripted[0].streams == []
    assert model.complete([Message("user", "fine")], max_tokens=1) == "a"


def test_a_busy_model_makes_other_threads_wait_then_give_up(
    scripted: list[ScriptedRuntime],
) -> None:
    model = LocalChatModel(Settings(local_wait_timeout=0.2))
    holding = iter(model.generate([Message("user", "q")], max_tokens=8))
    next(holding)
    errors: list[BaseException] = []

    def other() -> None:
        try:
            model.complete([Message("user", "q")], max_tokens=2)
        except BackendError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(5)
    assert len(errors) == 1
    assert "busy" in str(errors[0]) and "local_wait_timeout" in str(errors[0])

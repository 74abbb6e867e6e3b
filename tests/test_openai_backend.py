"""The ``openai`` backend against real HTTP servers on loopback (the client is never patched).

Most tests use the in-process fixture server of ``openai_server.py``; the one marked
``server``/``llm`` starts llama.cpp's own OpenAI-compatible server with the local model.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_server import free_port, llama_server
from openai_server import Behaviour, OpenAIFixtureServer, split_reply

from assistant.backends.base import Message, Usage
from assistant.backends.openai_compat import PLACEHOLDER_KEY, OpenAIChatModel
from assistant.errors import BackendError
from assistant.settings import Settings

KEY = "sk-test-Zq8vK2mN4pX7wR1t"  # distinctive, so a leak anywhere is easy to spot
REPLY = "The bridge is 42 metres long [1]."
QUESTION = [
    Message("system", "Answer from the passages."),
    Message("user", "[1] The bridge is 42 metres long.\n\nQuestion: How long is the bridge?"),
]


@pytest.fixture(autouse=True)
def _no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings and the client read these variables: a developer's own must not leak in."""
    for name in ("OPENAI_API_KEY", "ASSISTANT_OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "ASSISTANT_OPENAI_BASE_URL", "ASSISTANT_OPENAI_MODEL", "OPENAI_LOG",
                 "ASSISTANT_REQUEST_TIMEOUT", "ASSISTANT_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[OpenAIFixtureServer]:
    with OpenAIFixtureServer(Behaviour(reply=REPLY)) as srv:
        yield srv


def make_model(url: str | None, **overrides: Any) -> OpenAIChatModel:
    values: dict[str, Any] = {
        "openai_base_url": url,
        "openai_model": "fixture-model",
        "openai_api_key": KEY,
        "request_timeout": 5.0,
        "max_retries": 0,
    }
    values.update(overrides)
    return OpenAIChatModel(Settings(**values))


def fail(model: OpenAIChatModel, **kwargs: Any) -> BackendError:
    """Run one streamed call that must fail, and return its error."""
    with pytest.raises(BackendError) as info:
        list(model.generate(QUESTION, max_tokens=kwargs.pop("max_tokens", 32), **kwargs))
    return info.value


def assert_no_key(error: BaseException, key: str = KEY) -> None:
    """The key is in no message, repr or traceback of the error or anything chained to it."""
    text = "".join(traceback.format_exception(error))
    assert key not in text
    seen: BaseException | None = error
    while seen is not None:
        assert key not in str(seen)
        assert key not in repr(seen)
        assert all(key not in repr(arg) for arg in seen.args)
        seen = seen.__cause__ or seen.__context__


def assert_one_line(error: BaseException) -> None:
    assert "\n" not in str(error)
    assert str(error).strip() == str(error)


# Answers -------------------------------------------------------------------------------------


def test_streams_deltas_in_order_and_fills_usage(server: OpenAIFixtureServer) -> None:
    model = make_model(server.url)
    completion = model.generate(QUESTION, max_tokens=64)
    deltas = list(completion)
    assert deltas == split_reply(REPLY)
    assert len(deltas) > 1
    assert "".join(deltas) == REPLY
    prompt_words = sum(len(m.content.split()) for m in QUESTION)
    assert completion.usage == Usage(prompt_tokens=prompt_words, completion_tokens=len(deltas))


def test_sends_model_messages_and_parameters(server: OpenAIFixtureServer) -> None:
    model = make_model(server.url, openai_model="my-model")
    model.complete(QUESTION, max_tokens=77, temperature=0.3, stop=["\n\n", "Question:"])
    (request,) = server.chat_requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body is not None
    assert body["model"] == "my-model"
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in QUESTION]
    assert body["max_tokens"] == 77
    assert body["temperature"] == pytest.approx(0.3)
    assert body["stop"] == ["\n\n", "Question:"]
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_no_stop_sequences_sends_no_stop(server: OpenAIFixtureServer) -> None:
    make_model(server.url).complete(QUESTION, max_tokens=8)
    body = server.chat_requests[0].body
    assert body is not None and "stop" not in body
    assert body["temperature"] == 0.0


def test_reply_can_depend_on_the_messages(server: OpenAIFixtureServer) -> None:
    server.behaviour.reply = lambda messages: "You said: " + messages[-1]["content"]
    text = make_model(server.url).complete([Message("user", "ping pong")], max_tokens=8)
    assert text == "You said: ping pong"


def test_usage_belongs_to_each_call(server: OpenAIFixtureServer) -> None:
    model = make_model(server.url)
    first = model.generate(QUESTION, max_tokens=8)
    assert first.text() == REPLY
    assert first.usage.completion_tokens == len(split_reply(REPLY))
    server.behaviour.status = 500
    second = model.generate(QUESTION, max_tokens=8)
    with pytest.raises(BackendError):
        second.text()
    assert second.usage == Usage()
    assert first.usage.completion_tokens == len(split_reply(REPLY))  # not overwritten


def test_falls_back_when_the_server_rejects_stream_options(server: OpenAIFixtureServer) -> None:
    server.behaviour.reject_stream_options = True
    model = make_model(server.url)
    completion = model.generate(QUESTION, max_tokens=8)
    assert completion.text() == REPLY
    assert completion.usage == Usage()  # the server cannot report it without stream_options
    assert model.complete(QUESTION, max_tokens=8) == REPLY
    bodies = [r.body or {} for r in server.chat_requests]
    assert ["stream_options" in b for b in bodies] == [True, False, False]


def test_placeholder_key_when_none_is_set_for_a_local_server(
    server: OpenAIFixtureServer,
) -> None:
    model = make_model(server.url, openai_api_key=None)
    assert model.complete(QUESTION, max_tokens=8) == REPLY
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


def test_closing_the_generator_closes_the_http_stream(server: OpenAIFixtureServer) -> None:
    server.behaviour.reply = " ".join(f"word{i}" for i in range(400))
    server.behaviour.chunk_delay = 0.005
    completion = make_model(server.url).generate(QUESTION, max_tokens=500)
    stream = iter(completion)
    assert next(stream) == "word0"
    assert next(stream) == " word1"
    completion.close()
    # The server notices when a write fails on the closed connection.
    deadline = time.monotonic() + 5
    while server.disconnects == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.disconnects == 1


# Retries -------------------------------------------------------------------------------------


def test_retries_429_then_succeeds(server: OpenAIFixtureServer) -> None:
    server.behaviour.fail_first = 2
    model = make_model(server.url, max_retries=2)
    assert model.complete(QUESTION, max_tokens=8) == REPLY
    assert len(server.chat_requests) == 3


def test_waits_as_long_as_retry_after_says(server: OpenAIFixtureServer) -> None:
    # The client's own first backoff is at most 0.5 s: a longer wait proves Retry-After won.
    server.behaviour.fail_first = 1
    server.behaviour.retry_after = 0.8
    model = make_model(server.url, max_retries=1)
    start = time.monotonic()
    assert model.complete(QUESTION, max_tokens=8) == REPLY
    assert time.monotonic() - start >= 0.75


def test_429_without_retries_left_says_rate_limited(server: OpenAIFixtureServer) -> None:
    server.behaviour.fail_first = 5
    error = fail(make_model(server.url, max_retries=0))
    assert "429" in str(error) and "rate limit" in str(error)
    assert server.url in str(error)
    assert len(server.chat_requests) == 1
    assert_one_line(error)


def test_429_after_all_retries_counts_them(server: OpenAIFixtureServer) -> None:
    server.behaviour.fail_first = 5
    error = fail(make_model(server.url, max_retries=1))
    assert "429" in str(error) and "after 1 retry" in str(error)
    assert len(server.chat_requests) == 2


# Failures ------------------------------------------------------------------------------------


def test_wrong_key_is_rejected_without_revealing_it(
    server: OpenAIFixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.behaviour.api_key = "sk-the-right-one"
    model = make_model(server.url, max_retries=0)
    error = fail(model)
    message = str(error)
    assert "401" in message and "OPENAI_API_KEY" in message
    assert server.url in message
    assert_one_line(error)
    assert_no_key(error)
    assert KEY not in repr(model)
    assert KEY not in caplog.text
    # The server did echo the key back, so the test above is meaningful.
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_the_key_appears_in_no_error_or_log(
    server: OpenAIFixtureServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    model = make_model(server.url, max_retries=1)
    errors = []
    setups: list[dict[str, Any]] = [{"status": 500}, {"fail_first": 9}, {"malformed": "garbage"},
                                    {"unknown_model_404": True, "models": ("other",)}]
    for setup in setups:
        server.behaviour = Behaviour(reply=REPLY, **setup)
        errors.append(fail(model))
    server.behaviour = Behaviour(reply=REPLY)
    model.complete(QUESTION, max_tokens=8)  # fine again: logs of a success too
    for error in errors:
        assert_no_key(error)
    # A server message that quotes the key is passed on with the key masked.
    server.behaviour = Behaviour(status=502, error_message=f"upstream refused {KEY} today")
    error = fail(model)
    assert "upstream refused *** today" in str(error)
    assert_no_key(error)
    assert KEY not in repr(model)
    assert KEY not in caplog.text
    assert caplog.records  # the client did log: the check above saw real lines


def test_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    error = fail(make_model(url, max_retries=0))
    assert str(error) == (
        f"cannot reach the OpenAI-compatible server at {url}: is it running? "
        "check openai_base_url"
    )
    assert_no_key(error)


def test_slow_server_times_out(server: OpenAIFixtureServer) -> None:
    server.behaviour.delay = 3.0
    model = make_model(server.url, request_timeout=0.3, max_retries=0)
    start = time.monotonic()
    error = fail(model)
    assert time.monotonic() - start < 2.5
    assert "did not answer within 0.3 s" in str(error)
    assert "request_timeout" in str(error) and server.url in str(error)
    assert_one_line(error)
    assert_no_key(error)


def test_server_error_after_retries(server: OpenAIFixtureServer) -> None:
    server.behaviour.status = 500
    error = fail(make_model(server.url, max_retries=1))
    assert "500" in str(error) and "after 1 retry" in str(error)
    assert len(server.chat_requests) == 2  # 5xx is retried
    assert_one_line(error)


def test_unknown_model_names_it(server: OpenAIFixtureServer) -> None:
    server.behaviour.unknown_model_404 = True
    error = fail(make_model(server.url, openai_model="gpt-nonexistent"))
    assert "'gpt-nonexistent'" in str(error) and "404" in str(error)
    assert "openai_model" in str(error)
    assert f"{server.url}/models" in str(error)


def test_wrong_path_suggests_v1(server: OpenAIFixtureServer) -> None:
    url = server.url.removesuffix("/v1")
    error = fail(make_model(url))
    assert "404" in str(error) and "/v1" in str(error) and "openai_base_url" in str(error)


@pytest.mark.parametrize("kind", ["garbage", "not-sse"])
def test_malformed_stream(server: OpenAIFixtureServer, kind: str) -> None:
    server.behaviour.malformed = kind
    error = fail(make_model(server.url))
    assert "malformed response" in str(error) and server.url in str(error)
    assert_one_line(error)


def test_no_key_and_no_base_url_asks_for_the_key() -> None:
    with pytest.raises(BackendError, match="set OPENAI_API_KEY"):
        make_model(None, openai_api_key=None)


def test_repr_shows_server_and_model_only() -> None:
    model = make_model("http://user:pw@127.0.0.1:9/v1", openai_model="m")
    assert repr(model) == "OpenAIChatModel(base_url='http://127.0.0.1:9/v1', model='m')"
    assert "pw" not in str(fail(model))


# The fixture server itself -------------------------------------------------------------------


def test_fixture_serves_plain_json_and_models(server: OpenAIFixtureServer) -> None:
    request = urllib.request.Request(
        f"{server.url}/chat/completions",
        data=json.dumps({"model": "fixture-model", "messages": [
            {"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = json.load(response)
    assert body["choices"][0]["message"]["content"] == REPLY
    assert body["usage"]["completion_tokens"] == len(split_reply(REPLY))
    with urllib.request.urlopen(f"{server.url}/models", timeout=5) as response:
        assert [m["id"] for m in json.load(response)["data"]] == ["fixture-model"]


# llama.cpp's real server ---------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.llm
def test_real_llama_cpp_server_answers_through_the_backend(tmp_path: Path) -> None:
    with llama_server(tmp_path / "llama_server.log") as (url, served):
        model = make_model(url, openai_model=served, openai_api_key=None,
                           request_timeout=120.0, max_retries=0)
        messages = [
            Message("system", "Answer the question from the passage in one short sentence."),
            Message("user", "Passage: The bridge is 42 metres long.\n\n"
                            "Question: How long is the bridge?"),
        ]
        deltas = list(model.generate(messages, max_tokens=24, temperature=0.0))
        answer = "".join(deltas)
        assert len(deltas) > 1, "expected a streamed answer in several deltas"
        assert "42" in answer, answer

"""The default path with the real local model: correct cited answers about the seed article.

Marked ``llm`` (offline; a few seconds an answer). The same questions also go through the
``openai`` backend talking to llama.cpp's real OpenAI-compatible server on loopback.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest
from conftest import make_settings
from llama_server import llama_server

from assistant import prompts
from assistant.engine import Assistant

pytestmark = pytest.mark.llm

SEED_TITLE = "US reduces troop numbers in Iraq to 2,500: Pentagon"
THREADS = os.environ.get("ASSISTANT_LLM_THREADS", "2")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("real") / "data"


@pytest.fixture(scope="module")
def local(data_dir: Path) -> Assistant:
    settings = make_settings(data_dir.parent, backend="local", llm_threads=int(THREADS))
    return Assistant(settings)


def _cited_seed(answer) -> bool:  # type: ignore[no-untyped-def]
    return any(c.title == SEED_TITLE for c in answer.citations) and "[1]" in answer.text


def test_troop_numbers(local: Assistant) -> None:
    answer = local.ask("How many US troops remain in Iraq?")
    assert not answer.refused, answer.reason
    assert "2,500" in answer.text or "2500" in answer.text, answer.text
    assert _cited_seed(answer), answer.text
    assert answer.timings["first_token_s"] > 0 and answer.timings["prompt_tokens"] > 50


def test_who_announced_it(local: Assistant) -> None:
    answer = local.ask("Who announced that troops in Iraq were reduced to 2,500?")
    assert not answer.refused, answer.reason
    assert "Miller" in answer.text, answer.text
    assert _cited_seed(answer)


def test_unanswerable_is_refused(local: Assistant) -> None:
    answer = local.ask("What is the capital of France?")
    assert answer.refused and answer.text == prompts.REFUSAL


def _cli(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", *args],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "NO_COLOR": "1",
             "ASSISTANT_LLM_THREADS": THREADS, **env},
    )


def test_cli_ask_json_uses_the_local_model_by_default(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ASSISTANT_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "ask", "How many US troops remain in Iraq?",
         "--json"],
        capture_output=True, text=True, timeout=600,
        env={**env, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_LLM_THREADS": THREADS},
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["backend"] == "local" and not answer["refused"]
    assert "2,500" in answer["text"]
    citation = answer["citations"][0]
    assert set(citation) >= {"n", "id", "title", "source", "published", "url", "passage"}
    assert citation["title"] == SEED_TITLE and citation["source"] == "Rudaw"
    assert "2,500" in citation["passage"]


def _plain(text: str | None) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text or "")


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["llama-cpp-python", "xllamacpp"])
def test_chat_with_the_local_model_and_ctrl_c(data_dir: Path, runtime: str) -> None:
    package = "llama_cpp" if runtime == "llama-cpp-python" else runtime
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{runtime} is not installed")
    child = pexpect.spawn(
        sys.executable, ["-m", "assistant.cli.main", "chat", "--backend", "local"],
        env={**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "NO_COLOR": "1",
             "TERM": "xterm", "COLUMNS": "160", "PROMPT_TOOLKIT_NO_CPR": "1",
             "ASSISTANT_LLM_THREADS": THREADS, "ASSISTANT_LLM_RUNTIME": runtime,
             "ASSISTANT_MAX_ANSWER_TOKENS": "400"},
        dimensions=(40, 160), encoding="utf-8", timeout=300,
    )
    try:
        child.expect("you>")
        child.sendline("How many US troops remain in Iraq?")
        child.expect("Sources")
        child.expect("you>")
        assert "Rudaw" in _plain(child.before)
        # A long answer, stopped by Ctrl-C once it is streaming: the chat goes on, and the
        # model answers the next question in full.
        child.sendline("Describe in detail, sentence by sentence, everything the article "
                       "reports, with numbers and names.")
        child.expect("2,500")
        child.sendcontrol("c")
        child.expect(r"\[stopped\]")
        child.expect("you>")
        child.sendline("Who announced that troops in Iraq were reduced to 2,500?")
        child.expect("Sources")
        answered = _plain(child.before)
        child.expect("you>")
        # Complete and cited. Who announced it: the Acting Defense Secretary, Christopher
        # Miller, or his department. After the conversation above the prompt cache holds other
        # prompts, so the reply's wording can differ from a fresh ask (CI, llama-cpp-python:
        # "... according to a statement released by the Department of Defense on Friday [1]");
        # naming Miller on a fresh ask is test_who_announced_it's job.
        assert "[stopped]" not in answered and "[1]" in answered, answered
        assert "Miller" in answered or "Defense" in answered, answered
        child.sendline("/quit")
        child.expect("Bye.")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)


@pytest.mark.server
def test_same_answers_through_an_openai_compatible_server(data_dir: Path, tmp_path: Path) -> None:
    with llama_server(tmp_path / "server.log", threads=int(THREADS)) as (url, model):
        result = _cli(data_dir, "ask", "How many US troops remain in Iraq?", "--json",
                      "--backend", "openai", ASSISTANT_OPENAI_BASE_URL=url,
                      ASSISTANT_OPENAI_MODEL=model, ASSISTANT_REQUEST_TIMEOUT="300")
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["backend"] == "openai" and "2,500" in answer["text"]
        assert answer["citations"][0]["title"] == SEED_TITLE
        refused = _cli(data_dir, "ask", "What is the capital of France?", "--json",
                       "--backend", "openai", ASSISTANT_OPENAI_BASE_URL=url,
                       ASSISTANT_OPENAI_MODEL=model)
        assert json.loads(refused.stdout)["refused"] is True

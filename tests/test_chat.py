"""The real ``assistant chat`` REPL, driven in a pseudo-terminal the way a user types into it.

Each test spawns ``python -m assistant.cli.main chat`` in a pty (prompt_toolkit line editing,
Rich live rendering) with the deterministic fake backend, over one small ingested corpus, and
asserts only on what appears on the screen and on the exit status.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ROOT, write_small_corpus

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

TIMEOUT = 30.0
REFUSAL = "I cannot answer this from the news articles I have."
SEED_SOURCE = "[1] US reduces troop numbers in Iraq to 2,500: Pentagon — Rudaw"
TROOPS = "How many US troops remain in Iraq?"
# Escape sequences: CSI (colours, cursor moves), OSC (titles, links), and two-byte ones.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def plain(raw: str) -> str:
    return _ANSI.sub("", raw).replace("\r", "")


class Chat:
    """One chat process in a pty; ``expect`` reads the screen (escapes stripped) in order."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        full_env = {
            **os.environ,
            "ASSISTANT_DATA_DIR": str(data_dir),
            "ASSISTANT_BACKEND": "fake",
            "ASSISTANT_FAKE_TOKEN_DELAY": "0",
            "TERM": "xterm",  # a real terminal: Rich streams the answer live (not on "dumb")
            "NO_COLOR": "1",
            "COLUMNS": "160",
            "LINES": "40",
            "PROMPT_TOOLKIT_NO_CPR": "1",  # nobody answers cursor-position requests here
            **env,
        }
        self.child = pexpect.spawn(
            sys.executable, ["-m", "assistant.cli.main", "chat"], env=full_env, cwd=str(ROOT),
            dimensions=(40, 160), encoding="utf-8", codec_errors="replace", timeout=TIMEOUT,
        )
        self.raw = ""
        self.pos = 0  # how much of the plain screen text has been consumed

    @property
    def screen(self) -> str:
        return plain(self.raw)

    def _read(self, wait: float) -> None:
        with contextlib.suppress(pexpect.TIMEOUT):
            self.raw += self.child.read_nonblocking(65536, wait)

    def expect(self, needle: str, timeout: float = TIMEOUT) -> str:
        """Wait for ``needle`` after what was already read; return the text up to its end."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen
            found = text.find(needle, self.pos)
            if found >= 0:
                seen, self.pos = text[self.pos:found + len(needle)], found + len(needle)
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared; the chat showed:\n"
                                     f"{text[self.pos:]}")
            try:
                self._read(0.2)
            except pexpect.EOF:
                raise AssertionError(f"the chat ended before showing {needle!r}:\n"
                                     f"{text[self.pos:]}") from None

    def prompt(self) -> str:
        """Wait for the next prompt; returns everything shown before it."""
        return self.expect("you>")[: -len("you>")]

    def say(self, line: str, until: str) -> str:
        """Type ``line`` + Enter, wait for ``until`` and the next prompt; return that output."""
        self.child.sendline(line)
        shown = self.expect(until)
        return shown + self.prompt()

    def finish(self) -> tuple[str, int | None]:
        """Wait for the process to end: (what it showed last, exit status)."""
        deadline = time.monotonic() + TIMEOUT
        try:
            while time.monotonic() < deadline:
                self._read(0.5)
            raise AssertionError(f"the chat did not end:\n{self.screen[self.pos:]}")
        except pexpect.EOF:
            pass
        self.child.close()
        assert "Traceback" not in self.screen, self.screen
        return self.screen[self.pos:], self.child.exitstatus


@pytest.fixture(scope="module")
def chat_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the small corpus (seed article included), shared by the module."""
    tmp = tmp_path_factory.mktemp("chat")
    corpus = write_small_corpus(tmp / "corpus")
    data = tmp / "data"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_BACKEND": "fake"}
    result = subprocess.run([sys.executable, "-m", "assistant.cli.main", "ingest", str(corpus)],
                            capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return data


@pytest.fixture
def open_chat(chat_data: Path) -> Iterator[Callable[..., Chat]]:
    chats: list[Chat] = []

    def start(**env: str) -> Chat:
        chat = Chat(chat_data, **env)
        chats.append(chat)
        chat.expect("/help for commands")
        chat.prompt()
        return chat

    yield start
    for chat in chats:  # never leave a chat running when a test fails
        if chat.child.isalive():
            chat.child.terminate(force=True)


def test_answer_with_sources_follow_up_and_reset(open_chat: Callable[..., Chat]) -> None:
    chat = open_chat()
    first = chat.say(TROOPS, until="Sources")
    assert "2,500" in first and "[1]" in first
    assert SEED_SOURCE in first

    # The follow-up only names a country; the fake model rewrites it by joining it to the
    # previous question, so the conversation keeps it about US troops (the 2,500 sentence).
    follow_up = chat.say("And in Afghanistan?", until="Sources")
    assert "2,500" in follow_up and "[1]" in follow_up and SEED_SOURCE in follow_up
    assert "Afghanistan to the same number" not in follow_up

    shown = chat.say("/sources", until="Sources")
    assert SEED_SOURCE in shown
    # The passage itself, in full, not only the sentence the answer quoted.
    assert "Acting Defense Secretary Christopher Miller" in shown
    assert "reduced troops in Afghanistan to the same number" in shown

    # Without the conversation the same words are a different question, with another answer.
    reset = chat.say("/reset", until="Conversation cleared")
    assert "Conversation cleared (filters kept)." in reset
    alone = chat.say("And in Afghanistan?", until="Sources")
    assert "reduced troops in Afghanistan to the same number [1]" in alone
    assert "2,500," not in alone.split("Sources")[0]

    chat.child.sendline("/quit")
    tail, status = chat.finish()
    assert "Bye." in tail and status == 0


def test_commands_filters_and_refusals(open_chat: Callable[..., Chat]) -> None:
    chat = open_chat()
    assert "No sources yet" in chat.say("/sources", until="No sources yet")

    help_text = chat.say("/help", until="Ctrl-C stops")
    for command in ("/sources", "/filter", "/filter clear", "/reset", "/help", "/quit"):
        assert f"  {command} " in help_text

    assert "Filters: source=cnn.com" in chat.say("/filter source=cnn.com", until="Filters:")
    assert REFUSAL in chat.say(TROOPS, until=REFUSAL)
    assert "The last answer used no sources." in chat.say("/sources", until="no sources")

    assert "Filters: none" in chat.say("/filter clear", until="Filters:")
    answered = chat.say(TROOPS, until="Sources")
    assert "2,500" in answered and REFUSAL not in answered

    bad_date = chat.say("/filter since=notadate", until="is not a date")
    said = [line for line in bad_date.splitlines()
            if line.strip() and "/filter since=notadate" not in line]
    assert said == ["since='notadate' is not a date; use YYYY-MM-DD"]  # one line, no traceback
    assert "Filters: none" in chat.say("/filter", until="Filters:")  # unchanged

    unknown = chat.say("/frobnicate", until="/help lists the commands")
    assert "unknown command /frobnicate" in unknown
    # What the user typed is never read as Rich markup (this used to crash the chat).
    assert "unknown command /x[/]" in chat.say("/x[/]", until="/help lists")
    assert "unknown filter 'a[/b]'" in chat.say("/filter a[/b]", until="unknown filter")

    refused = chat.say("What is the capital of France?", until=REFUSAL)
    assert REFUSAL in refused and "Sources" not in refused

    chat.child.sendeof()  # Ctrl-D at the prompt
    tail, status = chat.finish()
    assert "Bye." in tail and status == 0


def test_ctrl_c_stops_the_answer_and_keeps_the_chat(open_chat: Callable[..., Chat]) -> None:
    chat = open_chat(ASSISTANT_FAKE_TOKEN_DELAY="0.3")  # a full answer takes ~10 s

    # Ctrl-C while a refusal is being prepared (the first question also loads the models).
    chat.child.sendline("What is the capital of France?")
    time.sleep(0.3)
    chat.child.sendcontrol("c")
    assert REFUSAL in chat.expect(REFUSAL)
    chat.prompt()

    # Ctrl-C at the prompt does not leave, and it clears a half-typed line: what is typed
    # next is a command on its own, not "What is the capital/help".
    chat.child.sendcontrol("c")
    chat.child.send("What is the capital")
    chat.expect("capital")
    chat.child.sendcontrol("c")
    assert "Ctrl-C stops" in chat.say("/help", until="Ctrl-C stops")
    assert chat.child.isalive()

    chat.child.sendline(TROOPS)
    chat.expect("United States")  # the answer is streaming, word by word
    chat.child.sendcontrol("c")
    stopped = chat.expect("[stopped]") + chat.prompt()
    assert "Department of Defense" not in stopped  # it did not run to the end
    assert SEED_SOURCE in stopped  # what was written keeps its citation

    # Still alive: the next question is answered in full.
    answered = chat.say("How many runners took part in the race?", until="Sources")
    assert "more than forty thousand runners took part in the race [1]" in answered
    assert "[1] Marathon record falls in Berlin" in answered
    assert "[stopped]" not in answered

    chat.child.sendcontrol("d")
    tail, status = chat.finish()
    assert "Bye." in tail and status == 0


def test_history_is_saved_and_up_arrow_recalls_it(
    open_chat: Callable[..., Chat], chat_data: Path
) -> None:
    question = "Who broke the marathon world record in Berlin?"
    chat = open_chat()
    assert "Eliud Kipchoge" in chat.say(question, until="Sources")
    chat.child.sendeof()
    assert chat.finish()[1] == 0
    assert f"+{question}" in (chat_data / "chat_history").read_text(encoding="utf-8")

    again = open_chat()
    again.child.send("\x1b[A")  # Up arrow
    again.expect(question)  # the line now holds the previous question
    again.child.send("\r")
    recalled = again.expect("Sources") + again.prompt()
    assert "Eliud Kipchoge broke his own marathon world record in Berlin" in recalled
    again.child.sendline("/quit")
    tail, status = again.finish()
    assert "Bye." in tail and status == 0

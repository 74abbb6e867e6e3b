"""The terminal chat: streamed answers, follow-ups, and slash commands."""

from __future__ import annotations

import shlex
import signal
import sys
from collections.abc import Callable
from datetime import date
from types import FrameType
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from assistant.answer import Answer
from assistant.backends import Turn
from assistant.cli.render import print_answer, print_sources
from assistant.engine import Assistant
from assistant.errors import AssistantError
from assistant.filters import SearchFilters
from assistant.readers.fields import parse_date

HELP = """\
Ask a question about the news articles; follow-up questions use the conversation.
  /timeline TOPIC     a dated list of events about TOPIC, from many articles
  /sources            the passages the last answer used, in full
  /filter             show the filters; /filter source=Rudaw since=2020-01-01 until=2020-12-31
  /filter clear       remove all filters
  /reset              forget the conversation (filters stay)
  /update             poll the followed feeds and index what is new (Ctrl-C stops)
  /help               this help
  /quit               leave (or Ctrl-D)
Ctrl-C stops an answer that is being written."""

PROMPT = "you> "


class ChatSession:
    def __init__(
        self,
        assistant: Assistant,
        out: Console,
        err: Console,
        *,
        filters: SearchFilters | None = None,
        k: int | None = None,
        reference_date: date | None = None,
    ) -> None:
        self.assistant = assistant
        self.out = out
        self.err = err
        self.filters = filters or SearchFilters()
        self.k = k
        self.reference_date = reference_date
        self.turns: list[Turn] = []
        self.last: Answer | None = None
        self._interrupted = False

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> None:
        read = self._reader()
        backend = self.assistant.settings.answer.backend
        self.out.print(f"News assistant ({backend} backend). /help for commands, Ctrl-D to leave.",
                       style="dim")
        while True:
            try:
                line = read(PROMPT)
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line, as in a shell
            except EOFError:
                break
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    break
                continue
            try:
                self.answer(line)
            except AssistantError as exc:
                self.err.print(Text.assemble(("error:", "bold red"), f" {exc}"))
            except KeyboardInterrupt:
                # A Ctrl-C just outside the streaming window (while the answer is printed)
                # must not end the chat either.
                self.err.print("[stopped]", style="dim", markup=False)
        self.out.print("Bye.", style="dim")

    def _reader(self) -> Callable[[str], str]:
        if not sys.stdin.isatty():
            return input
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history_file = self.assistant.settings.data_dir / "chat_history"
        history_file.parent.mkdir(parents=True, exist_ok=True)
        session: PromptSession[str] = PromptSession(history=FileHistory(str(history_file)))
        return session.prompt

    # -- answering ----------------------------------------------------------------------------
    def answer(self, question: str, timeline: bool = False) -> None:
        stream = self.assistant.stream(
            question,
            k=self.k,
            source=list(self.filters.sources) or None,
            since=self.filters.since,
            until=self.filters.until,
            reference_date=self.reference_date,
            history=self.turns,
            timeline=timeline,
        )
        # Ctrl-C sets a flag that the loop checks between tokens, so the answer so far is kept
        # and the engine closes the model's stream cleanly.
        self._interrupted = False
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            with Live(Text("…", style="dim"), console=self.out, transient=True,
                      refresh_per_second=15) as live:
                shown = ""
                for delta in stream:
                    shown += delta
                    live.update(Text(shown))
                    if self._interrupted:
                        stream.stop()
                        break
        finally:
            signal.signal(signal.SIGINT, previous)
        answer = stream.answer if stream.answer is not None else stream.stop()
        print_answer(self.out, answer)
        self.out.print()
        self.last = answer
        if not answer.refused:
            self.turns.append(Turn(answer.standalone_question or question, answer.text))

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        self._interrupted = True

    # -- slash commands -----------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run a slash command; False means leave the chat."""
        name, _, rest = line.partition(" ")
        name = name.lower()
        handlers: dict[str, Callable[[str], Any]] = {
            "/help": lambda _: self.out.print(HELP, highlight=False),
            "/sources": self._sources,
            "/timeline": self._timeline,
            "/filter": self._filter,
            "/reset": self._reset,
            "/update": self._update,
        }
        if name in {"/quit", "/exit", "/q"}:
            return False
        handler = handlers.get(name)
        if handler is None:
            self._error(f"unknown command {name}; /help lists the commands")
        else:
            handler(rest.strip())
        return True

    def _sources(self, _: str) -> None:
        if self.last is None:
            self.out.print("No sources yet: ask a question first.", style="dim")
            return
        if not self.last.citations:
            self.out.print("The last answer used no sources.", style="dim")
            return
        print_sources(self.out, self.last.citations, full=True)

    def _timeline(self, topic: str) -> None:
        if not topic:
            self._error("/timeline needs a topic, e.g. /timeline the port strike")
            return
        try:
            self.answer(topic, timeline=True)
        except AssistantError as exc:
            self.err.print(Text.assemble(("error:", "bold red"), f" {exc}"))

    def _reset(self, _: str) -> None:
        self.turns.clear()
        self.last = None
        self.out.print("Conversation cleared (filters kept).", style="dim")

    def _update(self, args: str) -> None:
        """Poll the followed feeds (all, or the names given) between two questions."""
        import threading

        from assistant.cli.feeds_command import print_update_report, stop_on_ctrl_c

        feeds = self.assistant.feeds
        if not feeds.list():
            self.out.print("No feeds yet: add one with 'assistant feeds add URL'.", style="dim")
            return
        stop = threading.Event()
        try:
            with stop_on_ctrl_c(stop, self.err), self.err.status("Updating feeds…"):
                report = feeds.update(args.split() or None, stop=stop)
        except AssistantError as exc:
            self._error(f"error: {exc}")
            return
        except KeyboardInterrupt:  # a second Ctrl-C: the next update carries on
            self._error("update interrupted; /update again carries on")
            return
        print_update_report(self.out, report)

    def _filter(self, args: str) -> None:
        if args.lower() in {"clear", "none", "off", "reset"}:
            self.filters = SearchFilters()
        elif args:
            values: dict[str, Any] = {"source": list(self.filters.sources),
                                      "since": self.filters.since, "until": self.filters.until}
            try:
                parts = shlex.split(args)
            except ValueError as exc:
                self._error(f"cannot read filter: {exc}")
                return
            for part in parts:
                key, sep, value = part.partition("=")
                key = key.lower().strip()
                if not sep or key not in {"source", "since", "until"}:
                    self._error(f"unknown filter {part!r}; use source=NAME since=YYYY-MM-DD "
                                "until=YYYY-MM-DD")
                    return
                if key == "source":
                    values["source"] = [s for s in value.split(",") if s] if value else []
                elif not value:
                    values[key] = None
                else:
                    day = parse_date(value)
                    if day is None:
                        self._error(f"{key}={value!r} is not a date; use YYYY-MM-DD")
                        return
                    values[key] = day
            if values["since"] and values["until"] and values["since"] > values["until"]:
                self._error("since is after until; swap them")
                return
            self.filters = SearchFilters.make(values["source"], values["since"], values["until"])
        self.out.print(f"Filters: {_describe(self.filters)}", style="dim", markup=False,
                       highlight=False)

    def _error(self, message: str) -> None:
        # Messages quote what the user typed: never read it as Rich markup ("/x[/]" would crash).
        self.err.print(message, markup=False, highlight=False)


def _describe(filters: SearchFilters) -> str:
    if filters.empty:
        return "none"
    parts = []
    if filters.sources:
        parts.append("source=" + ",".join(filters.sources))
    if filters.since:
        parts.append(f"since={filters.since}")
    if filters.until:
        parts.append(f"until={filters.until}")
    return " ".join(parts)

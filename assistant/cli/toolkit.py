"""What every command shares: consoles, error printing, settings from flags, JSON, progress.

Commands import from here and nowhere else in ``assistant.cli``, so ``python -m
assistant.cli.main`` never loads a second copy of a module.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from assistant.errors import AssistantError, InputError
from assistant.readers.fields import parse_date
from assistant.registry import BACKENDS
from assistant.settings import Settings, load_settings

if TYPE_CHECKING:  # the CLI starts fast: heavy modules load inside the commands
    from assistant.engine import AnswerStream
    from assistant.index import NewsIndex
    from assistant.ingest import IngestProgress, ProgressCallback

out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def print_error(exc: BaseException) -> None:
    # The message may quote user input: never read it as Rich markup.
    err.print(Text.assemble(("error:", "bold red"), f" {exc}"), highlight=False, soft_wrap=True)


def friendly_errors(func: F) -> F:
    """Turn known errors into one line on stderr and a non-zero exit; no tracebacks."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AssistantError as exc:
            print_error(exc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted; run the same command again to carry on", style="yellow")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


# -- options shared by several commands -------------------------------------------------------
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TopKOpt = Annotated[int | None, typer.Option("-k", "--top-k", help="Passages to retrieve.")]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Published on/after YYYY-MM-DD.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Published on/before YYYY-MM-DD.")]
BackendOpt = Annotated[str | None, typer.Option("--backend", help=BACKENDS.describe())]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Reference 'today' for time words (YYYY-MM-DD).")
]


def settings_from(ctx: typer.Context, **flags: Any) -> Settings:
    """Settings from every source, with the global options and this command's flags on top."""
    shared = dict(ctx.find_root().obj or {})
    config: Path | None = shared.pop("config", None)
    return load_settings(config, **shared, **flags)


def global_flags(ctx: typer.Context) -> dict[str, Any]:
    """The global options given on the command line (for ``assistant config``)."""
    shared = dict(ctx.find_root().obj or {})
    shared.pop("config", None)
    return shared


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    day = parse_date(value)
    if day is None:
        raise InputError(f"{flag} {value!r} is not a date; use YYYY-MM-DD")
    return day


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


# -- progress ---------------------------------------------------------------------------------
def show_answer(stream: AnswerStream, as_json: bool, status: str) -> None:
    """Run an answer to its end (a spinner meanwhile), then print it: JSON or the terminal view."""
    from assistant.cli.render import print_answer

    if as_json:
        for _ in stream:
            pass
    else:
        with err.status(status, spinner="dots"):
            for _ in stream:
                pass
    assert stream.answer is not None
    if as_json:
        print_json(stream.answer.to_dict())
    else:
        print_answer(out, stream.answer)


@contextmanager
def progress_display() -> Iterator[Progress]:
    """A progress display on stderr: description, bar, done/total, a note, elapsed time."""
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=err,
    )
    with progress:
        yield progress


def ingest_callback(progress: Progress, label: str) -> ProgressCallback:
    """A ``NewsIndex.ingest`` callback drawing one task (added at the first event)."""
    task: list[TaskID] = []
    started = [time.perf_counter()]

    def update(event: IngestProgress) -> None:
        if not task:
            task.append(progress.add_task(f"{label}: reading files", total=None, note=""))
        if event.phase == "waiting":
            progress.update(task[0], description=f"{label}: waiting for another process "
                            "writing to this index")
        elif event.phase == "reading":
            progress.update(task[0], description=f"{label}: reading files")
        elif event.phase == "embedding":
            if event.articles_done == 0:
                started[0] = time.perf_counter()
            elapsed = max(time.perf_counter() - started[0], 1e-6)
            note = (f"articles {event.articles_done / elapsed:5.1f}/s "
                    f"chunks {event.chunks_done / elapsed:5.1f}/s" if event.articles_done else "")
            progress.update(task[0], description=f"{label}: embedding",
                            total=max(event.articles_total, 1),
                            completed=event.articles_done if event.articles_total else 1,
                            note=note)
        elif event.phase == "indexing":
            progress.update(task[0], description=f"{label}: keyword index")

    return update


@contextmanager
def ingest_progress(label: str = "Ingesting") -> Iterator[ProgressCallback]:
    with progress_display() as progress:
        yield ingest_callback(progress, label)


def open_index(settings: Settings, build: bool = True) -> NewsIndex:
    """The index; on first use an empty one is built from the default corpus, with progress."""
    from assistant.index import NewsIndex

    index = NewsIndex(settings)
    if build and index.store.count_chunks() == 0:
        err.print(f"First run: building the index from {settings.corpus_dir}", style="dim")
        with ingest_progress("Building index") as progress:
            index.ensure_built(progress)
    return index

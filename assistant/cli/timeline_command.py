"""``assistant timeline "TOPIC"``: dated events from many articles, in order, each cited.

Registered on the main app by :func:`register`, which passes in the helpers of
``assistant.cli.main`` (importing that module here would load a second copy of it when it
runs as ``python -m assistant.cli.main``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console

from assistant.errors import InputError

out = Console()
err = Console(stderr=True)

_helpers: dict[str, Callable[..., Any]] = {}


def timeline_command(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="What the timeline is about, e.g. 'the port "
                                              "strike' (time words like 'since March' work).")],
    backend: Annotated[str | None, typer.Option(
        "--backend", help="local | openai | extractive | fake")] = None,
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="Only this source (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="Published on/after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Published on/before YYYY-MM-DD.")] = None,
    reference_date: Annotated[str | None, typer.Option(
        "--date", help="Reference 'today' for time words (YYYY-MM-DD).")] = None,
    articles: Annotated[int | None, typer.Option(
        "--articles", "-n", min=1, max=50,
        help="At most this many articles (default: the timeline_articles setting).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """A timeline of a story: dated events from many articles, oldest first, each cited;
    reports that disagree shown side by side."""
    from assistant.cli.render_developing import print_full_answer
    from assistant.engine import Assistant

    settings_from, open_index, parse_day = (_helpers["settings_from"], _helpers["open_index"],
                                            _helpers["parse_day"])
    if not topic.strip():
        raise InputError("empty topic: say what the timeline is about, e.g. 'the port strike'")
    settings = settings_from(ctx, backend=backend)
    if articles is not None:
        developing = settings.developing.model_copy(update={"timeline_articles": articles})
        settings = settings.model_copy(update={"developing": developing})
    assistant = Assistant(settings, index=open_index(settings))
    stream = assistant.stream(
        topic, source=source, since=parse_day(since, "--since"),
        until=parse_day(until, "--until"), reference_date=parse_day(reference_date, "--date"),
        timeline=True,
    )
    if as_json:
        answer = _drain(stream)
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2,
                                    default=str) + "\n")
        return
    with err.status("Reading the articles…", spinner="dots"):
        answer = _drain(stream)
    print_full_answer(out, answer)


def _drain(stream: Any) -> Any:
    for _ in stream:
        pass
    assert stream.answer is not None
    return stream.answer


def register(app: typer.Typer, errors: Callable[[Any], Any], **helpers: Callable[..., Any]
             ) -> None:
    """Add ``assistant timeline`` to ``app``; ``helpers``: settings_from, open_index,
    parse_day from ``assistant.cli.main``."""
    _helpers.update(helpers)
    app.command("timeline")(errors(timeline_command))

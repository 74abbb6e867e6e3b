"""``assistant timeline "TOPIC"``: dated events from many articles, in order, each cited."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.toolkit import (
    BackendOpt,
    DateOpt,
    JsonOpt,
    SinceOpt,
    SourceOpt,
    UntilOpt,
    open_index,
    parse_day,
    settings_from,
    show_answer,
)
from assistant.errors import InputError


def timeline_command(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="What the timeline is about, e.g. 'the port "
                                              "strike' (time words like 'since March' work).")],
    backend: BackendOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    reference_date: DateOpt = None,
    articles: Annotated[int | None, typer.Option(
        "--articles", "-n", min=1, max=50,
        help="At most this many articles (default: the developing.timeline_articles setting).",
    )] = None,
    as_json: JsonOpt = False,
) -> None:
    """A timeline of a story: dated events from many articles, oldest first, each cited;
    reports that disagree shown side by side."""
    from assistant.engine import Assistant

    if not topic.strip():
        raise InputError("empty topic: say what the timeline is about, e.g. 'the port strike'")
    flags = {"developing": {"timeline_articles": articles}} if articles is not None else {}
    settings = settings_from(ctx, backend=backend, **flags)
    assistant = Assistant(settings, index=open_index(settings))
    stream = assistant.stream(
        topic, source=source, since=parse_day(since, "--since"),
        until=parse_day(until, "--until"), reference_date=parse_day(reference_date, "--date"),
        timeline=True,
    )
    show_answer(stream, as_json, "Reading the articles…")

"""The ``assistant`` command: a thin Typer layer over the library."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from assistant.errors import AssistantError, InputError
from assistant.readers.fields import parse_date
from assistant.settings import Settings, load_settings

app = typer.Typer(
    name="assistant",
    help="Answer questions about news articles, with cited sources. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


# -- shared options ---------------------------------------------------------------------------
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the index lives.")]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="Collection name.")]
HostOpt = Annotated[str | None, typer.Option("--chroma-host", help="Use a Chroma server.")]
PortOpt = Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
TopKOpt = Annotated[int | None, typer.Option("-k", "--top-k", help="Passages to retrieve.")]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Published on/after YYYY-MM-DD.")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Published on/before YYYY-MM-DD.")]
BackendOpt = Annotated[
    str | None, typer.Option("--backend", help="local | openai | extractive | fake")
]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Reference 'today' for time words (YYYY-MM-DD).")
]


@app.callback()
def main(
    ctx: typer.Context,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
    collection: CollectionOpt = None,
    chroma_host: HostOpt = None,
    chroma_port: PortOpt = None,
) -> None:
    ctx.obj = {
        "config": config,
        "data_dir": data_dir,
        "collection": collection,
        "chroma_host": chroma_host,
        "chroma_port": chroma_port,
    }


def settings_from(ctx: typer.Context, **flags: Any) -> Settings:
    shared = dict(ctx.obj or {})
    config = shared.pop("config", None)
    return load_settings(config, **shared, **flags)


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    day = parse_date(value)
    if day is None:
        raise InputError(f"{flag} {value!r} is not a date; use YYYY-MM-DD")
    return day


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def open_index(settings: Settings, build: bool = True) -> Any:
    """The index; on first use an empty one is built from the default corpus, with progress."""
    from assistant.cli.progress import ingest_progress
    from assistant.index import NewsIndex

    index = NewsIndex(settings)
    if build and index.store.count_chunks() == 0:
        err.print(f"First run: building the index from {settings.corpus_dir}", style="dim")
        with ingest_progress(err, "Building index") as progress:
            index.ensure_built(progress)
    return index


# -- commands ---------------------------------------------------------------------------------
@app.command()
@friendly_errors
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of articles.")],
    chunk_size: Annotated[int | None, typer.Option(help="Tokens per chunk.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Tokens shared by chunks.")] = None,
    fallback_encoding: Annotated[
        str | None, typer.Option(help="Decode non-UTF-8 text with this codec (e.g. cp1252).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add or update articles from files (.txt .md .html .json .jsonl) and folders."""
    from assistant.cli.progress import ingest_progress
    from assistant.cli.render import print_ingest_report
    from assistant.index import NewsIndex

    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    settings = settings_from(ctx, chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                             fallback_encoding=fallback_encoding)
    index = NewsIndex(settings)
    with ingest_progress(err) as progress:
        report = index.ingest(paths, progress)
    if as_json:
        print_json(report.to_dict())
    else:
        print_ingest_report(out, report)


@app.command()
@friendly_errors
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: TopKOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find the passages that best match a query (hybrid dense + keyword search)."""
    from assistant.cli.render import print_passages
    from assistant.filters import SearchFilters

    settings = settings_from(ctx)
    filters = SearchFilters.make(source, parse_day(since, "--since"), parse_day(until, "--until"))
    index = open_index(settings)
    passages = index.search(query, k, filters)
    if as_json:
        print_json([
            {"id": p.article_id, "title": p.title, "source": p.source,
             "published": p.published.isoformat() if p.published else None, "url": p.url,
             "score": round(p.score, 6), "text": p.text, "chunk": p.chunk_id,
             "start": p.start, "end": p.end,
             "similarity": None if p.dense is None else round(p.dense, 4)}
            for p in passages
        ])
    else:
        print_passages(out, passages)


@app.command()
@friendly_errors
def remove(
    ctx: typer.Context,
    article_id: Annotated[str, typer.Argument(metavar="ID", help="Article id or url.")],
) -> None:
    """Delete one article and its passages from the index."""
    from assistant.index import NewsIndex

    index = NewsIndex(settings_from(ctx))
    if not index.remove(article_id):
        raise InputError(f"no article with id {article_id!r}; 'assistant search' shows ids")
    out.print(f"Removed {article_id}")


@app.command()
@friendly_errors
def stats(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """How many articles, chunks, sources and dates the index holds."""
    from assistant.cli.render import print_stats
    from assistant.index import NewsIndex

    data = NewsIndex(settings_from(ctx)).stats()
    if as_json:
        print_json(data)
    else:
        print_stats(out, data)


@app.command()
@friendly_errors
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="Your question.")],
    backend: BackendOpt = None,
    k: TopKOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    reference_date: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Answer a question with cited sources."""
    from assistant.cli.render_developing import print_full_answer
    from assistant.engine import Assistant

    settings = settings_from(ctx, backend=backend)
    assistant = Assistant(settings, index=open_index(settings))
    stream = assistant.stream(
        question, k=k, source=source, since=parse_day(since, "--since"),
        until=parse_day(until, "--until"), reference_date=parse_day(reference_date, "--date"),
    )
    if as_json:
        for _ in stream:
            pass
        assert stream.answer is not None
        print_json(stream.answer.to_dict())
        return
    with err.status("Thinking…", spinner="dots"):
        for _ in stream:
            pass
    assert stream.answer is not None
    print_full_answer(out, stream.answer)


@app.command()
@friendly_errors
def chat(
    ctx: typer.Context,
    backend: BackendOpt = None,
    k: TopKOpt = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    reference_date: DateOpt = None,
) -> None:
    """Talk with the assistant: follow-up questions, /sources, /filter, /reset, /help, /quit."""
    from assistant.cli.chat import ChatSession
    from assistant.engine import Assistant
    from assistant.filters import SearchFilters

    settings = settings_from(ctx, backend=backend)
    assistant = Assistant(settings, index=open_index(settings))
    filters = SearchFilters.make(source, parse_day(since, "--since"), parse_day(until, "--until"))
    ChatSession(assistant, out, err, filters=filters, k=k,
                reference_date=parse_day(reference_date, "--date")).run()


from assistant.cli.eval_command import register as register_eval  # noqa: E402

register_eval(app, friendly_errors, settings_from)

from assistant.cli.timeline_command import register as register_timeline  # noqa: E402

register_timeline(app, friendly_errors, settings_from=settings_from, open_index=open_index,
                  parse_day=parse_day)


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except AssistantError as exc:  # raised outside a command (e.g. settings in the callback)
        print_error(exc)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()

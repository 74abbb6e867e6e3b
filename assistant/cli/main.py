"""The ``assistant`` command: a thin Typer layer over the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.eval_command import eval_command
from assistant.cli.feeds_command import feeds_app, update_command
from assistant.cli.timeline_command import timeline_command
from assistant.cli.toolkit import (
    BackendOpt,
    DateOpt,
    JsonOpt,
    SinceOpt,
    SourceOpt,
    TopKOpt,
    UntilOpt,
    err,
    friendly_errors,
    global_flags,
    ingest_progress,
    open_index,
    out,
    parse_day,
    print_error,
    print_json,
    settings_from,
    show_answer,
)
from assistant.errors import AssistantError, InputError

app = typer.Typer(
    name="assistant",
    help="Answer questions about news articles, with cited sources. Offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the index lives.")]
CollectionOpt = Annotated[str | None, typer.Option("--collection", help="Collection name.")]
HostOpt = Annotated[str | None, typer.Option("--chroma-host", help="Use a Chroma server.")]
PortOpt = Annotated[int | None, typer.Option("--chroma-port", help="Chroma server port.")]


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


# -- commands ---------------------------------------------------------------------------------
@app.command()
@friendly_errors
def ingest(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH|URL...", help="Files or folders of articles, or http(s) article urls.")],
    chunk_size: Annotated[int | None, typer.Option(help="Tokens per chunk.")] = None,
    chunk_overlap: Annotated[int | None, typer.Option(help="Tokens shared by chunks.")] = None,
    fallback_encoding: Annotated[
        str | None, typer.Option(help="Decode non-UTF-8 text with this codec (e.g. cp1252).")
    ] = None,
    no_wait: Annotated[bool, typer.Option(
        "--no-wait", help="Fail at once if another process is writing to the index.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add or update articles from files (.txt .md .html .json .jsonl), folders and web
    pages (the page's main text; its canonical url is the article id)."""
    from assistant.cli.render import print_ingest_report
    from assistant.feeds.urls import is_url
    from assistant.index import NewsIndex

    urls = [p for p in paths if is_url(p)]
    files = [Path(p) for p in paths if not is_url(p)]
    for path in files:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    settings = settings_from(ctx, chunk_size=chunk_size, chunk_overlap=chunk_overlap,
                             fallback_encoding=fallback_encoding)
    index = NewsIndex(settings)
    with ingest_progress() as progress:
        report = index.ingest(files, progress, wait=not no_wait) if files else None
        if urls:
            from assistant.feeds import Feeds

            from_urls = Feeds(settings, index=index).ingest_urls(urls, progress)
            report = from_urls if report is None else report.merged(from_urls)
    assert report is not None
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
    all_copies: Annotated[bool, typer.Option(
        "--all-copies", help="Show every copy of a story, not only its earliest article.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find the passages that best match a query (hybrid dense + keyword search)."""
    from assistant.cli.render import print_passages
    from assistant.filters import SearchFilters

    settings = settings_from(ctx)
    filters = SearchFilters.make(source, parse_day(since, "--since"), parse_day(until, "--until"))
    index = open_index(settings)
    passages = index.search(query, k, filters, all_copies=all_copies)
    if as_json:
        print_json([
            {"id": p.article_id, "title": p.title, "source": p.source,
             "published": p.published.isoformat() if p.published else None, "url": p.url,
             "score": round(p.score, 6), "text": p.text, "chunk": p.chunk_id,
             "start": p.start, "end": p.end,
             "similarity": None if p.dense is None else round(p.dense, 4),
             "story": p.story, "also_reported_by": p.copies}
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
    from assistant.engine import Assistant

    settings = settings_from(ctx, backend=backend)
    assistant = Assistant(settings, index=open_index(settings))
    stream = assistant.stream(
        question, k=k, source=source, since=parse_day(since, "--since"),
        until=parse_day(until, "--until"), reference_date=parse_day(reference_date, "--date"),
    )
    show_answer(stream, as_json, "Thinking…")


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


@app.command()
@friendly_errors
def config(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The settings in effect, where each comes from, and the endpoints used (keys masked)."""
    from assistant.cli.render import print_settings
    from assistant.settings import explain

    settings = settings_from(ctx)
    rows = explain(settings, global_flags(ctx))
    if as_json:
        print_json({"config_file": settings.config_file,
                    "settings": {r.name: {"value": r.value, "from": r.origin} for r in rows}})
    else:
        print_settings(out, settings, rows)


app.command("eval")(friendly_errors(eval_command))
app.add_typer(feeds_app, name="feeds")
app.command("update")(friendly_errors(update_command))
app.command("timeline")(friendly_errors(timeline_command))


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except AssistantError as exc:  # raised outside a command (e.g. settings in the callback)
        print_error(exc)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()

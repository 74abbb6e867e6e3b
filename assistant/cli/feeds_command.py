"""``assistant feeds add/list/remove`` and ``assistant update [--every 30m]``."""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from assistant.cli.toolkit import (
    JsonOpt,
    err,
    friendly_errors,
    out,
    print_json,
    progress_display,
    settings_from,
)
from assistant.errors import InputError

feeds_app = typer.Typer(help="Follow feeds and sitemaps: add, list, remove.",
                        no_args_is_help=True)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: str) -> float:
    """Seconds in a duration such as 30m, 1h30m, 90s or 2h (a bare number is minutes)."""
    text = value.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text) * 60
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", text)
        if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([smhd])", "", text).strip():
            raise InputError(f"--every {value!r}: use a duration like 30m, 1h or 90s")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < 1:
        raise InputError(f"--every {value!r}: the interval must be at least 1 second")
    return seconds


@contextmanager
def stop_on_ctrl_c(stop: threading.Event, err: Console) -> Iterator[None]:
    """First Ctrl-C: finish the current feed and stop cleanly. Second: interrupt now."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.print("stopping after the current feed (Ctrl-C again to interrupt now)",
                  style="yellow")

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def print_update_report(console: Console, report: Any) -> None:
    """A summary line, then one line per failed feed and per rejected page."""
    seconds = report.seconds
    summary = (f"Updated {len(report.feeds)} feeds in {seconds:.1f} s: "
               f"{len(report.added)} new articles, {len(report.updated)} updated, "
               f"{report.pages_fetched} pages fetched, {len(report.failed)} feeds failed")
    console.print(summary, highlight=False)
    for feed in report.feeds:
        if feed.failed:
            console.print(Text.assemble(("✗ ", "bold red"), feed.line()), highlight=False)
        elif feed.status != "unchanged" or feed.rejected or feed.waiting:
            console.print(Text("  " + feed.line()), highlight=False)
        for problem in feed.rejected:
            retry = " (retried next update)" if problem.transient else ""
            console.print(Text(f"  ! page {problem}{retry}", style="yellow"), highlight=False)
        for warning in feed.warnings[:5]:
            console.print(Text(f"  ! feed {feed.name}: {warning}", style="dim"),
                          highlight=False)
    for ref in report.added[:10]:
        console.print(f"  + {escape(ref.title or ref.id)}  [dim]{escape(ref.id)}[/dim]")
    if len(report.added) > 10:
        console.print(f"  … and {len(report.added) - 10} more (see --json)")
    for ref in report.updated[:10]:
        console.print(f"  ~ {escape(ref.title or ref.id)}  [dim]{escape(ref.id)}[/dim]")
    if report.stopped:
        console.print("Stopped between feeds; the next update carries on.", style="yellow")


@contextmanager
def update_progress() -> Iterator[Callable[[Any], None]]:
    """A ``Feeds.update`` callback drawing the toolkit's progress display."""
    with progress_display() as progress:
        task = progress.add_task("Polling feeds", total=None, note="")

        def update(event: Any) -> None:
            if event.phase == "polling":
                progress.update(task, description="Polling feeds", total=event.total or None,
                                completed=event.done)
            elif event.phase == "fetching":
                progress.update(task, description=f"Fetching and indexing ({event.feed})",
                                total=event.total or None, completed=event.done)
            elif event.phase == "indexing":
                progress.update(task, description="Keyword index")

        yield update


def open_feeds(ctx: typer.Context) -> Any:
    from assistant.feeds import Feeds

    return Feeds(settings_from(ctx))


@feeds_app.command("add")
@friendly_errors
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="RSS/Atom/RDF feed or (news) sitemap url.")],
    name: Annotated[str | None, typer.Option("--name", help="Short name.")] = None,
    ignore_robots: Annotated[bool, typer.Option(
        "--ignore-robots", help="Do not read robots.txt for this feed (your own feeds).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Follow a feed or sitemap; 'assistant update' fetches it."""
    feed = open_feeds(ctx).follow(url, name, respect_robots=not ignore_robots)
    if as_json:
        print_json(feed.to_dict())
    else:
        out.print(f"Following {feed.name}: {feed.url}", highlight=False, markup=False)

@feeds_app.command("list")
@friendly_errors
def list_feeds(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Followed feeds: name, url, last update, items, last error."""
    feeds = open_feeds(ctx).list()
    if as_json:
        print_json([f.to_dict() for f in feeds])
        return
    if not feeds:
        out.print("No feeds yet: 'assistant feeds add URL'.", style="yellow")
        return
    table = Table(box=None, padding=(0, 2))
    for column in ("name", "url", "last update", "items", "last error"):
        table.add_column(column, overflow="fold")
    for feed in feeds:
        items = str(feed.items) + (f" (+{feed.pending} waiting)" if feed.pending else "")
        when = feed.last_update[:16].replace("T", " ") if feed.last_update else "never"
        table.add_row(escape(feed.name), escape(feed.url), when,
                      items, Text(feed.last_error or "", style="red"))
    out.print(table)

@feeds_app.command("remove")
@friendly_errors
def remove(
    ctx: typer.Context,
    feed: Annotated[str, typer.Argument(metavar="NAME|URL", help="Feed to stop following.")],
    as_json: JsonOpt = False,
) -> None:
    """Stop following a feed (its articles stay in the index)."""
    gone = open_feeds(ctx).unfollow(feed)
    if as_json:
        print_json(gone.to_dict())
        return
    out.print(f"No longer following {gone.name} ({gone.url}); its {gone.items} articles "
              "stay in the index", highlight=False, markup=False)


def update_command(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(
        metavar="[NAME]...", help="Only these feeds (default: all).")] = None,
    every: Annotated[str | None, typer.Option(
        "--every", help="Keep updating at this interval (30m, 1h, 90s) until Ctrl-C.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Poll every followed feed and index what is new. Exit 1 when a feed failed."""
    interval = parse_interval(every) if every else None
    feeds = open_feeds(ctx)
    if not feeds.list():
        raise InputError("no feeds to update; add one with 'assistant feeds add URL'")
    stop = threading.Event()
    failed = False
    with stop_on_ctrl_c(stop, err):
        while True:
            with update_progress() as progress:
                report = feeds.update(names, stop=stop, progress=progress)
            failed = bool(report.failed)
            if as_json:
                print_json(report.to_dict())
            else:
                print_update_report(out, report)
            if interval is None or stop.is_set():
                break
            if not as_json:
                err.print(f"next update in {every} (Ctrl-C stops)", style="dim")
            if stop.wait(interval):
                break
    if stop.is_set():
        raise typer.Exit(130)
    if failed:
        raise typer.Exit(1)


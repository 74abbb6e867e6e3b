"""How timelines, conflicting reports and as-of dates look in the terminal (Rich).

The answer's text already says all of it in plain words (for ``--json`` and the Python API);
here the same structured fields are drawn as a dated list and a small table.
"""

from __future__ import annotations

from dataclasses import replace

from rich.console import Console
from rich.table import Table
from rich.text import Text

from assistant.annotate import split_notes
from assistant.answer import Answer
from assistant.asof import AS_OF_LEAD, STALE_LEAD
from assistant.cli.render import answer_text, print_sources
from assistant.developments import Conflict, Event, format_day


def events_grid(events: list[Event]) -> Table:
    """The timeline: one row per event, its day on the left, the text wrapping beside it."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for event in events:
        text = Text(event.text)
        text.append(" " + "".join(f"[{n}]" for n in event.citations), style="bold cyan")
        if event.dated_by == "article":
            text.append("  (article date)", style="dim")
        grid.add_row(format_day(event.date), text)
    return grid


def conflict_table(conflict: Conflict) -> Table:
    table = Table(title=f"Reports differ: {conflict.what}", title_justify="left",
                  title_style="bold yellow", show_edge=False, pad_edge=False)
    for column in ("value", "reported by", "date", "source", ""):
        table.add_column(column, justify="right" if column == "source" else "left")
    latest = conflict.latest
    newest = conflict.values[0].date if conflict.values else None
    for value in conflict.values:
        mark = "latest" if latest is not None and value.date == newest else ""
        table.add_row(Text(value.value, style="bold" if mark else ""), value.source,
                      format_day(value.date), Text(f"[{value.citation}]", style="bold cyan"),
                      Text(mark, style="green"))
    return table


def print_full_answer(console: Console, answer: Answer) -> None:
    """The answer (a timeline as a dated list), its conflicts as tables, its as-of line and
    stale warning, then its sources."""
    body, notes = split_notes(answer.text)
    if answer.refused:
        console.print(answer_text(answer))
    elif answer.events:
        heading = body.splitlines()[0] if body else "Timeline"
        console.print(Text(heading, style="bold"))
        console.print(events_grid(answer.events))
        if answer.stopped:
            console.print("[stopped: the timeline holds the articles read so far]", style="dim",
                          markup=False)
    else:
        console.print(answer_text(replace(answer, text=body)))
    for conflict in answer.conflicts:
        console.print()
        console.print(conflict_table(conflict))
    for note in notes:
        for part in _split_tail(note):
            if part.startswith(STALE_LEAD):
                console.print(Text("⚠ " + part.removeprefix(STALE_LEAD), style="yellow"))
            elif part.startswith(AS_OF_LEAD):
                console.print()
                console.print(Text(part, style="dim"))
    print_sources(console, answer.citations)


def _split_tail(note: str) -> list[str]:
    """The as-of line and the stale warning share the last paragraph."""
    if note.startswith(AS_OF_LEAD) and f" {STALE_LEAD}" in note:
        head, _, tail = note.partition(f" {STALE_LEAD}")
        return [head, STALE_LEAD + tail]
    return [note]

"""How timelines, conflicting reports and as-of dates look in the terminal (Rich).

The answer's text already says all of it in plain words (for ``--json`` and the Python API);
here the same structured fields are drawn as a dated list and a small table
(``render.print_answer`` puts the pieces together).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from assistant.asof import AS_OF_LEAD, STALE_LEAD
from assistant.developments import Conflict, Event, format_day


def events_grid(events: Sequence[Event]) -> Table:
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
    """Every report of the disputed value, newest first, the latest marked."""
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


def print_timeline(console: Console, heading: str, events: Sequence[Event],
                   stopped: bool) -> None:
    console.print(Text(heading, style="bold"))
    console.print(events_grid(events))
    if stopped:
        console.print("[stopped: the timeline holds the articles read so far]", style="dim",
                      markup=False)


def print_notes(console: Console, conflicts: Sequence[Conflict], notes: Sequence[str]) -> None:
    """The conflicts as tables, then the as-of line and the stale warning (from ``notes``,
    the answer's note paragraphs)."""
    for conflict in conflicts:
        console.print()
        console.print(conflict_table(conflict))
    for note in notes:
        for part in _split_tail(note):
            if part.startswith(STALE_LEAD):
                console.print(Text("⚠ " + part.removeprefix(STALE_LEAD), style="yellow"))
            elif part.startswith(AS_OF_LEAD):
                console.print()
                console.print(Text(part, style="dim"))


def _split_tail(note: str) -> list[str]:
    """The as-of line and the stale warning share the last paragraph."""
    if note.startswith(AS_OF_LEAD) and f" {STALE_LEAD}" in note:
        head, _, tail = note.partition(f" {STALE_LEAD}")
        return [head, STALE_LEAD + tail]
    return [note]

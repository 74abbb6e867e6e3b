"""How results look in the terminal (Rich). The library returns data; this draws it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from assistant.annotate import split_notes
from assistant.answer import Answer, Citation
from assistant.cli.render_developing import print_notes, print_timeline
from assistant.documents import Passage
from assistant.ingest import ArticleRef, IngestReport
from assistant.settings import SettingOrigin, Settings

_LIST_LIMIT = 10


def answer_text(answer: Answer) -> Text:
    """The answer, with citation markers highlighted and unsupported sentences flagged."""
    if answer.refused:
        text = Text(answer.text, style="bold yellow")
        if answer.reason:
            text.append(f"\n({answer.reason})", style="dim")
        return text
    text = Text(answer.text)
    text.highlight_regex(r"\[\d+\]", "bold cyan")
    for sentence in answer.unsupported:
        core = sentence.rstrip(".!? ")
        start = answer.text.find(core)
        if start >= 0:
            text.stylize("yellow", start, start + len(core))
    if answer.unsupported:
        text.append("\n⚠ not supported by the cited articles: ", style="yellow")
        text.append(" | ".join(answer.unsupported), style="yellow dim")
    if answer.stopped:
        text.append("  [stopped]", style="dim")
    return text


def citation_line(citation: Citation) -> Text:
    line = Text(f"[{citation.n}] ", style="bold cyan")
    line.append(citation.title or "(untitled)", style="bold")
    details = [citation.source or "unknown source",
               citation.published.isoformat() if citation.published else "date unknown"]
    line.append(" — " + ", ".join(details))
    if citation.url:
        line.append(f"\n    {citation.url}", style="blue underline")
    if citation.also_reported_by:
        line.append(f"\n    {also_reported(citation.also_reported_by, citation.outlets)}",
                    style="dim")
    return line


def also_reported(copies: Sequence[dict[str, Any]], outlets: int) -> str:
    """The line "also reported by B, C (3 outlets)" naming the other copies of a story."""
    names = list(dict.fromkeys(c.get("source") or c.get("url") or c["id"] for c in copies))
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"also reported by {shown} ({outlets} outlets)"


def print_answer(console: Console, answer: Answer) -> None:
    """The answer (a timeline as a dated list), its conflicting reports as tables, its as-of
    line and stale warning, then its numbered sources."""
    body, notes = split_notes(answer.text)
    if answer.refused:
        console.print(answer_text(answer))
    elif answer.events:
        heading = body.splitlines()[0] if body else "Timeline"
        print_timeline(console, heading, answer.events, answer.stopped)
    else:
        console.print(answer_text(replace(answer, text=body)))
    print_notes(console, answer.conflicts, notes)
    print_sources(console, answer.citations)


def print_sources(console: Console, citations: Sequence[Citation], full: bool = False) -> None:
    if not citations:
        return
    console.print()
    console.print("Sources", style="bold underline")
    for citation in citations:
        console.print(citation_line(citation))
        if full:
            console.print(Text(citation.passage, style="italic"), width=min(console.width, 100))
            console.print()


def print_passages(console: Console, passages: Sequence[Passage]) -> None:
    if not passages:
        console.print("No matching passages.", style="yellow")
        return
    for rank, p in enumerate(passages, start=1):
        head = Text(f"{rank}. ", style="bold")
        head.append(p.title or "(untitled)", style="bold")
        meta = [p.source or "unknown source", p.published.isoformat() if p.published else "undated",
                f"score {p.score:.4f}"]
        if p.dense is not None:
            meta.append(f"similarity {p.dense:.2f}")
        head.append("  " + " · ".join(meta), style="dim")
        console.print(head)
        if p.url:
            console.print(f"   {escape(p.url)}", style="blue")
        if p.copies:
            outlets = len({(c.get("source") or c["id"]).lower() for c in p.copies}
                          | {(p.source or p.article_id).lower()})
            console.print(Text("   " + also_reported(p.copies, outlets), style="dim"))
        snippet = " ".join(p.text.split())
        console.print(Text("   " + (snippet[:400] + ("…" if len(snippet) > 400 else ""))))
        console.print()


def print_ingest_report(console: Console, report: IngestReport) -> None:
    table = Table(title="Ingest summary", show_header=False, box=None, padding=(0, 2))
    table.add_row("files read", str(report.files))
    table.add_row("added", f"{len(report.added)} articles")
    table.add_row("updated", f"{len(report.updated)} articles")
    table.add_row("unchanged (skipped)", f"{len(report.unchanged)} articles")
    table.add_row("removed", f"{len(report.removed)} articles")
    table.add_row("rejected", f"{len(report.rejected)} inputs")
    table.add_row("chunks embedded", str(report.chunks))
    seconds = max(report.seconds, 1e-9)
    table.add_row("time", f"{report.seconds:.1f} s ({report.chunks / seconds:.1f} chunks/s)")
    console.print(table)
    for label, refs in (("Added", report.added), ("Updated", report.updated),
                        ("Removed", report.removed)):
        _print_refs(console, label, refs)
    if report.rejected:
        console.print(f"Rejected ({len(report.rejected)}):", style="bold red")
        for rejection in report.rejected[:50]:
            console.print(f"  ✗ {escape(rejection.where)}: {escape(rejection.reason)}")
        if len(report.rejected) > 50:
            console.print(f"  … and {len(report.rejected) - 50} more (see --json)")
    if report.warnings:
        console.print(f"Warnings ({len(report.warnings)}):", style="bold yellow")
        for warning in report.warnings[:20]:
            console.print(f"  ! {escape(warning.where)}: {escape(warning.reason)}")
        if len(report.warnings) > 20:
            console.print(f"  … and {len(report.warnings) - 20} more (see --json)")


def _print_refs(console: Console, label: str, refs: Sequence[ArticleRef]) -> None:
    if not refs:
        return
    console.print(f"{label} ({len(refs)}):", style="bold")
    for ref in refs[:_LIST_LIMIT]:
        console.print(f"  • {escape(ref.title or ref.id)}  [dim]{escape(ref.id)}[/dim]")
    if len(refs) > _LIST_LIMIT:
        console.print(f"  … and {len(refs) - _LIST_LIMIT} more (see --json)")


def print_stats(console: Console, stats: dict[str, Any]) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_row("articles", str(stats["articles"]))
    if "stories" in stats:
        table.add_row("stories", f"{stats['stories']} (copies of one story count once)")
    table.add_row("chunks", str(stats["chunks"]))
    sources = stats["sources"]
    shown = ", ".join(f"{name} ({count})" for name, count in list(sources.items())[:8])
    if len(sources) > 8:
        shown += f", … {len(sources) - 8} more"
    table.add_row("sources", f"{len(sources)}: {shown}" if sources else "0")
    dates = stats["date_range"]
    table.add_row("date range", f"{dates[0]} … {dates[1]}" if dates else "—")
    table.add_row("undated articles", str(stats["undated"]))
    table.add_row("disk", f"{stats['disk_bytes'] / 1e6:.1f} MB")
    table.add_row("store", stats["store"])
    console.print(table)


def print_settings(console: Console, settings: Settings, rows: Sequence[SettingOrigin]) -> None:
    """Every setting, its value and where it came from; then the endpoints in use."""
    table = Table(title=f"Settings (config file: {settings.config_file or 'none'})",
                  title_justify="left")
    for column in ("setting", "value", "from"):
        table.add_column(column, overflow="fold")
    for row in rows:
        value = "none" if row.value is None else str(row.value)
        style = "dim" if row.origin == "default" else ""
        table.add_row(row.name, Text(value), Text(row.origin), style=style)
    console.print(table)
    store = (f"Chroma server {settings.store.host}:{settings.store.port}" if settings.store.host
             else f"embedded Chroma in {settings.chroma_dir}")
    console.print(Text(f"store: {store}"))
    if settings.answer.backend == "openai":
        from assistant.backends.openai_compat import OPENAI_DEFAULT_URL

        url = settings.openai.base_url or OPENAI_DEFAULT_URL
        console.print(Text(f"answers: {url} (model {settings.openai.model})"))
    else:
        console.print(Text(f"answers: the {settings.answer.backend} backend"))

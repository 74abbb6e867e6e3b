"""Rich progress display for ingest: articles/s and chunks/s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.ingest import IngestProgress, ProgressCallback


@contextmanager
def ingest_progress(console: Console, label: str = "Ingesting") -> Iterator[ProgressCallback]:
    """A callback for ``NewsIndex.ingest`` that drives a progress bar on ``console``."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("articles"),
        TextColumn("{task.fields[rates]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task(f"{label}: reading files", total=None, rates="")
    started = [time.perf_counter()]

    def update(event: IngestProgress) -> None:
        if event.phase == "reading":
            progress.update(task, description=f"{label}: reading files")
        elif event.phase == "embedding":
            if event.articles_done == 0:
                started[0] = time.perf_counter()
            elapsed = max(time.perf_counter() - started[0], 1e-6)
            rates = (
                f"{event.articles_done / elapsed:5.1f} articles/s "
                f"{event.chunks_done / elapsed:5.1f} chunks/s"
                if event.articles_done else ""
            )
            progress.update(task, description=f"{label}: embedding", total=event.articles_total,
                            completed=event.articles_done, rates=rates)
        elif event.phase == "indexing":
            progress.update(task, description=f"{label}: keyword index")

    with progress:
        yield update

"""``assistant eval``: run the eval suites (the CI gate) or a RealTimeQA-format benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.progress import TaskID
from rich.table import Table

from assistant.cli.toolkit import (
    BackendOpt,
    err,
    ingest_callback,
    out,
    print_json,
    progress_display,
    settings_from,
)
from assistant.errors import InputError
from assistant.settings import Settings

REALTIMEQA = "realtimeqa"


def _check_suite_flags(**given: Any) -> None:
    for flag, value in given.items():
        if value not in (None, False):
            raise InputError(f"--{flag.replace('_', '-')} only applies to "
                             f"'assistant eval {REALTIMEQA}'")


# -- suites -----------------------------------------------------------------------------------
def run_suites(settings: Settings, names: list[str], judge_name: str | None, as_json: bool,
               report: Path | None) -> bool:
    from assistant.backends import create_backend
    from assistant.evals.judge import make_judge
    from assistant.evals.report import suites_markdown, suites_to_dict
    from assistant.evals.runner import SuiteResult, run_suite
    from assistant.evals.suite import load_suite, suite_files

    suites = [load_suite(path) for path in suite_files(names)]  # all errors before any work
    judge = make_judge(settings, judge_name) if judge_name else None
    engine = create_backend(settings)  # loaded once, shared by the suites
    results: list[SuiteResult] = []
    with progress_display() as progress:
        for suite in suites:
            # Added on the first case, so that it shows below the corpus ingest line.
            task: list[TaskID] = []
            failed = [0]

            def on_case(outcome: Any, name: str = suite.name, total: int = len(suite.cases),
                        task: list[TaskID] = task, failed: list[int] = failed) -> None:
                if not task:
                    task.append(progress.add_task(name, total=total, note=""))
                failed[0] += 0 if outcome.passed else 1
                progress.update(task[0], advance=1,
                                note=f"{failed[0]} failed" if failed[0] else "")

            results.append(run_suite(
                suite, settings, backend=engine, judge=judge, judge_name=judge_name,
                on_ingest=ingest_callback(progress, f"{suite.name} corpus"), on_case=on_case,
            ))
    if report:
        report.write_text(suites_markdown(results), encoding="utf-8")
    if as_json:
        print_json(suites_to_dict(results))
    else:
        for result in results:
            _print_suite(result)
    if report:
        err.print(f"Report written to {report}", style="dim")
    return all(r.passed for r in results)


def _print_suite(result: Any) -> None:
    from assistant.evals.report import format_value
    from assistant.evals.scoring import SUITE_METRICS, expected_text
    from assistant.textutils import clip_line

    title = f"Suite {result.suite.name} ({result.backend}): "
    title += f"{len(result.outcomes) - len(result.failures)}/{len(result.outcomes)} cases passed"
    if result.failures:
        table = Table(title=f"{title} — failed cases", title_justify="left", show_lines=True)
        for column, ratio in (("case", 1), ("question", 3), ("expected", 2), ("got", 4),
                              ("why", 3)):
            table.add_column(column, ratio=ratio, overflow="fold")
        for o in result.failures:
            question = " → ".join([*o.case.history, o.case.question])
            table.add_row(o.case.id, question, expected_text(o.case),
                          clip_line(o.observed.text, 200), "; ".join(o.problems))
        out.print(table)
    else:
        out.print(title, style="bold")
    summary = Table(title=f"Suite {result.suite.name}: metrics", title_justify="left")
    for column in ("metric", "value", "threshold", "result"):
        summary.add_column(column, justify="right" if column in ("value", "threshold") else "left")
    checks = {c.metric: c for c in result.checks}
    for name in SUITE_METRICS:
        check = checks.get(name)
        if check is None and result.metrics.get(name) is None:
            continue  # not measured by this suite and not gated: no row
        summary.add_row(
            name, format_value(result.metrics.get(name), name),
            f"{check.op} {format_value(check.bound, name)}" if check else "",
            ("[green]pass[/]" if check.passed else "[bold red]FAIL[/]") if check else "",
        )
    out.print(summary)
    failing = [c for c in result.checks if not c.passed]
    if failing:
        names = ", ".join(f"{c.metric} {format_value(c.value, c.metric)} (needs {c.op} "
                          f"{format_value(c.bound, c.metric)})" for c in failing)
        out.print(f"[bold red]FAILED[/] {result.suite.name}: {names}")
    else:
        out.print(f"[bold green]PASSED[/] {result.suite.name}")


# -- RealTimeQA ---------------------------------------------------------------------------------
def run_benchmark(settings: Settings, data: Path | None, mode: str, limit: int | None,
                  closed_book: bool, judge_name: str | None, as_json: bool,
                  report: Path | None, resume: Path | None, questions: Path | None = None,
                  nota: bool = False) -> None:
    from assistant.evals.judge import make_judge
    from assistant.evals.realtimeqa import Mode, QuestionResult, run_realtimeqa
    from assistant.evals.report import realtimeqa_markdown

    if data is None:
        raise InputError(f"'assistant eval {REALTIMEQA}' needs --data DIR (a folder with "
                         "corpus.jsonl and questions.jsonl)")
    if not data.is_dir():
        message = f"skipped: {data} not found (RealTimeQA data is not available here)"
        err.print(message, style="yellow")
        if as_json:
            print_json({"skipped": message})
        return
    if mode not in ("mc", "open"):
        raise InputError(f"--mode {mode!r}: choose mc or open")
    judge = make_judge(settings, judge_name) if judge_name else None
    with progress_display() as progress:
        task: list[TaskID] = []
        tally = {"done": 0, "correct": 0}

        def on_start(total: int) -> None:
            task.append(progress.add_task(f"{REALTIMEQA} {mode}", total=total, note=""))

        def on_question(result: QuestionResult) -> None:
            tally["done"] += 1
            tally["correct"] += int(result.correct)
            progress.update(task[0], advance=1,
                            note=f"accuracy {tally['correct'] / tally['done']:.2f}")

        run = run_realtimeqa(
            data, settings, mode=cast(Mode, mode), limit=limit, closed_book=closed_book,
            questions=questions, nota=nota, judge=judge, judge_name=judge_name, resume=resume,
            on_ingest=ingest_callback(progress, f"{data.name} corpus"),
            on_start=on_start, on_question=on_question,
        )
    if report:
        report.write_text(realtimeqa_markdown(run), encoding="utf-8")
    if as_json:
        print_json(run.to_dict())
    else:
        _print_benchmark(run)
    if run.resumed:
        err.print(f"{run.resumed} results taken from {resume}", style="dim")
    if report:
        err.print(f"Report written to {report}", style="dim")


def _print_benchmark(run: Any) -> None:
    from assistant.evals.report import realtimeqa_tables

    for title, header, rows, notes in realtimeqa_tables(run):
        table = Table(title=title, title_justify="left", min_width=60)
        for name in header:
            wide = name in ("compared with / over", "check of the published figure", "system")
            table.add_column(name, justify="left" if wide or name in ("metric", "reason")
                             else "right", overflow="fold")
        for row in rows:
            table.add_row(*row)
        out.print(table)
        for note in notes:
            out.print(note, style="dim")


# -- the command --------------------------------------------------------------------------------
def eval_command(
    ctx: typer.Context,
    suites: Annotated[list[str] | None, typer.Argument(
        metavar="SUITE",
        help=f"Suite names in evals/ or suite files/folders (default: every suite in evals/); "
             f"or '{REALTIMEQA}' to run a RealTimeQA-format benchmark (with --data).",
        show_default=False)] = None,
    backend: BackendOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Also write a Markdown report to this file.")] = None,
    judge: Annotated[str | None, typer.Option(
        "--judge", help="LLM backend that re-judges answers the string match rejects.")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help=f"{REALTIMEQA}: folder with corpus.jsonl and questions.jsonl.")] = None,
    mode: Annotated[str | None, typer.Option(
        "--mode", help=f"{REALTIMEQA}: mc (pick one of 4 options) or open (free answer).")
    ] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", help=f"{REALTIMEQA}: only the first N questions.")] = None,
    closed_book: Annotated[bool, typer.Option(
        "--closed-book", help=f"{REALTIMEQA}: no retrieved articles (the model's memory).")
    ] = False,
    resume: Annotated[Path | None, typer.Option(
        "--resume", help=f"{REALTIMEQA}: append results to this JSONL file and skip questions "
                         "already in it.")] = None,
    questions: Annotated[Path | None, typer.Option(
        "--questions", help=f"{REALTIMEQA}: the questions file (relative to --data unless "
                            "absolute; default questions.jsonl).")] = None,
    nota: Annotated[bool, typer.Option(
        "--nota", help=f"{REALTIMEQA}: the None-of-the-above set (--questions "
                       "questions_nota.jsonl).")] = False,
) -> None:
    """Measure answer quality: eval suites with thresholds (exit 1 below them), or RealTimeQA.

    Suites run against their own index (collection eval-<suite>, under the data dir), so your
    articles are untouched; re-runs only re-embed what changed.
    """
    names = list(suites or [])
    settings = settings_from(ctx, backend=backend)
    if names[:1] == [REALTIMEQA]:
        if len(names) > 1:
            raise InputError(f"'assistant eval {REALTIMEQA}' takes no suite names "
                             f"(got {' '.join(names[1:])})")
        run_benchmark(settings, data, mode or "mc", limit, closed_book, judge, as_json, report,
                      resume, questions, nota)
        return
    _check_suite_flags(data=data, mode=mode, limit=limit, closed_book=closed_book,
                       resume=resume, questions=questions, nota=nota)
    if not run_suites(settings, names, judge, as_json, report):
        raise typer.Exit(1)

"""Eval results as JSON-ready dicts and as Markdown reports (for CI artifacts and PRs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evals.realtimeqa import BASELINE_LABELS, SUMMARY_KEYS, QuizRun
from assistant.evals.runner import SuiteResult
from assistant.evals.scoring import SUITE_METRICS, expected_text, suite_metrics
from assistant.textutils import clip_line


def format_value(value: float | int | None, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if metric.endswith("_s"):
        return f"{value:.2f} s"
    return f"{value:.3f}"


def _cell(text: str, limit: int = 160) -> str:
    return clip_line(text, limit).replace("|", "\\|")


# -- suites ------------------------------------------------------------------------------------
def suites_to_dict(results: Sequence[SuiteResult]) -> dict[str, Any]:
    """One object: overall pass/fail, metrics over all cases, every threshold check, failures."""
    outcomes = [o for r in results for o in r.outcomes]
    return {
        "passed": all(r.passed for r in results),
        "backend": results[0].backend if results else None,
        "judge": results[0].judge if results else None,
        "metrics": suite_metrics(outcomes),
        "thresholds": [{"suite": r.suite.name, **c.to_dict()} for r in results for c in r.checks],
        "failures": [{"suite": r.suite.name, **o.to_dict()} for r in results for o in r.failures],
        "suites": [
            {
                "suite": r.suite.name,
                "path": str(r.suite.path),
                "collection": r.collection,
                "passed": r.passed,
                "cases": len(r.outcomes),
                "cases_passed": len(r.outcomes) - len(r.failures),
                "seconds": round(r.seconds, 2),
                "metrics": r.metrics,
                "results": [o.to_dict() for o in r.outcomes],
            }
            for r in results
        ],
    }


def suites_markdown(results: Sequence[SuiteResult]) -> str:
    lines = ["# Eval report", ""]
    if results:
        judge = results[0].judge or "none"
        verdict = "PASSED" if all(r.passed for r in results) else "FAILED"
        lines += [f"Backend `{results[0].backend}`, judge {judge}: **{verdict}**", ""]
    for r in results:
        lines += [
            f"## Suite `{r.suite.name}`: {'passed' if r.passed else 'FAILED'}",
            "",
            f"{len(r.outcomes)} cases, {len(r.outcomes) - len(r.failures)} passed, "
            f"{r.seconds:.1f} s. {r.suite.description}".rstrip(),
            "",
            "| metric | value | threshold | result |",
            "|---|---:|---:|---|",
        ]
        checked = {c.metric: c for c in r.checks}
        for name in SUITE_METRICS:
            check = checked.get(name)
            if check is None and r.metrics.get(name) is None:
                continue  # not measured by this suite and not gated: no row
            bound = f"{check.op} {format_value(check.bound, name)}" if check else ""
            verdict = ("pass" if check.passed else "**FAIL**") if check else ""
            lines.append(f"| {name} | {format_value(r.metrics.get(name), name)} | {bound} "
                         f"| {verdict} |")
        lines.append("")
        if r.failures:
            lines += ["### Failed cases", "", "| case | question | expected | got | why |",
                      "|---|---|---|---|---|"]
            for o in r.failures:
                question = o.case.question
                if o.case.history:
                    question = " → ".join([*o.case.history, question])
                lines.append(f"| {o.case.id} | {_cell(question, 120)} | "
                             f"{_cell(expected_text(o.case), 80)} | {_cell(o.observed.text)} | "
                             f"{_cell('; '.join(o.problems), 120)} |")
            lines.append("")
    return "\n".join(lines)


# -- RealTimeQA --------------------------------------------------------------------------------
def baseline_rows(baselines: dict[str, float]) -> list[tuple[str, float]]:
    rows = [(BASELINE_LABELS.get(name, name), value) for name, value in baselines.items()]
    return sorted(rows, key=lambda row: -row[1])


def realtimeqa_markdown(run: QuizRun) -> str:
    kind = "multiple choice" if run.mode == "mc" else "open answers"
    book = ", closed book" if run.closed_book else ""
    lines = [
        f"# RealTimeQA: {run.folder.name}", "",
        f"Backend `{run.backend}`, {kind}{book}, {len(run.results)} questions "
        f"({sum(1 for r in run.results if r.has_gold)} with a gold article), collection "
        f"`{run.collection}`.", "",
        "| metric | value |", "|---|---:|",
    ]
    lines += [f"| {k} | {format_value(run.summary.get(k), k)} |" for k in SUMMARY_KEYS]
    if run.baselines:
        ours = run.summary.get("mc_accuracy")
        lines += ["", "Multiple-choice accuracy, published baselines on the same questions:", "",
                  "| system | accuracy |", "|---|---:|"]
        if ours is not None:
            lines.append(f"| **this run ({run.backend}{book})** | **{ours:.3f}** |")
        lines += [f"| {label} | {value:.3f} |" for label, value in baseline_rows(run.baselines)]
        lines.append("| random guess | 0.250 |")
    lines += ["", "## Questions", "",
              "| id | date | question | answer | expected | ok | gold rank | s |",
              "|---|---|---|---|---|---|---:|---:|"]
    for r in run.results:
        ok = "yes" if r.correct else ("refused" if r.refused else "no")
        rank = "" if not r.has_gold else (str(r.gold_rank) if r.gold_rank else "-")
        lines.append(f"| {r.id} | {r.date} | {_cell(r.question, 100)} | {_cell(r.answer, 100)} "
                     f"| {_cell(r.expected, 60)} | {ok} | {rank} | {r.latency_s:.2f} |")
    lines.append("")
    return "\n".join(lines)

"""Eval results as JSON-ready dicts and as Markdown reports (for CI artifacts and PRs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.evals.baselines import KIND_TEXT
from assistant.evals.realtimeqa import SUMMARY_KEYS, QuizRun
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
# The CLI and the Markdown report show the same tables: both render these rows.
Table = tuple[str, list[str], list[list[str]], list[str]]  # title, header, rows, notes


def _range(values: Sequence[float | None]) -> str:
    present = sorted(v for v in values if v is not None)
    if not present:
        return ""
    low, high = present[0], present[-1]
    return f"{low:.3f}" if low == high else f"{low:.3f} .. {high:.3f}"


def _baselines_said(run: QuizRun, lenient: bool = False) -> str:
    rows = [c for c in run.comparisons if c.questions]
    spread = _range([c.lenient if lenient else c.accuracy for c in rows])
    return f"baselines {spread}, each on its questions (table below)" if spread else ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def summary_table(run: QuizRun) -> Table:
    """Each metric that applies to the run, with what it is compared with or measured over."""
    results = run.results
    chance = _chance(run)
    random = f"random guess {chance:.3f}" if chance else ""
    gold = sum(1 for r in results if r.has_gold)
    search = sum(1 for r in results if r.has_search)
    refused = sum(1 for r in results if r.refused)
    reference = {
        "questions": f"from {run.questions_file.name if run.questions_file else 'questions'}",
        "mc_accuracy": _join(random, _baselines_said(run)),
        "open_accuracy": _join("strict string match" + (" (+ LLM judge)" if run.judge else ""),
                               _baselines_said(run)),
        "open_accuracy_lenient": _join("lenient match", _baselines_said(run, lenient=True)),
        "nota_questions": "questions whose answer is None of the above",
        "nota_recall": _join("picked None of the above when it is the answer", random),
        "nota_false_rate": _join("picked None of the above when it is not", random),
        "hit@1": f"gold article ranked first; {gold} questions name one",
        "hit@5": f"gold article in the top 5; {gold} questions",
        "hit@10": f"gold article in the top 10; {gold} questions",
        "mrr": f"gold article, mean 1/rank; {gold} questions",
        "search_hit@5": f"one of its search_urls in the top 5 articles; {search} questions",
        "search_hit@10": f"one of its search_urls in the top 10 articles; {search} questions",
        "citation_accuracy": "cited articles that are a gold or search url of the question",
        "refusal_rate": f"{refused} refused" + ("; reasons below" if refused else ""),
        "latency_p50_s": "seconds a question",
        "latency_p95_s": "seconds a question",
    }
    rows = [[key, format_value(run.summary.get(key), key), reference.get(key, "")]
            for key in SUMMARY_KEYS if run.summary.get(key) is not None]
    kind = "multiple choice" if run.mode == "mc" else "open answers"
    book = ", closed book" if run.closed_book else ""
    title = f"RealTimeQA {run.folder.name} ({run.backend}, {kind}{book})"
    return title, ["metric", "value", "compared with / over"], rows, []


def _chance(run: QuizRun) -> float | None:
    """The accuracy of picking an option at random, over the run's questions."""
    shares = [1 / r.options for r in run.results if r.options]
    return sum(shares) / len(shares) if shares else None


def baselines_table(run: QuizRun) -> Table | None:
    """This run beside each baseline of its kind, on the questions that baseline answered."""
    if not run.comparisons:
        return None
    kind = run.comparisons[0].baseline.kind
    open_mode = run.mode == "open"
    book = ", closed book" if run.closed_book else ""
    title = f"Baselines ({KIND_TEXT.get(kind, kind)}), each on the questions it answered"
    if open_mode:
        header = ["system", "questions", "baseline strict", "this run strict",
                  "baseline lenient", "this run lenient", "check of the published figure"]
    else:
        header = ["system", "questions", "baseline", "this run", "check of the published figure"]
    ours = run.summary.get("open_accuracy" if open_mode else "mc_accuracy")
    first = [f"this run ({run.backend}{book}), all its questions", str(len(run.results)), "",
             format_value(ours)]
    if open_mode:
        first += ["", format_value(run.summary.get("open_accuracy_lenient"))]
    rows = [[*first, ""]]
    shown = [c for c in run.comparisons if c.questions]
    for c in shown:
        row = [c.baseline.label, str(c.questions), format_value(c.accuracy), format_value(c.ours)]
        if open_mode:
            row += [format_value(c.lenient), format_value(c.ours_lenient)]
        rows.append([*row, c.check])
    if not open_mode:
        chance = _chance(run)
        if chance:
            rows.append(["random guess", str(len(run.results)), f"{chance:.3f}", "", ""])
    notes = []
    missing = [c.baseline.label for c in run.comparisons if not c.questions]
    if missing and not shown:
        why = ("not every model ran every week" if run.comparable else "they ran on "
               "questions.jsonl; a question with other options, such as the None of the above "
               "set, is not comparable")
        notes.append(f"None of the {len(missing)} baselines answered these questions ({why}).")
    elif missing:
        notes.append(f"{len(missing)} baselines answered none of these questions: "
                     f"{', '.join(missing)}.")
    if run.judge and open_mode:
        notes.append("strict columns: string match only, for this run too (the judge is not "
                     "applied to the baselines)")
    return title, header, rows, notes


def refusals_table(run: QuizRun) -> Table | None:
    reasons = run.refusal_reasons
    if not reasons:
        return None
    rows = [[kind, str(count)] for kind, count in reasons.items()]
    return "Refusals by reason", ["reason", "questions"], rows, []


def _markdown_table(table: Table) -> list[str]:
    title, header, rows, notes = table
    numeric = {"value", "questions", "baseline", "this run", "baseline strict",
               "this run strict", "baseline lenient", "this run lenient"}
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if h in numeric else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(_cell(c, 400) for c in row) + " |" for row in rows]
    lines += [""] + [f"{n}" for n in notes] + ([""] if notes else [])
    return lines


def realtimeqa_tables(run: QuizRun) -> list[Table]:
    """The summary, the baseline comparison and the refusal reasons (those that apply)."""
    tables = [summary_table(run), baselines_table(run), refusals_table(run)]
    return [t for t in tables if t is not None]


def realtimeqa_markdown(run: QuizRun) -> str:
    kind = "multiple choice" if run.mode == "mc" else "open answers"
    book = ", closed book" if run.closed_book else ""
    source = run.questions_file.name if run.questions_file else "questions.jsonl"
    lines = [
        f"# RealTimeQA: {run.folder.name}", "",
        f"Backend `{run.backend}`, {kind}{book}, {len(run.results)} questions of `{source}` "
        f"({sum(1 for r in run.results if r.has_gold)} with a gold article), collection "
        f"`{run.collection}`.", "",
    ]
    for table in realtimeqa_tables(run):
        lines += _markdown_table(table)
    lines += ["## Questions", "",
              "| id | date | question | answer | expected | ok | lenient | search rank "
              "| gold rank | s |",
              "|---|---|---|---|---|---|---|---:|---:|---:|"]
    for r in run.results:
        ok = "yes" if r.correct else (f"refused: {r.reason}" if r.refused else "no")
        lenient = "" if r.lenient is None else ("yes" if r.lenient else "no")
        search = "" if not r.has_search else (str(r.search_rank) if r.search_rank else "-")
        rank = "" if not r.has_gold else (str(r.gold_rank) if r.gold_rank else "-")
        lines.append(f"| {r.id} | {r.date} | {_cell(r.question, 100)} | {_cell(r.answer, 100)} "
                     f"| {_cell(r.expected, 60)} | {_cell(ok, 120)} | {lenient} | {search} "
                     f"| {rank} | {r.latency_s:.2f} |")
    lines.append("")
    return "\n".join(lines)

"""Does the answer reach the model? Retrieval and context measured without calling the model.

    python benchmarks/reach.py --data ../shared/benchmarks/realtimeqa-2026-dev
    python benchmarks/reach.py --data DIR --mode mc --k 5,8 --budget 320,560
    python benchmarks/reach.py --data DIR --mode mc --search options,question,both,per-option

For every question of a RealTimeQA-format folder and every (top_k, passage budget) pair, the
answer path's own retrieval (``Assistant.retrieve`` for free answers, ``QuizSolver.read`` for
multiple choice) and context builder are run, and the right option's text is looked for, by
the strict match of the benchmark's scorer, in the passages read and in the context built.
A free answer can only be right when the context holds its text (the model has never seen
2026 news), so "in context" bounds what the model can get right. A setting takes about a
minute on 2 cores, where an end-to-end run takes half an hour. The comparison: each setting
against the first one given, with the questions whose context gained or lost the answer.

``--search`` (multiple choice) compares what the quiz searches with: ``options`` (the solver's
own search, the question and every option in one query), ``question`` (the question alone, as
a free answer searches), ``both`` (the two searches' passages taken in turn) and
``per-option`` (the solver's passages, then the best passage of "question + option" for each
option). The context is always built for the question and its options, as the solver builds
it. "wrong in ctx" counts the wrong options whose text the context holds (distractors).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.context import build_context  # noqa: E402
from assistant.documents import Passage  # noqa: E402
from assistant.engine import MAX_SOURCES, Assistant  # noqa: E402
from assistant.errors import InputError  # noqa: E402
from assistant.evals.metrics import answer_matches  # noqa: E402
from assistant.evals.quiz import QuizSolver  # noqa: E402
from assistant.evals.realtimeqa import QuizItem, load_quiz, open_benchmark_index  # noqa: E402
from assistant.filters import SearchFilters  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402
from assistant.textutils import estimate_tokens  # noqa: E402


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected numbers separated by commas") from None


SEARCHES = ("options", "question", "both", "per-option")
Reach = tuple[bool, bool, int, int]  # in passages, in context, context tokens, wrong in context


def _distinct(passages: list[Passage], k: int) -> list[Passage]:
    """The first ``k`` passages, each chunk once (the first time it comes)."""
    unique: dict[str, Passage] = {}
    for passage in passages:
        unique.setdefault(passage.chunk_id, passage)
    return list(unique.values())[:k]


def mc_passages(solver: QuizSolver, item: QuizItem, k: int, search: str) -> list[Passage]:
    """The passages a multiple-choice question reads with ``search`` (see the module doc).
    Every variant searches within the solver's own scope (filters, preferred weeks); only the
    query changes."""
    q = item.question
    trace, solver_passages, _ = solver.read(q.question, q.choices, q.date, k)
    if search == "options":
        return solver_passages
    assistant = solver.assistant
    if search == "question":
        return assistant.read(replace(trace, query=q.question), k)
    if search == "both":
        alone = assistant.read(replace(trace, query=q.question), k)
        turns = [p for pair in zip(alone, solver_passages, strict=False) for p in pair]
        return _distinct(turns, k)
    per_option = [p for choice in q.choices
                  for p in assistant.read(replace(trace, query=f"{q.question} {choice}"), 1)]
    return _distinct(solver_passages + per_option, k + len(q.choices))


def reach(solver: QuizSolver, item: QuizItem, mode: str, k: int, budget: int,
          search: str = "options") -> Reach:
    """(answer in the passages read, answer in the context, context tokens, wrong options
    in the context)."""
    q, answer = item.question, item.key.answer
    assistant = solver.assistant
    if mode == "mc":
        passages = mc_passages(solver, item, k, search)
        query = f"{q.question} {' '.join(q.choices)}"
    else:
        _, passages = assistant.retrieve(q.question, SearchFilters(), q.date, k)
        query = q.question
    context = build_context(query, passages, assistant.index.embedder, budget, MAX_SOURCES)
    read = " ".join(f"{p.title} {p.text}" for p in passages)
    shown = " ".join(f"{c.passage.title} {c.text}" for c in context)
    tokens = sum(estimate_tokens(c.text) for c in context)
    wrong = sum(answer_matches(shown, [c]) for c in q.choices if c != answer)
    return answer_matches(read, [answer]), answer_matches(shown, [answer]), tokens, wrong


Config = tuple[int, int, str]  # (top_k, passage budget, multiple-choice search)


def measure(folder: Path, settings: Settings, mode: str, configs: list[Config],
            limit: int | None = None) -> tuple[list[QuizItem], dict[Config, list[Reach]]]:
    """Each question's reach under each (top_k, budget, search) setting."""
    items = load_quiz(folder)[:limit]
    index, _ = open_benchmark_index(settings, folder)
    solver = QuizSolver(Assistant(index.settings, backend="extractive", index=index))
    return items, {(k, budget, search): [reach(solver, item, mode, k, budget, search)
                                         for item in items]
                   for k, budget, search in configs}


def table(items: list[QuizItem], hits: dict[Config, list[Reach]]) -> list[str]:
    """One line per setting: passages and contexts that hold the answer, against the first."""
    n = len(items)
    lines = [f"{'top_k':>5} {'budget':>6} {'search':>10} {'in passages':>12} "
             f"{'in context':>11} {'ctx tokens':>10} {'wrong in ctx':>12}  vs first"]
    configs = list(hits)
    first = hits[configs[0]]
    for config in configs:
        rows = hits[config]
        passages = sum(r[0] for r in rows)
        context = sum(r[1] for r in rows)
        gained = sum(1 for a, b in zip(first, rows, strict=True) if b[1] and not a[1])
        lost = sum(1 for a, b in zip(first, rows, strict=True) if a[1] and not b[1])
        tokens = sum(r[2] for r in rows) / n
        wrong = sum(r[3] for r in rows) / n
        lines.append(f"{config[0]:>5} {config[1]:>6} {config[2]:>10} {passages:>5} "
                     f"{passages / n:>6.3f} {context:>4} {context / n:>6.3f} {tokens:>10.0f} "
                     f"{wrong:>12.2f}  +{gained} -{lost}")
    for config in configs[1:]:
        for item, a, b in zip(items, first, hits[config], strict=True):
            if a[1] != b[1]:
                sign = "+" if b[1] else "-"
                lines.append(f"  {config} {sign} {item.question.question[:90]} "
                             f"-> {item.key.answer}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="RealTimeQA-format folder")
    parser.add_argument("--mode", choices=("open", "mc"), default="open")
    parser.add_argument("--k", type=_ints, default=None, help="top_k values (default: setting)")
    parser.add_argument("--budget", type=_ints, default=None,
                        help="passage token budgets (default: the mode's setting)")
    parser.add_argument("--search", default="options",
                        help="mc: what the quiz searches with, comma-separated "
                        f"({', '.join(SEARCHES)})")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    searches = [s.strip() for s in args.search.split(",") if s.strip()]
    unknown = [s for s in searches if s not in SEARCHES]
    if unknown or not searches:
        print(f"error: --search {args.search!r}: expected some of {', '.join(SEARCHES)}",
              file=sys.stderr)
        return 2
    if args.mode == "open" and searches != ["options"]:
        print("error: --search applies to --mode mc; a free answer searches with its question",
              file=sys.stderr)
        return 2
    if not (args.data / "corpus.jsonl").is_file():
        print(f"{args.data}: no corpus.jsonl here; nothing to measure (skipped)")
        return 0
    settings = load_settings()
    default_budget = (settings.evals.choice_context_tokens if args.mode == "mc"
                      else settings.answer.context_tokens)
    configs = [(k, b, s) for k in args.k or [settings.retrieval.top_k]
               for b in args.budget or [default_budget] for s in searches]
    started = time.perf_counter()
    try:
        items, hits = measure(args.data, settings, args.mode, configs, args.limit)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.data.name}, {len(items)} questions, --mode {args.mode} "
          f"({time.perf_counter() - started:.0f} s)")
    print("\n".join(table(items, hits)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

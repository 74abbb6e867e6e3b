"""Where a multiple-choice question's time goes, with the local model (no scoring).

    python benchmarks/choice_latency.py                          # RealTimeQA 2026 dev, 12 questions
    python benchmarks/choice_latency.py --data DIR --limit 40

For each question, as ``assistant eval realtimeqa --mode mc`` asks it (its quiz date as the
reference date, over the benchmark's own index, built on first use): the retrieval time, the
first option order (the whole prompt: its tokens and the tokens the model read, since a prefix
cached from the question before is not read again) and the other orders (only their options
are read again). Then the medians, the model's prompt reading speed, and the prompt a question
could afford within the issue's 8 s target at that speed. Run it on a quiet machine:
``ASSISTANT_LLM_THREADS=2 python benchmarks/choice_latency.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.backends import create_backend  # noqa: E402
from assistant.backends.base import Message, TokenScores  # noqa: E402
from assistant.engine import Assistant  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.evals.quiz import QuizSolver  # noqa: E402
from assistant.evals.realtimeqa import load_quiz, open_benchmark_index  # noqa: E402
from assistant.settings import Settings, load_settings  # noqa: E402

RTQA_2026 = ROOT.parent / "shared" / "benchmarks" / "realtimeqa-2026-dev"
TARGET_S = 8.0  # issue 8: multiple choice p50 <= 8 s a question


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=RTQA_2026, help="RealTimeQA-format folder")
    parser.add_argument("--limit", type=int, default=12, help="the first N questions")
    args = parser.parse_args()
    if args.limit < 1:
        print(f"--limit {args.limit}: must be at least 1", file=sys.stderr)
        return 2
    if not (args.data / "questions.jsonl").is_file():
        print(f"{args.data}: no questions.jsonl; pass --data with a RealTimeQA-format folder",
              file=sys.stderr)
        return 2
    try:
        return measure(args.data, args.limit, load_settings())
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def measure(folder: Path, limit: int, settings: Settings) -> int:
    index, _ = open_benchmark_index(settings, folder)
    backend = create_backend(index.settings, "local")
    solver = QuizSolver(Assistant(index.settings, backend=backend, index=index))
    model = solver.model
    if model is None or not model.supports_token_scores:
        print("the local backend cannot score options here", file=sys.stderr)
        return 2
    runtime = model.runtime  # type: ignore[attr-defined]
    calls: list[tuple[float, int, int]] = []  # seconds, tokens read, prompt tokens
    score = model.score_next_token

    def timed(messages: list[Message], candidates: list[str]) -> TokenScores | None:
        before, started = runtime.prompt_tokens_evaluated, time.perf_counter()
        scored = score(messages, candidates)
        calls.append((time.perf_counter() - started, runtime.prompt_tokens_evaluated - before,
                      (scored.usage.prompt_tokens or 0) if scored else 0))
        return scored

    model.score_next_token = timed  # type: ignore[method-assign]
    model.complete([Message("user", "Say OK.")], max_tokens=2)  # load before timing
    print(f"{'retrieve':>8} {'1st order':>9} {'read/prompt':>11} {'others':>7}  question")
    rows = []
    for item in load_quiz(folder)[:limit]:
        calls.clear()
        question = item.question
        picked = solver.choose(question.question, list(question.choices),
                               reference_date=question.date)
        first, others = calls[0], calls[1:]
        rows.append((picked.timings["retrieve_s"], first, sum(c[0] for c in others),
                     picked.timings["total_s"]))
        print(f"{picked.timings['retrieve_s']:7.2f}s {first[0]:8.2f}s {first[1]:5d}/{first[2]:<5d}"
              f" {rows[-1][2]:6.2f}s  {question.question[:60]}")
    read_s = sum(r[1][0] for r in rows)
    speed = sum(r[1][1] for r in rows) / read_s if read_s else 0.0
    retrieve = statistics.median(r[0] for r in rows)
    others = statistics.median(r[2] for r in rows)
    total = statistics.median(r[3] for r in rows)
    afford = max(TARGET_S - retrieve - others, 0.0) * speed
    print(f"\n{len(rows)} questions: p50 {total:.2f} s (target {TARGET_S:.0f} s) = retrieval "
          f"{retrieve:.2f} s + first order {statistics.median(r[1][0] for r in rows):.2f} s "
          f"(median {statistics.median(r[1][1] for r in rows):.0f} tokens read of "
          f"{statistics.median(r[1][2] for r in rows):.0f}) + other orders {others:.2f} s")
    print(f"prompt reading {speed:.1f} tokens/s: within {TARGET_S:.0f} s a question can read "
          f"about {afford:.0f} new prompt tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())

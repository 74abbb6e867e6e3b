"""Answer latency with the local backend: the seed questions and 20 RealTimeQA-dev questions.

    python benchmarks/answer.py                  # seed questions + 20 RealTimeQA questions
    python benchmarks/answer.py --no-realtimeqa  # seed questions only

For each question: time to first token, total time, prompt tokens, generated tokens and
tokens/s; then p50/p95 and the comparison with the targets on 2 cores (first token <= 3 s,
whole answer <= 12 s). The model load is timed separately. The RealTimeQA questions are asked
open (no choices) with the quiz date as the reference date, over the benchmark's own index
(built on first use, then reused: see ``assistant eval realtimeqa``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.engine import Assistant  # noqa: E402
from assistant.evals.metrics import percentile  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

RTQA = ROOT.parent / "shared" / "benchmarks" / "realtimeqa-2022-dev"
SEED_QUESTIONS = [
    "How many US troops remain in Iraq?",
    "Who announced the reduction of US forces in Iraq?",
    "How many troops does the US have in Afghanistan now?",
    "Which Iranian general was killed in a US airstrike in January 2020?",
    "How many operations against ISIS did coalition partners complete?",
]


def run(assistant: Assistant, questions: list[tuple[str, date | None]], label: str) -> list[dict]:
    rows = []
    print(f"\n{label}")
    print(f"{'first token':>11} {'total':>7} {'prompt':>6} {'gen':>4} {'tok/s':>6}  answer")
    for question, day in questions:
        answer = assistant.ask(question, reference_date=day)
        t = answer.timings
        row = {
            "question": question,
            "first_token_s": t.get("first_token_s", t["total_s"]),
            "total_s": t["total_s"],
            "prompt_tokens": int(t.get("prompt_tokens", 0)),
            "completion_tokens": int(t.get("completion_tokens", 0)),
            "tokens_per_s": t.get("tokens_per_s", 0.0),
            "refused": answer.refused,
            "model_called": "first_token_s" in t and not answer.reason.startswith("no "),
            "text": answer.text,
        }
        rows.append(row)
        snippet = ("REFUSED: " if answer.refused else "") + answer.text.replace("\n", " ")[:70]
        print(f"{row['first_token_s']:10.2f}s {row['total_s']:6.2f}s {row['prompt_tokens']:6d} "
              f"{row['completion_tokens']:4d} {row['tokens_per_s']:6.1f}  {snippet}")
    return rows


def summarise(rows: list[dict], label: str) -> None:
    called = [r for r in rows if r["prompt_tokens"] > 0]
    if not called:
        print(f"{label}: the model was never called")
        return
    first = [r["first_token_s"] for r in called]
    total = [r["total_s"] for r in called]
    print(f"{label}: {len(called)} answers by the model "
          f"({len(rows) - len(called)} refused before calling it)")
    print(f"  first token  p50 {percentile(first, 50):.2f} s  p95 {percentile(first, 95):.2f} s"
          f"  max {max(first):.2f} s   target <= 3 s: "
          f"{'PASS' if percentile(first, 50) <= 3 else 'FAIL'} (p50)")
    print(f"  whole answer p50 {percentile(total, 50):.2f} s  p95 {percentile(total, 95):.2f} s"
          f"  max {max(total):.2f} s   target <= 12 s: "
          f"{'PASS' if percentile(total, 50) <= 12 else 'FAIL'} (p50)")
    print(f"  prompt tokens mean {statistics.mean(r['prompt_tokens'] for r in called):.0f}, "
          f"generation {statistics.mean(r['tokens_per_s'] for r in called):.1f} tokens/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="where the RealTimeQA index lives "
                        "(default: the configured data_dir); the seed corpus uses a temp dir")
    parser.add_argument("--realtimeqa", type=Path, default=RTQA)
    parser.add_argument("--no-realtimeqa", action="store_true")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()

    overrides = {"backend": "local", "llm_threads": args.threads}
    seed_dir = Path(tempfile.mkdtemp(prefix="answer-bench-"))
    assistant = Assistant(load_settings(data_dir=seed_dir, **overrides))
    started = time.perf_counter()
    assistant.backend.model.load()  # type: ignore[attr-defined]
    print(f"model load {time.perf_counter() - started:.2f} s "
          f"({assistant.settings.local.threads} threads)")
    seed = run(assistant, [(q, None) for q in SEED_QUESTIONS], "Seed questions (default corpus)")
    summarise(seed, "seed")
    results = {"seed": seed}

    if not args.no_realtimeqa:
        if not (args.realtimeqa / "questions.jsonl").exists():
            print(f"\nskipped RealTimeQA: {args.realtimeqa} is absent")
        else:
            from assistant.evals.realtimeqa import open_benchmark_index

            settings = load_settings(data_dir=args.data_dir, **overrides)
            index, _ = open_benchmark_index(settings, args.realtimeqa)
            rtqa = Assistant(index.settings, backend=assistant.backend, index=index)
            quiz = [json.loads(line) for line in
                    (args.realtimeqa / "questions.jsonl").read_text().splitlines()]
            step = max(1, len(quiz) // args.questions)
            picked = quiz[::step][: args.questions]
            rows = run(rtqa, [(q["question"], date.fromisoformat(q["date"])) for q in picked],
                       f"RealTimeQA-dev, {len(picked)} questions (open, quiz date as reference)")
            summarise(rows, "realtimeqa")
            results["realtimeqa"] = rows
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

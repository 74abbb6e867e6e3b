"""Latency of a timeline answer with the local model: the 10-article Harbor City floods story.

    python benchmarks/timeline.py                   # local model, 2 threads, 3 timed runs
    python benchmarks/timeline.py --runs 1 --threads 1 --backend extractive

The eval corpus (evals/corpus-developing) is ingested into its own collection under a
temporary data dir (or --data-dir), the model is loaded and warmed up with one short call
(not timed), then the same timeline is built ``--runs`` times. For each run: total seconds,
model calls, prompt and generated tokens, and the events; then the median and the comparison
with the target on 2 cores (a 10-article timeline in <= 30 s).
Timing figures are only meaningful on a quiet machine (see /work/notes/helper-guide.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.engine import Assistant  # noqa: E402
from assistant.index import NewsIndex  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

CORPUS = ROOT / "evals" / "corpus-developing"
TOPIC = "the Harbor City floods"
TODAY = date(2026, 3, 20)
TARGET_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="local")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="timeline-bench-"))
    settings = load_settings(data_dir=data_dir, collection="bench-developing",
                             backend=args.backend, llm_threads=args.threads)
    index = NewsIndex(settings)
    index.ingest([CORPUS])
    assistant = Assistant(settings, index=index)
    started = time.perf_counter()
    model = getattr(assistant.backend, "model", None)
    if model is not None:  # load the weights and warm up, untimed
        from assistant.backends.base import Message

        model.complete([Message("user", "Say OK.")], max_tokens=2)
    print(f"backend {assistant.backend.name}, {args.threads} threads; load + warm-up "
          f"{time.perf_counter() - started:.1f} s")

    totals = []
    for run in range(1, args.runs + 1):
        answer = assistant.timeline(TOPIC, reference_date=TODAY)
        t = answer.timings
        totals.append(t["total_s"])
        calls = int(t.get("llm_calls", 0))
        print(f"\nrun {run}: {t['total_s']:.1f} s for {int(t['articles'])} articles, "
              f"{len(answer.events)} events; {calls} model calls, "
              f"{int(t.get('prompt_tokens', 0))} prompt + "
              f"{int(t.get('completion_tokens', 0))} generated tokens "
              f"(retrieve {t['retrieve_s']:.2f} s, extract {t['extract_s']:.1f} s)")
        if run == 1:
            print(answer.text)
    median = statistics.median(totals)
    verdict = "met" if median <= TARGET_S else "NOT met"
    print(f"\n10-article timeline: median {median:.1f} s over {len(totals)} runs "
          f"(min {min(totals):.1f} s, max {max(totals):.1f} s); target <= {TARGET_S:.0f} s: "
          f"{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest benchmark: a real news corpus into a fresh embedded index, then re-ingest it unchanged.

    python benchmarks/ingest.py                       # BBC News (2,225 files) + the seed article
    python benchmarks/ingest.py --corpus ../shared/benchmarks/realtimeqa-2022-dev/corpus.jsonl

Prints articles, chunks, chunks/s, peak RSS, the unchanged re-ingest time, and compares them
with the targets (>= 15 chunks/s end to end on 2 cores; re-ingest >= 50x faster). It also checks
that questions about the seed article still find it first among the other articles.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.index import NewsIndex  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "benchmarks" / "bbc-news"
SEED_QUESTIONS = [
    "how many US troops are in Iraq",
    "How many US troops remain in Iraq?",
    "Who is the acting US defense secretary who announced the drawdown?",
    "How many troops did the US keep in Afghanistan?",
    "Which Iranian general was killed in a US airstrike in January 2020?",
    "What did coalition spokesperson Wayne Marotto say about operations against ISIS?",
]
SEED_TITLE = "US reduces troop numbers in Iraq to 2,500: Pentagon"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-seed", action="store_true", help="do not add the seed article")
    parser.add_argument("--keep", type=Path, help="build the index here and keep it")
    args = parser.parse_args()
    if not args.corpus.exists():
        print(f"skipped: {args.corpus} is absent (shared benchmark data not available)")
        return 0

    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    settings = load_settings(data_dir=data_dir)
    paths = [args.corpus] + ([] if args.no_seed else [ROOT / "corpus"])
    index = NewsIndex(settings)

    started = time.perf_counter()
    first = index.ingest(paths)
    first_s = time.perf_counter() - started
    articles = len(first.added) + len(first.updated)

    started = time.perf_counter()
    again = index.ingest(paths)
    again_s = time.perf_counter() - started

    chunks_per_s = first.chunks / first_s
    speedup = first_s / again_s
    print(f"corpus            {args.corpus}{'' if args.no_seed else ' + seed article'}")
    duplicates = sum("kept once" in w.reason for w in first.warnings)
    print(f"articles          {articles} ingested, {duplicates} duplicate files kept once, "
          f"{len(first.rejected)} rejected")
    for rejection in first.rejected[:5]:
        print(f"                  rejected {rejection}")
    print(f"chunks            {first.chunks}")
    print(f"first ingest      {first_s:.1f} s  = {chunks_per_s:.1f} chunks/s, "
          f"{articles / first_s:.1f} articles/s")
    print(f"re-ingest         {again_s:.2f} s unchanged ({len(again.unchanged)} skipped, "
          f"{again.chunks} chunks embedded)  = {speedup:.0f}x faster")
    print(f"peak RSS          {peak_rss_mb():.0f} MB")
    print(f"index on disk     {index.stats()['disk_bytes'] / 1e6:.0f} MB")
    print()
    print("target            >= 15 chunks/s end to end:  "
          f"{'PASS' if chunks_per_s >= 15 else 'FAIL'} ({chunks_per_s:.1f})")
    print("target            re-ingest >= 50x faster:    "
          f"{'PASS' if speedup >= 50 else 'FAIL'} ({speedup:.0f}x)")

    if not args.no_seed:
        print()
        print("seed article among the others (rank of its best passage):")
        firsts = 0
        for question in SEED_QUESTIONS:
            hits = index.search(question, k=10)
            rank = next((i for i, p in enumerate(hits, 1) if p.title == SEED_TITLE), None)
            firsts += rank == 1
            print(f"  {rank or '>10':>3}  {question}")
        print(f"  first for {firsts}/{len(SEED_QUESTIONS)} questions")

    if args.keep is None:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

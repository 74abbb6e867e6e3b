"""Scale benchmark: hybrid search and keyword-index upkeep at 10k, 100k and 1M chunks.

    python benchmarks/scale.py                                   # 10k and 100k, embedded + server
    python benchmarks/scale.py --sizes 1000000 --modes embedded  # the 1M point (~30 min)

Texts are real: articles of ../shared/benchmarks (RealTimeQA 2026 and 2022, BBC News) chunked as
the assistant chunks them. The first 10,000 chunks are embedded with the real embedder (cached
under the cache dir after the first run); bigger collections reuse those texts as new articles
(new ids, dates spread over 2023-2026) with vectors synthesised by perturbing the real ones
(cosine ~0.9 to their original), so 1M chunks fit in about half an hour on 2 cores. Chunks are
written through the assistant's own store (``ChromaStore.write``), embedded or into a
``chroma run`` server on loopback.

Printed per size and mode: insert rate, the keyword index's complete build, hybrid search
p50/p95 for the 60 RealTimeQA 2026 questions (no filter; the engine's default preference for
the 14 days before the question's date; plus a source filter; an explicit 30-day range), the
same with Chroma's filtered queries instead of the over-fetch plan, the keyword-index update
after adding 1,000 new articles, peak RSS and disk. Then the comparison with the targets.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.documents import Article, Chunk  # noqa: E402
from assistant.filters import SearchFilters  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
SOURCES = [SHARED / "realtimeqa-2026-dev" / "corpus.jsonl",
           SHARED / "realtimeqa-2022-dev" / "corpus.jsonl", SHARED / "bbc-news"]
QUESTIONS = SHARED / "realtimeqa-2026-dev" / "questions.jsonl"
BASE_CHUNKS = 10_000
NEW_ARTICLES = 1_000
TARGETS_MS = {10_000: 30.0, 100_000: 150.0, 1_000_000: 500.0}  # hybrid p50, embedded, filters
UPDATE_TARGET_S = 10.0  # 1,000 articles added to a 1M-chunk index: keyword side
RECENT_DAYS = 14
SLOW_PLAN_QUESTIONS = 20  # Chroma's filtered-query plan is timed on the first 20 questions


@dataclass
class BaseArticle:
    article: Article
    chunks: list[Chunk]
    start: int  # row of its first chunk in the vectors array


# -- the real base: texts and embeddings ---------------------------------------------------------
def _read_base_articles() -> list[Article]:
    from assistant.readers import read_paths

    per_source = []
    for source in SOURCES:
        articles = [a for result in read_paths([source]) for a in result.articles]
        per_source.append(articles)
    # Interleave the sources so that every size mixes dated news and undated BBC articles.
    mixed: list[Article] = []
    for i in range(max(len(s) for s in per_source)):
        mixed += [s[i] for s in per_source if i < len(s)]
    return mixed


def load_base(cache: Path) -> tuple[list[BaseArticle], Any]:
    """The first BASE_CHUNKS chunks of real text and their real vectors (cached)."""
    import numpy as np

    from assistant.chunking import Chunker
    from assistant.embedders import load_embedder

    settings = load_settings()
    chunker = Chunker(settings.ingest.chunk_size, settings.ingest.chunk_overlap)
    base: list[BaseArticle] = []
    total = 0
    for article in _read_base_articles():
        chunks = chunker.split(article)
        if not chunks:
            continue
        base.append(BaseArticle(article, chunks, total))
        total += len(chunks)
        if total >= BASE_CHUNKS:
            break
    embedder = load_embedder(settings)
    vectors_file = cache / f"base-{embedder.name}-{total}.npy"
    if vectors_file.exists():
        vectors = np.load(vectors_file)
    else:
        print(f"embedding the {total} base chunks once (cached in {vectors_file}) ...",
              file=sys.stderr, flush=True)
        texts = [Chunker.embedding_text(b.article, c) for b in base for c in b.chunks]
        vectors = embedder.embed(texts)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(vectors_file, vectors)
    # BBC News holds ~100 exact duplicate files: one article each, as the assistant keeps them.
    seen: set[str] = set()
    unique = [b for b in base if not (b.article.id in seen or seen.add(b.article.id))]
    return unique, vectors


# -- building a collection of N chunks ----------------------------------------------------------
def synthetic_articles(base: list[BaseArticle], vectors: Any, size: int, first_copy: int = 0):
    """Yield (PreparedArticle, chunks) until ``size`` chunks: copy 0 is the real base, later
    copies reuse its texts as new articles with perturbed vectors and spread-out dates."""
    import numpy as np

    from assistant.stores.chroma import PreparedArticle

    rng = np.random.default_rng(first_copy)
    produced, copy = 0, first_copy
    span = (date(2026, 12, 31) - date(2023, 1, 1)).days
    while produced < size:
        for item in base:
            if produced >= size:
                return
            real = vectors[item.start:item.start + len(item.chunks)]
            if copy == 0:
                article, vecs = item.article, real
            else:
                noise = rng.standard_normal(real.shape).astype(np.float32) * 0.025
                vecs = real + noise  # |noise| ~0.49: cosine to the original ~0.9
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                day = date(2023, 1, 1) + timedelta(days=int(rng.integers(0, span)))
                base_id = item.article.url or item.article.id
                article = Article(
                    title=item.article.title, text=item.article.text, published=day,
                    source=item.article.source, url=f"{base_id}#copy{copy}",
                )
            chunks = [Chunk(article.id, c.index, c.text, c.start, c.end) for c in item.chunks]
            yield PreparedArticle(article, f"scale-{copy}", chunks, vecs, ["benchmark"])
            produced += len(chunks)
        copy += 1


def write_articles(store: Any, items: Any, batch_chunks: int = 2000) -> tuple[int, int]:
    batch, pending, chunks, articles = [], 0, 0, 0
    for item in items:
        batch.append(item)
        pending += len(item.chunks)
        if pending >= batch_chunks:
            store.write(batch)
            chunks, articles, batch, pending = chunks + pending, articles + len(batch), [], 0
    if batch:
        store.write(batch)
        chunks, articles = chunks + pending, articles + len(batch)
    return chunks, articles


# -- measuring ------------------------------------------------------------------------------------
def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def load_questions() -> list[tuple[str, date]]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [(r["question"], date.fromisoformat(r["date"])) for r in rows][:60]


def time_searches(index: Any, questions: list[tuple[str, date]], scopes: Any,
                  ) -> tuple[list[float], list[list[str]]]:
    times, tops = [], []
    for question, day in questions:
        filters, prefer = scopes(day)
        started = time.perf_counter()
        found = index.search(question, k=5, filters=filters, prefer=prefer)
        times.append((time.perf_counter() - started) * 1000)
        tops.append([p.chunk_id for p in found])
    return times, tops


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChromaServerProcess:
    """``chroma run --path DIR --host 127.0.0.1 --port PORT``, as a deployment would run it."""

    def __init__(self, path: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.path = path
        log = (path.parent / "chroma.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from chromadb.cli.cli import app; "
             "sys.argv[0] = 'chroma'; app()", "run", "--path", str(path), "--host",
             "127.0.0.1", "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise SystemExit("chroma run did not start; see chroma.log") from None
                time.sleep(0.3)

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.proc.pid).memory_info().rss / 1e6

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def worker(size: int, mode: str, work: Path, cache: Path) -> dict[str, Any]:
    from assistant.index import NewsIndex

    base, vectors = load_base(cache)
    data_dir = work / f"{mode}-{size}"
    reuse = os.environ.get("SCALE_REUSE") == "1" and mode == "embedded" and data_dir.exists()
    if not reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
    server = ChromaServerProcess(data_dir / "server") if mode == "server" else None
    overrides: dict[str, Any] = {"data_dir": data_dir / "client", "collection": "scale",
                                 "recent_days": RECENT_DAYS}
    if server:
        overrides.update(chroma_host="127.0.0.1", chroma_port=server.port)
    index = NewsIndex(load_settings(**overrides))
    result: dict[str, Any] = {"size": size, "mode": mode}
    try:
        started = time.perf_counter()
        if reuse:  # --reuse: the collection of an earlier run (insert time not measured again)
            chunks, articles = index.store.count_chunks(), index.store.count_articles()
            shutil.rmtree(index.keyword.directory, ignore_errors=True)
        else:
            chunks, articles = write_articles(index.store,
                                              synthetic_articles(base, vectors, size))
        result.update(chunks=chunks, articles=articles,
                      insert_s=float("nan") if reuse else time.perf_counter() - started)
        print(f"  [{mode} {size}] wrote {chunks} chunks in {result['insert_s']:.0f} s",
              file=sys.stderr, flush=True)
        build = index.keyword_sync.sync()
        result.update(keyword_build_s=build.seconds, keyword_docs=index.keyword.size)

        questions = load_questions()
        sources = sorted({b.article.source.lower() for b in base if b.article.source})
        busiest = max(sources, key=lambda s: sum(b.article.source.lower() == s for b in base))

        def prefer(day: date) -> SearchFilters:
            return SearchFilters(since=day - timedelta(days=RECENT_DAYS), until=day)

        scopes = {
            "none": lambda day: (None, None),
            "prefer": lambda day: (None, prefer(day)),
            "source+prefer": lambda day: (SearchFilters.make(busiest),
                                          SearchFilters.make(busiest, day - timedelta(
                                              days=RECENT_DAYS), day)),
            "range30": lambda day: (SearchFilters(since=day - timedelta(days=30), until=day),
                                    None),
        }
        time_searches(index, questions[:5], scopes["prefer"])  # warm caches
        searches: dict[str, Any] = {}
        tops: dict[str, list[list[str]]] = {}
        for name, scope in scopes.items():
            times, tops[name] = time_searches(index, questions, scope)
            searches[name] = percentiles(times)
        index.store.overfetch = 0  # Chroma's own filtered queries, for comparison
        for name in ("prefer", "range30"):
            times, slow_tops = time_searches(index, questions[:SLOW_PLAN_QUESTIONS],
                                             scopes[name])
            searches[f"{name} (filtered plan)"] = percentiles(times)
            same = sum(a == b for a, b in zip(slow_tops, tops[name], strict=False))
            searches[f"{name} (filtered plan)"] += (same,)
        index.store.overfetch = type(index.store).overfetch
        result["search_ms"] = searches
        result["filter_source"] = busiest

        # 1,000 new articles (real texts, new ids) written by another job: the keyword side.
        new = []
        for item in synthetic_articles(base, vectors, 10**9, first_copy=1000):
            new.append(item)
            if len(new) == NEW_ARTICLES:
                break
        added, _ = write_articles(index.store, new)
        update = index.keyword_sync.sync()
        result.update(update_articles=update.indexed_articles, update_chunks=added,
                      update_s=update.seconds, update_complete=update.complete)
        assert index.keyword.size == index.store.count_chunks(), "keyword index out of step"
        result["peak_rss_mb"] = peak_rss_mb()
        if server:
            result["server_rss_mb"] = server.rss_mb()
        result["disk_mb"] = disk_mb(data_dir)
        result["keyword_disk_mb"] = disk_mb(index.keyword.directory)
    finally:
        if server:
            server.stop()
    return result


# -- report ---------------------------------------------------------------------------------------
def report(results: list[dict[str, Any]]) -> None:
    print("\nsize       mode      insert        keyword build  search p50 / p95 ms (k=5, hybrid)"
          "                                           +1,000 articles   peak RSS   disk")
    for r in results:
        s = r["search_ms"]
        cells = "  ".join(f"{name} {s[name][0]:.0f}/{s[name][1]:.0f}"
                          for name in ("none", "prefer", "source+prefer", "range30"))
        print(f"{r['chunks']:>9,}  {r['mode']:<8}  {r['chunks'] / r['insert_s']:>5.0f} ch/s  "
              f"{r['keyword_build_s']:>6.1f} s       {cells}   "
              f"{r['update_s']:>5.2f} s ({r['update_chunks']:,} ch)  "
              f"{r['peak_rss_mb']:>6.0f} MB  {r['disk_mb']:>6.0f} MB"
              + (f"  (server RSS {r['server_rss_mb']:.0f} MB)" if "server_rss_mb" in r else ""))
        for name in ("prefer (filtered plan)", "range30 (filtered plan)"):
            p50, p95, same = s[name]
            print(f"{'':>21}{name}: p50 {p50:.0f} ms / p95 {p95:.0f} ms; same top-5 as the "
                  f"over-fetch plan for {same}/{SLOW_PLAN_QUESTIONS} questions")
    print("\ntargets (embedded, the engine's filters on = 'prefer'):")
    for r in results:
        if r["mode"] != "embedded":
            continue
        size = r["size"]
        if size in TARGETS_MS:
            p50 = r["search_ms"]["prefer"][0]
            verdict = "met" if p50 <= TARGETS_MS[size] else "NOT met"
            print(f"  {size:>9,} chunks: hybrid p50 {p50:.1f} ms (target <= {TARGETS_MS[size]:.0f}"
                  f" ms): {verdict}")
        if size >= 1_000_000:
            verdict = "met" if r["update_s"] <= UPDATE_TARGET_S else "NOT met"
            print(f"  keyword update, 1,000 articles into {r['chunks']:,} chunks: "
                  f"{r['update_s']:.2f} s (target <= {UPDATE_TARGET_S:.0f} s): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--modes", nargs="+", choices=["embedded", "server"],
                        default=["embedded", "server"])
    parser.add_argument("--work", type=Path, help="where the collections are built (kept)")
    parser.add_argument("--cache", type=Path, help="where the base embeddings are cached")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the embedded collections already in --work (keyword index "
                             "rebuilt, searches and update measured again)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    missing = [p for p in (*SOURCES, QUESTIONS) if not p.exists()]
    if missing:
        print(f"skipped: {missing[0]} is absent (shared benchmark data not available)")
        return 0
    cache = args.cache or load_settings().cache_dir / "bench-scale"
    work = args.work or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    if args.worker:
        size, mode = int(args.worker[0]), args.worker[1]
        print(json.dumps(worker(size, mode, work, cache)))
        return 0
    load_base(cache)  # embed the base once, before any timing
    results = []
    for size in args.sizes:
        for mode in args.modes:
            # One process per point: peak RSS is that point's own.
            print(f"building {size:,} chunks ({mode}) ...", file=sys.stderr, flush=True)
            out = subprocess.run(
                [sys.executable, __file__, "--worker", str(size), mode, "--work", str(work),
                 "--cache", str(cache)], capture_output=True, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT),
                     **({"SCALE_REUSE": "1"} if args.reuse else {})})
            if out.returncode != 0:
                print(out.stderr[-3000:], file=sys.stderr)
                return 1
            print(out.stderr, end="", file=sys.stderr)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            if not args.work:
                shutil.rmtree(work / f"{mode}-{size}", ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

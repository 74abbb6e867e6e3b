"""Feed benchmark: 50 outlets x 20 entries on loopback, pages built from BBC News, with 100
planted wire copies.

    python benchmarks/feeds.py                       # 50 feeds x 20 entries, 100 copies
    python benchmarks/feeds.py --feeds 5 --entries 4 --copies 4   # a quick smoke run

Each outlet is its own HTTP server on its own loopback address (127.0.0.2, 127.0.0.3, ...), so
the fetcher's per-host politeness applies as it would to 50 real sites (default settings:
2 requests at once per host, 0.5 s apart). Every page has navigation, ads, scripts and reader
comments around a BBC article; 100 entries are copies of another outlet's article with light
edits (new headline and byline, one paragraph dropped, a few words changed, a closing line).

Prints and compares with the targets:
- first update: time and articles/s, against `assistant ingest` of the same pages saved as
  .html files into a fresh index (target: >= 90% of its speed: bound by embedding);
- a second update with nothing new (target: <= 2 s and zero page fetches);
- story grouping on the planted copies: pairwise precision and recall (targets 0.95 / 0.90).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the loopback news server used by the tests

from news_server import NewsServer, Route, article_page, atom, rss  # noqa: E402

from assistant.feeds import Feeds  # noqa: E402
from assistant.index import NewsIndex  # noqa: E402
from assistant.settings import load_settings  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "bbc-news"
EDITS = [("said", "told reporters"), ("also", "additionally"), ("However", "But"),
         ("year", "12 months"), ("government", "administration")]


@dataclass
class Item:
    outlet: int
    slug: str
    title: str
    paragraphs: list[str]
    day: int
    original: str | None = None  # for a planted copy: the key of the article it copies

    @property
    def key(self) -> str:
        return f"{self.outlet}/{self.slug}"


def _shingles(paragraphs: list[str]) -> set[str]:
    words = " ".join(paragraphs).lower().split()
    return {" ".join(words[i:i + 5]) for i in range(max(len(words) - 4, 1))}


def read_bbc(folder: Path, wanted: int) -> list[tuple[str, list[str]]]:
    """Distinct BBC articles, spread over the categories.

    Exact duplicate files are kept once, and so is each near-duplicate pair the corpus itself
    holds (BBC News filed some stories twice with light edits: "Day-Lewis set for Berlin
    honour" twice, 95% of their 5-word shingles shared): they are copies, so left in they
    would be true pairs the planted truth does not list. Near is judged by the exact Jaccard
    similarity of 5-word shingles >= 0.5, candidates from datasketch's MinHash LSH.
    """
    from datasketch import MinHash, MinHashLSH

    seen: set[str] = set()
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    kept_shingles: dict[str, set[str]] = {}
    articles: list[tuple[str, list[str]]] = []
    for path in sorted(folder.rglob("*.txt")):
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if len(lines) < 3:
            continue
        digest = hashlib.sha1(" ".join(lines[1:]).encode()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        shingles = _shingles(lines[1:])
        signature = MinHash(num_perm=64)
        for shingle in shingles:
            signature.update(shingle.encode())
        if any(len(shingles & kept_shingles[key]) / len(shingles | kept_shingles[key]) >= 0.5
               for key in lsh.query(signature)):
            continue
        kept_shingles[digest] = shingles
        lsh.insert(digest, signature)
        articles.append((lines[0], lines[1:]))
    step = max(len(articles) // wanted, 1)
    return articles[::step][:wanted]


def plant_copy(title: str, paragraphs: list[str], outlet: str, rng: random.Random) -> tuple[
        str, list[str]]:
    """A wire copy as another outlet prints it: light edits only."""
    body = list(paragraphs)
    if len(body) > 4:
        del body[rng.randrange(2, len(body))]
    edited = []
    for paragraph in body:
        for old, new in rng.sample(EDITS, 2):
            paragraph = re.sub(rf"\b{old}\b", new, paragraph, count=1)
        edited.append(paragraph)
    edited.insert(0, f"By {outlet} staff and agencies")
    edited.append(f"Additional reporting by the {outlet} news desk.")
    return f"{title}: what we know", edited


def build(feeds: int, entries: int, copies: int, data: Path, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    base = read_bbc(data, feeds * entries - copies)
    items = [Item(i % feeds, f"story-{i}", title, paragraphs, i % 20)
             for i, (title, paragraphs) in enumerate(base)]
    for n, source in enumerate(rng.sample(items, copies)):
        outlet = (source.outlet + 1 + rng.randrange(feeds - 1)) % feeds if feeds > 1 else 0
        title, paragraphs = plant_copy(source.title, source.paragraphs, outlet_name(outlet), rng)
        items.append(Item(outlet, f"copy-{n}", title, paragraphs,
                          source.day + rng.randrange(2), original=source.key))
    return items


def outlet_name(i: int) -> str:
    return f"Outlet {i:02d} News"


def page(item: Item, url: str) -> bytes:
    return article_page(item.title, item.paragraphs, site=outlet_name(item.outlet),
                        canonical=url, author=f"Reporter {item.outlet}",
                        published=f"2026-11-{1 + item.day:02d}T{6 + item.outlet % 12:02d}:00:00Z")


def serve(items: list[Item], feeds: int) -> tuple[list[NewsServer], dict[str, str]]:
    """One server per outlet on its own loopback address; returns them and key -> url."""
    servers = [NewsServer(f"127.0.0.{2 + i}") for i in range(feeds)]
    urls: dict[str, str] = {}
    by_outlet: dict[int, list[Item]] = {}
    for item in items:
        by_outlet.setdefault(item.outlet, []).append(item)
    for i, server in enumerate(servers):
        entries = []
        for item in by_outlet.get(i, []):
            url = server.url(f"/news/{item.slug}.html")
            urls[item.key] = url
            server.routes[f"/news/{item.slug}.html"] = Route(page(item, url))
            entries.append({"title": item.title, "link": url, "guid": item.key,
                            "date": f"Sun, {1 + item.day:02d} Nov 2026 08:00:00 GMT",
                            "published": f"2026-11-{1 + item.day:02d}T08:00:00Z",
                            "updated": f"2026-11-{1 + item.day:02d}T08:00:00Z"})
        if i % 2:
            server.routes["/feed.xml"] = Route(atom(outlet_name(i), entries),
                                               "application/atom+xml")
        else:
            server.routes["/feed.xml"] = Route(rss(outlet_name(i), entries),
                                               "application/rss+xml")
    return servers, urls


def pairs(groups: dict[str, set[str]]) -> set[frozenset[str]]:
    return {frozenset(p) for members in groups.values() for p in combinations(sorted(members), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"skipped: {args.data} is absent (shared benchmark data not available)")
        return 0

    work = args.keep or Path(tempfile.mkdtemp(prefix="feeds-bench-"))
    items = build(args.feeds, args.entries, args.copies, args.data)
    servers, urls = serve(items, args.feeds)
    try:
        # Same pages as files, for the `assistant ingest` baseline.
        pages_dir = work / "pages"
        for item in items:
            folder = pages_dir / f"outlet-{item.outlet:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{item.slug}.html").write_bytes(page(item, urls[item.key]))

        # Warm-up (imports, model load) so that neither run pays it.
        warm = NewsIndex(load_settings(data_dir=work / "warm"))
        warm.ingest([next(pages_dir.rglob("*.html"))])

        index = NewsIndex(load_settings(data_dir=work / "ingest"))
        started = time.perf_counter()
        baseline = index.ingest([pages_dir])
        ingest_s = time.perf_counter() - started
        ingest_articles = len(baseline.added)
        ingest_rate = ingest_articles / ingest_s

        settings = load_settings(data_dir=work / "feeds")
        feeds = Feeds(settings)
        for i, server in enumerate(servers):
            feeds.follow(server.url("/feed.xml"), name=f"outlet-{i:02d}")
        started = time.perf_counter()
        first = feeds.update()
        first_s = time.perf_counter() - started
        update_rate = len(first.added) / first_s

        for server in servers:
            server.clear()
        started = time.perf_counter()
        second = feeds.update()
        second_s = time.perf_counter() - started
        page_hits = sum(1 for s in servers for h in s.hits if h.path.startswith("/news/"))

        records = feeds.index.store.article_records()
        key_of = {url: key for key, url in urls.items()}
        predicted: dict[str, set[str]] = {}
        for record in records.values():
            predicted.setdefault(record.story_id, set()).add(key_of.get(record.id, record.id))
        truth: dict[str, set[str]] = {}
        for item in items:
            root = item.original or item.key
            truth.setdefault(root, set()).add(item.key)
        found, expected = pairs(predicted), pairs(truth)
        right = found & expected
        precision = len(right) / len(found) if found else 1.0
        recall = len(right) / len(expected) if expected else 1.0
        wrong = sorted(found - expected, key=sorted)
    finally:
        for server in servers:
            server.close()

    ratio = update_rate / ingest_rate
    print(f"feeds             {args.feeds} outlets x {args.entries} entries "
          f"({len(items)} pages, {args.copies} planted copies), one loopback host per outlet")
    print(f"ingest baseline   {ingest_articles} articles from .html files in {ingest_s:.1f} s "
          f"= {ingest_rate:.2f} articles/s ({baseline.chunks} chunks)")
    print(f"first update      {len(first.added)} articles in {first_s:.1f} s = "
          f"{update_rate:.2f} articles/s ({first.chunks} chunks, {first.pages_fetched} page "
          f"requests, {len(first.failed)} feeds failed, {len(first.rejected)} pages rejected)")
    print(f"second update     {second_s:.2f} s, {len(second.added)} new, "
          f"{second.pages_fetched} page requests ({page_hits} seen by the servers), "
          f"requests {second.requests}")
    print(f"stories           {len(predicted)} stories for {len(records)} articles; "
          f"pairs found {len(found)}, planted {len(expected)}, right {len(right)}")
    for pair in wrong[:10]:
        print(f"                  not planted: {' ~ '.join(sorted(pair))}")
    print()
    print(f"target            first update >= 90% of ingest speed:  "
          f"{'PASS' if ratio >= 0.9 else 'FAIL'} ({ratio:.0%})")
    print(f"target            second update <= 2 s, 0 page fetches: "
          f"{'PASS' if second_s <= 2 and page_hits == 0 else 'FAIL'} "
          f"({second_s:.2f} s, {page_hits} fetches)")
    print(f"target            story precision >= 0.95:              "
          f"{'PASS' if precision >= 0.95 else 'FAIL'} ({precision:.3f})")
    print(f"target            story recall >= 0.90:                 "
          f"{'PASS' if recall >= 0.90 else 'FAIL'} ({recall:.3f})")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``assistant feeds``, ``update``, ``ingest URL``, ``search --all-copies`` and ``/update``,
run as a user would (subprocesses) against a real HTTP server on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FAST_FEEDS, ROOT
from news_server import NewsServer, Route
from news_site import Site, build_site

FEED_ENV = {f"ASSISTANT_FEEDS__{key.upper()}": str(value) for key, value in FAST_FEEDS.items()}


def run(data: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_BACKEND": "fake",
           "NO_COLOR": "1", "COLUMNS": "200", **FEED_ENV}
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


def spawn(data: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_BACKEND": "fake",
           "NO_COLOR": "1", "COLUMNS": "200", **FEED_ENV}
    return subprocess.Popen([sys.executable, "-m", "assistant.cli.main", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = NewsServer()
    try:
        yield build_site(server)
    finally:
        server.close()


@pytest.fixture(scope="module")
def updated(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir following three outlets and one broken feed, updated once."""
    data = tmp_path_factory.mktemp("feeds-cli") / "data"
    for name in ("herald", "valley", "courier", "broken"):
        result = run(data, "feeds", "add", site.feeds[name], "--name", name)
        assert result.returncode == 0, result.stderr
    result = run(data, "update")
    assert result.returncode == 1, result.stderr  # the broken feed failed
    return data


def test_feeds_add_list_remove(site: Site, tmp_path: Path) -> None:
    data = tmp_path / "data"
    added = run(data, "feeds", "add", site.feeds["herald"], "--json")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["name"] == "127.0.0.1"  # named after its host by default
    assert run(data, "feeds", "add", site.feeds["valley"], "--name", "valley").returncode == 0
    again = run(data, "feeds", "add", site.feeds["valley"])
    assert again.returncode == 2 and "already followed" in again.stderr
    bad = run(data, "feeds", "add", "ftp://example.invalid/feed")
    assert bad.returncode == 2 and "not an http(s) url" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    listed = json.loads(run(data, "feeds", "list", "--json").stdout)
    assert [f["name"] for f in listed] == ["127.0.0.1", "valley"]
    assert listed[0]["last_update"] is None and listed[0]["items"] == 0
    table = run(data, "feeds", "list").stdout
    assert "last update" in table and "never" in table
    gone = run(data, "feeds", "remove", "valley")
    assert gone.returncode == 0 and "No longer following valley" in gone.stdout
    missing = run(data, "feeds", "remove", "valley")
    assert missing.returncode == 2 and "no feed named 'valley'" in missing.stderr
    assert [f["name"] for f in json.loads(run(data, "feeds", "list", "--json").stdout)] == [
        "127.0.0.1"]


def test_update_reports_each_failure_on_one_line_and_exits_1(site: Site, updated: Path) -> None:
    result = run(updated, "update")
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert failures == [f"✗ feed broken ({site.feeds['broken']}): malformed XML: "
                        "mismatched tag (line 1, column 104)"]
    assert "Updated 4 feeds" in result.stdout and "0 new articles" in result.stdout
    as_json = json.loads(run(updated, "update", "--json").stdout)
    assert as_json["failed"] == ["broken"] and as_json["pages_fetched"] >= 0
    herald = next(f for f in as_json["feeds"] if f["name"] == "herald")
    assert herald["status"] == "unchanged" and herald["error"] is None
    listed = {f["name"]: f for f in json.loads(run(updated, "feeds", "list", "--json").stdout)}
    assert listed["herald"]["items"] == 3 and listed["broken"]["last_error"].startswith(
        "malformed XML")
    only_good = run(updated, "update", "valley", "courier", "--json")
    assert only_good.returncode == 0
    assert [f["name"] for f in json.loads(only_good.stdout)["feeds"]] == ["valley", "courier"]


def test_stats_search_and_ask_know_about_stories(site: Site, updated: Path) -> None:
    stats = json.loads(run(updated, "stats", "--json").stdout)
    assert stats["articles"] == 7 and stats["stories"] == 5
    assert "stories" in run(updated, "stats").stdout
    query = "how many residents had to leave their homes in Marnholt"
    folded = json.loads(run(updated, "search", query, "--json", "-k", "5").stdout)
    copies = set(site.copy_urls.values())
    assert {h["url"] for h in folded if h["url"] in copies} == {
        site.copy_urls["Northern Herald"]}
    top = next(h for h in folded if h["url"] in copies)
    assert {c["source"] for c in top["also_reported_by"]} == {"Valley Times", "Evening Courier"}
    every = json.loads(run(updated, "search", query, "--json", "-k", "5", "--all-copies").stdout)
    assert {h["url"] for h in every} >= copies
    answer = run(updated, "ask", "How many people were rescued by boat in Marnholt?")
    assert answer.returncode == 0, answer.stderr
    assert "212" in answer.stdout
    assert "Floods force 4,000 from homes in Marnholt — Northern Herald" in answer.stdout
    assert "also reported by Valley Times, Evening Courier (3 outlets)" in answer.stdout


def test_ingest_urls_next_to_files(site: Site, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "note.txt").write_text("Local note\n\nThe town council meets on Monday to "
                                       "discuss the flood damage and the repair budget.\n")
    result = run(data, "ingest", site.copy_urls["Valley Times"], str(tmp_path / "note.txt"),
                 site.url("/herald/gallery.html"), site.url("/herald/report.pdf"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {a["id"] for a in report["added"]} >= {site.copy_urls["Valley Times"]}
    assert len(report["added"]) == 2
    reasons = {r["path"]: r["reason"] for r in report["rejected"]}
    assert "no article text" in reasons[site.url("/herald/gallery.html")]
    assert reasons[site.url("/herald/report.pdf")] == (
        "not an HTML page (content type application/pdf)")
    again = json.loads(run(data, "ingest", site.copy_urls["Valley Times"], "--json").stdout)
    assert again["added"] == [] and again["unchanged"] == 1


def test_update_every_stops_cleanly_on_ctrl_c(site: Site, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "feeds", "add", site.feeds["courier"], "--name", "c").returncode == 0
    before = len(site.server.paths("/courier/rdf.xml"))
    process = spawn(data, "update", "--every", "1s")
    deadline = time.monotonic() + 120
    polls = 0
    while time.monotonic() < deadline:  # wait until it has polled the feed twice
        polls = len(site.server.paths("/courier/rdf.xml")) - before
        if polls >= 2:
            break
        time.sleep(0.1)
    assert polls >= 2, "the loop never polled again"
    process.send_signal(signal.SIGINT)
    out, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors
    assert "Traceback" not in errors
    assert out.count("Updated 1 feeds") >= 2


def test_update_killed_with_sigkill_resumes_without_duplicates(tmp_path: Path) -> None:
    server = NewsServer()
    try:
        site = build_site(server)
        for path in list(server.routes):
            # Slow pages so the kill lands mid-update. slow.html keeps its 2 s (past the read
            # timeout) in both runs: at 0.4 s the killed run could write it, an article the
            # resumed run never sees, and the count below would depend on the kill's timing.
            if path.endswith(".html") and path != "/herald/slow.html":
                server.routes[path].delay = 0.4
        data = tmp_path / "data"
        for name in ("herald", "valley", "courier", "planet-sitemap", "planet-news"):
            assert run(data, "feeds", "add", site.feeds[name], "--name", name).returncode == 0
        process = spawn(data, "update")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(server.paths("/valley/")) < 3:
            time.sleep(0.05)
        time.sleep(0.5)
        process.kill()
        process.wait(timeout=30)
        for path, route in server.routes.items():
            if path != "/herald/slow.html":
                route.delay = 0.0
        result = run(data, "update", "--json")
        assert result.returncode == 0, result.stderr
        stats = json.loads(run(data, "stats", "--json").stdout)
        assert stats["articles"] == 9 and stats["stories"] == 7
        check = subprocess.run(
            [sys.executable, "-c", _CHECK, str(data)], capture_output=True, text=True,
            cwd=ROOT, timeout=120, env={**os.environ, "ASSISTANT_BACKEND": "fake"})
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        server.close()


_CHECK = """
import sys
from collections import Counter
from pathlib import Path
from assistant.index import NewsIndex
from assistant.settings import load_settings
index = NewsIndex(load_settings(data_dir=Path(sys.argv[1])))
rows = list(index.store.iter_chunks())
assert len({cid for cid, _, _ in rows}) == len(rows), "duplicate chunk ids"
per_article = Counter(meta["article_id"] for _, _, meta in rows)
records = index.store.article_records()
assert set(per_article) == set(records), (set(per_article) ^ set(records))
assert all(per_article[a] == r.chunks for a, r in records.items()), "chunk counts differ"
print("ok", len(records))
"""


def test_chat_update_command(site: Site, updated: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    from test_chat import Chat

    site.server.routes["/courier/extra.html"] = Route(b"")
    chat = Chat(updated, **FEED_ENV)
    try:
        chat.expect("/help for commands")
        chat.prompt()
        shown = chat.say("/update", "feeds failed")
        assert "Updated 4 feeds" in shown
        assert f"✗ feed broken ({site.feeds['broken']}): malformed XML" in shown
        chat.child.sendline("/quit")
        _, status = chat.finish()
        assert status == 0
    finally:
        if chat.child.isalive():
            chat.child.terminate(force=True)
    assert pexpect

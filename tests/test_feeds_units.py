"""Small pieces of the feed reader: intervals, the host scheduler, the feed state."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from assistant.cli.feeds_command import parse_interval
from assistant.errors import InputError
from assistant.feeds.parse import Entry
from assistant.feeds.scheduler import HostScheduler
from assistant.feeds.state import FeedState
from assistant.pages import EntryHints


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h30m", 5400), ("90s", 90),
                                               ("2h", 7200), ("15", 900), ("1d", 86400)])
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["soon", "30x", "0s", "m30"])
def test_parse_interval_rejects_nonsense(text: str) -> None:
    with pytest.raises(InputError, match="--every"):
        parse_interval(text)


def test_scheduler_never_idles_on_a_busy_host() -> None:
    """Host 'slow' takes one request a second; the other hosts' tasks must not wait for it."""
    lock = threading.Lock()
    next_start: dict[str, float] = {}
    finished: dict[int, float] = {}
    started = time.monotonic()

    def ready_in(host: str) -> float:
        with lock:
            return max(0.0, next_start.get(host, 0.0) - time.monotonic())

    def work(item: tuple[int, str]) -> int:
        seq, host = item
        with lock:  # what the fetcher's gate does: space starts per host
            start = max(time.monotonic(), next_start.get(host, 0.0))
            next_start[host] = start + (1.0 if host == "slow" else 0.0)
        time.sleep(max(0.0, start - time.monotonic()) + 0.01)
        finished[seq] = time.monotonic() - started
        return seq

    tasks = [("slow", (i, "slow")) for i in range(3)]
    tasks += [(f"fast{i}", (3 + i, f"fast{i}")) for i in range(6)]
    scheduler: HostScheduler[tuple[int, str], int] = HostScheduler(
        tasks, work, workers=3, per_host=1, ready_in=ready_in, window=100)
    assert [scheduler.result(i) for i in range(9)] == list(range(9))
    scheduler.stop()
    assert max(finished[i] for i in range(3, 9)) < 0.9  # done while 'slow' was still waiting
    assert finished[2] >= 1.9


def test_scheduler_hands_back_errors_and_stops() -> None:
    def work(item: int) -> int:
        if item == 1:
            raise ValueError("bad item")
        return item

    scheduler: HostScheduler[int, int] = HostScheduler(
        [("h", i) for i in range(3)], work, workers=1, per_host=1, ready_in=lambda h: 0.0,
        window=1)
    assert scheduler.result(0) == 0
    with pytest.raises(ValueError, match="bad item"):
        scheduler.result(1)
    scheduler.stop()


def test_state_survives_reopening_and_requeues_changed_entries(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    state = FeedState(path)
    feed = state.add("http://n.test/feed", "n")
    entries = [Entry("g1", "http://n.test/1", EntryHints(title="One"), "v1"),
               Entry("g2", "http://n.test/2", EntryHints(title="Two"), "v1")]
    assert state.record_poll(feed, entries, '"e1"', None) == (2, 0)
    pending = state.pending(feed)
    state.finish_entries(feed, [(pending[0], "http://n.test/1", None, None)],
                         [(pending[1], "HTTP 500", True)], max_attempts=2, items_added=1)
    state.close()

    state = FeedState(path)  # a new process
    feed = state.find("n")
    assert feed is not None and feed.etag == '"e1"' and feed.items == 1 and feed.pending == 1
    assert [p.key for p in state.pending(feed)] == ["g2"]
    changed = [Entry("g1", "http://n.test/1", EntryHints(title="One, updated"), "v2"), entries[1]]
    assert state.record_poll(feed, changed, '"e2"', None) == (0, 1)
    requeued = {p.key: p for p in state.pending(feed)}
    assert requeued["g1"].changed and not requeued["g2"].changed
    state.finish_entries(feed, [], [(requeued["g2"], "HTTP 500", True)], max_attempts=2,
                         items_added=0)
    assert state.entry_counts(feed) == {"pending": 1, "rejected": 1}
    state.remove(feed)
    assert state.feeds() == [] and state.entry_counts(feed) == {}

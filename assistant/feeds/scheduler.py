"""Run page fetches in priority order without idling workers on a busy host.

A plain thread pool hands tasks out first come, first served: with twenty pages of one host
queued first, every worker would sit in that host's politeness wait while other hosts are
idle. Here a free worker takes the lowest-numbered task whose host can take a request now
(fewer than ``per_host`` in flight, its delay elapsed); the Fetcher's own gate still enforces
the limits. Tasks are numbered feed by feed, so the feed being written next is fetched first,
and fetching runs ahead of writing by at most ``window`` tasks (memory stays bounded).
Written by hand because no well-kept library schedules by host readiness like this.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Task(Generic[T]):
    seq: int
    host: str
    item: T


class HostScheduler(Generic[T, R]):
    """Runs ``work(item)`` for every task on ``workers`` daemon threads; ``result(seq)``
    waits for one. ``advance(seq)`` lets tasks up to ``seq + window`` start."""

    def __init__(
        self,
        tasks: list[tuple[str, T]],
        work: Callable[[T], R],
        *,
        workers: int,
        per_host: int,
        ready_in: Callable[[str], float],
        window: int,
    ) -> None:
        self._work = work
        self._per_host = per_host
        self._ready_in = ready_in
        self._window = window
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Task[T]]] = {}
        for seq, (host, item) in enumerate(tasks):
            self._queues.setdefault(host, deque()).append(_Task(seq, host, item))
        self._left = len(tasks)
        self._busy: dict[str, int] = {}
        self._results: dict[int, tuple[bool, object]] = {}
        self._frontier = window
        self._stopped = False
        self._started: set[int] = set()
        self._threads = [threading.Thread(target=self._loop, daemon=True, name=f"fetch-{i}")
                         for i in range(min(workers, max(len(tasks), 1)))]
        for thread in self._threads:
            thread.start()

    def advance(self, seq: int) -> None:
        with self._cond:
            self._frontier = max(self._frontier, seq + self._window)
            self._cond.notify_all()

    def result(self, seq: int) -> R:
        """The result of task ``seq`` (its exception is raised here)."""
        with self._cond:
            self._frontier = max(self._frontier, seq + 1)
            self._cond.notify_all()
            while seq not in self._results:
                if self._stopped and seq not in self._started:
                    raise RuntimeError(f"task {seq} was not started: the scheduler stopped")
                self._cond.wait()
            ok, value = self._results.pop(seq)
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def stop(self) -> None:
        """Start no more tasks; running ones finish on their own (bounded by timeouts)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def _pick(self) -> tuple[_Task[T] | None, float]:
        best: _Task[T] | None = None
        wait = 0.5
        for host, queue in self._queues.items():
            if not queue or queue[0].seq >= self._frontier:
                continue
            if self._busy.get(host, 0) >= self._per_host:
                continue
            ready = self._ready_in(host)
            if ready > 0:
                wait = min(wait, ready)
                continue
            if best is None or queue[0].seq < best.seq:
                best = queue[0]
        return best, wait

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped or self._left == 0:
                        return
                    task, wait = self._pick()
                    if task is not None:
                        self._queues[task.host].popleft()
                        self._started.add(task.seq)
                        self._left -= 1
                        self._busy[task.host] = self._busy.get(task.host, 0) + 1
                        break
                    self._cond.wait(timeout=max(wait, 0.005))
            try:
                outcome: tuple[bool, object] = (True, self._work(task.item))
            except BaseException as exc:  # handed to the waiting caller
                outcome = (False, exc)
            with self._cond:
                self._busy[task.host] -= 1
                self._results[task.seq] = outcome
                self._cond.notify_all()

"""One writer at a time per index: an inter-process lock file in the data dir (filelock).

The embedded Chroma store is not documented as safe for several writing processes, and the
keyword index beside it is rewritten by writes: ``ingest``, ``remove`` and the first-run build
hold this lock. Readers (search, ask) do not take it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import StorageError


class WriteLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path))

    @contextmanager
    def hold(self, *, wait: bool = True,
             on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the lock; when another process holds it, wait (telling ``on_wait`` once) or,
        with ``wait=False``, fail at once."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                if not wait:
                    raise StorageError(
                        f"another process is writing to this index ({self.path}); try again "
                        "when it has finished (or let this one wait for it)"
                    ) from None
                if on_wait is not None:
                    on_wait()
                self._lock.acquire()
        except OSError as exc:
            raise StorageError(f"cannot create the lock file {self.path} "
                               f"({exc.strerror or exc}); check the data directory") from None
        try:
            yield
        finally:
            self._lock.release()

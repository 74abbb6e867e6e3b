"""What the feed reader remembers, in one SQLite file in the data dir (WAL mode).

Feeds (url, name, ETag / Last-Modified, last update, last error, items), every entry seen
(its key, the page it points to, a digest of what the feed said about it, its status), the
pages fetched (validators for conditional GETs, the article they became) and robots.txt
answers. Entries are a persistent work queue: a poll records new and changed entries as
``pending`` in the same transaction as the feed's new validators, and an entry becomes
``done`` only after its article is in the index. Whatever kills an update (Ctrl-C, kill -9),
the next one finds the pending entries and carries on; nothing is fetched or written twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import InputError, StorageError
from assistant.feeds.parse import Entry
from assistant.pages import EntryHints

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    added_at TEXT NOT NULL,
    respect_robots INTEGER NOT NULL DEFAULT 1,
    kind TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    etag TEXT,
    last_modified TEXT,
    last_update TEXT,
    last_success TEXT,
    last_error TEXT,
    items INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL,
    key TEXT NOT NULL,
    url TEXT NOT NULL,
    digest TEXT NOT NULL,
    hints TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,            -- pending | done | rejected
    changed INTEGER NOT NULL DEFAULT 0,  -- seen before and changed since: re-check the page
    attempts INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    article_id TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    seen_at TEXT NOT NULL,
    done_at TEXT,
    PRIMARY KEY (feed_url, key)
);
CREATE INDEX IF NOT EXISTS entries_status ON entries (status, feed_url);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    article_id TEXT,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS validators (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT
);
CREATE TABLE IF NOT EXISTS robots (
    origin TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Feed:
    url: str
    name: str
    added_at: str
    respect_robots: bool = True
    kind: str = ""
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    last_update: str | None = None
    last_success: str | None = None
    last_error: str | None = None
    items: int = 0  # articles this feed brought into the index
    pending: int = 0  # entries waiting to be fetched

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "kind": self.kind, "title": self.title,
                "added_at": self.added_at, "last_update": self.last_update,
                "last_success": self.last_success, "items": self.items,
                "pending": self.pending, "last_error": self.last_error,
                "respect_robots": self.respect_robots}


@dataclass
class PendingEntry:
    feed_url: str
    key: str
    url: str
    hints: EntryHints
    changed: bool
    attempts: int


class FeedState:
    """The SQLite state of the feeds of one collection. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a killed process loses nothing committed; only a power cut may
            # lose the last transactions, which the next update then simply does again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the feed state {path}: {exc}") from None
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(sql, args)
            names = [d[0] for d in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # -- feeds -------------------------------------------------------------------------------
    def feeds(self) -> list[Feed]:
        pending = {r["feed_url"]: r["n"] for r in self._rows(
            "SELECT feed_url, COUNT(*) AS n FROM entries WHERE status = 'pending' "
            "GROUP BY feed_url")}
        feeds = []
        for row in self._rows("SELECT * FROM feeds ORDER BY added_at, name"):
            row["respect_robots"] = bool(row["respect_robots"])
            feeds.append(Feed(**row, pending=pending.get(row["url"], 0)))
        return feeds

    def find(self, name_or_url: str) -> Feed | None:
        wanted = name_or_url.strip()
        for feed in self.feeds():
            if wanted in (feed.name, feed.url):
                return feed
        return None

    def add(self, url: str, name: str, respect_robots: bool = True) -> Feed:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM feeds WHERE url = ?", (url,)).fetchone():
                raise InputError(f"{url}: already followed; 'assistant feeds list' shows it")
            if db.execute("SELECT 1 FROM feeds WHERE name = ?", (name,)).fetchone():
                raise InputError(f"a feed named {name!r} exists already; pick another --name")
            db.execute("INSERT INTO feeds (url, name, added_at, respect_robots) "
                       "VALUES (?, ?, ?, ?)", (url, name, now_iso(), int(respect_robots)))
        feed = self.find(url)
        assert feed is not None
        return feed

    def name_taken(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM feeds WHERE name = ?", (name,)))

    def remove(self, feed: Feed) -> None:
        """Forget a feed and its entries; its articles stay in the index."""
        with self._tx() as db:
            db.execute("DELETE FROM entries WHERE feed_url = ?", (feed.url,))
            db.execute("DELETE FROM feeds WHERE url = ?", (feed.url,))

    # -- polling -----------------------------------------------------------------------------
    def record_poll(
        self,
        feed: Feed,
        entries: Sequence[Entry] | None,
        etag: str | None,
        last_modified: str | None,
        kind: str = "",
        title: str = "",
        validators: dict[str, tuple[str | None, str | None]] | None = None,
    ) -> tuple[int, int]:
        """Store a successful poll: new entries and entries the feed says changed become
        pending, with the feed's new validators, in one transaction. ``entries`` is None for
        a 304. Returns (new, changed)."""
        new = changed = 0
        stamp = now_iso()
        with self._tx() as db:
            for position, entry in enumerate(entries or []):
                row = db.execute("SELECT digest, status FROM entries WHERE feed_url = ? AND "
                                 "key = ?", (feed.url, entry.key)).fetchone()
                hints = json.dumps(entry.hints.to_dict(), ensure_ascii=False)
                if row is None:
                    db.execute(
                        "INSERT INTO entries (feed_url, key, url, digest, hints, status, "
                        "position, seen_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                        (feed.url, entry.key, entry.url, entry.digest, hints, position, stamp))
                    new += 1
                elif row[0] != entry.digest:
                    db.execute(
                        "UPDATE entries SET url = ?, digest = ?, hints = ?, status = 'pending', "
                        "changed = CASE WHEN status = 'pending' THEN changed ELSE 1 END, "
                        "attempts = 0, reason = NULL, position = ? "
                        "WHERE feed_url = ? AND key = ?",
                        (entry.url, entry.digest, hints, position, feed.url, entry.key))
                    changed += 1
            for url, (v_etag, v_modified) in (validators or {}).items():
                db.execute("INSERT OR REPLACE INTO validators VALUES (?, ?, ?)",
                           (url, v_etag, v_modified))
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_update = ?, "
                "last_success = ?, last_error = NULL, kind = CASE WHEN ? = '' THEN kind ELSE ? "
                "END, title = CASE WHEN ? = '' THEN title ELSE ? END WHERE url = ?",
                (etag, last_modified, stamp, stamp, kind, kind, title, title, feed.url))
        return new, changed

    def record_failure(self, feed: Feed, reason: str) -> None:
        """A failed poll: the error is kept, validators and entries stay as they were."""
        with self._tx() as db:
            db.execute("UPDATE feeds SET last_update = ?, last_error = ? WHERE url = ?",
                       (now_iso(), reason, feed.url))

    def validators(self, url: str) -> tuple[str | None, str | None]:
        rows = self._rows("SELECT etag, last_modified FROM validators WHERE url = ?", (url,))
        return (rows[0]["etag"], rows[0]["last_modified"]) if rows else (None, None)

    # -- entries -----------------------------------------------------------------------------
    def pending(self, feed: Feed) -> list[PendingEntry]:
        rows = self._rows(
            "SELECT key, url, hints, changed, attempts FROM entries WHERE feed_url = ? AND "
            "status = 'pending' ORDER BY position, seen_at", (feed.url,))
        return [PendingEntry(feed.url, r["key"], r["url"],
                             EntryHints.from_dict(json.loads(r["hints"])), bool(r["changed"]),
                             r["attempts"]) for r in rows]

    def page(self, url: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM pages WHERE url = ?", (url,))
        return rows[0] if rows else None

    def finish_entries(
        self,
        feed: Feed,
        done: Sequence[tuple[PendingEntry, str, str | None, str | None]],
        failed: Sequence[tuple[PendingEntry, str, bool]],
        max_attempts: int,
        items_added: int,
    ) -> None:
        """After the feed's articles are written: ``done`` entries (entry, article id, etag,
        last-modified of the page) and ``failed`` ones (entry, reason, transient). A transient
        failure stays pending until it has been tried ``max_attempts`` times."""
        stamp = now_iso()
        with self._tx() as db:
            for entry, article_id, etag, modified in done:
                db.execute("UPDATE entries SET status = 'done', changed = 0, reason = NULL, "
                           "article_id = ?, done_at = ? WHERE feed_url = ? AND key = ?",
                           (article_id, stamp, entry.feed_url, entry.key))
                db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?)",
                           (entry.url, etag, modified, article_id, stamp))
            for entry, reason, transient in failed:
                attempts = entry.attempts + 1
                status = "pending" if transient and attempts < max_attempts else "rejected"
                db.execute("UPDATE entries SET status = ?, attempts = ?, reason = ?, "
                           "done_at = ? WHERE feed_url = ? AND key = ?",
                           (status, attempts, reason, stamp, entry.feed_url, entry.key))
            db.execute("UPDATE feeds SET items = items + ? WHERE url = ?",
                       (items_added, feed.url))

    def entry_counts(self, feed: Feed) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._rows(
            "SELECT status, COUNT(*) AS n FROM entries WHERE feed_url = ? GROUP BY status",
            (feed.url,))}

    # -- robots.txt (fetch.RobotsCache) ------------------------------------------------------
    def load_robots(self, origin: str, max_age_s: float) -> tuple[int, str] | None:
        rows = self._rows("SELECT status, body, fetched_at FROM robots WHERE origin = ?",
                          (origin,))
        if not rows or time.time() - rows[0]["fetched_at"] > max_age_s:
            return None
        return rows[0]["status"], rows[0]["body"]

    def save_robots(self, origin: str, status: int, text: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO robots VALUES (?, ?, ?, ?)",
                       (origin, status, text, time.time()))

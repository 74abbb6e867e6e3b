"""Chroma, embedded (PersistentClient under data_dir) or a server (HttpClient).

Three collections: ``<name>`` holds the chunks with their vectors; ``<name>-articles`` holds one
record per article (its fingerprint, origins, metadata, story id and MinHash signature, and the
write sequence and version of its last write); ``<name>-deleted`` holds a tombstone (article id
and sequence) per deletion. The chunk collection's metadata holds the embedder's name and
dimension and a ``generation`` token that changes after every write. Together they let every
client of a shared server bring its own keyword index up to date by reading only what changed
(``stores/keyword_sync.py``), and know which articles are copies of one story.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from assistant.documents import Article, Chunk, Passage, day_number
from assistant.errors import StorageError
from assistant.filters import SearchFilters
from assistant.settings import Settings

logging.getLogger("chromadb").setLevel(logging.ERROR)

_OPEN_WAIT_S = 120  # opening takes about a second; longer means the other opener is stuck
_ARTICLES_PER_READ = 500  # article ids in one ``$in`` (SQLite limits a query's variables)


@dataclass
class ArticleRecord:
    """What the store remembers about an article."""

    id: str
    fingerprint: str
    title: str
    source: str
    url: str
    published: date | None
    chunks: int
    origins: list[str] = field(default_factory=list)
    story: str = ""  # story id shared by near-duplicate copies ("" before stories existed)
    minhash: str = ""  # the text's MinHash signature (assistant.stories), so LSH can be rebuilt
    content: str = ""  # hash of title and text: tells a real update from a re-chunking
    added: str = ""  # when the article was first written (UTC, ISO 8601)
    updated: str = ""  # when its content last changed
    published_time: str = ""  # full publication timestamp when known (orders a story's copies)

    @classmethod
    def from_metadata(cls, article_id: str, meta: dict[str, Any]) -> ArticleRecord:
        published = meta.get("published") or None
        return cls(
            id=article_id,
            fingerprint=str(meta.get("fingerprint", "")),
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published=date.fromisoformat(published) if published else None,
            chunks=int(meta.get("chunks", 0)),
            origins=json.loads(meta.get("origins", "[]")),
            story=str(meta.get("story", "")),
            minhash=str(meta.get("minhash", "")),
            content=str(meta.get("content", "")),
            added=str(meta.get("added", "")),
            updated=str(meta.get("updated", "")),
            published_time=str(meta.get("published_time", "")),
        )

    @property
    def story_id(self) -> str:
        return self.story or self.id


def _article_metadata(article: Article, story: str = "") -> dict[str, Any]:
    """Metadata every chunk of the article carries (Chroma values must be scalars)."""
    meta: dict[str, Any] = {
        "article_id": article.id,
        "story": story or article.id,
        "title": article.title,
        "source": article.source,
        "source_key": article.source.lower(),
        "url": article.url,
        "published": article.published.isoformat() if article.published else "",
        "has_date": article.published is not None,
        "authors": json.dumps(article.authors, ensure_ascii=False),
        "extra": json.dumps(article.extra, ensure_ascii=False),
    }
    if article.published is not None:
        meta["day"] = day_number(article.published)
    return meta


def passage_from_metadata(
    chunk_id: str, text: str, meta: dict[str, Any], **scores: float | None
) -> Passage:
    published = meta.get("published") or None
    return Passage(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        url=str(meta.get("url", "")),
        published=date.fromisoformat(published) if published else None,
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        authors=json.loads(meta.get("authors") or "[]"),
        extra=json.loads(meta.get("extra") or "{}"),
        story=str(meta.get("story") or meta.get("article_id", "")),
        **scores,
    )


@dataclass(frozen=True)
class StoreChanges:
    """Articles written or deleted since some write sequence (or all articles, ``complete``)."""

    present: dict[str, str]  # article id -> version, for articles that exist now
    deleted: frozenset[str]  # article ids deleted and not written again since
    seq: int  # the highest write sequence seen (0 when none)
    complete: bool = False  # ``present`` lists every article of the store


def _version(meta: dict[str, Any]) -> str:
    # Records written before versions existed fall back to their fingerprint.
    return str(meta.get("version") or meta.get("fingerprint") or "")


def _now_seq() -> int:
    """A write sequence: microseconds since the epoch (clients of one server share a clock
    closely enough; readers re-read a window before their last sequence to absorb skew)."""
    return time.time_ns() // 1000


@dataclass
class PreparedArticle:
    """An article ready to be written: its chunks and their vectors."""

    article: Article
    fingerprint: str
    chunks: list[Chunk]
    vectors: np.ndarray
    origins: list[str]
    story: str = ""
    minhash: str = ""
    content: str = ""
    added: str = ""
    updated: str = ""


_NOT_ON_DISK_RETRIES = 5


class ChromaStore:
    """Chunks, vectors and article records in Chroma."""

    #: Broad filtered dense queries are answered from an unfiltered query this many times
    #: deeper, filtered here (see ``query_scopes`` and the README's scale figures). 0 or 1: off.
    overfetch: int = 8

    def __init__(self, settings: Settings, embedder_name: str, dim: int | None) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.where = (f"the Chroma server at {settings.store.host}:{settings.store.port}"
                      if settings.store.host else f"the Chroma store in {settings.chroma_dir}")
        with _opening(settings):
            self._open_collections(settings, embedder_name, dim)
        self._check_embedder(embedder_name, dim)

    def _open_collections(self, settings: Settings, embedder_name: str,
                          dim: int | None) -> None:
        self.client = _connect(settings)
        name = settings.store.collection
        try:
            self.chunks = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dim": dim or 0, "generation": "empty"},
            )
            self.articles = self.client.get_or_create_collection(
                f"{name}-articles", embedding_function=None
            )
            self.tombstones = self.client.get_or_create_collection(
                f"{name}-deleted", embedding_function=None
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot use the store"
            raise StorageError(f"cannot open Chroma collection '{name}' in {self.where}: "
                               f"{_short(exc)}") from None

    def _check_embedder(self, embedder_name: str, dim: int | None) -> None:
        name = self.settings.store.collection
        meta = self.chunks.metadata or {}
        built_with, built_dim = meta.get("embedder"), int(meta.get("dim") or 0)
        if (built_with and built_with != embedder_name) or (built_dim and dim and built_dim != dim):
            raise StorageError(
                f"collection '{name}' was built with embedder '{built_with}' ({built_dim or '?'}"
                f"-d vectors), not '{embedder_name}' ({dim or '?'}-d); set the embedder it was "
                "built with, or use another collection (--collection) for this one"
            )
        self.dim = built_dim or dim or 0

    # -- bookkeeping -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn any failure of Chroma into one line that names the store and the fix."""
        try:
            yield
        except StorageError:
            raise
        except Exception as exc:
            if self.settings.store.host:
                fix = (f"check that the server runs ('chroma run --path DIR --host "
                       f"{self.settings.store.host} --port {self.settings.store.port}') and "
                       "re-run: finished articles are kept, the rest resume")
            else:
                fix = f"check free space and permissions of {self.settings.data_dir}"
            raise StorageError(f"{action} failed on {self.where} ({_short(exc)}); {fix}") from None

    @property
    def generation(self) -> str:
        with self._guard("reading the collection"):
            meta = self.client.get_collection(self.settings.store.collection).metadata or {}
        return str(meta.get("generation"))

    def _bump_generation(self) -> None:
        """Called after a write completes: a reader that saw the old token reads it again."""
        meta = dict(self.chunks.metadata or {})
        meta["generation"] = uuid.uuid4().hex
        meta["dim"] = self.dim
        self.chunks.modify(metadata=meta)

    def _metadatas(self, collection: Any, where: dict[str, Any] | None = None,
                   page: int = 2000) -> dict[str, Any]:
        """Ids and metadatas of every matching record: the ids first, then the metadatas a page
        of ids at a time (one ``get`` of everything fails past ~100k records with SQLite's "too
        many SQL variables"; offsets would make each page slower than the last)."""
        ids = collection.get(where=where, include=[])["ids"]
        metadatas: list[Any] = []
        ordered: list[str] = []
        for start in range(0, len(ids), page):
            got = collection.get(ids=ids[start:start + page], include=["metadatas"])
            ordered += got["ids"]
            metadatas += got["metadatas"] or []
        return {"ids": ordered, "metadatas": metadatas}

    def article_records(self) -> dict[str, ArticleRecord]:
        with self._guard("reading the article records"):
            got = self._metadatas(self.articles)
        return {
            article_id: ArticleRecord.from_metadata(article_id, meta or {})
            for article_id, meta in zip(got["ids"], got["metadatas"] or [], strict=False)
        }

    def records(self, article_ids: Sequence[str]) -> dict[str, ArticleRecord]:
        """The records of these articles (those that exist)."""
        if not article_ids:
            return {}
        got = self.articles.get(ids=list(dict.fromkeys(article_ids)), include=["metadatas"])
        return {aid: ArticleRecord.from_metadata(aid, meta or {})
                for aid, meta in zip(got["ids"], got["metadatas"] or [], strict=False)}

    def story_members(self, stories: Sequence[str]) -> dict[str, list[ArticleRecord]]:
        """Every article of these stories, by story id."""
        members: dict[str, list[ArticleRecord]] = {}
        if not stories:
            return members
        got = self.articles.get(where={"story": {"$in": list(dict.fromkeys(stories))}},
                                include=["metadatas"])
        for aid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            record = ArticleRecord.from_metadata(aid, meta or {})
            members.setdefault(record.story_id, []).append(record)
        return members

    def article_chunks(self, article_id: str) -> list[tuple[Passage, np.ndarray]]:
        """One article's chunks with their vectors, in article order."""
        got = self.chunks.get(where={"article_id": article_id},
                              include=["documents", "metadatas", "embeddings"])
        rows = [
            (passage_from_metadata(cid, doc or "", meta or {}), np.asarray(vec, np.float32))
            for cid, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"],
                                           got["embeddings"], strict=False)
        ]
        return sorted(rows, key=lambda row: row[0].start)

    def article_texts(self, article_ids: Sequence[str]) -> dict[str, str]:
        """Articles' texts put back together from their chunks (for records without a
        signature); overlapping chunks are laid at their offsets."""
        pieces: dict[str, list[tuple[int, str]]] = {}
        ids = list(article_ids)
        with self._guard("reading article texts"):
            for start in range(0, len(ids), _ARTICLES_PER_READ):
                got = self.chunks.get(
                    where={"article_id": {"$in": ids[start:start + _ARTICLES_PER_READ]}},
                    include=["documents", "metadatas"])
                for doc, meta in zip(got["documents"], got["metadatas"], strict=False):
                    pieces.setdefault(str(meta["article_id"]), []).append(
                        (int(meta.get("start", 0)), doc or ""))
        texts: dict[str, str] = {}
        for aid, parts in pieces.items():
            out: list[str] = []
            end = 0
            for start, text in sorted(parts):
                if start + len(text) <= end:
                    continue
                out.append(text[end - start:] if start < end else " " + text)
                end = start + len(text)
            texts[aid] = "".join(out).strip()
        return texts

    def count_chunks(self) -> int:
        with self._guard("counting chunks"):
            return self.chunks.count()

    def count_articles(self) -> int:
        with self._guard("counting articles"):
            return self.articles.count()

    def changes_since(self, seq: int | None) -> StoreChanges:
        """Articles written or deleted at or after ``seq``; every article when ``seq`` is None.

        Reads article records and tombstones only (no chunk), and never pages by offset.
        """
        with self._guard("reading changes"):
            where = None if seq is None else {"seq": {"$gte": seq}}
            got = self._metadatas(self.articles, where)
            present = {aid: _version(meta or {})
                       for aid, meta in zip(got["ids"], got["metadatas"] or [], strict=False)}
            top = max((int((m or {}).get("seq", 0)) for m in got["metadatas"] or []), default=0)
            deleted: set[str] = set()
            if seq is not None:
                dead = self._metadatas(self.tombstones, where)
                top = max([top, *(int((m or {}).get("seq", 0)) for m in dead["metadatas"] or [])])
                gone = set(dead["ids"]) - set(present)
                if gone:  # deleted, then written again before the window: still there
                    back: set[str] = set()
                    doomed = sorted(gone)
                    for start in range(0, len(doomed), 2000):
                        got = self.articles.get(ids=doomed[start:start + 2000],
                                                include=["metadatas"])
                        for aid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
                            present[aid] = _version(meta or {})
                            back.add(aid)
                    deleted = gone - back
        return StoreChanges(present, frozenset(deleted), top, complete=seq is None)

    def chunks_of(
        self, article_ids: Sequence[str], batch: int = 100
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """The chunks (id, text, metadata) of these articles, fetched a batch at a time."""
        ids = list(article_ids)
        for start in range(0, len(ids), batch):
            with self._guard("reading chunks"):
                got = self.chunks.get(where={"article_id": {"$in": ids[start:start + batch]}},
                                      include=["documents", "metadatas"])
            yield from zip(got["ids"], got["documents"], got["metadatas"], strict=False)

    # -- writes ------------------------------------------------------------------------------
    def write(self, batch: Sequence[PreparedArticle]) -> None:
        """Replace these articles' chunks (old ones first, so no orphan survives), then their
        records. A crash in between leaves a stale or missing record, never a duplicate: the
        next ingest sees it and writes the article again."""
        if not batch:
            return
        with self._guard(f"writing {len(batch)} articles"):
            self._write(batch)

    def _write(self, batch: Sequence[PreparedArticle]) -> None:
        ids = [item.article.id for item in batch]
        for item in batch:
            if len(item.vectors) and self.dim and item.vectors.shape[1] != self.dim:
                raise StorageError(
                    f"the embedder returned {item.vectors.shape[1]}-d vectors but collection "
                    f"'{self.settings.store.collection}' holds {self.dim}-d ones; set the "
                    "embedder's dimensions to match, or use another collection (--collection)"
                )
            if len(item.vectors) and not self.dim:
                self.dim = int(item.vectors.shape[1])
        self.chunks.delete(where={"article_id": {"$in": ids}})
        chunk_ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        for item in batch:
            shared = _article_metadata(item.article, item.story)
            for chunk, vector in zip(item.chunks, item.vectors, strict=True):
                chunk_ids.append(chunk.id)
                documents.append(chunk.text)
                metadatas.append({**shared, "chunk": chunk.index, "start": chunk.start,
                                  "end": chunk.end})
                vectors.append(vector)
        limit = self.client.get_max_batch_size()
        for start in range(0, len(chunk_ids), limit):
            end = start + limit
            self.chunks.add(
                ids=chunk_ids[start:end],
                documents=documents[start:end],
                metadatas=metadatas[start:end],
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
            )
        seq, version = _now_seq(), uuid.uuid4().hex
        self.articles.upsert(
            ids=ids,
            embeddings=[[1.0]] * len(ids),
            metadatas=[
                {
                    "seq": seq,
                    "version": version,
                    "fingerprint": item.fingerprint,
                    "title": item.article.title,
                    "source": item.article.source,
                    "url": item.article.url,
                    "published": (
                        item.article.published.isoformat() if item.article.published else ""
                    ),
                    "chunks": len(item.chunks),
                    "origins": json.dumps(item.origins, ensure_ascii=False),
                    "story": item.story or item.article.id,
                    "minhash": item.minhash,
                    "content": item.content,
                    "added": item.added,
                    "updated": item.updated,
                    "published_time": str(item.article.extra.get("published_time", "")),
                }
                for item in batch
            ],
        )
        self._bump_generation()

    def set_stories(self, stories: dict[str, tuple[str, str]]) -> None:
        """Give articles written before stories existed a story id and a signature
        (``{article id: (story, minhash)}``), on their records and on their chunks, in
        batches Chroma accepts (a whole archive can need it at once)."""
        if not stories:
            return
        ids = list(stories)
        limit = self.client.get_max_batch_size()
        with self._guard("recording stories"):
            for start in range(0, len(ids), min(limit, _ARTICLES_PER_READ)):
                part = ids[start:start + min(limit, _ARTICLES_PER_READ)]
                self.articles.update(ids=part, metadatas=[
                    {"story": stories[i][0], "minhash": stories[i][1]} for i in part])
                got = self.chunks.get(where={"article_id": {"$in": part}},
                                      include=["metadatas"])
                for first in range(0, len(got["ids"]), limit):
                    self.chunks.update(
                        ids=got["ids"][first:first + limit],
                        metadatas=[{"story": stories[str(meta["article_id"])][0]}
                                   for meta in got["metadatas"][first:first + limit]])
            self._bump_generation()

    def set_origins(self, article_id: str, origins: list[str]) -> None:
        with self._guard("updating an article record"):
            self.articles.update(ids=[article_id],
                                 metadatas=[{"origins": json.dumps(origins, ensure_ascii=False)}])

    def delete(self, article_ids: Sequence[str]) -> None:
        if not article_ids:
            return
        ids = list(article_ids)
        with self._guard(f"deleting {len(ids)} articles"):
            self.chunks.delete(where={"article_id": {"$in": ids}})
            self.articles.delete(ids=ids)
            self.tombstones.upsert(ids=ids, embeddings=[[1.0]] * len(ids),
                                   metadatas=[{"seq": _now_seq()}] * len(ids))
            self._bump_generation()

    # -- reads -------------------------------------------------------------------------------
    def query(self, vector: np.ndarray, n: int, filters: SearchFilters) -> list[Passage]:
        return self.query_scopes(vector, n, [filters], share=lambda _scope: 1.0)[0]

    def query_scopes(
        self,
        vector: np.ndarray,
        n: int,
        scopes: Sequence[SearchFilters],
        share: Callable[[SearchFilters], float] | None = None,
    ) -> list[list[Passage]]:
        """The ``n`` nearest chunks within each scope (the same results as one filtered query
        per scope).

        Chroma evaluates a ``where`` filter over every record it matches, so filtered queries
        slow down as the collection grows. A scope that covers a large ``share`` of the chunks
        (e.g. a big source) is instead served from one unfiltered query ``overfetch`` times
        deeper, filtered here, when at least ``n`` of its results survive; narrow scopes (the
        last two weeks of a long archive) go straight to Chroma's filtered query.
        """
        if self.dim and len(vector) != self.dim:
            raise StorageError(
                f"the embedder made a {len(vector)}-d question vector but collection "
                f"'{self.settings.store.collection}' holds {self.dim}-d vectors; use the embedder "
                "it was built with, or another collection (--collection)"
            )
        if n <= 0:
            return [[] for _ in scopes]
        deep = n * max(self.overfetch, 1)
        # Worth over-fetching when the pool should hold twice the results needed.
        wide = [scope.empty or (self.overfetch > 1 and share is not None
                                and share(scope) * deep >= 2 * n) for scope in scopes]
        with self._guard("searching"):
            for attempt in range(_NOT_ON_DISK_RETRIES + 1):
                try:
                    return self._query_scopes(vector, n, scopes, wide, deep)
                except Exception as exc:
                    # A Chroma server answers "Nothing found on disk" for a collection that has
                    # no vectors yet, or whose first vectors it is still flushing (seen while
                    # another client writes its first batch): empty, or wait a moment.
                    # (Counting before every query would cost more than the query itself.)
                    if "Nothing found on disk" not in str(exc):
                        raise
                    if self.chunks.count() == 0:
                        return [[] for _ in scopes]
                    if attempt == _NOT_ON_DISK_RETRIES:
                        raise
                    time.sleep(0.2 * (attempt + 1))
            raise AssertionError("unreachable")

    def _query_scopes(
        self, vector: np.ndarray, n: int, scopes: Sequence[SearchFilters], wide: list[bool],
        deep: int,
    ) -> list[list[Passage]]:
        pool: list[Passage] | None = None
        asked = 0
        if any(wide):
            filtered_wide = any(w and not scope.empty for w, scope in zip(wide, scopes,
                                                                          strict=True))
            asked = deep if filtered_wide else n
            pool = self._query(vector, asked, None)
        out = []
        for scope, use_pool in zip(scopes, wide, strict=True):
            if pool is not None and use_pool:
                kept = [replace(p) for p in pool if scope.admits(p.source, p.published)][:n]
                # Exact when n survive, or when the pool is the whole collection.
                if len(kept) >= n or len(pool) < asked:
                    out.append(kept)
                    continue
            out.append(self._query(vector, n, scope))
        return out

    def _query(self, vector: np.ndarray, n: int, filters: SearchFilters | None) -> list[Passage]:
        got = self.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=n,
            where=filters.chroma_where() if filters is not None else None,
            include=["documents", "metadatas", "distances"],
        )
        return [
            passage_from_metadata(chunk_id, doc or "", meta or {}, dense=1.0 - float(dist))
            for chunk_id, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0],
                strict=False,
            )
        ]

    def vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not chunk_ids:
            return {}
        with self._guard("reading vectors"):
            got = self.chunks.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32)
                for cid, vec in zip(got["ids"], got["embeddings"], strict=False)}

    def iter_chunks(self, page: int = 2000) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every chunk (id, text, metadata), orphans included: all ids first, then the chunks
        a page of ids at a time (offsets would make each page slower than the last)."""
        with self._guard("listing chunks"):
            ids = self.chunks.get(include=[])["ids"]
        for start in range(0, len(ids), page):
            with self._guard("reading chunks"):
                got = self.chunks.get(ids=ids[start:start + page],
                                      include=["documents", "metadatas"])
            yield from zip(got["ids"], got["documents"], got["metadatas"], strict=False)


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


@contextlib.contextmanager
def _opening(settings: Settings) -> Iterator[None]:
    """One process at a time opens the embedded store: two processes creating it together both
    ran Chroma's schema migrations and one failed ("table collections already exists")."""
    if settings.store.host:
        yield
        return
    lock_path = settings.data_dir / "chroma-open.lock"
    lock = FileLock(str(lock_path), timeout=_OPEN_WAIT_S)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        raise StorageError(f"another process has been opening the Chroma store in "
                           f"{settings.chroma_dir} for {_OPEN_WAIT_S} s ({lock_path}); "
                           "check it is not stuck and try again") from None
    except OSError as exc:
        raise _not_writable(settings, exc) from None
    try:
        yield
    finally:
        lock.release()


def _not_writable(settings: Settings, exc: OSError) -> StorageError:
    return StorageError(
        f"data directory {settings.data_dir} is not writable ({exc.strerror or exc}); "
        "set ASSISTANT_DATA_DIR or --data-dir to a folder you can write"
    )


def _connect(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.store.host:
        where = f"{settings.store.host}:{settings.store.port}"
        try:
            client = chromadb.HttpClient(
                host=settings.store.host, port=settings.store.port, ssl=settings.store.ssl,
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StorageError(
                f"cannot reach the Chroma server at {where} ({_short(exc)}); start it with "
                "'chroma run --path DIR --port PORT' or unset chroma_host to use the embedded store"
            ) from None
        return client
    path = settings.chroma_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A probe of its own: with one fixed name, two processes starting together removed
        # each other's probe and one of them reported the directory as not writable.
        with tempfile.TemporaryFile(dir=path) as probe:
            probe.write(b"ok")
    except OSError as exc:
        raise _not_writable(settings, exc) from None
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StorageError(f"cannot open the Chroma store in {path}: {_short(exc)}") from None

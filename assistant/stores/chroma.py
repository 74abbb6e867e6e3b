"""Chroma, embedded (PersistentClient under data_dir) or a server (HttpClient).

Two collections: ``<name>`` holds the chunks with their vectors; ``<name>-articles`` holds one
record per article (its fingerprint, origins, metadata, story id and MinHash signature), so the
index knows what it contains, and which articles are copies of one story, wherever Chroma
runs. The chunk collection's metadata holds the embedder name and a
``generation`` token that changes with every write (the keyword index rebuilds when it differs).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from assistant.documents import Article, Chunk, Passage, day_number
from assistant.errors import StorageError
from assistant.filters import SearchFilters
from assistant.settings import Settings

logging.getLogger("chromadb").setLevel(logging.ERROR)


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


class ChromaStore:
    """Chunks, vectors and article records in Chroma."""

    def __init__(self, settings: Settings, embedder_name: str, dim: int) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.client = _connect(settings)
        name = settings.collection
        try:
            self.chunks = self.client.get_or_create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedder": embedder_name, "dim": dim, "generation": "empty"},
            )
            self.articles = self.client.get_or_create_collection(
                f"{name}-articles", embedding_function=None
            )
        except Exception as exc:  # chromadb raises many types; all mean "cannot use the store"
            raise StorageError(f"cannot open Chroma collection '{name}': {_short(exc)}") from None
        built_with = (self.chunks.metadata or {}).get("embedder")
        if built_with and built_with != embedder_name:
            raise StorageError(
                f"collection '{name}' was built with embedder '{built_with}', not "
                f"'{embedder_name}'; use another collection or re-create this one"
            )

    # -- bookkeeping -------------------------------------------------------------------------
    @property
    def generation(self) -> str:
        return str(self.client.get_collection(self.settings.collection).metadata.get("generation"))

    def _bump_generation(self) -> None:
        meta = dict(self.chunks.metadata or {})
        meta["generation"] = uuid.uuid4().hex
        self.chunks.modify(metadata=meta)

    def article_records(self) -> dict[str, ArticleRecord]:
        got = self.articles.get(include=["metadatas"])
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
        if not article_ids:
            return {}
        got = self.chunks.get(where={"article_id": {"$in": list(article_ids)}},
                              include=["documents", "metadatas"])
        pieces: dict[str, list[tuple[int, str]]] = {}
        for doc, meta in zip(got["documents"], got["metadatas"], strict=False):
            pieces.setdefault(str(meta["article_id"]), []).append((int(meta.get("start", 0)),
                                                                   doc or ""))
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
        return self.chunks.count()

    def count_articles(self) -> int:
        return self.articles.count()

    # -- writes ------------------------------------------------------------------------------
    def write(self, batch: Sequence[PreparedArticle]) -> None:
        """Replace these articles' chunks (old ones first, so no orphan survives), then their
        records. A crash in between leaves a stale or missing record, never a duplicate: the
        next ingest sees it and writes the article again."""
        if not batch:
            return
        self._bump_generation()
        ids = [item.article.id for item in batch]
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
        self.articles.upsert(
            ids=ids,
            embeddings=[[1.0]] * len(ids),
            metadatas=[
                {
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

    def set_stories(self, stories: dict[str, tuple[str, str]]) -> None:
        """Give articles written before stories existed a story id and a signature
        (``{article id: (story, minhash)}``), on their records and on their chunks."""
        if not stories:
            return
        self._bump_generation()
        ids = list(stories)
        self.articles.update(ids=ids, metadatas=[
            {"story": stories[i][0], "minhash": stories[i][1]} for i in ids])
        got = self.chunks.get(where={"article_id": {"$in": ids}}, include=["metadatas"])
        if got["ids"]:
            self.chunks.update(ids=got["ids"], metadatas=[
                {"story": stories[str(meta["article_id"])][0]} for meta in got["metadatas"]])

    def set_origins(self, article_id: str, origins: list[str]) -> None:
        self.articles.update(ids=[article_id],
                             metadatas=[{"origins": json.dumps(origins, ensure_ascii=False)}])

    def delete(self, article_ids: Sequence[str]) -> None:
        if not article_ids:
            return
        self._bump_generation()
        self.chunks.delete(where={"article_id": {"$in": list(article_ids)}})
        self.articles.delete(ids=list(article_ids))

    # -- reads -------------------------------------------------------------------------------
    def query(self, vector: np.ndarray, n: int, filters: SearchFilters) -> list[Passage]:
        count = self.chunks.count()
        if count == 0:
            return []
        got = self.chunks.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, count),
            where=filters.chroma_where(),
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
        got = self.chunks.get(ids=list(chunk_ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32)
                for cid, vec in zip(got["ids"], got["embeddings"], strict=False)}

    def iter_chunks(self, page: int = 2000) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every chunk: id, text and metadata (for building the keyword index)."""
        offset = 0
        while True:
            got = self.chunks.get(include=["documents", "metadatas"], limit=page, offset=offset)
            if not got["ids"]:
                return
            yield from zip(got["ids"], got["documents"], got["metadatas"], strict=False)
            offset += len(got["ids"])


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _connect(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
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
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StorageError(
            f"data directory {settings.data_dir} is not writable ({exc.strerror or exc}); "
            "set ASSISTANT_DATA_DIR or --data-dir to a folder you can write"
        ) from None
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StorageError(f"cannot open the Chroma store in {path}: {_short(exc)}") from None

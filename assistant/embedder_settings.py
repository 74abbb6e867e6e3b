"""The ``[embedder]`` settings section: which embedder makes the vectors, and how to reach it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

EmbedderName = Literal["minilm", "openai"]


class EmbedderSettings(BaseModel):
    """Embedder choice and remote-embedder options (``[embedder]`` in the config file,
    ``ASSISTANT_EMBEDDER__<FIELD>`` in the environment)."""

    model_config = ConfigDict(extra="forbid")

    name: EmbedderName = Field(
        "minilm",
        description="'minilm': the packaged int8 all-MiniLM-L6-v2, in process, offline; "
        "'openai': any OpenAI-compatible /v1/embeddings server (OpenAI, vLLM, TEI, infinity, "
        "Ollama, llama.cpp's server)",
    )
    base_url: str | None = Field(
        None, description="the server's API root, e.g. http://127.0.0.1:8080/v1 (None: OpenAI)"
    )
    model: str = Field(
        "text-embedding-3-small", description="model name, exactly as the server serves it"
    )
    api_key: SecretStr | None = Field(
        None, description="API key (None: $OPENAI_API_KEY, or none for local servers)"
    )
    batch_size: int = Field(
        32, ge=1, le=2048, description="texts per request (32 is accepted by every common server)"
    )
    concurrency: int = Field(
        4, ge=1, le=64, description="embedding requests in flight at once during ingest"
    )
    dimensions: int | None = Field(
        None, ge=1, le=65536,
        description="ask for vectors of this size (models with Matryoshka dimensions); the "
        "server's answer is checked against it",
    )
    query_prefix: str = Field(
        "", description="prepended to questions, e.g. 'query: ' (e5) or 'search_query: ' (nomic)"
    )
    document_prefix: str = Field(
        "", description="prepended to passages, e.g. 'passage: ' (e5), 'search_document: '"
    )
    request_timeout: float = Field(60.0, gt=0, le=3600, description="seconds per request")
    max_retries: int = Field(
        3, ge=0, le=10, description="retries with backoff on timeouts, 429 and 5xx"
    )

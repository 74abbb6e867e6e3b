"""The ``openai`` embedder: against llama.cpp's real server on loopback (``/v1/embeddings`` from
the packaged GGUF) and the wire-format fixture server (concurrency, batch limits, errors)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import make_settings, write_small_corpus
from llama_server import free_port, llama_server
from openai_server import Behaviour, OpenAIFixtureServer

from assistant.embedders import load_embedder
from assistant.embedders.openai_compat import OpenAIEmbedder
from assistant.errors import EmbedderError, StorageError
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.settings import EmbedderSettings

TEXTS = [
    "US troops will stay in Iraq, the Pentagon said.",
    "Eliud Kipchoge broke the marathon world record in Berlin.",
    "The central bank raised interest rates to fight inflation.",
    "A heatwave closed railways across Europe.",
    "British soldiers handed the Basra palace to Iraqi forces.",
]


@pytest.fixture(scope="module")
def embedding_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    log = tmp_path_factory.mktemp("llama-embed") / "server.log"
    with llama_server(log, threads=1, n_ctx=512, embeddings=True) as served:
        yield served


def _section(url: str, model: str, **fields: object) -> EmbedderSettings:
    return EmbedderSettings(name="openai", base_url=url, model=model, **fields)


@pytest.mark.server
def test_real_server_vectors_are_normalised_ordered_and_batched(
    embedding_server: tuple[str, str],
) -> None:
    url, model = embedding_server
    embedder = OpenAIEmbedder(_section(url, model, batch_size=2, concurrency=3))
    assert embedder.dim is None and embedder.name == f"openai:{model}"
    vectors = embedder.embed(TEXTS)  # three requests, sent concurrently
    assert vectors.shape == (5, embedder.dim) and embedder.dim > 100
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Each row belongs to its own text, whatever order the concurrent requests finished in.
    one_by_one = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert np.all(np.sum(vectors * one_by_one, axis=1) > 0.999)
    assert len({round(float(v[0]), 6) for v in vectors}) == 5


@pytest.mark.server
def test_prefixes_are_sent_for_queries_and_passages(embedding_server: tuple[str, str]) -> None:
    url, model = embedding_server
    prefixed = OpenAIEmbedder(_section(url, model, query_prefix="query: ",
                                       document_prefix="passage: "))
    plain = OpenAIEmbedder(_section(url, model))
    question = "Who broke the marathon record?"
    assert float(prefixed.embed_query(question) @ plain.embed([f"query: {question}"])[0]) > 0.999
    assert float(prefixed.embed([TEXTS[1]])[0] @ plain.embed([f"passage: {TEXTS[1]}"])[0]) > 0.999
    assert float(prefixed.embed_query(question) @ plain.embed_query(question)) < 0.999


@pytest.mark.slow
@pytest.mark.server
def test_ingest_and_search_with_the_remote_embedder(
    tmp_path: Path, embedding_server: tuple[str, str]
) -> None:
    url, model = embedding_server
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path, embedder=_section(url, model, batch_size=4))
    index = NewsIndex(settings)
    report = index.ingest([corpus])
    assert len(report.added) == 5 and not report.rejected
    meta = index.store.chunks.metadata
    assert meta["embedder"] == f"openai:{model}" and meta["dim"] == index.embedder.dim
    results = index.search("Kipchoge marathon record Berlin", k=3)
    assert results[0].title == "Marathon record falls in Berlin"
    assert all(p.dense is not None for p in results)
    assert index.search("interest rates", k=3, filters=SearchFilters.make("cnn.com"))[0].source \
        == "cnn.com"
    # The collection remembers its embedder: the packaged one is refused, in one line.
    with pytest.raises(StorageError) as refused:
        NewsIndex(settings.updated(embedder={"name": "minilm"}))
    assert "\n" not in str(refused.value) and f"openai:{model}" in str(refused.value)


@pytest.mark.server
def test_wrong_dimension_from_the_server_is_one_line(embedding_server: tuple[str, str]) -> None:
    url, model = embedding_server
    embedder = OpenAIEmbedder(_section(url, model, dimensions=384))
    assert embedder.name == f"openai:{model}@384"
    with pytest.raises(EmbedderError) as wrong:
        embedder.embed(TEXTS[:2])
    message = str(wrong.value)
    assert "\n" not in message and url in message and "384" in message
    assert "dimensions" in message


def test_requests_are_concurrent_but_bounded_and_in_float() -> None:
    with OpenAIFixtureServer(Behaviour(embed_delay=0.2, embedding_dim=16)) as server:
        embedder = OpenAIEmbedder(_section(server.url, "fixture-model", batch_size=4,
                                           concurrency=3))
        vectors = embedder.embed([f"text {i}" for i in range(40)])  # ten requests
        assert vectors.shape == (40, 16)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert server.embed_max_in_flight == 3
        bodies = [r.body for r in server.requests if r.path.endswith("/embeddings")]
        assert len(bodies) == 10 and all(len(b["input"]) <= 4 for b in bodies)
        assert all(b["encoding_format"] == "float" and b["model"] == "fixture-model"
                   for b in bodies)
        assert all("dimensions" not in b for b in bodies)


def test_ingest_hands_the_embedder_enough_to_fill_its_requests(tmp_path: Path) -> None:
    from assistant.ingest import Ingestor

    with OpenAIFixtureServer(Behaviour(embedding_dim=16)) as server:
        settings = make_settings(tmp_path, embedder=_section(server.url, "fixture-model",
                                                             batch_size=64, concurrency=8))
        embedder = load_embedder(settings)
        assert isinstance(embedder, OpenAIEmbedder)
        assert load_embedder(settings) is embedder  # loaded once per configuration
        index = NewsIndex(settings)
        assert Ingestor(settings, index.store, embedder).batch_chunks == 512


def test_unknown_model_and_server_down_are_one_line(tmp_path: Path) -> None:
    behaviour = Behaviour(unknown_model_404=True, models=("nomic-embed-text",))
    with OpenAIFixtureServer(behaviour) as server:
        with pytest.raises(EmbedderError) as unknown:
            OpenAIEmbedder(_section(server.url, "no-such-model", max_retries=0)).embed(["x"])
        message = str(unknown.value)
        assert "\n" not in message and "no-such-model" in message and server.url in message
        assert "[embedder] model" in message
        server.behaviour = Behaviour(max_inputs=32)
        with pytest.raises(EmbedderError) as too_many:
            OpenAIEmbedder(_section(server.url, "m", batch_size=64, max_retries=0)).embed(
                ["x"] * 64)
        assert "batch_size" in str(too_many.value)
    down = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(EmbedderError) as unreachable:
        OpenAIEmbedder(_section(down, "m", max_retries=0, request_timeout=5)).embed(["x"])
    message = str(unreachable.value)
    assert "\n" not in message and down in message and "base_url" in message


def test_cli_reports_an_unreachable_embedding_server_in_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    down = f"http://127.0.0.1:{free_port()}/v1"
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(tmp_path / "data"), "NO_COLOR": "1",
           "ASSISTANT_EMBEDDER__NAME": "openai", "ASSISTANT_EMBEDDER__BASE_URL": down,
           "ASSISTANT_EMBEDDER__MAX_RETRIES": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "ingest", str(write_small_corpus(
            tmp_path / "corpus"))], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and down in errors[0], result.stderr  # (above it: the progress bar)


def test_embedder_section_from_a_config_file(tmp_path: Path) -> None:
    from assistant.settings import load_settings

    config = tmp_path / "assistant.toml"
    config.write_text('[embedder]\nname = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
                      'model = "bge-small"\nbatch_size = 16\ndimensions = 256\n'
                      'query_prefix = "query: "\n', encoding="utf-8")
    section = load_settings(config).embedder
    assert (section.name, section.model, section.batch_size, section.dimensions) == (
        "openai", "bge-small", 16, 256)
    assert section.concurrency == 4 and section.document_prefix == ""
    from assistant.errors import ConfigError

    config.write_text('[embedder]\nname = "openai"\nbatchsize = 16\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"embedder\.batchsize"):
        load_settings(config)

"""One typed settings object in nested sections: defaults < TOML file < environment < flags.

Sections: ``store``, ``ingest``, ``embedder``, ``retrieval``, ``answer``, ``local``, ``openai``,
``feeds``, ``evals``, ``developing``; e.g. ``settings.retrieval.top_k``. The same value can be
given

- in the TOML file as ``[retrieval]`` ``top_k = 5`` (or, flat, ``top_k = 5`` at the top level);
- in the environment as ``ASSISTANT_RETRIEVAL__TOP_K=5`` or, flat, ``ASSISTANT_TOP_K=5``;
- in code as ``load_settings(retrieval={"top_k": 5})`` or, flat, ``load_settings(top_k=5)``.

Flat names are the settings' historical names (``llm_threads``, ``openai_base_url``...), listed
in the README's table; every one keeps working. An empty environment variable counts as unset.
The generic ``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` are read last, below the project's own
``ASSISTANT_*`` variables and the config file, so they never redirect a configured endpoint.

The config file is, in order: ``config_file`` (the CLI's ``--config``), ``$ASSISTANT_CONFIG``,
``./assistant.toml``, then ``<user config dir>/news-assistant/config.toml``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from assistant.errors import ConfigError
from assistant.registry import BACKENDS, EMBEDDERS, RUNTIMES

APP_NAME = "news-assistant"
PACKAGE_DIR = Path(__file__).resolve().parent
ENV_PREFIX = "ASSISTANT_"


def packaged_path(name: str) -> Path:
    """A data folder shipped with the project: inside the wheel, or beside the source tree."""
    inside = PACKAGE_DIR / f"_{name}"
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


def _flat(name: str) -> dict[str, Any]:
    """Marks a section field's flat name (its historical top-level setting name)."""
    return {"flat": name}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, validate_assignment=True)


class StoreSettings(Section):
    """Where chunks and vectors live: embedded Chroma under data_dir, or a Chroma server."""

    collection: str = Field(
        "news", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$",
        description="Chroma collection name", json_schema_extra=_flat("collection"))
    host: str | None = Field(
        None, description="Chroma server host; unset = the embedded store under data_dir",
        json_schema_extra=_flat("chroma_host"))
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port",
                      json_schema_extra=_flat("chroma_port"))
    ssl: bool = Field(False, description="use https for the Chroma server",
                      json_schema_extra=_flat("chroma_ssl"))


class IngestSettings(Section):
    """How files become chunks."""

    chunk_size: int = Field(200, ge=32, le=4096, description="tokens per chunk",
                            json_schema_extra=_flat("chunk_size"))
    chunk_overlap: int = Field(30, ge=0, le=1024, description="tokens shared by neighbours",
                               json_schema_extra=_flat("chunk_overlap"))
    fallback_encoding: str | None = Field(
        None, description="decode non-UTF-8 text files with this codec instead of rejecting them",
        json_schema_extra=_flat("fallback_encoding"))
    max_article_chars: int = Field(
        2_000_000, ge=1000,
        description="longer articles are rejected with their size (one bad file must not "
                    "stall a run)", json_schema_extra=_flat("max_article_chars"))

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: Any) -> int:
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return value


class EmbedderSettings(Section):
    """The text embedder (vectors of different embedders never share a collection): the
    packaged MiniLM in process, or any OpenAI-compatible ``/v1/embeddings`` server."""

    name: str = Field("minilm", description=f"embedder: {EMBEDDERS.describe()}",
                      json_schema_extra=_flat("embedder"))
    batch_size: int | None = Field(
        None, ge=1, le=2048, description="texts per batch or request (unset: 16 for minilm, "
        "32 for a server, which every common server accepts)",
        json_schema_extra=_flat("embed_batch_size"))
    threads: int = Field(0, ge=0, le=64, description="minilm: threads (0 = all cores)",
                         json_schema_extra=_flat("embed_threads"))
    base_url: str | None = Field(
        None, description="openai: the server's API root, e.g. http://127.0.0.1:8080/v1 "
        "(unset: api.openai.com)", json_schema_extra=_flat("embed_base_url"))
    model: str = Field("text-embedding-3-small",
                       description="openai: model name, exactly as the server serves it",
                       json_schema_extra=_flat("embed_model"))
    api_key: SecretStr | None = Field(
        None, description="openai: API key (unset: $OPENAI_API_KEY for api.openai.com, none "
        "for other servers); never printed", json_schema_extra=_flat("embed_api_key"))
    concurrency: int = Field(4, ge=1, le=64,
                             description="openai: embedding requests in flight during ingest",
                             json_schema_extra=_flat("embed_concurrency"))
    dimensions: int | None = Field(
        None, ge=1, le=65536, description="openai: ask for vectors of this size (Matryoshka "
        "models); the server's answer is checked", json_schema_extra=_flat("embed_dimensions"))
    query_prefix: str = Field(
        "", description="openai: prepended to questions, e.g. 'query: ' (e5)",
        json_schema_extra=_flat("embed_query_prefix"))
    document_prefix: str = Field(
        "", description="openai: prepended to passages, e.g. 'passage: ' (e5)",
        json_schema_extra=_flat("embed_document_prefix"))
    request_timeout: float = Field(60.0, gt=0, le=3600,
                                   description="openai: seconds per request",
                                   json_schema_extra=_flat("embed_timeout"))
    max_retries: int = Field(3, ge=0, le=10,
                             description="openai: retries with backoff on timeouts, 429, 5xx",
                             json_schema_extra=_flat("embed_max_retries"))

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EMBEDDERS:
            raise ValueError(f"must be one of {', '.join(EMBEDDERS.names)}")
        return value

    @field_validator("base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class RetrievalSettings(Section):
    """Hybrid search: dense + BM25, fused by reciprocal rank."""

    top_k: int = Field(5, ge=1, le=100, description="passages retrieved per question",
                       json_schema_extra=_flat("top_k"))
    candidates: int = Field(40, ge=1, le=1000,
                            description="depth of each retriever before fusion",
                            json_schema_extra=_flat("candidates"))
    rrf_k: int = Field(60, ge=1, le=1000, description="reciprocal-rank-fusion constant",
                       json_schema_extra=_flat("rrf_k"))
    recent_days: int = Field(
        14, ge=0, le=3650,
        description="prefer articles of this many days before the reference date (0 = off)",
        json_schema_extra=_flat("recent_days"))


class AnswerSettings(Section):
    """Writing and checking answers."""

    backend: str = Field("local", description=f"answer backend: {BACKENDS.describe()}",
                         json_schema_extra=_flat("backend"))
    reference_date: date | None = Field(
        None, description="'today' for time words such as 'last week' (unset = today)",
        json_schema_extra=_flat("reference_date"))
    context_tokens: int = Field(320, ge=64, le=8000,
                                description="token budget of the passages in a prompt",
                                json_schema_extra=_flat("context_tokens"))
    max_tokens: int = Field(160, ge=16, le=4096, description="longest answer, in tokens",
                            json_schema_extra=_flat("max_answer_tokens"))
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="sampling temperature",
                               json_schema_extra=_flat("temperature"))
    min_relevance: float = Field(
        0.35, ge=0.0, le=1.0, description="refuse when no passage is this relevant",
        json_schema_extra=_flat("min_relevance"))
    min_support: float = Field(
        0.5, ge=0.0, le=1.0, description="flag a cited sentence supported less than this",
        json_schema_extra=_flat("min_support"))

    @field_validator("backend")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(BACKENDS.names)}")
        return value


class LocalSettings(Section):
    """The packaged local model (llama.cpp in process)."""

    runtime: str = Field(
        "auto", description=f"engine: auto, {', '.join(RUNTIMES.names)} (auto = "
        "llama-cpp-python when installed, the faster; else xllamacpp, prebuilt)",
        json_schema_extra=_flat("llm_runtime"))
    threads: int = Field(2, ge=1, le=64, description="CPU threads of the local model",
                         json_schema_extra=_flat("llm_threads"))
    context: int = Field(2048, ge=512, le=32768, description="context window, in tokens",
                         json_schema_extra=_flat("llm_context"))
    wait_timeout: float = Field(
        60.0, gt=0, le=3600, description="seconds to wait for the model when another call "
        "is using it", json_schema_extra=_flat("local_wait_timeout"))

    @field_validator("runtime")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "auto" and value not in RUNTIMES:
            raise ValueError(f"must be auto or one of {', '.join(RUNTIMES.names)}")
        return value


class OpenAISettings(Section):
    """An OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, llama.cpp server...)."""

    base_url: str | None = Field(
        None, description="endpoint, usually ending in /v1 (unset = api.openai.com; also "
        "OPENAI_BASE_URL, read last)", json_schema_extra=_flat("openai_base_url"))
    model: str = Field("gpt-4o-mini", description="model name the server serves",
                       json_schema_extra=_flat("openai_model"))
    api_key: SecretStr | None = Field(
        None, description="API key (also OPENAI_API_KEY, read last); never printed",
        json_schema_extra=_flat("openai_api_key"))
    timeout: float = Field(60.0, gt=0, le=3600, description="seconds before a call times out",
                           json_schema_extra=_flat("request_timeout"))
    max_retries: int = Field(3, ge=0, le=10,
                             description="retries with backoff on timeouts, 429 and 5xx",
                             json_schema_extra=_flat("max_retries"))

    @field_validator("base_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class FeedSettings(Section):
    """Following the news: polite fetching of feeds and pages, and grouping copies into stories.

    Set as ``[feeds]`` in the config file or ``ASSISTANT_FEEDS__<NAME>`` in the environment.
    """

    user_agent: str = Field(
        "news-assistant/0.1 (open-source news question answering; feed reader)",
        min_length=1, description="User-Agent sent with every request; names the project",
    )
    per_host: int = Field(2, ge=1, le=8, description="requests at once to one host")
    host_delay: float = Field(
        0.5, ge=0.0, le=60.0,
        description="seconds between the starts of two requests to one host (robots.txt "
        "Crawl-delay raises it, up to 60 s)",
    )
    workers: int = Field(8, ge=1, le=64, description="requests at once across all hosts")
    connect_timeout: float = Field(10.0, gt=0, le=300, description="seconds to connect")
    read_timeout: float = Field(20.0, gt=0, le=600, description="seconds to wait for data")
    total_timeout: float = Field(
        60.0, gt=0, le=3600, description="seconds a whole response may take (slow senders)"
    )
    max_body_bytes: int = Field(
        10_000_000, ge=1024, le=1_000_000_000,
        description="largest response body read; larger ones are rejected while streaming",
    )
    max_redirects: int = Field(5, ge=0, le=20, description="redirects followed per request")
    respect_robots: bool = Field(
        True, description="honour robots.txt (off: for feeds you own; also per feed)"
    )
    max_pages_per_feed: int = Field(
        200, ge=1, le=100_000,
        description="pages fetched per feed and update; the rest wait for the next update",
    )
    max_sitemaps: int = Field(
        20, ge=1, le=1000, description="child sitemaps read from one sitemap index"
    )
    page_attempts: int = Field(
        3, ge=1, le=100,
        description="tries for a page that fails temporarily (timeout, 5xx) before giving up",
    )
    story_threshold: float = Field(
        0.5, ge=0.05, le=1.0,
        description="Jaccard similarity of word shingles above which two articles are copies "
        "of one story",
    )
    story_shingle_words: int = Field(
        4, ge=1, le=12, description="words per shingle for story similarity"
    )
    story_window_days: int = Field(
        7, ge=0, le=3650,
        description="copies of a story are published at most this many days apart",
    )


class EvalSettings(Section):
    """Benchmarks only (``assistant eval``): never read by the answer path."""

    choice_context_tokens: int = Field(
        560, ge=64, le=8000, description="multiple choice: passage budget (one letter is "
        "generated, so there is time to read more)",
        json_schema_extra=_flat("choice_context_tokens"))
    choice_orders: int = Field(
        4, ge=1, le=10, description="multiple choice: option orders scored and averaged "
        "(cancels a small model's letter bias)", json_schema_extra=_flat("choice_orders"))
    # Chosen on RealTimeQA 2026 dev (README: the sweep): the best accuracy, NOTA recall 0.69.
    nota_threshold: float = Field(
        0.4, ge=0.0, le=1.0,
        description="multiple choice with 'None of the above': pick it when the model's "
        "judged support for the best other option is below this")


class DevelopingSettings(Section):
    """Answers that read many articles: timelines, conflicting reports, "as of" dates.

    Set as ``[developing]`` in the config file or ``ASSISTANT_DEVELOPING__<NAME>`` in the
    environment (nested names only).
    """

    timeline_articles: int = Field(
        10, ge=1, le=50, description="at most this many articles feed one timeline")
    timeline_passages: int = Field(
        60, ge=5, le=400,
        description="chunks retrieved for a timeline (wider than top_k: events span articles)")
    events_per_article: int = Field(
        2, ge=1, le=5,
        description="events taken from one article without a model (its lead + dated "
        "sentences)")
    event_tokens: int = Field(
        90, ge=30, le=400,
        description="budget of an article's sentences in one event-extraction prompt")
    max_event_tokens: int = Field(
        40, ge=10, le=200, description="longest event line the model may write, in tokens")
    merge_similarity: float = Field(
        0.75, ge=0.0, le=1.0,
        description="events of the same day at least this similar are one event (several "
        "outlets)")
    conflict_passages: int = Field(
        12, ge=0, le=200,
        description="chunks read for conflicting figures beside the answer's own (0 = off)")
    stale_days: int = Field(
        7, ge=0, le=3650,
        description="warn when a question about the present has no source this recent "
        "(0 = off)")


SECTIONS: dict[str, type[Section]] = {
    "store": StoreSettings,
    "ingest": IngestSettings,
    "embedder": EmbedderSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "local": LocalSettings,
    "openai": OpenAISettings,
    "feeds": FeedSettings,
    "evals": EvalSettings,
    "developing": DevelopingSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    for section, model in SECTIONS.items():
        for field_name, info in model.model_fields.items():
            extra = info.json_schema_extra
            flat = extra.get("flat") if isinstance(extra, dict) else None
            if flat:  # only the historical names; newer settings are nested only
                names[str(flat)] = (section, field_name)
    return names


FLAT_NAMES = _flat_names()  # flat name -> (section, field)
TOP_LEVEL = ("data_dir", "cache_dir", "corpus_dir")
GENERIC_ENV = {"OPENAI_BASE_URL": ("openai", "base_url"), "OPENAI_API_KEY": ("openai", "api_key")}


def nest(values: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Flat names moved into their sections; nested ones kept (a flat name never overrides a
    nested value given in the same place)."""
    out: dict[str, Any] = {}
    flat: list[tuple[str, str, Any]] = []
    for key, value in values.items():
        if key in SECTIONS and isinstance(value, BaseModel):
            value = value.model_dump()
        if key in SECTIONS and isinstance(value, Mapping):
            out.setdefault(key, {}).update(value)
        elif key in FLAT_NAMES and key not in TOP_LEVEL:
            flat.append((*FLAT_NAMES[key], value))
        else:
            out[key] = value
    for section, field_name, value in flat:
        target = out.setdefault(section, {})
        if isinstance(target, dict):
            target.setdefault(field_name, value)
    return out


def _merge(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class Settings(BaseSettings):
    """Every knob of the assistant, in sections. See the README's Configuration table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_ignore_empty=True,
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path(APP_NAME),
                           description="the index, keyword index and chat history")
    cache_dir: Path = Field(default_factory=lambda: platformdirs.user_cache_path(APP_NAME),
                            description="the assembled local model file")
    corpus_dir: Path = Field(default_factory=lambda: packaged_path("corpus"),
                             description="what is indexed on first use")
    config_file: Path | None = Field(None, description="the TOML file these settings read")

    store: StoreSettings = Field(default_factory=StoreSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    local: LocalSettings = Field(default_factory=LocalSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    evals: EvalSettings = Field(default_factory=EvalSettings)
    developing: DevelopingSettings = Field(default_factory=DevelopingSettings)

    @field_validator("data_dir", "cache_dir", "corpus_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def today(self) -> date:
        return self.answer.reference_date or date.today()

    def updated(self, **overrides: Any) -> Settings:
        """A validated copy with ``overrides`` (flat or nested names; None is ignored)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if not given:
            return self
        values = _merge(self.model_dump(exclude={"config_file"}), nest(given))
        try:
            return Settings.model_validate({**values, "config_file": self.config_file})
        except ValidationError as exc:
            raise ConfigError(_describe(exc, None)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        init_kwargs = getattr(init_settings, "init_kwargs", {})
        config = find_config_file(init_kwargs.get("config_file"))
        return (
            _Nested(init_settings),
            _SectionEnv(settings_cls),  # nested names: ASSISTANT_RETRIEVAL__TOP_K
            _FlatEnv(settings_cls, ENV_PREFIX),  # flat names: ASSISTANT_TOP_K
            _ConfigFile(settings_cls, config),
            _FlatEnv(settings_cls, "", GENERIC_ENV),  # OPENAI_BASE_URL / OPENAI_API_KEY
        )


class _SectionEnv(EnvSettingsSource):
    """``ASSISTANT_<SECTION>__<FIELD>`` variables. A section-named variable that is not JSON
    (``ASSISTANT_EMBEDDER=openai``) is a flat name, read by ``_FlatEnv``: not an error here."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                         env_ignore_empty=True)

    def decode_complex_value(self, field_name: str, field: Any, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return {}


class _Nested(PydanticBaseSettingsSource):
    """Another source's values with flat names moved into their sections."""

    def __init__(self, inner: PydanticBaseSettingsSource) -> None:
        super().__init__(inner.settings_cls)
        self.inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return nest(self.inner())


class _FlatEnv(PydanticBaseSettingsSource):
    """Environment variables named after flat settings (``ASSISTANT_TOP_K``), or the given
    generic ones (``OPENAI_API_KEY``). Empty values count as unset."""

    def __init__(self, settings_cls: type[BaseSettings], prefix: str,
                 names: Mapping[str, tuple[str, str]] | None = None) -> None:
        super().__init__(settings_cls)
        flat = {f"{prefix}{name}".upper(): place for name, place in FLAT_NAMES.items()}
        self.variables = dict(names) if names is not None else flat

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def found(self) -> Iterator[tuple[str, str, str, str]]:
        """(variable, section, field, value) of every variable that is set and not empty."""
        environ = {key.upper(): value for key, value in os.environ.items()}
        for variable, (section, field_name) in self.variables.items():
            value = environ.get(variable)
            if value is not None and value.strip():
                yield variable, section, field_name, value

    def __call__(self) -> dict[str, Any]:
        out: dict[str, dict[str, Any]] = {}
        for _, section, field_name, value in self.found():
            out.setdefault(section, {})[field_name] = value
        return out


class _ConfigFile(PydanticBaseSettingsSource):
    """The TOML file, read by pydantic-settings' TOML source; an ``[assistant]`` table or
    top-level keys, sections as tables, flat names allowed."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = TomlConfigSettingsSource(self.settings_cls, toml_file=self.path)()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read config file ({exc})") from None
        except ValueError as exc:  # tomllib's (and tomli's) TOMLDecodeError
            raise ConfigError(f"{self.path}: not valid TOML ({exc}); fix the file") from None
        data = dict(data.get("assistant", data))
        return {**nest(data), "config_file": self.path}


def find_config_file(explicit: Path | str | None = None) -> Path | None:
    """The config file to use, or None. An explicitly named file must exist."""
    from_env = os.environ.get("ASSISTANT_CONFIG", "").strip()
    named = Path(explicit) if explicit else (Path(from_env) if from_env else None)
    if named is not None:
        named = named.expanduser()
        if not named.is_file():
            raise ConfigError(f"{named}: config file not found; check --config / ASSISTANT_CONFIG")
        return named
    user_file = platformdirs.user_config_path(APP_NAME) / "config.toml"
    for candidate in (Path("assistant.toml"), user_file):
        if candidate.is_file():
            return candidate
    return None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from all sources; ``overrides`` (flags, flat or nested) win; None is
    ignored. Every invalid value becomes one ConfigError line naming the setting."""
    values = nest({key: value for key, value in overrides.items() if value is not None})
    if config_file is not None:
        values["config_file"] = config_file
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, find_config_file(config_file))) from None


def _describe(exc: ValidationError, config_file: Path | None) -> str:
    parts = []
    for err in exc.errors()[:3]:
        field = ".".join(str(p) for p in err["loc"]) or "settings"
        given = err.get("input")
        given_text = f" (got {given!r})" if isinstance(given, (str, int, float)) else ""
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown setting '{field}'")
        else:
            parts.append(f"setting '{field}': {err['msg']}{given_text}")
    where = f" in {config_file} or the environment" if config_file else ""
    return "invalid configuration" + where + ": " + "; ".join(parts)


# -- where each value comes from (``assistant config``) --------------------------------------
@dataclass(frozen=True)
class SettingOrigin:
    name: str  # "retrieval.top_k"
    value: Any  # secrets masked
    origin: str  # "default", "flag", "config file F", "environment VAR"


def explain(settings: Settings, flags: Mapping[str, Any] | None = None) -> list[SettingOrigin]:
    """Every leaf setting, its value (secrets masked) and which source set it."""
    given = nest({k: v for k, v in (flags or {}).items() if v is not None})
    nested_env = _SectionEnv(Settings)()
    flat_env = {(s, f): v for v, s, f, _ in _FlatEnv(Settings, ENV_PREFIX).found()}
    generic = {(s, f): v for v, s, f, _ in _FlatEnv(Settings, "", GENERIC_ENV).found()}
    config = _ConfigFile(Settings, settings.config_file)() if settings.config_file else {}
    rows = []
    for name in TOP_LEVEL:
        rows.append(SettingOrigin(name, getattr(settings, name), _origin(
            name in given, f"{ENV_PREFIX}{name.upper()}" if name in nested_env else None,
            name in config, settings.config_file)))
    for section in SECTIONS:
        values = getattr(settings, section)
        for field_name in type(values).model_fields:
            value = getattr(values, field_name)
            if isinstance(value, SecretStr):
                value = _mask(value.get_secret_value())
            env_name = None
            if field_name in nested_env.get(section, {}):
                env_name = f"{ENV_PREFIX}{section}__{field_name}".upper()
            else:
                env_name = flat_env.get((section, field_name)) or generic.get(
                    (section, field_name))
            rows.append(SettingOrigin(f"{section}.{field_name}", value, _origin(
                field_name in given.get(section, {}), env_name,
                field_name in config.get(section, {}), settings.config_file)))
    return rows


def _origin(flag: bool, env: str | None, in_file: bool, config_file: Path | None) -> str:
    if flag:
        return "flag or argument"
    if env:
        return f"environment {env}"
    if in_file:
        return f"config file {config_file}"
    return "default"


def _mask(secret: str) -> str:
    return "" if not secret else ("***" + secret[-4:] if len(secret) > 8 else "***")


def settings_markdown() -> str:
    """The README's settings table, generated from the model (a test keeps them in step)."""
    lines = ["| setting | flat name / environment | default | meaning |", "|---|---|---|---|"]
    for name in TOP_LEVEL:
        info = Settings.model_fields[name]
        lines.append(f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | see below | "
                     f"{info.description} |")
    for section, model in SECTIONS.items():
        for field_name, info in model.model_fields.items():
            extra = info.json_schema_extra
            flat = extra.get("flat") if isinstance(extra, dict) else None
            nested = f"{ENV_PREFIX}{section}__{field_name}".upper()
            names = f"`{flat}` / `{ENV_PREFIX}{str(flat).upper()}`" if flat else f"`{nested}`"
            default = info.get_default(call_default_factory=True)
            shown = "none" if default is None else f"`{default}`"
            lines.append(f"| `{section}.{field_name}` | {names} | {shown} | {info.description} |")
    return "\n".join(lines)

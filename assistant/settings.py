"""One typed settings object: defaults < config file (TOML) < ``ASSISTANT_*`` environment < flags.

The config file is, in order: the ``config_file`` argument (the CLI's ``--config``),
``$ASSISTANT_CONFIG``, ``./assistant.toml``, then ``<user config dir>/news-assistant/config.toml``.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Literal

import platformdirs
import tomllib
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from assistant.errors import ConfigError

APP_NAME = "news-assistant"
PACKAGE_DIR = Path(__file__).resolve().parent

BackendName = Literal["local", "openai", "extractive", "fake"]


def packaged_path(name: str) -> Path:
    """A data folder shipped with the project: inside the wheel, or beside the source tree."""
    inside = PACKAGE_DIR / f"_{name}"
    return inside if inside.is_dir() else PACKAGE_DIR.parent / name


class DevelopingSettings(BaseModel):
    """Answers that read many articles: timelines, conflicting reports, "as of" dates."""

    model_config = ConfigDict(extra="forbid")

    timeline_articles: int = Field(
        10, ge=1, le=50, description="at most this many articles feed one timeline"
    )
    timeline_passages: int = Field(
        60, ge=5, le=400,
        description="chunks retrieved for a timeline (wider than top_k: events span articles)",
    )
    events_per_article: int = Field(
        2, ge=1, le=5,
        description="events taken from one article without a model (its lead + dated sentences)",
    )
    event_tokens: int = Field(
        90, ge=30, le=400,
        description="budget of an article's sentences in one event-extraction prompt",
    )
    max_event_tokens: int = Field(40, ge=10, le=200, description="length of one extracted event")
    merge_similarity: float = Field(
        0.75, ge=0.0, le=1.0,
        description="events of the same day at least this similar are one event (several outlets)",
    )
    conflict_passages: int = Field(
        12, ge=0, le=200,
        description="chunks read for conflicting figures beside the answer's own (0 = off)",
    )
    stale_days: int = Field(
        7, ge=0, le=3650,
        description="warn when a question about the present has no source this recent (0 = off)",
    )


class Settings(BaseSettings):
    """Every knob of the assistant. See the README's Configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        extra="forbid",
        populate_by_name=True,
        validate_default=True,
    )

    # Where things live
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path(APP_NAME))
    cache_dir: Path = Field(default_factory=lambda: platformdirs.user_cache_path(APP_NAME))
    corpus_dir: Path = Field(default_factory=lambda: packaged_path("corpus"))
    collection: str = Field("news", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")

    # Vector store: embedded (default) or a Chroma server when chroma_host is set
    chroma_host: str | None = None
    chroma_port: int = Field(8000, ge=1, le=65535)
    chroma_ssl: bool = False

    # Ingest
    chunk_size: int = Field(200, ge=32, le=4096, description="tokens per chunk")
    chunk_overlap: int = Field(30, ge=0, le=1024, description="tokens shared by neighbours")
    embed_batch_size: int = Field(16, ge=1, le=256)
    embed_threads: int = Field(0, ge=0, le=64, description="0 = all cores")
    fallback_encoding: str | None = Field(
        None, description="decode non-UTF-8 text files with this codec instead of rejecting them"
    )

    # Retrieval
    top_k: int = Field(5, ge=1, le=100)
    candidates: int = Field(40, ge=1, le=1000, description="depth of each retriever before fusion")
    rrf_k: int = Field(60, ge=1, le=1000)
    recent_days: int = Field(
        14, ge=0, le=3650,
        description="prefer articles of this many days before the reference date (0 = off)",
    )

    # Answering
    backend: BackendName = "local"
    reference_date: date | None = Field(None, description="'today' for time words; default today")
    context_tokens: int = Field(320, ge=64, le=8000, description="budget of passages in prompts")
    choice_context_tokens: int = Field(
        560, ge=64, le=8000,
        description="passage budget for multiple choice (one token is generated: room to read)",
    )
    choice_orders: int = Field(
        4, ge=1, le=10,
        description="option orders a scoring model reads per multiple-choice question (averaged)",
    )
    max_answer_tokens: int = Field(160, ge=16, le=4096)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    min_relevance: float = Field(
        0.35, ge=0.0, le=1.0, description="below this question-passage relevance: refuse"
    )
    min_support: float = Field(
        0.5, ge=0.0, le=1.0, description="below this support a cited sentence is flagged"
    )

    # Local model (llama.cpp in-process)
    llm_threads: int = Field(2, ge=1, le=64)
    llm_context: int = Field(2048, ge=512, le=32768)

    # OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp server...)
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "openai_base_url", "ASSISTANT_OPENAI_BASE_URL", "OPENAI_BASE_URL"
        ),
    )
    openai_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices(
            "openai_api_key", "ASSISTANT_OPENAI_API_KEY", "OPENAI_API_KEY"
        ),
    )
    request_timeout: float = Field(60.0, gt=0, le=3600)
    max_retries: int = Field(3, ge=0, le=10)

    # Timelines, conflicting reports and "as of" dates (issue 10)
    developing: DevelopingSettings = Field(default_factory=DevelopingSettings)

    @field_validator("data_dir", "cache_dir", "corpus_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_below_size(cls, value: int, info: Any) -> int:
        size = info.data.get("chunk_size")
        if size is not None and value >= size:
            raise ValueError(f"must be smaller than chunk_size ({size})")
        return value

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def today(self) -> date:
        return self.reference_date or date.today()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls))


_config_file_in_use: Path | None = None


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads the TOML config file chosen by :func:`load_settings`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _config_file_in_use
        if path is None:
            return {}
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from None
        # Allow an optional [assistant] table as well as top-level keys.
        return dict(data.get("assistant", data))


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file to use, or None. An explicitly named file must exist."""
    from_env = os.environ.get("ASSISTANT_CONFIG")
    named = explicit or (Path(from_env) if from_env else None)
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
    """Build settings from all sources; ``overrides`` (e.g. CLI flags) win; None is ignored."""
    global _config_file_in_use
    _config_file_in_use = find_config_file(config_file)
    values = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, _config_file_in_use)) from None
    finally:
        _config_file_in_use = None


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

"""Settings precedence: defaults < config file < environment < flags; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.settings import load_settings


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text("top_k = 7\nchunk_size = 300\nbackend = 'extractive'\n")
    monkeypatch.delenv("ASSISTANT_TOP_K", raising=False)
    assert load_settings().top_k == 5  # default (no config file in cwd)
    settings = load_settings(config)
    assert (settings.top_k, settings.chunk_size, settings.backend) == (7, 300, "extractive")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    assert load_settings(config).top_k == 9  # environment beats the file
    assert load_settings(config, top_k=3).top_k == 3  # flags beat everything
    assert load_settings(config, top_k=None).top_k == 9  # unset flags do not


def test_config_file_from_env_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[assistant]\ncollection = 'other'\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    assert load_settings().collection == "other"
    monkeypatch.delenv("ASSISTANT_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistant.toml").write_text("collection = 'cwd'\n")
    assert load_settings().collection == "cwd"


def test_openai_standard_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-secret-value"
    assert "sk-secret-value" not in repr(settings) and "sk-secret" not in str(settings)
    assert settings.openai_base_url == "http://127.0.0.1:9/v1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"chunk_overlap": 500}, "chunk_overlap"),
        ({"backend": "gpt9"}, "backend"),
        ({"top_k": 0}, "top_k"),
    ],
)
def test_invalid_values_give_one_line(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**overrides)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_bad_config_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("top_k = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(unknown)
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")


def test_feed_settings_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "assistant.toml"
    config.write_text("[feeds]\nhost_delay = 2.5\nrespect_robots = false\n")
    settings = load_settings(config)
    assert settings.feeds.host_delay == 2.5 and settings.feeds.respect_robots is False
    assert settings.feeds.per_host == 2  # defaults kept for the rest of the section
    monkeypatch.setenv("ASSISTANT_FEEDS__PER_HOST", "1")
    merged = load_settings(config).feeds  # environment and file are merged field by field
    assert (merged.per_host, merged.host_delay) == (1, 2.5)
    monkeypatch.setenv("ASSISTANT_FEEDS__PER_HOST", "99")
    with pytest.raises(ConfigError, match=r"feeds\.per_host"):
        load_settings(config)

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
    assert load_settings().retrieval.top_k == 5  # default (no config file in cwd)
    settings = load_settings(config)
    assert (settings.retrieval.top_k, settings.ingest.chunk_size, settings.answer.backend) == (
        7, 300, "extractive")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    assert load_settings(config).retrieval.top_k == 9  # environment beats the file
    assert load_settings(config, top_k=3).retrieval.top_k == 3  # flags beat everything
    assert load_settings(config, top_k=None).retrieval.top_k == 9  # unset flags do not


def test_config_file_from_env_and_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[assistant]\ncollection = 'other'\n")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    assert load_settings().store.collection == "other"
    monkeypatch.delenv("ASSISTANT_CONFIG")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assistant.toml").write_text("collection = 'cwd'\n")
    assert load_settings().store.collection == "cwd"


def test_openai_standard_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    assert settings.openai.api_key is not None
    assert settings.openai.api_key.get_secret_value() == "sk-secret-value"
    assert "sk-secret-value" not in repr(settings) and "sk-secret" not in str(settings)
    assert settings.openai.base_url == "http://127.0.0.1:9/v1"


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


def test_sections_with_nested_and_flat_names(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "a.toml"
    config.write_text("candidates = 13\n[retrieval]\nrecent_days = 3\n[answer]\nbackend = 'fake'\n"
                      "[local]\nthreads = 1\n")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__RRF_K", "11")
    monkeypatch.setenv("ASSISTANT_LLM_CONTEXT", "4096")
    settings = load_settings(config, top_k=4, answer={"temperature": 0.5})
    assert (settings.retrieval.top_k, settings.retrieval.candidates, settings.retrieval.rrf_k,
            settings.retrieval.recent_days) == (4, 13, 11, 3)
    assert (settings.answer.backend, settings.answer.temperature) == ("fake", 0.5)
    assert (settings.local.threads, settings.local.context) == (1, 4096)
    assert settings.config_file == config


def test_project_variables_win_over_generic_ones_and_empty_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://generic.example/v1")
    monkeypatch.setenv("ASSISTANT_OPENAI_BASE_URL", "http://127.0.0.1:8080/v1")
    assert load_settings().openai.base_url == "http://127.0.0.1:8080/v1"
    monkeypatch.setenv("ASSISTANT_OPENAI_BASE_URL", "")
    assert load_settings().openai.base_url == "http://generic.example/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    assert load_settings().openai.base_url is None  # not "": the client's default, shown by config
    monkeypatch.setenv("ASSISTANT_TOP_K", "")
    assert load_settings().retrieval.top_k == 5


def test_a_config_file_beats_the_generic_variables(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "a.toml"
    config.write_text("[openai]\nbase_url = 'http://127.0.0.1:9/v1'\n")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://somewhere.else/v1")
    assert load_settings(config).openai.base_url == "http://127.0.0.1:9/v1"


def test_overrides_on_a_settings_object_are_validated(tmp_path: Path) -> None:
    from assistant.engine import Assistant

    base = load_settings(data_dir=tmp_path / "data")
    with pytest.raises(ConfigError) as alone:
        Assistant(top_k=-3, data_dir=tmp_path / "data")
    with pytest.raises(ConfigError) as together:
        Assistant(base, top_k=-3)
    assert str(alone.value) == str(together.value)
    assert "retrieval.top_k" in str(together.value) and "\n" not in str(together.value)
    assert base.updated(top_k=7, local={"threads": 1}).retrieval.top_k == 7
    assert base.retrieval.top_k == 5  # a copy, not a change


def test_explain_names_the_source_of_every_value_and_masks_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assistant.settings import explain

    config = tmp_path / "a.toml"
    config.write_text("[retrieval]\ncandidates = 13\n")
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-1234")
    settings = load_settings(config, backend="fake")
    rows = {r.name: r for r in explain(settings, {"backend": "fake"})}
    assert rows["retrieval.top_k"].origin == "environment ASSISTANT_TOP_K"
    assert rows["retrieval.candidates"].origin == f"config file {config}"
    assert rows["answer.backend"].origin == "flag or argument"
    assert rows["retrieval.rrf_k"].origin == "default"
    assert rows["openai.api_key"].origin == "environment OPENAI_API_KEY"
    assert rows["openai.api_key"].value == "***1234"
    assert "sk-very-secret" not in repr(list(rows.values()))


def test_config_command_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from conftest import invoke

    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret-1234")
    result = invoke("config", "--json", data_dir=tmp_path / "data",
                    env={"ASSISTANT_BACKEND": "openai", "ASSISTANT_OPENAI_BASE_URL": ""})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["settings"]["answer.backend"] == {"value": "openai",
                                                  "from": "environment ASSISTANT_BACKEND"}
    assert data["settings"]["openai.base_url"]["value"] is None
    assert "sk-very-secret" not in result.stdout
    text = invoke("config", data_dir=tmp_path / "data",
                  env={"ASSISTANT_BACKEND": "openai"}).stdout
    assert "https://api.openai.com/v1" in text  # the endpoint a request would go to


def test_readme_settings_table_is_generated_from_the_model() -> None:
    from conftest import ROOT

    from assistant.settings import settings_markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- settings-table:start -->\n", "\n<!-- settings-table:end -->"
    assert start in readme and end in readme, "README lacks the settings table markers"
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == settings_markdown(), ("README settings table is out of date: paste the "
                                          "output of assistant.settings.settings_markdown()")


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

"""The ``assistant`` command: in process with Typer's CliRunner, and a few runs of the real
entry point in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliResult, invoke, write_small_corpus


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    return invoke(*args, data_dir=data_dir, env={"ASSISTANT_BACKEND": "fake", **(env or {})})


def run_process(data_dir: Path, *args: str,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real console entry point (``python -m assistant.cli.main``)."""
    full_env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_BACKEND": "fake",
                "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", *args],
        capture_output=True, text=True, env=full_env, timeout=300,
    )


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    corpus = write_small_corpus(tmp / "corpus")
    data = tmp / "data"
    result = run(data, "ingest", str(corpus))
    assert result.returncode == 0, result.stderr
    return data, corpus


def test_ingest_prints_summary_and_progress(cli_index: tuple[Path, Path]) -> None:
    data, corpus = cli_index
    result = run(data, "ingest", str(corpus))
    assert result.returncode == 0
    assert "unchanged (skipped)" in result.stdout and "5 articles" in result.stdout
    assert "Ingesting" in result.stderr  # the progress bar goes to stderr


def test_ingest_json_reports_rejections(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    (corpus / "empty.txt").write_text("")
    result = run(tmp_path / "data", "ingest", str(corpus), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert len(report["added"]) == 5 and report["chunks"] > 0
    assert report["rejected"] == [{"path": str(corpus / "empty.txt"), "line": None,
                                   "reason": "empty file"}]


def test_search_json(cli_index: tuple[Path, Path]) -> None:
    data, _ = cli_index
    result = run(data, "search", "how many US troops are in Iraq", "--json", "-k", "3")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert set(hits[0]) >= {"id", "title", "source", "published", "url", "score", "text"}
    assert hits[0]["source"] == "Rudaw" and "2,500" in hits[0]["text"]
    assert hits[0]["published"] == "2021-01-15"


def test_search_filters_from_the_command_line(cli_index: tuple[Path, Path]) -> None:
    data, _ = cli_index
    result = run(data, "search", "record", "--since", "2022-09-01", "--json")
    assert {h["title"] for h in json.loads(result.stdout)} == {"Marathon record falls in Berlin"}
    result = run(data, "search", "news", "--source", "CNN.com", "--json")
    assert {h["source"] for h in json.loads(result.stdout)} == {"cnn.com"}


def test_search_text_output(cli_index: tuple[Path, Path]) -> None:
    data, _ = cli_index
    result = run(data, "search", "Kipchoge marathon")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("1. Marathon record falls in Berlin")


def test_stats_json(cli_index: tuple[Path, Path]) -> None:
    data, _ = cli_index
    stats = json.loads(run(data, "stats", "--json").stdout)
    assert set(stats) >= {"articles", "chunks", "sources", "date_range", "disk_bytes"}
    assert stats["articles"] == 5


def test_remove(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    data = tmp_path / "data"
    run(data, "ingest", str(corpus))
    result = run(data, "remove", "https://example.com/heat")
    assert result.returncode == 0 and "Removed" in result.stdout
    again = run(data, "remove", "https://example.com/heat")
    assert again.returncode == 2 and "no article with id" in again.stderr
    assert json.loads(run(data, "stats", "--json").stdout)["articles"] == 4


def test_first_search_builds_default_corpus(tmp_path: Path) -> None:
    result = run_process(tmp_path / "data", "search", "how many US troops are in Iraq", "--json")
    assert result.returncode == 0, result.stderr
    assert "First run" in result.stderr
    assert json.loads(result.stdout)[0]["title"].startswith("US reduces troop numbers")


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["ingest", "/no/such/folder"], {}, "/no/such/folder: no such file or folder"),
        (["search", "x", "--since", "2020-13-45"], {}, "is not a date"),
        (["stats"], {"ASSISTANT_TOP_K": "zero"}, "top_k"),
        (["search", "x"], {"ASSISTANT_CHROMA_HOST": "127.0.0.1", "ASSISTANT_CHROMA_PORT": "9"},
         "cannot reach the Chroma server at 127.0.0.1:9"),
    ],
)
def test_errors_are_one_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], needle: str
) -> None:
    result = run(tmp_path / "data", *args, env=env)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    result = run_process(blocked / "data", "stats")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "not writable" in result.stderr and "ASSISTANT_DATA_DIR" in result.stderr

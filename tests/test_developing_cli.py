"""``assistant timeline``, ``ask --json`` fields and ``/timeline`` in the chat, run as a user
would (subprocess, fake backend) over the developing-stories corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

CORPUS = ROOT / "evals" / "corpus-developing"


def run(data_dir: Path, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data_dir), "ASSISTANT_BACKEND": "fake",
           "NO_COLOR": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "assistant.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=300, input=stdin)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("developing-cli") / "data"
    result = run(data, "ingest", str(CORPUS))
    assert result.returncode == 0, result.stderr
    return data


def test_timeline_json(data: Path) -> None:
    result = run(data, "timeline", "the Aurora ferry grounding", "--date", "2026-03-20",
                 "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    events = answer["events"]
    assert [e["date"] for e in events] == ["2026-03-15", "2026-03-16", "2026-03-17",
                                           "2026-03-19"]
    assert all(set(e) == {"date", "text", "citations", "dated_by"} for e in events)
    assert len(events[1]["citations"]) == 2  # the wire story and its reprint: one event
    numbers = {c["n"] for c in answer["citations"]}
    assert all(set(e["citations"]) <= numbers for e in events)
    conflicts = {c["what"]: c for c in answer["conflicts"]}
    assert conflicts["passengers on board"]["latest"] == "86"
    value = conflicts["passengers on board"]["values"][0]
    assert set(value) == {"value", "citation", "source", "date", "sentence"}
    assert answer["as_of"] == "2026-03-19" and answer["stale"] is False


def test_timeline_text_and_options(data: Path) -> None:
    result = run(data, "timeline", "the Port of Keld strike", "--date", "2026-03-20",
                 "--articles", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Timeline of the Port of Keld strike (")
    assert "from 3 articles" in out and "As of " in out and "Sources" in out
    result = run(data, "timeline", "  ")
    assert result.returncode == 2 and result.stderr.startswith("error: empty topic")


def test_ask_json_has_the_new_fields(data: Path) -> None:
    result = run(data, "ask", "How many passengers were on board the Aurora when it ran "
                 "aground?", "--date", "2026-03-20", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"events", "conflicts", "as_of", "stale"} <= set(answer)
    assert answer["events"] == [] and answer["stale"] is False
    (conflict,) = answer["conflicts"]
    assert conflict["latest"] == "86"
    assert [v["value"] for v in conflict["values"]][-1] == "120"
    assert answer["as_of"] == max(c["published"] for c in answer["citations"])

    result = run(data, "ask", "How many passengers were on board the Aurora when it ran "
                 "aground?", "--date", "2026-03-20")
    assert result.returncode == 0, result.stderr
    assert "Reports differ: passengers on board" in result.stdout  # the table's title
    assert "latest" in result.stdout and "As of 16 March 2026" in result.stdout


def test_chat_timeline_command(data: Path) -> None:
    result = run(data, "chat", "--date", "2026-03-20",
                 stdin="/timeline the Aurora ferry\n/timeline\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Timeline of the Aurora ferry (" in result.stdout
    assert "15 March 2026" in result.stdout and "19 March 2026" in result.stdout
    assert "/timeline needs a topic" in result.stderr

"""``assistant timeline``, ``ask --json`` fields and ``/timeline`` in the chat, over the
developing-stories corpus with the fake backend: commands in process, the chat as a user runs
it (a subprocess reading its input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, CliResult, invoke

CORPUS = ROOT / "evals" / "corpus-developing"
AURORA_WIRE = "https://example.com/wire/2026/03/16/aurora-passengers"
AURORA_REPRINT = "https://example.com/northern/2026/03/16/aurora-passengers"


def run(data_dir: Path, *args: str) -> CliResult:
    return invoke(*args, data_dir=data_dir, env={"ASSISTANT_BACKEND": "fake"})


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
    citations = {c["n"]: c for c in answer["citations"]}
    assert all(set(e["citations"]) <= set(citations) for e in events)
    # The wire story and its reprint: one event, one citation naming the other outlet.
    (n,) = events[1]["citations"]
    wire = citations[n]
    assert {wire["url"]} | {c["url"] for c in wire["also_reported_by"]} == {
        AURORA_WIRE, AURORA_REPRINT}
    assert wire["outlets"] == 2
    conflicts = {c["what"]: c for c in answer["conflicts"]}
    assert conflicts["passengers on board"]["latest"] == "86"
    value = conflicts["passengers on board"]["values"][0]
    assert set(value) == {"value", "citation", "source", "date", "sentence"}
    assert value["citation"] in citations
    assert answer["as_of"] == "2026-03-19" and answer["stale"] is False
    assert answer["filters"]["since"] is None  # no time words: nothing but the story


def test_timeline_text_and_options(data: Path) -> None:
    result = run(data, "timeline", "the Port of Keld strike", "--date", "2026-03-20",
                 "--articles", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Timeline of the Port of Keld strike (")
    assert "from 3 articles" in out and "As of " in out and "Sources" in out
    result = run(data, "timeline", "the Port of Keld strike", "--since", "2026-03-05",
                 "--date", "2026-03-20", "--json")
    assert result.returncode == 0, result.stderr
    days = [e["date"] for e in json.loads(result.stdout)["events"]]
    assert days and min(days) >= "2026-03-05"
    result = run(data, "timeline", "  ")
    assert result.returncode == 2 and result.stderr.startswith("error: empty topic")
    result = run(data, "timeline", "the strike", "--since", "March")
    assert result.returncode == 2 and "--since 'March' is not a date" in result.stderr


def test_ask_json_has_the_new_fields(data: Path) -> None:
    question = "How many passengers were on board the Aurora when it ran aground?"
    result = run(data, "ask", question, "--date", "2026-03-20", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"events", "conflicts", "as_of", "stale"} <= set(answer)
    assert answer["events"] == [] and answer["stale"] is False
    (conflict,) = answer["conflicts"]
    assert conflict["latest"] == "86"
    assert [v["value"] for v in conflict["values"]][-1] == "120"
    assert answer["as_of"] == max(c["published"] for c in answer["citations"])

    result = run(data, "ask", question, "--date", "2026-03-20")
    assert result.returncode == 0, result.stderr
    assert "Reports differ: passengers on board" in result.stdout  # the table's title
    assert "latest" in result.stdout and "As of 16 March 2026" in result.stdout
    # The notes are drawn as a table and a dim line, not repeated as text paragraphs.
    assert "Reports differ on the" not in result.stdout


def test_ask_json_stale(data: Path) -> None:
    result = run(data, "ask", "What is the latest on the Port of Keld strike?", "--date",
                 "2026-04-20", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["stale"] is True and answer["as_of"] <= "2026-03-09"
    result = run(data, "ask", "What is the latest on the Port of Keld strike?", "--date",
                 "2026-04-20")
    assert "⚠ The newest article I have on this is from 9 March 2026" in result.stdout


def test_chat_timeline_command(data: Path) -> None:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_BACKEND": "fake",
           "NO_COLOR": "1", "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli.main", "chat", "--date", "2026-03-20"],
        capture_output=True, text=True, env=env, timeout=300,
        input="/timeline the Aurora ferry\n/timeline\n/quit\n")
    assert result.returncode == 0, result.stderr
    assert "Timeline of the Aurora ferry (" in result.stdout
    assert "15 March 2026" in result.stdout and "19 March 2026" in result.stdout
    assert "Reports differ: passengers on board" in result.stdout
    assert "/timeline needs a topic" in result.stderr

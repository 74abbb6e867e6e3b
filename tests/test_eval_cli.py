"""``assistant eval`` on suites: the real command as CI runs it, and the runner in process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT, CliResult, invoke, make_settings

from assistant.evals.runner import collection_name, run_suite
from assistant.evals.scoring import SUITE_METRICS
from assistant.evals.suite import load_suite
from assistant.index import NewsIndex

SEED = ROOT / "evals" / "seed.yaml"
TITLE = "US reduces troop numbers in Iraq to 2,500: Pentagon"
# pytest runs one test at a time: the model may use both cores (CI and the README's command).
THREADS = int(os.environ.get("ASSISTANT_LLM_THREADS", "2"))


def run(data_dir: Path, *args: str) -> CliResult:
    return invoke("eval", *args, data_dir=data_dir, env={"ASSISTANT_BACKEND": None})


@pytest.mark.slow
def test_seed_suite_passes_with_the_extractive_backend(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = run(tmp_path / "data", "--backend", "extractive", "--json", "--report", str(report))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert set(data) == {"passed", "backend", "judge", "metrics", "thresholds", "failures",
                         "suites"}
    assert data["passed"] is True and data["backend"] == "extractive"
    assert set(data["metrics"]) == set(SUITE_METRICS)
    assert data["metrics"]["hit@1"] == 1.0 and data["metrics"]["answer_accuracy"] >= 0.9
    assert {c["metric"] for c in data["thresholds"]} >= {"answer_accuracy", "refusal_accuracy",
                                                           "false_refusal_rate", "hit@1"}
    assert all(c["passed"] for c in data["thresholds"])
    check = data["thresholds"][0]
    assert set(check) == {"suite", "metric", "value", "op", "threshold", "passed"}
    by_name = {s["suite"]: s for s in data["suites"]}
    seed, news, developing = by_name["seed"], by_name["news"], by_name["developing"]
    assert seed["suite"] == "seed" and seed["collection"] == "eval-seed"
    assert seed["cases"] == len(seed["results"]) >= 25
    # The cross-article suite: the right article first among ten look-alikes.
    assert news["suite"] == "news" and news["passed"] and news["metrics"]["hit@1"] >= 0.9
    for failure in data["failures"]:
        assert set(failure) >= {"suite", "id", "question", "expected", "answer", "why"}
        assert failure["why"] and failure["passed"] is False
    # The developing-stories suite: timelines, conflicts, as-of dates (evals/developing.yaml).
    assert developing["passed"] and developing["metrics"]["invented_conflicts"] == 0.0
    assert developing["metrics"]["event_order_accuracy"] >= 0.9
    markdown = report.read_text(encoding="utf-8")
    assert "## Suite `seed`: passed" in markdown and "## Suite `news`: passed" in markdown
    assert "| answer_accuracy |" in markdown
    assert "seed" in result.stderr  # the progress bar is on stderr


def test_seed_suite_passes_with_the_fake_backend(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, backend="fake")
    result = run_suite(load_suite(SEED), settings)
    assert result.passed, [(c.metric, c.value) for c in result.checks if not c.passed]
    by_id = {o.case.id: o for o in result.outcomes}
    # Follow-ups are asked after their history, which the backend uses to rewrite them.
    follow_up = by_id["followup-afghanistan"].observed
    assert follow_up.standalone_question.startswith("How many US troops are in Iraq now?")
    assert by_id["followup-afghanistan"].passed
    # The suite has its own collection; the user's default one stays empty.
    assert result.collection == "eval-seed"
    assert NewsIndex(settings).store.count_chunks() == 0


def test_news_suite_passes_with_the_fake_backend(tmp_path: Path) -> None:
    result = run_suite(load_suite(ROOT / "evals" / "news.yaml"), make_settings(tmp_path,
                                                                              backend="fake"))
    assert result.passed, [(c.metric, c.value) for c in result.checks if not c.passed]
    by_id = {o.case.id: o for o in result.outcomes}
    # Time words and filters pick the one article of the right day / source.
    assert by_id["yesterday"].rank == 1 and by_id["source-filter"].rank == 1
    assert by_id["nothing-that-recent"].observed.refused


def broken_suite(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(
        f"corpus: {ROOT / 'corpus'}\nreference_date: 2021-01-16\n"
        "thresholds: {hit@1: 0.9, answer_accuracy: 0.5, false_refusal_rate: 0.0}\n"
        "cases:\n"
        "  - id: wrong-article\n    question: How many US troops remain in Iraq?\n"
        "    answers: ['2,500']\n    articles: [https://example.com/not-in-the-corpus]\n"
        "  - id: wrong-number\n    question: How many US troops remain in Iraq?\n"
        "    answers: ['25,000']\n",
        encoding="utf-8",
    )
    return path


def test_unmet_thresholds_exit_1_with_the_reasons(tmp_path: Path) -> None:
    suite = broken_suite(tmp_path)
    result = run(tmp_path / "data", str(suite), "--backend", "extractive")
    assert result.returncode == 1, result.stderr
    assert "FAILED broken: hit@1 0.000 (needs >= 0.900)" in result.stdout
    assert "wrong-article" in result.stdout and "expected article not retrieved" in result.stdout
    assert "answer contains none of: 25,000" in result.stdout

    result = run(tmp_path / "data", str(suite), "--backend", "extractive", "--json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    verdicts = {c["metric"]: c["passed"] for c in data["thresholds"]}
    assert verdicts == {"hit@1": False, "answer_accuracy": True, "false_refusal_rate": True}
    assert [f["id"] for f in data["failures"]] == ["wrong-article", "wrong-number"]


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "nonexistent-suite", "--backend", "extractive")
    assert result.returncode == 2
    assert result.stderr.startswith("error: nonexistent-suite: no such suite file")
    assert len(result.stderr.strip().splitlines()) == 1

    result = run(tmp_path / "data", "--limit", "3")
    assert result.returncode == 2
    assert "--limit only applies to 'assistant eval realtimeqa'" in result.stderr
    for flags in (["--nota"], ["--questions", "q.jsonl"]):
        result = run(tmp_path / "data", *flags)
        assert result.returncode == 2
        assert f"{flags[0]} only applies to 'assistant eval realtimeqa'" in result.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n  - id: x\n    question: Why?\n    answr: [1]\n", encoding="utf-8")
    result = run(tmp_path / "data", str(bad), "--backend", "extractive")
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}: case 'x': unknown field 'answr'"


def test_collection_names_are_valid_and_distinct() -> None:
    assert collection_name("eval", "seed") == "eval-seed"
    assert collection_name("eval", "my suite/v2!") == "eval-my-suite-v2"
    long = collection_name("rtqa", "x" * 80, "/some/where")
    assert len(long) <= 63 and long.startswith("rtqa-xxx")
    assert collection_name("rtqa", "d", "/a") != collection_name("rtqa", "d", "/b")


@pytest.mark.slow
@pytest.mark.llm
def test_seed_cases_pass_with_the_local_model(tmp_path: Path) -> None:
    suite = load_suite(SEED)
    wanted = {"troops-iraq", "acting-secretary", "general-killed", "embassy", "capital-france"}
    cases = [c for c in suite.cases if c.id in wanted]
    small = suite.model_copy(update={"cases": cases, "name": "seed-llm"})
    # The model file comes from the usual cache ($ASSISTANT_CACHE_DIR or the user cache dir).
    settings = make_settings(tmp_path, backend="local", llm_threads=THREADS)
    result = run_suite(small, settings)
    assert result.backend == "local"
    failed = {o.case.id: (o.observed.text, o.problems) for o in result.failures}
    assert not failed

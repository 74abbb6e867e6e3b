"""Suite files: the seed suite is valid, and every mistake is one line naming file and case."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

from assistant.errors import InputError
from assistant.evals.suite import load_suite, suite_files

GOOD_CASE = "  - id: one\n    question: How many troops?\n    answers: [2500]\n"


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_seed_suite_is_valid_and_covers_the_brief() -> None:
    suite = load_suite(ROOT / "evals" / "seed.yaml")
    assert suite.name == "seed" and len(suite.cases) >= 25
    assert sum(c.refuse for c in suite.cases) >= 6
    assert any(c.history for c in suite.cases)
    assert suite.corpus == [ROOT / "corpus"]
    tags = {t for c in suite.cases for t in c.tags}
    assert {"number", "person", "place", "date", "paraphrase", "follow-up"} <= tags
    answers = " ".join(a for c in suite.cases for a in c.answers)
    for fact in ("2,500", "48", "24", "11", "Christopher Miller", "Qasem Soleimani",
                 "Muhandis", "Wayne Marotto", "Trump", "Erbil", "Baghdad", "Syria",
                 "November 17, 2020", "January 2020", "Friday"):
        assert fact in answers, fact


def test_numbers_and_single_strings_become_lists(tmp_path: Path) -> None:
    path = write(tmp_path, "thresholds: {answer_accuracy: 0.5}\ncases:\n"
                 "  - id: 7\n    question: How many?\n    answers: 48\n"
                 "    articles: some-id\n    since: 2020-01-01\n")
    (case,) = load_suite(path).cases
    assert case.id == "7" and case.answers == ["48"] and case.articles == ["some-id"]
    assert str(case.since) == "2020-01-01"


def test_corpus_is_relative_to_the_suite_file(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    suite = load_suite(write(tmp_path, f"corpus: articles\ncases:\n{GOOD_CASE}"))
    assert suite.corpus == [(tmp_path / "articles").resolve()]
    assert "corpus" in error_of(write(tmp_path, f"corpus: missing\ncases:\n{GOOD_CASE}"))


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, f"cases:\n{GOOD_CASE}  - id: two\n    question: Why: not?\n")
    message = error_of(path)
    assert message == f"{path}:6: not valid YAML (mapping values are not allowed here)"


@pytest.mark.parametrize(("body", "expected"), [
    ("  - id: q1\n    answers: [x]\n", "case 'q1': missing 'question'"),
    ("  - id: q1\n    question: Why?\n    answer: [x]\n", "case 'q1': unknown field 'answer'"),
    ("  - question: Why?\n    answers: [x]\n", "case #2: missing 'id'"),
    ("  - id: q1\n    question: Why?\n", "case 'q1': give 'answers' and/or 'articles', or "
                                          "'refuse: true'"),
    ("  - id: q1\n    question: Why?\n    refuse: true\n    answers: [x]\n",
     "case 'q1': a 'refuse: true' case cannot also list answers or articles"),
    ("  - id: q1\n    question: Why?\n    answers: [x]\n    since: soon\n",
     "case 'q1': 'since': Input should be a valid date"),
    ("  - id: one\n    question: Again?\n    answers: [x]\n", "case 'one': duplicate id"),
    ("  - just a string\n", "case #2: expected a mapping of fields"),
])
def test_case_errors_name_file_and_case(tmp_path: Path, body: str, expected: str) -> None:
    path = write(tmp_path, f"cases:\n{GOOD_CASE}{body}")
    message = error_of(path)
    assert message.startswith(f"{path}: {expected}"), message


@pytest.mark.parametrize(("text", "expected"), [
    (f"cases:\n{GOOD_CASE}colour: blue\n", "unknown field 'colour'"),
    ("thresholds: {}\n", "missing 'cases'"),
    ("cases: []\n", "'cases': List should have at least 1 item"),
    (f"thresholds: {{accuracy: 0.5}}\ncases:\n{GOOD_CASE}", "unknown metric 'accuracy'"),
    (f"backend_thresholds: {{fake: {{hit@9: 1}}}}\ncases:\n{GOOD_CASE}",
     "backend_thresholds.fake: unknown metric 'hit@9'"),
    ("- a list\n", "expected a mapping with 'thresholds' and 'cases'"),
])
def test_suite_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(write(tmp_path, text))


def test_backend_thresholds_override(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "thresholds: {answer_accuracy: 0.5, hit@1: 0.9}\n"
                                       "backend_thresholds: {local: {answer_accuracy: 0.3}}\n"
                                       f"cases:\n{GOOD_CASE}"))
    assert suite.thresholds_for("local") == {"answer_accuracy": 0.3, "hit@1": 0.9}
    assert suite.thresholds_for("fake") == {"answer_accuracy": 0.5, "hit@1": 0.9}


def test_suite_files_by_name_path_folder_or_all(tmp_path: Path) -> None:
    one = write(tmp_path, f"cases:\n{GOOD_CASE}", "one.yaml")
    two = write(tmp_path, f"cases:\n{GOOD_CASE}", "two.yml")
    write(tmp_path, "not a suite", "notes.txt")
    assert suite_files([], tmp_path) == [one, two]
    assert suite_files(["two"], tmp_path) == [two]
    assert suite_files([str(one)], tmp_path) == [one]
    assert suite_files([str(tmp_path)], ROOT / "evals") == [one, two]
    assert suite_files([], None) == [ROOT / "evals" / name
                                     for name in ("developing.yaml", "news.yaml", "seed.yaml")]
    with pytest.raises(InputError, match=r"^three: no such suite .*known: one, two"):
        suite_files(["three"], tmp_path)

"""The RealTimeQA runner on tiny synthetic benchmark folders (the real 2022 and 2026 layouts),
and on the real data when it is there."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from conftest import CliResult, benchmarks_dir, invoke, make_settings

from assistant import prompts
from assistant.answer import Answer
from assistant.backends.fake import FakeChatModel
from assistant.backends.llm import LLMBackend
from assistant.documents import Passage
from assistant.engine import Assistant
from assistant.errors import InputError
from assistant.evals import realtimeqa as rtqa
from assistant.evals.baselines import KINDS, Baseline, Outcome, compare
from assistant.evals.quiz import QuizSolver

SENTINEL = "EVIDENCE-SENTINEL"
KEYS = {"questions", "mc_accuracy", "open_accuracy", "open_accuracy_lenient", "nota_questions",
        "nota_recall", "nota_false_rate", "hit@1", "hit@5", "hit@10", "mrr", "search_hit@5",
        "search_hit@10", "citation_accuracy", "refusal_rate", "latency_p50_s", "latency_p95_s",
        "baselines", "refusal_reasons", "questions_file"}
VOLCANO = "https://example.com/2022/08/03/iceland-volcano"
RATES = "https://example.com/2022/07/27/fed-rates"
HEAT = "https://example.com/2022/07/19/london-heat"

ARTICLES = [
    {"id": "a1", "url": VOLCANO, "title": "Volcano erupts near Reykjavik", "published":
     "2022-08-03", "source": "example.com", "authors": ["Ann Lee"],
     "text": "A volcano erupted on Wednesday in Iceland, about 30 kilometres from the capital "
             "Reykjavik. Lava poured from a fissure in the Meradalir valley on the Reykjanes "
             "peninsula. Scientists said the eruption posed no threat to homes or to flights."},
    {"id": "a2", "url": RATES, "title": "Fed raises interest rates again", "published":
     "2022-07-27", "source": "example.com", "authors": [],
     "text": "The Federal Reserve raised its benchmark interest rate by three-quarters of a "
             "percentage point on Wednesday, its second such increase in a row. The central "
             "bank is trying to cool inflation, which reached 9.1% in June."},
    {"id": "a3", "url": HEAT, "title": "London passes 40C for the first time", "published":
     "2022-07-19", "source": "example.com", "authors": [],
     "text": "Temperatures in London passed 40C for the first time on record on Tuesday, as a "
             "heatwave swept across Britain. Rail services were cancelled and fires broke out "
             "on the edge of the city."},
]
QUESTIONS = [
    {"id": "q_volcano", "date": "2022-08-05", "quiz_source": "CNN",
     "question": "A volcano erupted this week near the capital of which country?",
     "choices": ["Italy", "Iceland", "Japan", "Chile"], "answer_index": 1, "answer": "Iceland",
     "gold_urls": [VOLCANO], "search_urls": [VOLCANO, HEAT], "evidence": SENTINEL},
    {"id": "q_rates", "date": "2022-07-29", "quiz_source": "CNN",
     "question": "By how much did the Federal Reserve raise its benchmark interest rate?",
     "choices": ["A quarter of a percentage point", "Half a percentage point",
                 "Three-quarters of a percentage point", "A full percentage point"],
     "answer_index": 2, "answer": "Three-quarters of a percentage point",
     "gold_urls": [RATES], "search_urls": [RATES], "evidence": SENTINEL},
    {"id": "q_heat", "date": "2022-07-22", "quiz_source": "USA Today",
     "question": "Which city recorded a temperature above 40C for the first time?",
     "choices": ["Paris", "Berlin", "London", "Madrid"], "answer_index": 2, "answer": "London",
     "gold_urls": [], "search_urls": [HEAT], "evidence": SENTINEL},
]
BASELINES = {"multiple_choice_accuracy": {
    "open_gpt3_gcs": {"answered": 3, "of": 3, "accuracy": 0.7347},
    "closed_t5": {"answered": 3, "of": 3, "accuracy": 0.381}}}


def write_benchmark(folder: Path, questions: list[dict[str, object]] = QUESTIONS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    (folder / "questions.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    (folder / "baselines.json").write_text(json.dumps(BASELINES), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A benchmark folder and a data dir whose index of it is built once for the module."""
    tmp = tmp_path_factory.mktemp("rtqa")
    folder = write_benchmark(tmp / "tiny-bench")
    data = tmp / "data"
    rtqa.open_benchmark_index(make_settings(tmp, data_dir=data), folder)
    return folder, data


def cli(data: Path, *args: str) -> CliResult:
    return invoke("eval", "realtimeqa", *args, data_dir=data)


# -- the answer key stays away from the system under test ---------------------------------------
def test_questions_are_split_from_their_answer_key(tmp_path: Path) -> None:
    items = rtqa.load_quiz(write_benchmark(tmp_path / "b"))
    shown = {f.name for f in dataclasses.fields(rtqa.QuizQuestion)}
    assert shown == {"id", "date", "question", "choices"}
    first = items[0]
    assert first.question == rtqa.QuizQuestion(
        "q_volcano", date(2022, 8, 5), QUESTIONS[0]["question"],  # type: ignore[arg-type]
        ("Italy", "Iceland", "Japan", "Chile"))
    assert first.key == rtqa.QuizKey(1, "Iceland", (VOLCANO,), (VOLCANO, HEAT))
    assert SENTINEL not in repr(items)  # the quiz's evidence is not even kept


def test_no_prompt_contains_the_answer_key(bench: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench
    settings = make_settings(tmp_path, data_dir=data)
    model = FakeChatModel()
    backend = LLMBackend(model, settings)
    for mode in ("mc", "open"):
        for closed_book in (False, True):
            rtqa.run_realtimeqa(folder, settings, mode=mode, closed_book=closed_book,
                                backend=backend)
    prompts = "\n".join(m.content for call in model.calls for m in call)
    assert model.calls and SENTINEL not in prompts
    # Open questions never show the options (the right one is among them).
    open_prompts = [c[-1].content for c in model.calls if "Options:" not in c[-1].content]
    assert open_prompts and not any("Three-quarters" in p for p in open_prompts)


# -- both modes, values checked by hand ------------------------------------
def test_multiple_choice_json(bench: tuple[Path, Path]) -> None:
    folder, data = bench
    result = cli(data, "--data", str(folder), "--backend", "extractive", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= KEYS
    assert out["questions"] == 3 and out["mode"] == "mc" and out["closed_book"] is False
    assert out["mc_accuracy"] == 1.0 and out["open_accuracy"] is None
    # Two questions name a gold article; retrieval ranks each first.
    assert out["gold_questions"] == 2
    assert out["hit@1"] == out["hit@5"] == out["hit@10"] == out["mrr"] == 1.0
    assert out["citation_accuracy"] is None  # a pick cites nothing
    assert out["search_hit@5"] == out["search_hit@10"] == 1.0  # every search url is indexed
    assert out["refusal_rate"] == 0.0 and out["refusal_reasons"] == {}
    assert out["nota_recall"] is None and out["open_accuracy_lenient"] is None
    assert 0 < out["latency_p50_s"] <= out["latency_p95_s"]
    # The 2022 layout: published figures over the whole file, nothing per question.
    assert [(b["name"], b["kind"], b["accuracy"], b["ours"], b["questions"])
            for b in out["baselines"]] == [("open_gpt3_gcs", "mc", 0.7347, 1.0, 3),
                                           ("closed_t5", "mc", 0.381, 1.0, 3)]
    assert out["baselines"][0]["check"] == ("published figure only (no per-question "
                                            "predictions), over 3 questions")
    assert [r["choice"] for r in out["results"]] == [1, 2, 2]
    assert out["collection"].startswith("rtqa-tiny-bench-")


def test_open_answers_json_and_report(bench: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench
    report = tmp_path / "rtqa.md"
    # The fake model answers with the passage sentence sharing most words with the question.
    result = cli(data, "--data", str(folder), "--mode", "open", "--backend", "fake",
                 "--json", "--report", str(report))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["mode"] == "open" and out["mc_accuracy"] is None
    rows = {r["id"]: r for r in out["results"]}
    assert all(r["correct"] for r in rows.values()), rows
    assert out["open_accuracy"] == 1.0 and out["refusal_rate"] == 0.0
    assert rows["q_volcano"]["cited"] == [VOLCANO] and rows["q_rates"]["cited"] == [RATES]
    assert rows["q_volcano"]["gold_rank"] == 1 and rows["q_heat"]["gold_rank"] is None
    assert out["citation_accuracy"] == 1.0  # each cited url is a gold or search url
    markdown = report.read_text(encoding="utf-8")
    assert "# RealTimeQA: tiny-bench" in markdown
    assert "| open_accuracy | 1.000 | strict string match |" in markdown
    assert "Baselines" not in markdown  # published multiple-choice figures: not comparable
    assert out["baselines"] == [] and out["open_accuracy_lenient"] == 1.0
    assert "| q_rates | 2022-07-29 |" in markdown


def test_closed_book(bench: tuple[Path, Path]) -> None:
    folder, data = bench
    # The extractive backend knows nothing without articles: every question is refused.
    result = cli(data, "--data", str(folder), "--backend", "extractive", "--closed-book",
                 "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["closed_book"] is True and out["mc_accuracy"] == 0.0
    assert out["refusal_rate"] == 1.0 and out["refusal_reasons"] == {"no option picked": 3}
    assert out["hit@1"] is None and out["mrr"] is None and out["citation_accuracy"] is None
    assert out["search_hit@5"] is None

    result = cli(data, "--data", str(folder), "--backend", "fake", "--closed-book", "--mode",
                 "open", "--json")
    out = json.loads(result.stdout)
    assert out["open_accuracy"] == 0.0 and out["refusal_rate"] == 1.0  # the fake model refuses
    assert out["refusal_reasons"] == {"the model says it does not know": 3}
    assert {r["reason"] for r in out["results"]} == {"the model says it does not know"}


def test_closed_book_prompt_has_no_passages(tmp_path: Path) -> None:
    folder = write_benchmark(tmp_path / "b")
    settings = make_settings(tmp_path)
    model = FakeChatModel(replies=["Iceland.", "Half a point.", "London"])
    run = rtqa.run_realtimeqa(folder, settings, mode="open", closed_book=True,
                              backend=LLMBackend(model, settings))
    assert [r.correct for r in run.results] == [True, False, True]
    assert run.summary["open_accuracy"] == pytest.approx(2 / 3)
    assert run.summary["refusal_rate"] == 0.0
    prompt = model.calls[0][-1].content
    assert "Passages:" not in prompt and "Today's date: 2022-08-05" in prompt
    assert run.ingest is None  # no retrieval, so the index is not built


def test_text_output_and_limit(bench: tuple[Path, Path]) -> None:
    folder, data = bench
    result = cli(data, "--data", str(folder), "--backend", "extractive", "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert "questions" in result.stdout and "mc_accuracy" in result.stdout
    assert "GPT-3 + Google Custom Search" in result.stdout and "this run" in result.stdout
    assert "random guess 0.250" in result.stdout
    assert "published figure only" in result.stdout  # over all 3 questions, not these 2
    assert "realtimeqa mc" in result.stderr  # progress on stderr


def test_retrieval_metrics_repeat_the_answers_own_search(bench: tuple[Path, Path],
                                                         tmp_path: Path) -> None:
    """The depth-10 ranking starts with exactly the passages the answer was built from."""
    folder, data = bench
    settings = make_settings(tmp_path, data_dir=data, collection=rtqa.benchmark_collection(folder),
                             top_k=2, reference_date=date(2022, 8, 5))
    assistant = Assistant(settings, backend="fake")
    solver = QuizSolver(assistant)

    def articles(passages: list[Passage]) -> list[str]:
        return list(dict.fromkeys(p.article_id for p in passages))

    for item in rtqa.load_quiz(folder):
        q = item.question
        used = articles(solver.choose(q.question, list(q.choices),
                                      reference_date=q.date).passages)
        deep = [a.id for a in rtqa.answer_choice(solver, q).retrieved]
        assert deep[:len(used)] == used
        used = articles(assistant.ask(q.question, reference_date=q.date).passages)
        deep = [a.id for a in rtqa.answer_open(solver, q).retrieved]
        assert deep[:len(used)] == used
    assert "search" not in vars(assistant.index)  # nothing is patched to measure retrieval


def test_resume_file_skips_answered_questions(bench: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench
    settings = make_settings(tmp_path, data_dir=data)
    saved = tmp_path / "results.jsonl"
    first = rtqa.run_realtimeqa(folder, settings, limit=2, backend="extractive", resume=saved)
    assert first.resumed == 0 and len(saved.read_text().splitlines()) == 2
    again = rtqa.run_realtimeqa(folder, settings, backend="extractive", resume=saved)
    assert again.resumed == 2 and len(again.results) == 3
    assert [r.to_dict() for r in again.results[:2]] == [r.to_dict() for r in first.results]
    with pytest.raises(InputError, match="holds results of another run"):
        rtqa.run_realtimeqa(folder, settings, mode="open", backend="extractive", resume=saved)
    # A line without the fields of this version is not mixed in with made-up defaults.
    row = json.loads(saved.read_text().splitlines()[0])
    del row["result"]["search_rank"]
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(
            "old.jsonl:1: written by an earlier version of 'assistant eval realtimeqa' "
            "(no 'search_rank')")):
        rtqa.run_realtimeqa(folder, settings, backend="extractive", resume=old)


def test_missing_folder_is_skipped_with_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path / "data", "--data", str(tmp_path / "nowhere"), "--json")
    assert result.returncode == 0
    assert result.stderr.strip() == (f"skipped: {tmp_path / 'nowhere'} not found (RealTimeQA "
                                     "data is not available here)")
    assert json.loads(result.stdout) == {"skipped": result.stderr.strip()}
    result = cli(tmp_path / "data")
    assert result.returncode == 2 and "needs --data DIR" in result.stderr


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "questions.jsonl:1: malformed JSON"),
    (json.dumps({**QUESTIONS[0], "answer_index": 7}), "'answer_index' 7 is not an index"),
    (json.dumps({k: v for k, v in QUESTIONS[0].items() if k != "choices"}), "missing 'choices'"),
    (json.dumps({**QUESTIONS[0], "date": "last week"}), "'date' 'last week' is not YYYY-MM-DD"),
])
def test_bad_question_files(tmp_path: Path, line: str, message: str) -> None:
    folder = write_benchmark(tmp_path / "b")
    (folder / "questions.jsonl").write_text(line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        rtqa.load_quiz(folder)


# -- the 2026 layout: baselines by kind, per-question predictions, NOTA set ---------------------
MISSING = "https://example.com/2022/07/20/not-in-the-corpus"
QUESTIONS_2026 = [
    {**QUESTIONS[0], "id": "w1_0", "gold_urls": [], "search_urls": [VOLCANO]},
    {**QUESTIONS[1], "id": "w1_1", "gold_urls": [], "search_urls": [RATES]},
    # Its search result is not in the corpus: a search miss.
    {**QUESTIONS[2], "id": "w1_2", "gold_urls": [], "search_urls": [MISSING]},
]
BASELINES_2026 = {"questions": 3, "baselines": {
    "mc_search": {"model_a": {"accuracy": 0.6667, "answered": 3},
                  "model_b": {"accuracy": 1.0, "answered": 1},
                  "model_c": {"accuracy": 0.3333, "answered": 3}},
    "mc_closed": {"model_a": {"accuracy": 0.3333, "answered": 3}},
    "open_search": {"model_a": {"accuracy": 0.3333, "answered": 3}},
    "open_closed": {},
}}
PREDICTIONS_2026 = [
    # -1: answered, but named no option (a wrong answer, as baselines.json counts it).
    {"id": "w1_0", "model_a:mc_search": 1, "model_b:mc_search": None, "model_c:mc_search": 0,
     "model_a:mc_closed": -1, "model_a:open_search": "Iceland's Reykjanes peninsula"},
    # "three quarters of a point": not the option's text (strict), but its best match (lenient).
    {"id": "w1_1", "model_a:mc_search": 0, "model_b:mc_search": None, "model_c:mc_search": 2,
     "model_a:mc_closed": 0, "model_a:open_search": "three quarters of a point"},
    # model_c did not answer this one, though baselines.json counts 3 answered.
    {"id": "w1_2", "model_a:mc_search": 2, "model_b:mc_search": 2, "model_c:mc_search": None,
     "model_a:mc_closed": 2, "model_a:open_search": "Paris"},
]


def nota_version(question: dict[str, object], removed: int) -> dict[str, object]:
    """The question with option ``removed`` dropped and "None of the above" last."""
    choices = [c for i, c in enumerate(question["choices"]) if i != removed]  # type: ignore[attr-defined]
    right = question["choices"][question["answer_index"]]  # type: ignore[index]
    index = choices.index(right) if right in choices else 3
    return {**question, "id": f"{question['id']}_nota", "choices": [*choices, rtqa.NOTA],
            "answer_index": index, "answer": right if index < 3 else rtqa.NOTA}


# The right option (Iceland) is removed from the first question only.
QUESTIONS_NOTA = [nota_version(QUESTIONS_2026[0], 1), nota_version(QUESTIONS_2026[1], 0),
                  nota_version(QUESTIONS_2026[2], 0)]


def write_benchmark_2026(folder: Path) -> Path:
    write_benchmark(folder, QUESTIONS_2026)
    (folder / "baselines.json").write_text(json.dumps(BASELINES_2026), encoding="utf-8")
    (folder / "baseline_predictions.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in PREDICTIONS_2026), encoding="utf-8")
    (folder / "questions_nota.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in QUESTIONS_NOTA), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def bench26(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("rtqa26")
    folder = write_benchmark_2026(tmp / "tiny-2026")
    data = tmp / "data"
    rtqa.open_benchmark_index(make_settings(tmp, data_dir=data), folder)
    return folder, data


def part(row: dict[str, object], expected: dict[str, object]) -> bool:
    """``row`` has the ``expected`` values (pytest.approx allowed)."""
    return {k: row.get(k) for k in expected} == expected


def by_name(out: dict[str, object]) -> dict[str, dict[str, object]]:
    return {b["name"]: b for b in out["baselines"]}  # type: ignore[attr-defined, index]


def test_2026_baselines_are_read_by_kind(tmp_path: Path) -> None:
    folder = write_benchmark_2026(tmp_path / "b")
    published = rtqa.load_baselines(folder)
    assert Baseline("model_b", "mc_search", 1.0, 1) in published
    assert {b.kind for b in published} == {"mc_search", "mc_closed", "open_search"}
    assert rtqa.load_predictions(folder)["w1_1"]["model_a:open_search"] == (
        "three quarters of a point")
    # Without the predictions file, the published figures are shown as such.
    (folder / "baseline_predictions.jsonl").unlink()
    reference = {i.question.id: i for i in rtqa.load_quiz(folder)}
    ours = {qid: Outcome(True) for qid in reference}
    rows = compare(published, {}, reference, ours, "mc", False)
    assert [(c.baseline.name, c.accuracy, c.ours, c.questions) for c in rows] == [
        ("model_b", 1.0, 1.0, 3), ("model_a", 0.6667, 1.0, 3), ("model_c", 0.3333, 1.0, 3)]
    assert rows[1].check == ("published figure only (no per-question predictions), over 3 "
                             "questions")
    (folder / "baseline_predictions.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"baseline_predictions\.jsonl:1: malformed JSON"):
        rtqa.load_predictions(folder)


def test_2026_multiple_choice_beside_each_baseline_on_its_questions(
        bench26: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench26
    report = tmp_path / "mc.md"
    result = cli(data, "--data", str(folder), "--backend", "extractive", "--json",
                 "--report", str(report))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["mc_accuracy"] == 1.0 and out["gold_questions"] == 0 and out["hit@5"] is None
    assert out["search_hit@5"] == out["search_hit@10"] == pytest.approx(2 / 3)
    assert [r["search_rank"] for r in out["results"]][2] is None
    rows = by_name(out)
    assert list(rows) == ["model_b", "model_a", "model_c"]  # best first; mc_search only
    assert part(rows["model_b"], {"questions": 1, "accuracy": 1.0, "ours": 1.0,
                                  "check": "matches baselines.json"})
    assert part(rows["model_a"], {"questions": 3, "accuracy": pytest.approx(2 / 3),
                                  "ours": 1.0, "matches_published": True})
    # baselines.json counts an answer its predictions do not have: said, not hidden.
    assert part(rows["model_c"], {"questions": 2, "accuracy": 0.5, "recomputed_answered": 2,
                                  "matches_published": False})
    assert rows["model_c"]["check"] == ("differs: baselines.json 0.3333 on 3, its predictions "
                                        "0.5000 on 2 (1 answer counted there with no "
                                        "prediction here)")
    markdown = report.read_text(encoding="utf-8")
    assert ("## Baselines (multiple choice, given the search results), each on the questions "
            "it answered") in markdown
    assert "| model_a | 3 | 0.667 | 1.000 | matches baselines.json |" in markdown
    assert "| search_hit@5 | 0.667 | one of its search_urls in the top 5 articles; 3 " \
           "questions |" in markdown
    assert "random guess 0.250; baselines 0.500 .. 1.000, each on its questions" in markdown


def test_2026_comparison_follows_limit_and_closed_book(bench26: tuple[Path, Path]) -> None:
    folder, data = bench26
    out = json.loads(cli(data, "--data", str(folder), "--backend", "extractive", "--json",
                         "--limit", "2").stdout)
    rows = by_name(out)
    assert part(rows["model_a"], {"questions": 2, "accuracy": 0.5, "ours": 1.0,
                                  "check": "matches baselines.json"})  # checked on all 3
    assert rows["model_b"]["questions"] == 0  # it answered only the third question
    text = cli(data, "--data", str(folder), "--backend", "extractive", "--limit", "2").stdout
    assert "1 baselines answered none of these questions: model_b." in text
    out = json.loads(cli(data, "--data", str(folder), "--backend", "extractive", "--json",
                         "--closed-book").stdout)
    assert [(b["name"], b["kind"], b["questions"], b["ours"]) for b in out["baselines"]] == [
        ("model_a", "mc_closed", 3, 0.0)]
    assert by_name(out)["model_a"]["accuracy"] == pytest.approx(1 / 3)
    assert by_name(out)["model_a"]["check"] == ("matches baselines.json; 1 answer naming no "
                                                "option, counted wrong")


def test_2026_no_baseline_answered_the_first_week(tmp_path: Path) -> None:
    folder = write_benchmark_2026(tmp_path / "b")
    rows = [{**p, "model_a:mc_closed": None} if p["id"] == "w1_0" else p
            for p in PREDICTIONS_2026]
    (folder / "baseline_predictions.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in rows), encoding="utf-8")
    out = cli(tmp_path / "data", "--data", str(folder), "--backend", "extractive",
              "--closed-book", "--limit", "1")
    assert out.returncode == 0, out.stderr
    assert ("None of the 1 baselines answered these questions (not every model ran every "
            "week)") in " ".join(out.stdout.split())


def test_2026_open_answers_strict_and_lenient_for_both_sides(bench26: tuple[Path, Path]) -> None:
    folder, data = bench26
    result = cli(data, "--data", str(folder), "--mode", "open", "--backend", "fake", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["open_accuracy"] == out["open_accuracy_lenient"] == 1.0
    assert [(b["name"], b["kind"]) for b in out["baselines"]] == [("model_a", "open_search")]
    row = out["baselines"][0]
    assert row["questions"] == 3 and row["check"] == "matches baselines.json"
    assert row["accuracy"] == pytest.approx(1 / 3) and row["ours"] == 1.0
    assert row["lenient_accuracy"] == pytest.approx(2 / 3) and row["ours_lenient"] == 1.0
    text = cli(data, "--data", str(folder), "--mode", "open", "--backend", "fake").stdout
    assert "baseline lenient" in text and "model_a" in text and "0.667" in text


def test_nota_set_passes_every_option_and_scores_none_of_the_above(
        bench26: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench26
    settings = make_settings(tmp_path, data_dir=data)
    # Scripted: the best real option, then the model's support judgement of it. Q1: A, not
    # supported -> NOTA (right). Q2: B, not supported -> NOTA (wrong: B is right). Q3: B, yes.
    script = ["A", "no", "B", "no", "B", "yes"]
    model = FakeChatModel(replies=list(script))
    run = rtqa.run_realtimeqa(folder, settings, nota=True, backend=LLMBackend(model, settings))
    assert [r.id for r in run.results] == ["w1_0_nota", "w1_1_nota", "w1_2_nota"]
    assert [r.choice for r in run.results] == [3, 3, 1]
    assert [r.best_real for r in run.results] == [0, 1, 1]  # what the judgement weighed
    assert [r.expected_index for r in run.results] == [3, 1, 1]
    assert run.summary["mc_accuracy"] == pytest.approx(2 / 3)
    assert run.summary["nota_questions"] == 1
    assert run.summary["nota_recall"] == 1.0  # the one question whose answer is NOTA
    assert run.summary["nota_false_rate"] == 0.5  # picked on one of the two others
    # "None of the above" is never a letter to guess: the model chose among the real options.
    prompts_seen = [call[-1].content for call in model.calls]
    assert not any("None of the above" in p for p in prompts_seen)
    assert sum(prompts.SUPPORT_INSTRUCTIONS in p for p in prompts_seen) == 3
    # The baselines ran on other options: no comparison, and the report says why.
    assert run.comparisons and all(c.questions == 0 for c in run.comparisons)
    from assistant.evals.report import realtimeqa_markdown
    markdown = realtimeqa_markdown(run)
    assert "None of the 3 baselines answered these questions (they ran on" in markdown
    assert "| nota_recall | 1.000 |" in markdown
    # --questions with the same file, relative to --data or absolute, is the same run.
    for given in ("questions_nota.jsonl", str(folder / "questions_nota.jsonl")):
        again = rtqa.run_realtimeqa(folder, settings, questions=given, backend=LLMBackend(
            FakeChatModel(replies=list(script)), settings))
        assert [r.to_dict() | {"latency_s": 0} for r in again.results] == [
            r.to_dict() | {"latency_s": 0} for r in run.results]


def test_question_file_errors(bench26: tuple[Path, Path], tmp_path: Path) -> None:
    folder, data = bench26
    settings = make_settings(tmp_path, data_dir=data)
    with pytest.raises(InputError, match="a free answer cannot give; use --mode mc"):
        rtqa.run_realtimeqa(folder, settings, mode="open", nota=True, backend="extractive")
    result = cli(data, "--data", str(folder), "--nota", "--questions", "x.jsonl")
    assert result.returncode == 2 and "give one of them" in result.stderr
    result = cli(data, "--data", str(folder), "--questions", "nowhere.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {folder / 'nowhere.jsonl'}: not found; --questions takes a questions file in "
        f"the benchmark's format (relative to {folder} unless absolute)")
    # A resume file of the NOTA set is not mixed up with the regular set.
    saved = tmp_path / "nota.jsonl"
    rtqa.run_realtimeqa(folder, settings, nota=True, limit=1, backend="extractive", resume=saved)
    with pytest.raises(InputError, match="holds results of another run"):
        rtqa.run_realtimeqa(folder, settings, backend="extractive", resume=saved)


class RefusingAssistant:
    """Stands in for the engine: refuses each question with a scripted reason."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        self.index = None  # no retrieval trace, so the runner never searches it

    def ask(self, question: str, reference_date: date | None = None) -> Answer:
        return Answer(question, "I cannot answer this.", refused=True,
                      reason=self.reasons.pop(0))


def test_refusals_carry_their_reason(tmp_path: Path) -> None:
    reasons = ["no passage is about the question (best similarity 0.19, 20% of its words "
               "found)", "the articles do not contain the answer",
               "no passage is about the question (best similarity 0.25, 0% of its words found)"]
    solver = cast(QuizSolver, SimpleNamespace(assistant=RefusingAssistant(list(reasons))))
    items = rtqa.load_quiz(write_benchmark(tmp_path / "b"))
    results = [rtqa.score(i.question, i.key, rtqa.answer_open(solver, i.question), "open", False)
               for i in items]
    assert [r.reason for r in results] == reasons and all(r.refused for r in results)
    run = rtqa.QuizRun(tmp_path / "b", "open", False, "fake", "c", results,
                       rtqa.summarise(results, "open", False))
    assert run.refusal_reasons == {"no passage is about the question": 2,
                                   "the articles do not contain the answer": 1}
    assert run.to_dict()["refusal_reasons"] == run.refusal_reasons
    from assistant.evals.report import realtimeqa_markdown
    markdown = realtimeqa_markdown(run)
    assert "| no passage is about the question | 2 |" in markdown
    assert "refused: the articles do not contain the answer" in markdown


def test_refusals_of_the_real_engine_say_why(tmp_path: Path) -> None:
    unrelated = {**QUESTIONS[0], "id": "q_cup", "question":
                 "Which team won the ice hockey Stanley Cup final in overtime?",
                 "choices": ["Oilers", "Panthers", "Rangers", "Stars"], "answer_index": 1,
                 "answer": "Panthers"}
    folder = write_benchmark(tmp_path / "b", [QUESTIONS[0], unrelated])
    run = rtqa.run_realtimeqa(folder, make_settings(tmp_path), mode="open", backend="fake")
    refused = [r for r in run.results if r.refused]
    assert all(r.reason and r.reason != "no reason given" for r in refused)
    assert sum(run.refusal_reasons.values()) == len(refused)


def test_date_note_of_the_engine_is_not_scored() -> None:
    question = rtqa.QuizQuestion("n", date(2026, 1, 8), "How many astronauts flew?",
                                 ("2", "3", "4", "5"))
    key = rtqa.QuizKey(1, "3")

    def scored(text: str) -> rtqa.QuestionResult:
        return rtqa.score(question, key, rtqa.QuizResponse(text=text), "open", False)

    # The day in the engine's date note is not an answer ...
    wrong = scored("Four astronauts flew around the Moon [1]. (Source dated 3 January 2026.)")
    assert not wrong.correct and wrong.lenient is False
    # ... and numbers written as words count for the lenient score only.
    right = scored("Three astronauts flew around the Moon [1]. (Source dated 4 January 2026.)")
    assert not right.correct and right.lenient is True
    assert scored("3 astronauts [1]. (Sources dated 2 January 2026; 4 January 2026.)").correct


# -- the real benchmark data ---------------------------------------------------------------------
@pytest.mark.benchdata
def test_real_benchmark_loads() -> None:
    folder = benchmarks_dir("realtimeqa-2022-dev")
    items = rtqa.load_quiz(folder)
    assert len(items) == 294 and all(len(i.question.choices) in (2, 4) for i in items)
    assert sum(1 for i in items if i.key.gold_urls) == 101
    published = {b.name: b for b in rtqa.load_baselines(folder)}
    assert published["open_gpt3_gcs"] == Baseline("open_gpt3_gcs", "mc", 0.7347, 294)


@pytest.mark.slow
@pytest.mark.benchdata
def test_real_benchmark_first_five_questions(tmp_path: Path) -> None:
    """``--limit 5`` on the real questions, over their own gold and search articles.

    Indexing all 2,025 articles takes tens of minutes on 2 cores, too long for a test: the
    folder here holds the first five real questions and every article they name (~50).
    """
    real = benchmarks_dir("realtimeqa-2022-dev")
    lines = (real / "questions.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    wanted = {u for q in map(json.loads, lines) for u in q["gold_urls"] + q["search_urls"]}
    with (real / "corpus.jsonl").open(encoding="utf-8") as handle:
        articles = [line for line in handle if json.loads(line)["url"] in wanted]
    folder = tmp_path / "realtimeqa-first5"
    folder.mkdir()
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "corpus.jsonl").write_text("".join(articles), encoding="utf-8")
    (folder / "baselines.json").write_text((real / "baselines.json").read_text("utf-8"), "utf-8")

    result = cli(tmp_path / "data", "--data", str(folder), "--limit", "5", "--backend",
                 "extractive", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert set(out) >= KEYS and out["questions"] == 5 and out["gold_questions"] == 5
    assert 0.0 <= out["mc_accuracy"] <= 1.0
    assert out["hit@10"] is not None and out["hit@1"] <= out["hit@5"] <= out["hit@10"]
    assert len(out["baselines"]) == 6
    assert {b["check"] for b in out["baselines"]} == {
        "published figure only (no per-question predictions), over 294 questions; "
        "this run: 5 of them"}


@pytest.mark.slow
@pytest.mark.benchdata
def test_real_2026_baselines_and_first_questions(tmp_path: Path) -> None:
    """The real 2026 layout: every published figure is recomputed from its predictions, and
    ``--limit 3`` runs over the first three questions' own search results (the whole corpus
    takes too long to index for a test)."""
    real = benchmarks_dir("realtimeqa-2026-dev")
    reference = {i.question.id: i for i in rtqa.load_quiz(real)}
    published = rtqa.load_baselines(real)
    predictions = rtqa.load_predictions(real)
    assert len(reference) == 113 and len(predictions) == 113
    assert {b.kind for b in published} == set(KINDS) and len(published) == 4 * 13
    for mode in ("mc", "open"):
        for closed_book in (False, True):
            rows = compare(published, predictions, reference, {}, mode, closed_book)
            assert len(rows) == 13
            for row in rows:
                if row.matches_published:
                    continue
                b = row.baseline
                assert row.recomputed is not None and b.answered is not None
                assert row.recomputed_answered is not None
                right, published_right = (round(row.recomputed * row.recomputed_answered),
                                          round(b.accuracy * b.answered))
                if mode == "mc":
                    # baselines.json counts answers its predictions lack (as wrong ones).
                    assert row.recomputed_answered < b.answered and right == published_right
                else:
                    # The published scorer deleted "’": "Conan O’Brien" missed "O'Brien".
                    assert row.recomputed_answered == b.answered
                    assert right - published_right in (1, 2), row.check
                assert row.check.startswith("differs: baselines.json")
    rows = compare(published, predictions, reference, {}, "mc", False)
    assert sum(1 for r in rows if r.matches_published) == 10

    lines = (real / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    wanted = {u for q in map(json.loads, lines[:3]) for u in q["search_urls"]}
    with (real / "corpus.jsonl").open(encoding="utf-8") as handle:
        articles = [line for line in handle if json.loads(line)["url"] in wanted]
    folder = tmp_path / "realtimeqa-2026-first3"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text("".join(articles), encoding="utf-8")
    for name in ("questions.jsonl", "questions_nota.jsonl", "baselines.json",
                 "baseline_predictions.jsonl"):
        (folder / name).write_text((real / name).read_text("utf-8"), "utf-8")

    result = cli(tmp_path / "data", "--data", str(folder), "--limit", "3", "--backend",
                 "extractive", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert out["questions"] == 3 and out["gold_questions"] == 0 and out["hit@5"] is None
    assert out["search_hit@10"] == 1.0  # every question's search results are all indexed
    assert {b["kind"] for b in out["baselines"]} == {"mc_search"}
    assert all(b["questions"] <= 3 for b in out["baselines"])
    result = cli(tmp_path / "data", "--data", str(folder), "--limit", "3", "--backend",
                 "extractive", "--nota", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout)
    assert out["nota_questions"] is not None and out["questions_file"].endswith("nota.jsonl")
    assert all(b["questions"] == 0 for b in out["baselines"])


def test_resumed_free_answers_are_scored_again(bench: tuple[Path, Path], tmp_path: Path) -> None:
    """A recorded answer is scored by the current scorer: a scoring rule added after the run
    (here, the answer's text as recorded under an older rule) needs no model call again."""
    folder, data = bench
    settings = make_settings(tmp_path, data_dir=data)
    saved = tmp_path / "open.jsonl"
    rtqa.run_realtimeqa(folder, settings, mode="open", limit=1, backend="extractive",
                        resume=saved)
    row = json.loads(saved.read_text().splitlines()[0])
    assert row["result"]["id"] == "q_volcano"
    row["result"].update(answer="The eruption was in Iceland [1].", refused=False,
                         correct=False, lenient=False)  # as an older scorer had it
    saved.write_text(json.dumps(row) + "\n", encoding="utf-8")
    again = rtqa.run_realtimeqa(folder, settings, mode="open", limit=1, backend="extractive",
                                resume=saved)
    assert again.resumed == 1
    assert again.results[0].correct and again.results[0].lenient
    assert again.summary["open_accuracy"] == 1.0
    row["result"].update(answer="It was in Chile [1].")
    saved.write_text(json.dumps(row) + "\n", encoding="utf-8")
    wrong = rtqa.run_realtimeqa(folder, settings, mode="open", limit=1, backend="extractive",
                                resume=saved)
    assert not wrong.results[0].correct and not wrong.results[0].lenient
    row["result"].update(answer=None)  # a hand-edited line: one clear error, no traceback
    saved.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape("open.jsonl:1: not a results line")):
        rtqa.run_realtimeqa(folder, settings, mode="open", limit=1, backend="extractive",
                            resume=saved)

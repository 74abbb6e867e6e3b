"""The RealTimeQA runner on a tiny synthetic benchmark folder (real format), and the real one."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import pytest
from conftest import CliResult, benchmarks_dir, invoke, make_settings

from assistant.backends.fake import FakeChatModel
from assistant.backends.llm import LLMBackend
from assistant.documents import Passage
from assistant.engine import Assistant
from assistant.errors import InputError
from assistant.evals import realtimeqa as rtqa
from assistant.evals.quiz import QuizSolver

SENTINEL = "EVIDENCE-SENTINEL"
KEYS = {"questions", "mc_accuracy", "open_accuracy", "hit@1", "hit@5", "hit@10", "mrr",
        "citation_accuracy", "refusal_rate", "latency_p50_s", "latency_p95_s", "baselines"}
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
    assert out["refusal_rate"] == 0.0
    assert 0 < out["latency_p50_s"] <= out["latency_p95_s"]
    assert out["baselines"] == {"open_gpt3_gcs": 0.7347, "closed_t5": 0.381}
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
    assert "| GPT-3 + Google Custom Search | 0.735 |" in markdown
    assert "| q_rates | 2022-07-29 |" in markdown


def test_closed_book(bench: tuple[Path, Path]) -> None:
    folder, data = bench
    # The extractive backend knows nothing without articles: every question is refused.
    result = cli(data, "--data", str(folder), "--backend", "extractive", "--closed-book",
                 "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["closed_book"] is True and out["mc_accuracy"] == 0.0
    assert out["refusal_rate"] == 1.0
    assert out["hit@1"] is None and out["mrr"] is None and out["citation_accuracy"] is None

    result = cli(data, "--data", str(folder), "--backend", "fake", "--closed-book", "--mode",
                 "open", "--json")
    out = json.loads(result.stdout)
    assert out["open_accuracy"] == 0.0 and out["refusal_rate"] == 1.0  # the fake model refuses


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


# -- the real benchmark data ---------------------------------------------------------------------
@pytest.mark.benchdata
def test_real_benchmark_loads() -> None:
    folder = benchmarks_dir("realtimeqa-2022-dev")
    items = rtqa.load_quiz(folder)
    assert len(items) == 294 and all(len(i.question.choices) in (2, 4) for i in items)
    assert sum(1 for i in items if i.key.gold_urls) == 101
    assert rtqa.load_baselines(folder)["open_gpt3_gcs"] == 0.7347


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

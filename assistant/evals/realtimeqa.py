"""RealTimeQA-format benchmarks: news quiz questions answered over their own article corpus.

A benchmark folder holds ``corpus.jsonl`` (articles), ``questions.jsonl`` (quiz questions),
optionally other question files in the same format (``questions_nota.jsonl``: one option
replaced by "None of the above"), and optionally ``baselines.json`` with
``baseline_predictions.jsonl`` (published baselines, see :mod:`assistant.evals.baselines`).

The answer key never reaches the system under test: each line of ``questions.jsonl`` is split
on reading into a :class:`QuizQuestion` (id, date, question, choices), the only thing the
answering functions receive, and a :class:`QuizKey` (right choice, answer text, gold and search
urls), read only by :func:`score`. The quiz's ``evidence`` sentence is not even kept.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from assistant.answer import RetrievalTrace
from assistant.backends import Backend, create_backend
from assistant.documents import Passage
from assistant.engine import Assistant
from assistant.errors import InputError
from assistant.evals import metrics as m
from assistant.evals.baselines import (
    Baseline,
    Comparison,
    Outcome,
    compare,
    load_baselines,
    load_predictions,
)
from assistant.evals.quiz import QuizSolver
from assistant.evals.runner import article_key, collection_name, open_eval_index
from assistant.evals.scoring import Judge
from assistant.index import NewsIndex
from assistant.ingest import IngestReport, ProgressCallback
from assistant.settings import Settings
from assistant.verification import looks_like_refusal

Mode = Literal["mc", "open"]
RETRIEVAL_DEPTH = 10
QUESTIONS_FILE = "questions.jsonl"
NOTA_FILE = "questions_nota.jsonl"
NOTA = "None of the above"
SUMMARY_KEYS = ("questions", "mc_accuracy", "open_accuracy", "open_accuracy_lenient",
                "nota_questions", "nota_recall", "nota_false_rate", "hit@1", "hit@5", "hit@10",
                "mrr", "search_hit@5", "search_hit@10", "citation_accuracy", "refusal_rate",
                "latency_p50_s", "latency_p95_s")
# The engine appends when its sources were published, e.g. "(Source dated 4 January 2026.)":
# not part of the answer, and its day numbers would match numeric options.
_DATE_NOTE = re.compile(r"\s*\((?:Source|Sources) dated [^()]*\)\s*$")


@dataclass(frozen=True)
class QuizQuestion:
    """What the system under test is shown: no answer, no evidence, no gold articles."""

    id: str
    date: date
    question: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class QuizKey:
    """The answer key, for scoring only."""

    answer_index: int
    answer: str
    gold_urls: tuple[str, ...] = ()
    search_urls: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuizItem:
    question: QuizQuestion
    key: QuizKey


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _parse_item(obj: Any, where: str) -> QuizItem:
    if not isinstance(obj, dict):
        raise InputError(f"{where}: expected a JSON object")
    for name in ("id", "date", "question", "choices", "answer_index", "answer"):
        if obj.get(name) in (None, ""):
            raise InputError(f"{where}: missing '{name}'")
    choices = obj["choices"]
    if not isinstance(choices, list) or len(choices) < 2 or not all(
            isinstance(c, str) for c in choices):
        raise InputError(f"{where}: 'choices' must be a list of at least two strings")
    index = obj["answer_index"]
    if not isinstance(index, int) or not 0 <= index < len(choices):
        raise InputError(f"{where}: 'answer_index' {index!r} is not an index into 'choices'")
    try:
        day = date.fromisoformat(str(obj["date"])[:10])
    except ValueError:
        raise InputError(f"{where}: 'date' {obj['date']!r} is not YYYY-MM-DD") from None
    question = QuizQuestion(str(obj["id"]), day, str(obj["question"]), tuple(choices))
    key = QuizKey(index, str(obj["answer"]), _strings(obj.get("gold_urls")),
                  _strings(obj.get("search_urls")))
    return QuizItem(question, key)


def questions_path(folder: Path, questions: Path | str | None = None,
                   nota: bool = False) -> Path:
    """The question file a run reads: ``questions`` (relative to ``folder`` unless absolute),
    ``questions_nota.jsonl`` for ``nota``, else ``questions.jsonl``."""
    if nota and questions is not None:
        raise InputError("--nota is short for --questions questions_nota.jsonl: give one of them")
    path = Path(questions) if questions is not None else Path(NOTA_FILE if nota else
                                                             QUESTIONS_FILE)
    return path if path.is_absolute() else folder / path


def load_quiz(folder: Path, questions: Path | None = None) -> list[QuizItem]:
    """The questions of a benchmark folder (or of the file ``questions``), each split into
    question and answer key."""
    path = questions if questions is not None else folder / QUESTIONS_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read questions ({exc.strerror or exc})") from None
    items: list[QuizItem] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
        item = _parse_item(obj, f"{path}:{number}")
        if item.question.id in seen:
            raise InputError(f"{path}:{number}: duplicate id {item.question.id!r}")
        seen.add(item.question.id)
        items.append(item)
    if not items:
        raise InputError(f"{path}: no questions")
    return items


def nota_index(choices: Sequence[str]) -> int | None:
    """The position of the "None of the above" option (None when there is none)."""
    wanted = m.normalise_answer(NOTA)
    return next((i for i, c in enumerate(choices) if m.normalise_answer(c) == wanted), None)


# -- answering: sees only QuizQuestion -----------------------------------------------------------
@dataclass
class QuizResponse:
    """What the system answered, and what retrieval found for the same query."""

    choice: int | None = None  # multiple choice: the option picked
    text: str = ""  # open: the answer; multiple choice: the picked option's text
    refused: bool = False
    reason: str = ""  # why it refused
    cited: list[m.ArticleKey] = field(default_factory=list)
    retrieved: list[m.ArticleKey] = field(default_factory=list)  # depth-10 search, rank order
    latency_s: float = 0.0
    support: float | None = None  # with NOTA: the judged support of the best other option
    best_real: int | None = None  # with NOTA: that option


def _keys(passages: Sequence[Passage]) -> list[m.ArticleKey]:
    return m.distinct(article_key(p) for p in passages)


def _deeper(index: NewsIndex, trace: RetrievalTrace | None, depth: int) -> list[m.ArticleKey]:
    """Distinct articles of the answer's own search, repeated to ``depth`` ([] if none)."""
    return _keys(trace.search(index, depth)) if trace is not None else []


def answer_choice(solver: QuizSolver, question: QuizQuestion, closed_book: bool = False,
                  depth: int = RETRIEVAL_DEPTH) -> QuizResponse:
    """Pick an option; then repeat its search to depth ``depth`` for the retrieval metrics."""
    started = time.perf_counter()
    picked = solver.choose(question.question, list(question.choices),
                           reference_date=question.date, closed_book=closed_book)
    latency = time.perf_counter() - started
    text = question.choices[picked.index] if picked.index is not None else ""
    return QuizResponse(picked.index, text, picked.index is None,
                        "no option picked" if picked.index is None else "",
                        retrieved=_deeper(solver.assistant.index, picked.retrieval, depth),
                        latency_s=latency, support=picked.support, best_real=picked.best_real)


def answer_open(solver: QuizSolver, question: QuizQuestion, closed_book: bool = False,
                depth: int = RETRIEVAL_DEPTH) -> QuizResponse:
    """Answer freely (no options shown); then repeat its search to depth ``depth``."""
    started = time.perf_counter()
    if closed_book:
        text = solver.answer_closed_book(question.question, question.date).strip()
        reason = ("no answer" if not text else
                  "the model says it does not know" if looks_like_refusal(text) else "")
        return QuizResponse(None, text, bool(reason), reason,
                            latency_s=time.perf_counter() - started)
    answer = solver.assistant.ask(question.question, reference_date=question.date)
    latency = time.perf_counter() - started
    reason = (answer.reason or "no reason given") if answer.refused else ""
    return QuizResponse(None, answer.text, answer.refused, reason,
                        cited=m.distinct(article_key(c) for c in answer.citations),
                        retrieved=_deeper(solver.assistant.index, answer.retrieval, depth),
                        latency_s=latency)


# -- scoring: the only place that reads QuizKey --------------------------------------------------
@dataclass
class QuestionResult:
    id: str
    date: str
    question: str
    mode: str
    closed_book: bool
    answer: str  # what the system said (the picked option in multiple choice)
    choice: int | None
    refused: bool
    correct: bool
    judged: bool
    expected: str
    expected_index: int
    has_gold: bool
    gold_rank: int | None
    cited: list[str]
    cited_ok: int  # cited articles that are a gold or search url of this question
    latency_s: float
    reason: str = ""  # why it refused ("" when it answered)
    lenient: bool | None = None  # open answers: the lenient score (metrics.lenient_matches)
    has_search: bool = False  # the question lists search_urls
    search_rank: int | None = None  # rank of its first search_urls article, among 10
    nota_choice: int | None = None  # the position of a "None of the above" option
    options: int = 0  # how many options the question has
    # With NOTA: the best other option and its judged support, so that a threshold can be
    # chosen from one run (support below it picks None of the above).
    best_real: int | None = None
    support: float | None = None

    @property
    def strict(self) -> bool:
        """Correct by the string match alone (not by the LLM judge)."""
        return self.correct and not self.judged

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["latency_s"] = round(self.latency_s, 4)
        return data


def score(question: QuizQuestion, key: QuizKey, response: QuizResponse, mode: Mode,
          closed_book: bool, judge: Judge | None = None) -> QuestionResult:
    lenient = None
    if mode == "mc":
        correct, judged = response.choice == key.answer_index, False
    else:
        correct, lenient = (False, False) if response.refused else _string_scores(
            response.text, question, key)
        judged = False
        if not correct and not response.refused and judge is not None:
            correct = judged = judge(question.question, [key.answer], response.text)
    relevant = set(key.gold_urls) | set(key.search_urls)
    cited = [c.url or c.id for c in response.cited]
    rank = (m.first_relevant_rank(response.retrieved, list(key.gold_urls))
            if key.gold_urls and not closed_book else None)
    search_rank = (m.first_relevant_rank(response.retrieved, list(key.search_urls))
                   if key.search_urls and not closed_book else None)
    return QuestionResult(
        id=question.id, date=question.date.isoformat(), question=question.question, mode=mode,
        closed_book=closed_book, answer=response.text, choice=response.choice,
        refused=response.refused, correct=correct, judged=judged, expected=key.answer,
        expected_index=key.answer_index, has_gold=bool(key.gold_urls), gold_rank=rank,
        cited=cited, cited_ok=sum(1 for c in response.cited
                                  if c.url in relevant or c.id in relevant),
        latency_s=response.latency_s, reason=response.reason, lenient=lenient,
        has_search=bool(key.search_urls), search_rank=search_rank,
        nota_choice=nota_index(question.choices), options=len(question.choices),
        best_real=response.best_real, support=response.support,
    )


def rescore(result: QuestionResult, question: QuizQuestion, key: QuizKey) -> QuestionResult:
    """A resumed free answer scored again by the current string scores: a change of the scorer
    (e.g. a new lenient rule) re-scores recorded answers without asking the model again. An
    answer the LLM judge accepted keeps that verdict."""
    if result.mode != "open" or result.refused:
        return result
    strict, lenient = _string_scores(result.answer, question, key)
    return replace(result, correct=strict or (result.correct and result.judged),
                   judged=result.judged and not strict, lenient=lenient)


def _string_scores(answer: str, question: QuizQuestion, key: QuizKey) -> tuple[bool, bool]:
    """The strict and lenient match of a free answer (its note of source dates left out)."""
    text = _DATE_NOTE.sub("", answer)
    return (m.answer_matches(text, [key.answer]),
            m.lenient_matches(text, question.choices, key.answer_index, question.question))


def summarise(results: Sequence[QuestionResult], mode: Mode,
              closed_book: bool) -> dict[str, float | int | None]:
    """The benchmark's metrics (None where they do not apply, e.g. retrieval in closed book).

    ``nota_recall``: of the questions whose answer is "None of the above", the share where it
    was picked; ``nota_false_rate``: of the questions that offer it but have another answer,
    the share where it was picked. ``search_hit@k``: the share of the questions with
    ``search_urls`` that have one of them among the first k distinct articles retrieved.
    """
    accuracy = m.rate([r.correct for r in results])
    ranks = [r.gold_rank for r in results if r.has_gold] if not closed_book else []
    search_ranks = [r.search_rank for r in results if r.has_search] if not closed_book else []
    offered = [r for r in results if r.nota_choice is not None] if mode == "mc" else []
    nota_right = [r.choice == r.nota_choice for r in offered if r.expected_index == r.nota_choice]
    nota_wrong = [r.choice == r.nota_choice for r in offered if r.expected_index != r.nota_choice]
    cited = sum(len(r.cited) for r in results)
    latencies = [r.latency_s for r in results]
    return {
        "questions": len(results),
        "mc_accuracy": accuracy if mode == "mc" else None,
        "open_accuracy": accuracy if mode == "open" else None,
        "open_accuracy_lenient": (m.rate([bool(r.lenient) for r in results])
                                  if mode == "open" else None),
        "nota_questions": len(nota_right) if offered else None,
        "nota_recall": m.rate(nota_right),
        "nota_false_rate": m.rate(nota_wrong),
        "hit@1": m.hit_at_k(ranks, 1),
        "hit@5": m.hit_at_k(ranks, 5),
        "hit@10": m.hit_at_k(ranks, 10),
        "mrr": m.mean_reciprocal_rank(ranks),
        "search_hit@5": m.hit_at_k(search_ranks, 5),
        "search_hit@10": m.hit_at_k(search_ranks, 10),
        "citation_accuracy": sum(r.cited_ok for r in results) / cited if cited else None,
        "refusal_rate": m.rate([r.refused for r in results]),
        "latency_p50_s": m.percentile(latencies, 50),
        "latency_p95_s": m.percentile(latencies, 95),
    }


def refusal_reasons(results: Sequence[QuestionResult]) -> dict[str, int]:
    """How many questions were refused for each kind of reason, most frequent first."""
    counts: dict[str, int] = {}
    for r in results:
        if r.refused:
            kind = m.reason_kind(r.reason)
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def compare_with_baselines(results: Sequence[QuestionResult], items: Sequence[QuizItem],
                           reference: Sequence[QuizItem], baselines: Sequence[Baseline],
                           predictions: dict[str, dict[str, Any]], mode: Mode,
                           closed_book: bool) -> list[Comparison]:
    """Each baseline of the run's kind beside this run, on the questions it answered.

    Only questions that are the same as in ``questions.jsonl`` (text, options and answer)
    take part: the baselines' predictions name options of those.
    """
    by_id = {i.question.id: i for i in reference}
    same = comparable_ids(items, reference)
    ours = {r.id: Outcome(r.strict, r.lenient) for r in results if r.id in same}
    return compare(baselines, predictions, by_id, ours, mode, closed_book)


def comparable_ids(items: Sequence[QuizItem], reference: Sequence[QuizItem]) -> set[str]:
    """The questions of ``items`` that are in ``reference`` with the same text, options, answer."""
    by_id = {i.question.id: i for i in reference}
    return {i.question.id for i in items if by_id.get(i.question.id) == i}


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class QuizRun:
    folder: Path
    mode: Mode
    closed_book: bool
    backend: str
    collection: str
    results: list[QuestionResult]
    summary: dict[str, float | int | None]
    comparisons: list[Comparison] = field(default_factory=list)
    ingest: IngestReport | None = None
    resumed: int = 0  # results taken from the resume file
    judge: str | None = None
    questions_file: Path | None = None
    comparable: int = 0  # questions that are also in questions.jsonl, options and all

    @property
    def refusal_reasons(self) -> dict[str, int]:
        return refusal_reasons(self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary,
            "refusal_reasons": self.refusal_reasons,
            "baselines": [c.to_dict() for c in self.comparisons],
            "questions_file": str(self.questions_file) if self.questions_file else None,
            "mode": self.mode,
            "closed_book": self.closed_book,
            "backend": self.backend,
            "judge": self.judge,
            "data": str(self.folder),
            "collection": self.collection,
            "gold_questions": sum(1 for r in self.results if r.has_gold),
            "resumed": self.resumed,
            "results": [r.to_dict() for r in self.results],
        }


def benchmark_collection(folder: Path) -> str:
    """One collection per benchmark folder (its name plus a hash of its absolute path)."""
    return collection_name("rtqa", folder.name, str(folder.resolve()))


def open_benchmark_index(settings: Settings, folder: Path,
                         progress: ProgressCallback | None = None
                         ) -> tuple[NewsIndex, IngestReport]:
    """The benchmark's own index, synced with its corpus.jsonl (unchanged articles are skipped)."""
    corpus = folder / "corpus.jsonl"
    if not corpus.is_file():
        raise InputError(f"{corpus}: not found; a benchmark folder needs corpus.jsonl")
    return open_eval_index(settings, benchmark_collection(folder), [corpus], progress)


_RESULT_FIELDS = frozenset(f.name for f in fields(QuestionResult))


class ResumeFile:
    """Per-question results appended as they are produced, so an interrupted run carries on."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.config = config
        self.done: dict[str, QuestionResult] = {}
        if path.is_file():
            self._load()

    def _load(self) -> None:
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                config, result = row["run"], QuestionResult(**row["result"])
                if not isinstance(result.answer, str):  # it is scored again on resuming
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputError(f"{self.path}:{number}: not a results line of "
                                 "'assistant eval realtimeqa'; use another --resume file") from None
            missing = _RESULT_FIELDS - set(row["result"])
            if missing:  # its defaults would skew the new metrics: not silently mixed in
                raise InputError(f"{self.path}:{number}: written by an earlier version of "
                                 f"'assistant eval realtimeqa' (no {sorted(missing)[0]!r}); "
                                 "use another --resume file")
            if config != self.config:
                raise InputError(f"{self.path}: holds results of another run ({config}); "
                                 "use another --resume file")
            self.done[result.id] = result

    def add(self, result: QuestionResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"run": self.config, "result": result.to_dict()},
                                    ensure_ascii=False) + "\n")


def run_realtimeqa(
    folder: Path,
    settings: Settings,
    *,
    mode: Mode = "mc",
    limit: int | None = None,
    closed_book: bool = False,
    questions: Path | str | None = None,
    nota: bool = False,
    backend: Backend | str | None = None,
    judge: Judge | None = None,
    judge_name: str | None = None,
    resume: Path | None = None,
    on_ingest: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
    on_question: Callable[[QuestionResult], None] | None = None,
) -> QuizRun:
    """Ask the benchmark's questions (the first ``limit`` of ``questions``, by default
    ``questions.jsonl``; ``nota``: ``questions_nota.jsonl``) and score them."""
    if mode not in ("mc", "open"):
        raise InputError(f"--mode {mode!r}: choose mc or open")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit}: must be at least 1")
    # Everything is read and checked before any question is asked.
    path = questions_path(folder, questions, nota)
    if not path.is_file():
        raise InputError(f"{path}: not found; --questions takes a questions file in the "
                         f"benchmark's format (relative to {folder} unless absolute)")
    items = load_quiz(folder, path)
    if mode == "open":
        nota_answers = sum(1 for i in items
                           if nota_index(i.question.choices) == i.key.answer_index)
        if nota_answers:
            raise InputError(f"{path}: {nota_answers} questions have '{NOTA}' as their answer, "
                             "which a free answer cannot give; use --mode mc")
    reference_path = folder / QUESTIONS_FILE
    default = path.resolve() == reference_path.resolve()
    reference = (items if default else
                 load_quiz(folder) if reference_path.is_file() else [])
    items = items[:limit]
    baselines = load_baselines(folder)
    predictions = load_predictions(folder) if baselines else {}
    report = None
    if closed_book:  # no retrieval: the index is not needed, and not built
        index = NewsIndex(settings.updated(collection=benchmark_collection(folder)))
    else:
        index, report = open_benchmark_index(settings, folder, on_ingest)
    engine = backend if isinstance(backend, Backend) else create_backend(settings, backend)
    solver = QuizSolver(Assistant(index.settings, backend=engine, index=index))
    config = {"data": str(folder.resolve()), "questions": str(path.resolve()), "mode": mode,
              "closed_book": closed_book, "backend": engine.name, "judge": judge_name}
    saved = ResumeFile(resume, config) if resume else None
    answer = answer_choice if mode == "mc" else answer_open
    if on_start:
        on_start(len(items))
    results: list[QuestionResult] = []
    resumed = 0
    for item in items:
        result = saved.done.get(item.question.id) if saved else None
        if result is not None:
            resumed += 1
            result = rescore(result, item.question, item.key)
        else:
            response = answer(solver, item.question, closed_book)
            result = score(item.question, item.key, response, mode, closed_book, judge)
            if saved:
                saved.add(result)
        results.append(result)
        if on_question:
            on_question(result)
    comparisons = compare_with_baselines(results, items, reference, baselines, predictions,
                                         mode, closed_book)
    return QuizRun(folder, mode, closed_book, engine.name, index.settings.store.collection, results,
                   summarise(results, mode, closed_book), comparisons, report, resumed, judge_name,
                   path, len(comparable_ids(items, reference)))


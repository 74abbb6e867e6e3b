"""Published baselines of a RealTimeQA-format folder, and a run beside each on the same questions.

``baselines.json`` comes in two layouts:

- 2022: ``{"multiple_choice_accuracy": {name: {"accuracy", "answered", ...}}}``: published
  multiple-choice figures over the whole ``questions.jsonl``, nothing per question.
- 2026: ``{"baselines": {kind: {model: {"accuracy", "answered"}}}}``, kind one of
  :data:`KINDS`, with ``baseline_predictions.jsonl`` beside it: one line per question,
  ``{"id": ..., "model:kind": prediction, ...}``, the prediction being the option index
  (0-based) for ``mc_*`` kinds, the free answer for ``open_*`` kinds, null when the model did
  not answer that question.

A model did not answer every week, so each one is compared on exactly the questions it
answered: its accuracy there, recomputed from its predictions with this project's scorer
(strict, and for free answers also lenient), beside this run's accuracy on the same questions.
The recomputation over all of ``questions.jsonl`` is checked against ``baselines.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import InputError
from assistant.evals import metrics as m

if TYPE_CHECKING:
    from assistant.evals.realtimeqa import QuizItem

KINDS = ("mc_search", "mc_closed", "open_search", "open_closed")
PUBLISHED_MC = "mc"  # the 2022 layout: multiple choice, published figures only
KIND_TEXT = {
    "mc_search": "multiple choice, given the search results",
    "mc_closed": "multiple choice, closed book",
    "open_search": "free answers, given the search results",
    "open_closed": "free answers, closed book",
    PUBLISHED_MC: "multiple choice, published figures",
}
LABELS = {
    "open_gpt3_gcs": "GPT-3 + Google Custom Search",
    "open_rag_gcs": "RAG + Google search",
    "open_gpt3_dpr": "GPT-3 + DPR",
    "open_rag_dpr": "RAG + DPR",
    "closed_gpt3": "closed-book GPT-3",
    "closed_t5": "closed-book T5",
}
PREDICTIONS_FILE = "baseline_predictions.jsonl"
_PUBLISHED_PRECISION = 5e-5  # baselines.json rounds accuracies to 4 decimals


@dataclass(frozen=True)
class Baseline:
    """One published figure: a system, the kind of run, its accuracy and how many it answered."""

    name: str
    kind: str
    accuracy: float
    answered: int | None = None

    @property
    def key(self) -> str:
        """Its column in ``baseline_predictions.jsonl``."""
        return f"{self.name}:{self.kind}"

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name)


def matching_kind(mode: str, closed_book: bool) -> str:
    """The baseline kind a run compares with: mc/open, given the search results or closed book."""
    return f"{mode}_{'closed' if closed_book else 'search'}"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read baselines ({exc})") from None


def _rows(table: Any, kind: str) -> list[Baseline]:
    if not isinstance(table, dict):
        return []
    found = []
    for name, row in table.items():
        if not isinstance(row, dict) or isinstance(row.get("accuracy"), bool) or not isinstance(
                row.get("accuracy"), (int, float)):
            continue
        answered = row.get("answered")
        found.append(Baseline(str(name), kind, float(row["accuracy"]),
                              answered if isinstance(answered, int) else None))
    return found


def load_baselines(folder: Path) -> list[Baseline]:
    """The published figures of ``folder/baselines.json`` in either layout ([] when absent)."""
    path = folder / "baselines.json"
    if not path.is_file():
        return []
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object")
    if isinstance(data.get("baselines"), dict):
        grouped = data["baselines"]
        unknown = sorted(set(grouped) - set(KINDS))
        if unknown:
            raise InputError(f"{path}: unknown baseline kind {unknown[0]!r} (expected one of "
                             f"{', '.join(KINDS)})")
        return [b for kind in KINDS for b in _rows(grouped.get(kind), kind)]
    return _rows(data.get("multiple_choice_accuracy"), PUBLISHED_MC)


Predictions = dict[str, dict[str, Any]]  # question id -> {"model:kind": prediction or None}


def load_predictions(folder: Path) -> Predictions:
    """``folder/baseline_predictions.jsonl`` by question id ({} when absent)."""
    path = folder / PREDICTIONS_FILE
    if not path.is_file():
        return {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read baseline predictions ({exc})") from None
    found: Predictions = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: malformed JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise InputError(f"{path}:{number}: expected an object with a string 'id'")
        found[row["id"]] = {k: v for k, v in row.items() if k != "id"}
    return found


@dataclass(frozen=True)
class Outcome:
    """One of this run's answers as the comparison sees it: strict (and lenient) correctness."""

    correct: bool
    lenient: bool | None = None


def score_prediction(prediction: Any, item: QuizItem, kind: str) -> Outcome | None:
    """A baseline's prediction scored like this run's answers (None: not a usable prediction)."""
    key, question = item.key, item.question
    if kind.startswith("mc"):
        if isinstance(prediction, bool) or not isinstance(prediction, int):
            return None
        # An index that names no option (the files use -1) is an answer, and a wrong one:
        # baselines.json counts it so.
        return Outcome(prediction == key.answer_index)
    if not isinstance(prediction, str):
        return None
    return Outcome(m.answer_matches(prediction, [key.answer]),
                   m.lenient_matches(prediction, question.choices, key.answer_index,
                                     question.question))


@dataclass
class Comparison:
    """A baseline beside this run, on the questions of this run that the baseline answered."""

    baseline: Baseline
    questions: int  # this run's questions the baseline answered: what both figures are over
    accuracy: float | None  # the baseline's (strict) accuracy on them
    ours: float | None  # this run's (strict) accuracy on the same questions
    lenient: float | None = None  # free answers: the baseline's lenient accuracy on them
    ours_lenient: float | None = None
    recomputed: float | None = None  # over all its answers in questions.jsonl
    recomputed_answered: int | None = None
    check: str = ""  # how the recomputed figure compares with baselines.json

    @property
    def matches_published(self) -> bool | None:
        if self.recomputed is None:
            return None
        return (self.recomputed_answered == self.baseline.answered
                and abs(self.recomputed - self.baseline.accuracy) <= _PUBLISHED_PRECISION)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.baseline.name,
            "label": self.baseline.label,
            "kind": self.baseline.kind,
            "questions": self.questions,
            "accuracy": self.accuracy,
            "ours": self.ours,
            "lenient_accuracy": self.lenient,
            "ours_lenient": self.ours_lenient,
            "published_accuracy": self.baseline.accuracy,
            "published_answered": self.baseline.answered,
            "recomputed_accuracy": self.recomputed,
            "recomputed_answered": self.recomputed_answered,
            "matches_published": self.matches_published,
            "check": self.check,
        }


def _rate(outcomes: Sequence[bool | None]) -> float | None:
    flags = [o for o in outcomes if o is not None]
    return m.rate(flags) if len(flags) == len(outcomes) else None


def _published_only(baseline: Baseline, ours: Mapping[str, Outcome]) -> Comparison:
    """A published figure without predictions (the 2022 layout): over the whole questions
    file, nothing per question."""
    check = "published figure only (no per-question predictions)"
    if baseline.answered is not None:
        check += f", over {baseline.answered} questions"
        if len(ours) != baseline.answered:
            check += f"; this run: {len(ours)} of them"
    return Comparison(baseline, len(ours), baseline.accuracy,
                      _rate([o.correct for o in ours.values()]), check=check)


def _compare(baseline: Baseline, predictions: Predictions, reference: Mapping[str, QuizItem],
             ours: Mapping[str, Outcome]) -> Comparison:
    scored: dict[str, Outcome] = {}
    unusable = no_option = 0
    for qid, item in reference.items():
        prediction = predictions.get(qid, {}).get(baseline.key)
        if prediction is None:
            continue
        outcome = score_prediction(prediction, item, baseline.kind)
        if outcome is None:
            unusable += 1
            continue
        scored[qid] = outcome
        if isinstance(prediction, int) and not 0 <= prediction < len(item.question.choices):
            no_option += 1
    shared = [qid for qid in ours if qid in scored]
    open_kind = baseline.kind.startswith("open")
    comparison = Comparison(
        baseline, len(shared),
        _rate([scored[q].correct for q in shared]), _rate([ours[q].correct for q in shared]),
        _rate([scored[q].lenient for q in shared]) if open_kind else None,
        _rate([ours[q].lenient for q in shared]) if open_kind else None,
        _rate([o.correct for o in scored.values()]), len(scored),
    )
    if not scored:
        comparison.check = f"no usable predictions in {PREDICTIONS_FILE}"
    elif comparison.matches_published:
        comparison.check = "matches baselines.json"
    else:
        comparison.check = _difference(baseline, comparison.recomputed or 0.0, len(scored))
    if no_option:
        comparison.check += f"; {_n(no_option, 'answer')} naming no option, counted wrong"
    if unusable:
        comparison.check += f"; {_n(unusable, 'prediction')} of the wrong type skipped"
    return comparison


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _difference(baseline: Baseline, recomputed: float, answered: int) -> str:
    """What differs between the published figure and the one its predictions give."""
    published = f"{baseline.accuracy:.4f}"
    why = []
    if baseline.answered is not None:
        published += f" on {baseline.answered}"
        missing = baseline.answered - answered
        if missing > 0:
            why.append(f"{_n(missing, 'answer')} counted there with no prediction here")
        elif missing < 0:
            why.append(f"{_n(-missing, 'answer')} more here")
        more = round(recomputed * answered) - round(baseline.accuracy * baseline.answered)
        if more:
            why.append(f"{abs(more)} {'more' if more > 0 else 'fewer'} right by this scorer")
    reasons = f" ({'; '.join(why)})" if why else ""
    return (f"differs: baselines.json {published}, its predictions {recomputed:.4f} on "
            f"{answered}{reasons}")


def compare(baselines: Sequence[Baseline], predictions: Predictions,
            reference: Mapping[str, QuizItem], ours: Mapping[str, Outcome], mode: str,
            closed_book: bool) -> list[Comparison]:
    """Each baseline of the run's kind beside the run, best first.

    ``reference``: the questions the baselines ran on (``questions.jsonl``) by id; ``ours``:
    this run's outcomes by question id, for the questions that are the same as in
    ``reference`` (a question file with other options, e.g. None of the above, has none).
    """
    kind = matching_kind(mode, closed_book)
    rows = []
    for baseline in baselines:
        if baseline.kind == kind:
            rows.append(_compare(baseline, predictions, reference, ours) if predictions
                        else _published_only(baseline, ours))
        elif baseline.kind == PUBLISHED_MC and mode == "mc":
            rows.append(_published_only(baseline, ours))
    return sorted(rows, key=lambda c: (c.accuracy is None, -(c.accuracy or 0.0),
                                       c.baseline.name))

"""Choose ``evals.nota_threshold`` from one None-of-the-above run, without the model again.

    assistant eval realtimeqa --data DIR --mode mc --nota --resume nota.jsonl
    python benchmarks/nota_sweep.py nota.jsonl
    python benchmarks/nota_sweep.py nota.jsonl --thresholds 0.3,0.4,0.5

Each result line of a ``--nota`` run records the best other option and the model's judged
support for it; at a threshold t the runner picks "None of the above" when that support is
below t. So one run re-scores at every threshold: for each, the accuracy, how often NOTA is
picked when it is the answer (recall) and when it is not (false picks), against issue 8's
targets (accuracy >= 0.75, recall >= 0.70).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.errors import InputError  # noqa: E402
from assistant.evals.realtimeqa import QuestionResult, ResumeFile  # noqa: E402

ACCURACY_TARGET = 0.75
RECALL_TARGET = 0.70


@dataclass(frozen=True)
class Sweep:
    threshold: float
    right: int
    total: int
    nota_picked: int  # NOTA picked where it is the answer
    nota_answers: int  # questions whose answer is NOTA
    false_picks: int  # NOTA picked where a real option is the answer
    real_answers: int

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def recall(self) -> float:
        return self.nota_picked / self.nota_answers if self.nota_answers else 0.0

    @property
    def false_rate(self) -> float:
        return self.false_picks / self.real_answers if self.real_answers else 0.0


def load_results(path: Path) -> list[QuestionResult]:
    """The results of a ``--nota`` run's ``--resume`` file, read by the runner's own loader."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read it ({exc.strerror}); give the --resume file "
                         "of an 'assistant eval realtimeqa --nota' run") from None
    if not lines:
        return []
    try:  # the run's own settings, so that the loader accepts exactly that run's lines
        config = json.loads(lines[0])["run"]
    except (json.JSONDecodeError, KeyError, TypeError):
        config = None  # the loader names the bad line
    try:
        results = list(ResumeFile(path, config).done.values())
    except InputError as exc:
        raise SystemExit(str(exc)) from None
    for result in results:
        if result.nota_choice is None:
            raise SystemExit(f"{path}: question {result.id} has no 'None of the above' option; "
                             "give the results of a --nota run")
    return results


def pick(result: QuestionResult, threshold: float) -> int | None:
    """The option the runner would pick at this threshold."""
    if result.support is None or result.best_real is None:
        return result.choice  # no judgement recorded (no model scores): the run's own pick
    return result.nota_choice if result.support < threshold else result.best_real


def sweep(results: list[QuestionResult], thresholds: list[float]) -> list[Sweep]:
    rows = []
    is_nota = [r.expected_index == r.nota_choice for r in results]
    for t in thresholds:
        picks = [pick(r, t) for r in results]
        rows.append(Sweep(
            threshold=t,
            right=sum(p == r.expected_index for p, r in zip(picks, results, strict=True)),
            total=len(results),
            nota_picked=sum(n and p == r.nota_choice
                            for p, r, n in zip(picks, results, is_nota, strict=True)),
            nota_answers=sum(is_nota),
            false_picks=sum(not n and p == r.nota_choice
                            for p, r, n in zip(picks, results, is_nota, strict=True)),
            real_answers=len(results) - sum(is_nota),
        ))
    return rows


def table(rows: list[Sweep]) -> list[str]:
    """Markdown lines: one column per threshold, the targets met marked with *."""
    def cell(value: float, target: float | None = None) -> str:
        return f"{value:.3f}" + ("*" if target is not None and value >= target else "")
    n, real = (rows[0].nota_answers, rows[0].real_answers) if rows else (0, 0)
    return [
        "| nota_threshold | " + " | ".join(f"{r.threshold:g}" for r in rows) + " |",
        "|---|" + "---:|" * len(rows),
        "| accuracy | " + " | ".join(cell(r.accuracy, ACCURACY_TARGET) for r in rows) + " |",
        f"| NOTA picked when it is the answer ({n}) | "
        + " | ".join(cell(r.recall, RECALL_TARGET) for r in rows) + " |",
        f"| NOTA picked wrongly ({real}) | "
        + " | ".join(cell(r.false_rate) for r in rows) + " |",
    ]


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected numbers separated by commas") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the --resume file of a --nota run")
    parser.add_argument("--thresholds", type=_floats,
                        default=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6])
    args = parser.parse_args()
    results = load_results(args.results)
    if not results:
        raise SystemExit(f"{args.results}: holds no results yet")
    rows = sweep(results, args.thresholds)
    print(f"{len(results)} questions of {args.results}; * = target met "
          f"(accuracy >= {ACCURACY_TARGET}, NOTA recall >= {RECALL_TARGET})")
    print("\n".join(table(rows)))
    both = [r.threshold for r in rows
            if r.accuracy >= ACCURACY_TARGET and r.recall >= RECALL_TARGET]
    best = max(rows, key=lambda r: (r.accuracy, r.recall))
    print(f"best accuracy at {best.threshold:g}: {best.right}/{best.total} = "
          f"{best.accuracy:.3f}, recall {best.recall:.3f}; both targets met at: "
          + (", ".join(f"{t:g}" for t in both) or "none"))


if __name__ == "__main__":
    main()

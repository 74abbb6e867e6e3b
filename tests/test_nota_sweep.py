"""benchmarks/nota_sweep.py: one --nota run re-scored at every threshold."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from assistant.evals.realtimeqa import QuestionResult

ROOT = Path(__file__).resolve().parent.parent


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nota_sweep",
                                                  ROOT / "benchmarks" / "nota_sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _result(qid: str, expected: int, best_real: int | None, support: float | None,
            choice: int | None = None) -> QuestionResult:
    return QuestionResult(
        id=qid, date="2026-01-08", question="Which city?", mode="mc", closed_book=False,
        answer="", choice=choice, refused=False, correct=choice == expected, judged=False,
        expected="", expected_index=expected, has_gold=False, gold_rank=None, cited=[],
        cited_ok=0, latency_s=1.0, nota_choice=3, options=4, best_real=best_real,
        support=support)


def _write(path: Path, results: list[QuestionResult]) -> Path:
    run = {"data": "d", "mode": "mc"}
    path.write_text("".join(json.dumps({"run": run, "result": r.to_dict()}) + "\n"
                            for r in results), encoding="utf-8")
    return path


def test_each_threshold_picks_nota_below_the_judged_support(tmp_path: Path) -> None:
    sweep = _module()
    results = sweep.load_results(_write(tmp_path / "nota.jsonl", [
        _result("a", expected=3, best_real=0, support=0.2),   # NOTA is right, weak support
        _result("b", expected=3, best_real=1, support=0.45),  # NOTA is right, middling support
        _result("c", expected=2, best_real=2, support=0.35),  # real option right, middling
        _result("d", expected=1, best_real=1, support=0.9),   # real option right, strong
        _result("e", expected=0, best_real=None, support=None, choice=0),  # no judgement
    ]))
    low, mid, high = sweep.sweep(results, [0.1, 0.4, 0.5])
    assert (low.right, low.nota_picked, low.false_picks) == (3, 0, 0)
    assert (mid.right, mid.nota_picked, mid.false_picks) == (3, 1, 1)
    assert (high.right, high.nota_picked, high.false_picks) == (4, 2, 1)
    assert (high.nota_answers, high.real_answers) == (2, 3)
    assert high.accuracy == pytest.approx(0.8) and high.recall == 1.0
    lines = sweep.table([low, mid, high])
    assert lines[0] == "| nota_threshold | 0.1 | 0.4 | 0.5 |"
    assert lines[2] == "| accuracy | 0.600 | 0.600 | 0.800* |"  # * marks a target met
    assert lines[3] == "| NOTA picked when it is the answer (2) | 0.000 | 0.500 | 1.000* |"
    assert lines[4] == "| NOTA picked wrongly (3) | 0.000 | 0.333 | 0.333 |"


def test_bad_files_are_named_in_one_line(tmp_path: Path) -> None:
    sweep = _module()
    with pytest.raises(SystemExit, match=r"missing\.jsonl: cannot read it"):
        sweep.load_results(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"run": {}}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"bad\.jsonl:1: not a results line"):
        sweep.load_results(bad)
    plain = _result("p", expected=0, best_real=None, support=None, choice=0)
    plain.nota_choice = None
    with pytest.raises(SystemExit, match=r"plain\.jsonl: question p has no 'None of the"):
        sweep.load_results(_write(tmp_path / "plain.jsonl", [plain]))

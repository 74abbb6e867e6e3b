"""benchmarks/runtime_agreement.py: the comparison of two runtimes' recorded results."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "runtime_agreement", ROOT / "benchmarks" / "runtime_agreement.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _suites(path: Path, passed: dict[str, bool], accuracy: float) -> None:
    results = [{"id": case, "passed": ok} for case, ok in passed.items()]
    path.write_text(json.dumps({"metrics": {"answer_accuracy": accuracy},
                                "suites": [{"suite": "seed", "results": results}]}))


def _picks(path: Path, picks: list[tuple[str, int, bool]]) -> None:
    path.write_text("".join(json.dumps({"result": {"id": q, "choice": c, "correct": ok}}) + "\n"
                            for q, c, ok in picks))


def test_agreement_is_judged_case_by_case_and_question_by_question(tmp_path: Path) -> None:
    agreement = _module()
    runtimes = ["llama-cpp-python", "xllamacpp"]
    cases = {f"c{i}": i != 0 for i in range(100)}
    _suites(tmp_path / "llama-cpp-python-suites.json", cases, 0.9)
    _suites(tmp_path / "xllamacpp-suites.json", cases, 0.9)
    right = [(f"q{i}", 0, i % 4 != 0) for i in range(100)]
    _picks(tmp_path / "llama-cpp-python-mc.jsonl", right)
    # One question answered differently (both wrong), and one more question run on one side.
    other = [*right[:99], ("q99", 2, False), ("q100", 1, True)]
    other[0] = ("q0", 3, False)
    _picks(tmp_path / "xllamacpp-mc.jsonl", other)
    lines, agree = agreement.compare(runtimes, tmp_path)
    text = "\n".join(lines)
    assert "99/100" in text and "cases that differ: none" in text
    assert "(100 questions run on both)" in text
    assert "a different option picked on 2 of 100: q0, q99" in text
    assert agree  # 75/100 against 74/100: within one question in a hundred
    # Two questions apart is outside the target.
    other[1] = ("q1", 3, False)
    _picks(tmp_path / "xllamacpp-mc.jsonl", other)
    lines, agree = agreement.compare(runtimes, tmp_path)
    assert not agree and "gap 0.020" in "\n".join(lines)


def test_a_partial_last_line_is_skipped(tmp_path: Path) -> None:
    agreement = _module()
    for runtime in ("llama-cpp-python", "xllamacpp"):
        _picks(tmp_path / f"{runtime}-mc.jsonl", [("q0", 1, True)])
    with (tmp_path / "xllamacpp-mc.jsonl").open("a") as f:
        f.write('{"result": {"id": "q1", "cho')  # killed mid-write
    lines, agree = agreement.compare(["llama-cpp-python", "xllamacpp"], tmp_path)
    assert agree and "(1 questions run on both)" in "\n".join(lines)

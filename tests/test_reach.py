"""benchmarks/reach.py: does the answer's text reach the passages and the context?"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from conftest import make_settings
from test_eval_realtimeqa import write_benchmark

ROOT = Path(__file__).resolve().parent.parent


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reach", ROOT / "benchmarks" / "reach.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_answers_are_found_in_passages_and_context_per_setting(tmp_path: Path) -> None:
    reach = _module()
    folder = write_benchmark(tmp_path / "bench")
    settings = make_settings(tmp_path)
    for mode in ("open", "mc"):
        items, hits = reach.measure(folder, settings, mode, [(5, 320), (1, 16)])
        assert [i.question.id for i in items] == ["q_volcano", "q_rates", "q_heat"]
        # Each question's article states its answer, and the engine's search finds it.
        assert all(r[0] and r[1] for r in hits[(5, 320)]), (mode, hits)
        assert all(0 < r[2] <= 320 for r in hits[(5, 320)])
        lines = reach.table(items, hits)
        assert lines[1].split() == ["5", "320", "3", "1.000", "3", "1.000",
                                    str(round(sum(r[2] for r in hits[(5, 320)]) / 3)), "+0", "-0"]
        # A 16-token budget keeps one sentence: fewer answers reach the context, and the
        # lines after the table name the questions that lost it.
        small = hits[(1, 16)]
        lost = [i.question.question for i, r in zip(items, small, strict=True) if not r[1]]
        assert lines[2].endswith(f"+0 -{len(lost)}")
        assert len(lines) == 3 + len(lost)
        assert all(q[:40] in "\n".join(lines[3:]) for q in lost)


def test_table_compares_each_setting_with_the_first(tmp_path: Path) -> None:
    reach = _module()
    folder = write_benchmark(tmp_path / "bench")
    from assistant.evals.realtimeqa import load_quiz

    items = load_quiz(folder)
    hits = {(5, 320): [(True, True, 300), (True, False, 280), (False, False, 310)],
            (8, 480): [(True, False, 450), (True, True, 470), (True, True, 460)]}
    lines = reach.table(items, hits)
    assert lines[1].split() == ["5", "320", "2", "0.667", "1", "0.333", "297", "+0", "-0"]
    assert lines[2].split() == ["8", "480", "3", "1.000", "2", "0.667", "460", "+2", "-1"]
    assert lines[3].startswith("  (8, 480) - A volcano erupted") and lines[3].endswith("Iceland")
    assert [line.split()[2] for line in lines[4:]] == ["+", "+"]

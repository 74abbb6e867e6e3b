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
        items, hits = reach.measure(folder, settings, mode,
                                    [(5, 320, "options"), (1, 16, "options")])
        assert [i.question.id for i in items] == ["q_volcano", "q_rates", "q_heat"]
        # Each question's article states its answer, and the engine's search finds it.
        full = hits[(5, 320, "options")]
        assert all(r[0] and r[1] for r in full), (mode, hits)
        assert all(0 < r[2] <= 320 for r in full)
        lines = reach.table(items, hits)
        wrong = sum(r[3] for r in full) / 3
        assert lines[1].split() == ["5", "320", "options", "3", "1.000", "3", "1.000",
                                    str(round(sum(r[2] for r in full) / 3)), f"{wrong:.2f}",
                                    "+0", "-0"]
        # A 16-token budget keeps one sentence: fewer answers reach the context, and the
        # lines after the table name the questions that lost it.
        small = hits[(1, 16, "options")]
        lost = [i.question.question for i, r in zip(items, small, strict=True) if not r[1]]
        assert lines[2].endswith(f"+0 -{len(lost)}")
        assert len(lines) == 3 + len(lost)
        assert all(q[:40] in "\n".join(lines[3:]) for q in lost)


def test_table_compares_each_setting_with_the_first(tmp_path: Path) -> None:
    reach = _module()
    folder = write_benchmark(tmp_path / "bench")
    from assistant.evals.realtimeqa import load_quiz

    items = load_quiz(folder)
    hits = {(5, 320, "options"): [(True, True, 300, 1), (True, False, 280, 0),
                                  (False, False, 310, 2)],
            (8, 480, "question"): [(True, False, 450, 0), (True, True, 470, 0),
                                   (True, True, 460, 0)]}
    lines = reach.table(items, hits)
    assert lines[1].split() == ["5", "320", "options", "2", "0.667", "1", "0.333", "297", "1.00",
                                "+0", "-0"]
    assert lines[2].split() == ["8", "480", "question", "3", "1.000", "2", "0.667", "460",
                                "0.00", "+2", "-1"]
    assert lines[3].startswith("  (8, 480, 'question') - A volcano erupted")
    assert lines[3].endswith("Iceland")
    assert [line.split()[3] for line in lines[4:]] == ["+", "+"]


def test_multiple_choice_searches_compared(tmp_path: Path) -> None:
    reach = _module()
    folder = write_benchmark(tmp_path / "bench")
    settings = make_settings(tmp_path)
    configs = [(2, 320, search) for search in reach.SEARCHES]
    items, hits = reach.measure(folder, settings, "mc", configs)
    # Every search finds each question's own article here (one article states each answer).
    for config in configs:
        assert all(r[0] and r[1] for r in hits[config]), (config, hits[config])
    from assistant.engine import Assistant
    from assistant.evals.quiz import QuizSolver
    from assistant.evals.realtimeqa import open_benchmark_index

    index, _ = open_benchmark_index(settings, folder)
    solver = QuizSolver(Assistant(index.settings, backend="extractive", index=index))
    item = items[0]
    options = reach.mc_passages(solver, item, 2, "options")
    both = reach.mc_passages(solver, item, 2, "both")
    per_option = reach.mc_passages(solver, item, 2, "per-option")
    assert len(both) <= 2 and len({p.chunk_id for p in both}) == len(both)
    # Per option: the solver's own passages first, then each option's best, never twice.
    assert [p.chunk_id for p in per_option[: len(options)]] == [p.chunk_id for p in options]
    assert len({p.chunk_id for p in per_option}) == len(per_option)
    assert len(per_option) <= 2 + len(item.question.choices)


def test_search_names_are_checked(tmp_path: Path, capsys, monkeypatch) -> None:
    reach = _module()
    folder = write_benchmark(tmp_path / "bench")
    monkeypatch.setattr(sys, "argv", ["reach.py", "--data", str(folder), "--mode", "mc",
                                      "--search", "options,everything"])
    assert reach.main() == 2
    assert "--search 'options,everything': expected some of options, question" in (
        capsys.readouterr().err)
    monkeypatch.setattr(sys, "argv", ["reach.py", "--data", str(folder), "--search", "question"])
    assert reach.main() == 2
    assert "--search applies to --mode mc" in capsys.readouterr().err

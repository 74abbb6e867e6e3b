"""benchmarks/choice_latency.py with the real local model, on a three-question benchmark."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import make_settings
from test_eval_realtimeqa import write_benchmark

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "choice_latency.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("choice_latency", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.llm
@pytest.mark.slow
def test_each_question_is_split_into_retrieval_first_order_and_other_orders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = write_benchmark(tmp_path / "bench")
    settings = make_settings(tmp_path, backend="local",
                             llm_threads=int(os.environ.get("ASSISTANT_LLM_THREADS", "2")))
    assert _module().measure(folder, 2, settings) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if re.match(r"^\s+\d+\.\d\ds", line)]
    assert len(rows) == 2
    for row in rows:
        read, prompt = map(int, re.search(r"(\d+)/(\d+)", row).groups())  # type: ignore[union-attr]
        assert 0 < read <= prompt  # the cached system message is not read again
    summary = next(line for line in lines if line.startswith("2 questions: p50"))
    assert "retrieval" in summary and "other orders" in summary
    assert re.search(r"prompt reading \d+\.\d tokens/s: within 8 s a question can read about "
                     r"\d+ new prompt tokens", "\n".join(lines))


def test_bad_arguments_are_named_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == (f"{tmp_path}: no questions.jsonl; pass --data with a "
                                     "RealTimeQA-format folder")
    folder = write_benchmark(tmp_path / "bench")
    zero = subprocess.run([sys.executable, str(SCRIPT), "--data", str(folder), "--limit", "0"],
                          capture_output=True, text=True, timeout=120)
    assert zero.returncode == 2 and zero.stderr.strip() == "--limit 0: must be at least 1"

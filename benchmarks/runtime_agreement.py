"""Do the two local runtimes give the same answers? Accuracy side by side, question by question.

    python benchmarks/runtime_agreement.py --data ../shared/benchmarks/realtimeqa-2022-dev
    python benchmarks/runtime_agreement.py --suites-only          # only the eval suites
    python benchmarks/runtime_agreement.py --data D --limit 50    # a quicker look

For each installed runtime (compiled llama-cpp-python, prebuilt xllamacpp), with the packaged
model: the eval suites (``assistant eval --backend local --json``) and, with ``--data``, the
multiple-choice RealTimeQA run (``assistant eval realtimeqa --mode mc``). Both runtimes run at
the same time by default, one thread each (the machine's two cores, so both see the same load);
``--sequential`` runs them one after the other on ``--threads``. Results go to ``--out`` and a
RealTimeQA run resumes from there, so an interrupted comparison continues where it stopped.

Target (issue 12): the same accuracy within one question in a hundred on every measure; the
questions answered differently are listed, since greedy decoding on two builds of llama.cpp can
still part on near-ties.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.backends.runtimes import available  # noqa: E402

TARGET = 0.01


def _env(runtime: str, threads: int) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_LLM_RUNTIME": runtime, "ASSISTANT_LLM_THREADS": str(threads)}


def _commands(runtime: str, args: argparse.Namespace) -> list[tuple[list[str], Path]]:
    """(command, its JSON output file) for one runtime."""
    out: Path = args.out
    todo: list[tuple[list[str], Path]] = []
    if not args.rtqa_only:
        todo.append(([sys.executable, "-m", "assistant", "eval", "--backend", "local", "--json"],
                     out / f"{runtime}-suites.json"))
    if args.data:
        command = [sys.executable, "-m", "assistant", "eval", "realtimeqa", "--data",
                   str(args.data), "--mode", "mc", "--backend", "local",
                   "--resume", str(out / f"{runtime}-mc.jsonl"), "--json"]
        if args.limit:
            command += ["--limit", str(args.limit)]
        todo.append((command, out / f"{runtime}-mc.json"))
    return todo


def _run_runtime(runtime: str, args: argparse.Namespace, threads: int) -> subprocess.Popen[bytes]:
    """One shell process running this runtime's commands in turn (stdout to their files)."""
    script = " && ".join(
        f"{' '.join(_quote(c) for c in command)} > {_quote(str(path))} "
        f"2>> {_quote(str(args.out / f'{runtime}.log'))}; true"
        for command, path in _commands(runtime, args))
    return subprocess.Popen(["bash", "-c", script], env=_env(runtime, threads), cwd=ROOT)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _picks(path: Path) -> dict[str, tuple[int | None, bool]]:
    """question id -> (option picked, right) from a RealTimeQA results file."""
    picks: dict[str, tuple[int | None, bool]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:  # a run killed mid-write leaves a partial last line: that question re-runs
                result = json.loads(line).get("result") if line.strip() else None
            except ValueError:
                continue
            if result:
                picks[result["id"]] = (result.get("choice"), bool(result.get("correct")))
    return picks


def _suite_cases(report: dict[str, Any]) -> dict[str, bool]:
    return {f"{s['suite']}/{r['id']}": bool(r.get("passed"))
            for s in report.get("suites", []) for r in s.get("results", [])}


def compare(runtimes: list[str], out: Path) -> tuple[list[str], bool]:
    """Report lines and whether every measure agrees within the target."""
    lines: list[str] = []
    agree = True
    suites = {rt: _load(out / f"{rt}-suites.json") for rt in runtimes}
    if all(suites.values()):
        cases = {rt: _suite_cases(report) for rt, report in suites.items()
                 if report is not None}
        common = sorted(set.intersection(*(set(c) for c in cases.values())))
        lines += ["", "Eval suites (cases passed):", ""]
        rates = {}
        for rt in runtimes:
            passed = sum(cases[rt][c] for c in common)
            rates[rt] = passed / len(common) if common else 0.0
            lines.append(f"  {rt:18} {passed}/{len(common)} = {rates[rt]:.3f}")
        differ = [c for c in common if len({cases[rt][c] for rt in runtimes}) > 1]
        gap = round(max(rates.values()) - min(rates.values()), 9)
        agree &= gap <= TARGET
        lines.append(f"  gap {gap:.3f} (target <= {TARGET}); cases that differ: "
                     f"{', '.join(differ) or 'none'}")
        metric_names = sorted(set.intersection(*(set((r or {}).get("metrics", {}))
                                                  for r in suites.values())))
        for name in metric_names:
            values = [(suites[rt] or {})["metrics"][name] for rt in runtimes]
            if all(isinstance(v, (int, float)) for v in values):
                lines.append(f"  {name:28} " + "  ".join(f"{v:.3f}" for v in values))
    picks = {rt: _picks(out / f"{rt}-mc.jsonl") for rt in runtimes}
    if all(picks.values()):
        common = sorted(set.intersection(*(set(p) for p in picks.values())))
        lines += ["", f"RealTimeQA multiple choice ({len(common)} questions run on both):", ""]
        accuracy = {}
        for rt in runtimes:
            right = sum(picks[rt][q][1] for q in common)
            accuracy[rt] = right / len(common) if common else 0.0
            lines.append(f"  {rt:18} {right}/{len(common)} = {accuracy[rt]:.3f}")
        differ = [q for q in common if len({picks[rt][q][0] for rt in runtimes}) > 1]
        gap = round(max(accuracy.values()) - min(accuracy.values()), 9)
        agree &= gap <= TARGET
        lines.append(f"  gap {gap:.3f} (target <= {TARGET}); a different option picked on "
                     f"{len(differ)} of {len(common)}: {', '.join(differ[:20]) or 'none'}")
    if len(lines) == 0:
        lines.append("nothing to compare yet")
        agree = False
    return lines, agree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a RealTimeQA-format folder (2022 dev)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--out", type=Path, default=Path("runtime-agreement"),
                        help="results folder (resumed when it exists)")
    parser.add_argument("--suites-only", action="store_true", help="skip RealTimeQA")
    parser.add_argument("--rtqa-only", action="store_true", help="skip the eval suites")
    parser.add_argument("--sequential", action="store_true",
                        help="one runtime after the other, on --threads")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare-only", action="store_true",
                        help="only compare what --out already holds")
    args = parser.parse_args()
    if args.suites_only:
        args.data = None
    if args.data is not None and not (args.data / "questions.jsonl").exists():
        print(f"{args.data}: no questions.jsonl here; pass a RealTimeQA-format folder "
              "(e.g. ../shared/benchmarks/realtimeqa-2022-dev)", file=sys.stderr)
        return 2
    runtimes = available()
    if len(runtimes) < 2:
        print(f"only {', '.join(runtimes) or 'no runtime'} installed: the comparison needs "
              "both (pip install -e '.[native]')", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{args.out}: cannot create the results folder ({exc.strerror or exc}); pass "
              "--out a folder you can write", file=sys.stderr)
        return 2
    if not args.compare_only:
        if args.sequential:
            for runtime in runtimes:
                _run_runtime(runtime, args, args.threads).wait()
        else:
            running = [_run_runtime(runtime, args, 1) for runtime in runtimes]
            for process in running:
                process.wait()
    lines, agree = compare(runtimes, args.out)
    print("\n".join(lines))
    print(f"\n{'PASS' if agree else 'MISS'}: the runtimes agree within {TARGET} on every measure"
          if agree else f"\nMISS: a gap above {TARGET} (see above)")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())

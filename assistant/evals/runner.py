"""Run a suite: ingest its corpus into its own collection, ask every case, score, check."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer import Answer, Citation
from assistant.backends import Backend, Turn, create_backend
from assistant.engine import Assistant
from assistant.errors import InputError
from assistant.evals.developing import ObservedConflict, ObservedEvent
from assistant.evals.metrics import ArticleKey
from assistant.evals.scoring import (
    CaseOutcome,
    Check,
    Judge,
    Observation,
    check_thresholds,
    score_case,
    suite_metrics,
)
from assistant.evals.suite import EvalCase, Suite
from assistant.index import NewsIndex
from assistant.ingest import IngestReport, ProgressCallback
from assistant.settings import Settings

CaseCallback = Callable[[CaseOutcome], None]


def collection_name(prefix: str, label: str, salt: str = "") -> str:
    """A valid collection name ``<prefix>-<label>`` (plus a hash of ``salt`` when given).

    Eval collections never share a name with the user's ("news"), so their data is untouched.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-._")[:40] or "suite"
    name = f"{prefix}-{slug}"
    if salt:
        name += "-" + hashlib.sha1(salt.encode("utf-8")).hexdigest()[:8]
    return name.rstrip("-._")


def open_eval_index(settings: Settings, collection: str, corpus: list[Path],
                    progress: ProgressCallback | None = None) -> tuple[NewsIndex, IngestReport]:
    """The eval collection under the configured data_dir, synced with ``corpus`` (incremental)."""
    index = NewsIndex(settings.updated(collection=collection))
    report = index.ingest(corpus, progress)
    if index.store.count_chunks() == 0:
        raise InputError(f"{', '.join(map(str, corpus))}: no articles could be ingested "
                         f"({len(report.rejected)} rejected)")
    return index, report


@dataclass
class SuiteResult:
    suite: Suite
    backend: str
    collection: str
    outcomes: list[CaseOutcome]
    metrics: dict[str, float | None]
    checks: list[Check]
    ingest: IngestReport = field(default_factory=IngestReport)
    seconds: float = 0.0
    judge: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if not o.passed]


def article_key(item: object) -> ArticleKey:
    """The scoring key of a Passage or a Citation."""
    return ArticleKey(getattr(item, "article_id"), getattr(item, "url", "") or "",  # noqa: B009
                      getattr(item, "title", "") or "")


def copy_keys(citation: Citation) -> list[ArticleKey]:
    """The citation's article and the copies of its story it stands for ("also reported by")."""
    return [article_key(citation)] + [
        ArticleKey(c["id"], c.get("url") or "", c.get("title") or "")
        for c in citation.also_reported_by]


def observe(answer: Answer, latency_s: float) -> Observation:
    by_n = {c.n: copy_keys(c) for c in answer.citations}
    return Observation(
        text=answer.text, refused=answer.refused, reason=answer.reason,
        retrieved=[article_key(p) for p in answer.passages],
        cited=[article_key(c) for c in answer.citations],
        latency_s=latency_s, standalone_question=answer.standalone_question,
        cited_dates=[c.published for c in answer.citations],
        events=[ObservedEvent(e.date, e.text,
                              [key for n in e.citations for key in by_n.get(n, [])])
                for e in answer.events],
        conflicts=[ObservedConflict(c.what, c.distinct_values, c.latest)
                   for c in answer.conflicts],
        as_of=answer.as_of, stale=answer.stale,
    )


def ask_case(assistant: Assistant, suite: Suite, case: EvalCase) -> Observation:
    """Ask a case's earlier questions (as the conversation), then the case; time the case."""
    options = {
        "k": suite.top_k,
        "source": case.source or None,
        "since": case.since,
        "until": case.until,
        "reference_date": case.reference_date or suite.reference_date,
    }
    history: list[Turn] = []
    for earlier in case.history:
        previous = assistant.ask(earlier, history=list(history), **options)
        history.append(Turn(earlier, previous.text))
    started = time.perf_counter()
    answer = assistant.ask(case.question, history=history, timeline=case.timeline, **options)
    return observe(answer, time.perf_counter() - started)


def run_suite(
    suite: Suite,
    settings: Settings,
    *,
    backend: Backend | str | None = None,
    judge: Judge | None = None,
    judge_name: str | None = None,
    on_ingest: ProgressCallback | None = None,
    on_case: CaseCallback | None = None,
) -> SuiteResult:
    """Run every case of ``suite`` with ``backend`` (default: the configured one)."""
    started = time.perf_counter()
    collection = collection_name("eval", suite.name)
    index, report = open_eval_index(settings, collection, suite.corpus, on_ingest)
    engine = backend if isinstance(backend, Backend) else create_backend(settings, backend)
    assistant = Assistant(index.settings, backend=engine, index=index)
    outcomes: list[CaseOutcome] = []
    for case in suite.cases:
        outcome = score_case(case, ask_case(assistant, suite, case), judge)
        outcomes.append(outcome)
        if on_case:
            on_case(outcome)
    values = suite_metrics(outcomes)
    return SuiteResult(
        suite=suite, backend=engine.name, collection=collection, outcomes=outcomes,
        metrics=values, checks=check_thresholds(values, suite.thresholds_for(engine.name)),
        ingest=report, seconds=time.perf_counter() - started, judge=judge_name,
    )

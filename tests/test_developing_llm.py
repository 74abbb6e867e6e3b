"""One timeline with the real local model: one short call per article, dated and ordered in
code, every event supported by and cited to its article. Marked ``llm``."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, make_settings

from assistant.engine import Assistant
from assistant.index import NewsIndex

pytestmark = pytest.mark.llm

CORPUS = ROOT / "evals" / "corpus-developing"
THREADS = int(os.environ.get("ASSISTANT_LLM_THREADS", "2"))


@pytest.mark.slow
def test_aurora_timeline_with_the_local_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, backend="local", llm_threads=THREADS,
                             corpus_dir=CORPUS)
    index = NewsIndex(settings)
    index.ingest([CORPUS])
    answer = Assistant(settings, index=index).timeline("the Aurora ferry grounding off Skarholm",
                                                       reference_date=date(2026, 3, 20))
    assert not answer.refused, answer.reason
    # Five articles, one of them a reprint: folded into the wire story at retrieval.
    assert answer.timings["llm_calls"] == 4
    days = [e.date for e in answer.events]
    assert days == [date(2026, 3, 15), date(2026, 3, 16), date(2026, 3, 17),
                    date(2026, 3, 19)], answer.text
    cited = {c.n: c for c in answer.citations}
    for event in answer.events:
        assert event.citations and all(n in cited for n in event.citations)
        assert all(cited[n].published == event.date for n in event.citations)
        assert len(event.text.split()) <= 45
    assert "Lindholm" not in answer.text and "Stella" not in answer.text  # the look-alike
    assert {c.what for c in answer.conflicts} >= {"passengers on board"}
    assert answer.as_of == date(2026, 3, 19)

"""A timeline through the ``openai`` backend, against the OpenAI wire-format fixture server on
loopback: one short chat request per article, stop at the first line, events dated in code."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_settings
from openai_server import Behaviour, OpenAIFixtureServer

from assistant import prompts
from assistant.engine import Assistant
from assistant.index import NewsIndex

CORPUS = ROOT / "evals" / "corpus-developing"


@pytest.fixture(autouse=True)
def _no_openai_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "ASSISTANT_OPENAI_API_KEY", "OPENAI_BASE_URL",
                 "ASSISTANT_OPENAI_BASE_URL", "ASSISTANT_OPENAI_MODEL"):
        monkeypatch.delenv(name, raising=False)


def first_clause(messages: list[dict[str, Any]]) -> str:
    """What a model would say: the article's first sentence, cut at its first comma."""
    article = messages[-1]["content"].split(f"\n{prompts.ARTICLE_LABEL} ", 1)[1]
    body = article.partition("\n")[2]
    return re.split(r"[,.]", body, maxsplit=1)[0] + ".\nA second line that must be cut."


def test_a_timeline_through_an_openai_compatible_server(tmp_path: Path) -> None:
    with OpenAIFixtureServer(Behaviour(reply=first_clause)) as server:
        settings = make_settings(tmp_path, backend="openai", openai_base_url=server.url,
                                 openai_model="fixture-model", openai_api_key="sk-test",
                                 max_retries=0, corpus_dir=CORPUS)
        index = NewsIndex(settings)
        index.ingest([CORPUS])
        answer = Assistant(settings, index=index).timeline(
            "the Port of Keld strike", reference_date=date(2026, 3, 20))
        requests = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert not answer.refused, answer.reason
    assert len(requests) == 5  # six articles, one a reprint of the wire story
    body = requests[0].body
    assert body["stop"] == ["\n"] and body["temperature"] == 0.0
    assert body["messages"][0]["content"] == prompts.EVENT_SYSTEM
    assert [e.date for e in answer.events] == [date(2026, 3, d) for d in (2, 3, 4, 6, 9)]
    assert answer.events[0].text == "Dockworkers at the Port of Keld stopped work on Monday in " \
                                    "a strike called by the Harbour Workers' Federation."
    assert all("second line" not in e.text for e in answer.events)

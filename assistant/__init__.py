"""News question answering with verified citations, offline by default.

>>> from assistant import ask
>>> answer = ask("How many US troops remain in Iraq?")
>>> answer.text, [c.title for c in answer.citations]

``ask`` keeps one :class:`Assistant` per configuration, so models load once per process.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from assistant.answer import Answer, Citation
from assistant.errors import AssistantError
from assistant.settings import Settings, load_settings

if TYPE_CHECKING:
    from assistant.engine import AnswerStream, Assistant
    from assistant.feeds import Feeds

__all__ = [
    "Answer",
    "AnswerStream",
    "Assistant",
    "AssistantError",
    "Citation",
    "Feeds",
    "Settings",
    "ask",
    "load_settings",
    "timeline",
]

_assistants: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    # The engine pulls in the vector store and the embedder: import it only when used.
    if name in {"Assistant", "AnswerStream"}:
        from assistant import engine

        return getattr(engine, name)
    if name == "Feeds":
        from assistant.feeds import Feeds

        return Feeds
    raise AttributeError(name)


def ask(
    question: str,
    *,
    k: int | None = None,
    source: str | list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    reference_date: date | None = None,
    backend: str | None = None,
    settings: Settings | None = None,
) -> Answer:
    """Answer ``question`` from the indexed news articles, with citations.

    Filters: ``source`` (name or names), ``since``/``until`` (publication dates, inclusive);
    ``reference_date`` is "today" for time words like "last week". ``backend`` overrides the
    configured one (a name in ``assistant.registry.BACKENDS``). The first call builds the index
    from the default corpus when it is empty.
    """
    return _assistant(settings, backend).ask(
        question, k=k, source=source, since=since, until=until, reference_date=reference_date
    )


def timeline(
    topic: str,
    *,
    source: str | list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    reference_date: date | None = None,
    backend: str | None = None,
    settings: Settings | None = None,
) -> Answer:
    """A timeline of ``topic``: ``answer.events`` (date, text, citations) oldest first, from
    many articles, and ``answer.conflicts`` where reports disagree. Options as for ``ask``."""
    return _assistant(settings, backend).timeline(
        topic, source=source, since=since, until=until, reference_date=reference_date
    )


def _assistant(settings: Settings | None, backend: str | None) -> Any:
    from assistant.engine import Assistant

    settings = settings or load_settings()
    key = settings.model_dump_json() + f"|{backend}"
    assistant = _assistants.get(key)
    if assistant is None:
        assistant = _assistants[key] = Assistant(settings, backend=backend)
    return assistant

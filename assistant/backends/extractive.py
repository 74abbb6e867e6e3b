"""No LLM: the answer is the best-supported sentences of the passages, cited. Instant."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from assistant import prompts
from assistant.backends.base import AnswerRequest, Backend, Completion, Turn
from assistant.settings import Settings


class ExtractiveBackend(Backend):
    name = "extractive"

    def __init__(self, max_sentences: int = 2, min_score: float = 0.45,
                 runner_up: float = 0.85) -> None:
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.runner_up = runner_up  # a second sentence must score this share of the best

    def stream_answer(self, request: AnswerRequest) -> Completion:
        return Completion(self._sentences(request))

    def _sentences(self, request: AnswerRequest) -> Iterator[str]:
        ranked = sorted(
            ((score, source.n, sentence)
             for source in request.passages
             for sentence, score in zip(source.sentences, source.scores, strict=False)),
            reverse=True,
        )
        floor = max(self.min_score, self.runner_up * ranked[0][0]) if ranked else 0.0
        picked = [item for item in ranked[: self.max_sentences] if item[0] >= floor]
        if ranked and not picked:
            picked = ranked[:1]
        if not picked:
            yield prompts.REFUSAL
            return
        dates = {s.n: s.passage.published for s in request.passages}
        parts = []
        for i, (_, n, sentence) in enumerate(picked):
            lead = ""
            if i == 0 and dates.get(n):
                lead = f"In an article of {dates[n]:%d %B %Y}: ".lstrip("0")
            text = sentence.rstrip()
            end = "." if not text.endswith((".", "!", "?", "”", '"')) else ""
            parts.append(f"{lead}{text}{end} [{n}]")
        for i, part in enumerate(parts):
            yield part if i == 0 else " " + part

    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        # Without a model, carry the previous question's words along; retrieval does the rest.
        return f"{history[-1].question} {question}" if history else question


def create(settings: Settings) -> ExtractiveBackend:
    return ExtractiveBackend()

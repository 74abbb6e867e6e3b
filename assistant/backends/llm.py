"""Any ChatModel becomes an answer backend through the prompts of ``assistant.prompts``."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant import prompts
from assistant.backends.base import AnswerRequest, Backend, ChatModel, Completion, Turn
from assistant.settings import Settings


class LLMBackend(Backend):
    def __init__(self, model: ChatModel, settings: Settings) -> None:
        self.model: ChatModel = model
        self.settings = settings
        self.name = model.name

    def stream_answer(self, request: AnswerRequest) -> Completion:
        messages = prompts.answer_messages(request.question, request.passages, request.today)
        return self.model.generate(
            messages,
            max_tokens=self.settings.answer.max_tokens,
            temperature=self.settings.answer.temperature,
        )

    def rewrite_question(self, history: Sequence[Turn], question: str) -> str:
        reply = self.model.complete(
            prompts.rewrite_messages(history, question), max_tokens=60, temperature=0.0,
            stop=["\n"],
        )
        rewritten = re.sub(r"^(?:standalone |rewritten )?question:\s*", "", reply.strip(),
                           flags=re.IGNORECASE).strip().strip('"“”')
        # A runaway or empty rewrite is worse than the original question.
        if not rewritten or len(rewritten) > 4 * len(question) + 200:
            return question
        return rewritten

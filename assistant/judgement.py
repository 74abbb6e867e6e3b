"""The model's own judgement of whether passages back a claim, read from its next-token scores.

One short prompt per claim (the passages, the question, a proposed answer, "yes or no?"); the
reply is not generated but scored: P(yes) against P(no) for the first token. Judging several
claims about one question costs little more than one, since the passages stay in the model's
cache. A model that cannot score tokens (a remote endpoint) replies instead, and its "yes" or
"no" counts as 1 or 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

from assistant import prompts
from assistant.backends.base import ChatModel, ContextPassage


class SupportJudge:
    def __init__(self, model: ChatModel | None) -> None:
        self.model = model

    def probability(self, question: str, claim: str, passages: Sequence[ContextPassage],
                    today: date) -> float | None:
        """P(the passages show that ``claim`` answers ``question``); None without a model,
        without passages, or when the model's reply is neither yes nor no."""
        if self.model is None or not passages:
            return None
        messages = prompts.support_messages(question, claim, passages, today)
        yes, no = prompts.SUPPORT_YES, prompts.SUPPORT_NO
        if self.model.supports_token_scores:
            scored = self.model.score_next_token(messages, [*yes, *no])
            if scored is not None:
                weights = [math.exp(x) for x in scored.logprobs]
                return sum(weights[: len(yes)]) / sum(weights)
        reply = self.model.complete(messages, max_tokens=3, temperature=0.0)
        word = re.match(r"\W*(\w+)", reply)
        if word is None or word[1].lower() not in {"yes", "no"}:
            return None
        return 1.0 if word[1].lower() == "yes" else 0.0

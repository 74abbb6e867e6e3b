"""A deterministic ChatModel for tests: it reads the prompt and answers by word overlap.

It answers from the passages in the prompt (the sentence sharing most words with the question,
cited with its number), rewrites a follow-up by joining it to the previous question, and picks
the option sharing most words with the passages; asked for a timeline event, it returns the
article's sentence sharing most words with the topic (at most 20 words). ``replies`` scripts
exact outputs instead, and ``token_delay`` (or ``ASSISTANT_FAKE_TOKEN_DELAY`` seconds) slows
streaming to test interruption.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence

from assistant import prompts
from assistant.backends.base import ChatModel, Completion, Message, Usage
from assistant.backends.llm import LLMBackend
from assistant.settings import Settings
from assistant.textutils import content_terms, split_sentences

# A multiple-choice prompt (the quiz solver of assistant/evals) ends with lettered options.
_OPTION = re.compile(r"^([A-J])\. (.*)$", re.MULTILINE)


def _overlap(a: str, b: str) -> int:
    return len(set(content_terms(a)) & set(content_terms(b)))


class FakeChatModel(ChatModel):
    name = "fake"

    def __init__(self, replies: Sequence[str] | None = None, token_delay: float | None = None):
        self.replies = list(replies or [])
        self.token_delay = (
            token_delay if token_delay is not None
            else float(os.environ.get("ASSISTANT_FAKE_TOKEN_DELAY", "0") or 0)
        )
        self.calls: list[list[Message]] = []

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        self.calls.append(list(messages))
        reply = self.replies.pop(0) if self.replies else self._reply(messages[-1].content)
        for s in stop:
            if s and s in reply:
                reply = reply[: reply.index(s)]
        return Completion(self._words(reply, messages, max_tokens))

    def _words(self, reply: str, messages: Sequence[Message],
               max_tokens: int) -> Iterator[str | Usage]:
        words = reply.split(" ")[:max_tokens]
        prompt_tokens = sum(len(m.content.split()) for m in messages)
        yield Usage(prompt_tokens=prompt_tokens)
        for i, word in enumerate(words):
            if self.token_delay:
                time.sleep(self.token_delay)
            yield word if i == 0 else " " + word
            yield Usage(prompt_tokens=prompt_tokens, completion_tokens=i + 1)

    def _reply(self, prompt: str) -> str:
        if prompt.startswith(prompts.EVENT_INSTRUCTIONS):
            return _event_line(prompt)
        question = _after(prompt, prompts.QUESTION_LABEL)
        if prompts.FOLLOW_UP_LABEL in prompt:
            follow_up = _after(prompt, prompts.FOLLOW_UP_LABEL)
            previous = re.findall(r"^Q: (.*)$", prompt, re.MULTILINE)
            return f"{previous[-1]} {follow_up}" if previous else follow_up
        passages = _passages(prompt)
        if prompts.SUPPORT_INSTRUCTIONS in prompt:  # does the evidence hold the proposed answer?
            claim = set(content_terms(_after(prompt, prompts.PROPOSED_LABEL)))
            evidence = set(content_terms(" ".join(text for _, text in passages)))
            return "yes" if claim and claim <= evidence else "no"
        options = _OPTION.findall(prompt.split(prompts.QUESTION_LABEL)[-1])
        if options:
            evidence = " ".join(text for _, text in passages) or question
            best = max(options, key=lambda o: _overlap(o[1], evidence), default=("A", ""))
            return best[0]
        scored = [
            (_overlap(sentence, question), n, sentence)
            for n, text in passages
            for sentence in split_sentences(text)
        ]
        scored = [s for s in scored if s[0] > 0]
        if not scored:
            return prompts.REFUSAL
        _, n, sentence = max(scored, key=lambda s: s[0])
        return f"{sentence.rstrip('.')} [{n}]."


def _event_line(prompt: str) -> str:
    """A timeline event: the article's sentence sharing most words with the topic, <= 20 words."""
    topic = _after(prompt, prompts.TOPIC_LABEL)
    article = prompt.split(f"\n{prompts.ARTICLE_LABEL} ", 1)[-1].partition("\n")[2]
    sentences = split_sentences(article)
    if not sentences:
        return ""
    best = max(sentences, key=lambda s: (_overlap(s, topic), -sentences.index(s)))
    words = best.split()
    return " ".join(words[:20]).rstrip(",;:") + ("." if len(words) > 20 else "")


def _after(prompt: str, label: str) -> str:
    lines = [line for line in prompt.splitlines() if line.startswith(label)]
    return lines[-1][len(label):].strip() if lines else ""


def _passages(prompt: str) -> list[tuple[int, str]]:
    if prompts.PASSAGES_HEADING not in prompt:
        return []
    body = prompt.split(prompts.PASSAGES_HEADING, 1)[1].split(f"\n\n{prompts.TODAY_LABEL}")[0]
    found = []
    for block in body.strip().split("\n\n"):
        header, _, text = block.partition("\n")
        match = re.match(r"^\[(\d+)\]", header)
        if match:
            found.append((int(match[1]), text))
    return found


def create(settings: Settings) -> LLMBackend:
    return LLMBackend(FakeChatModel(), settings)

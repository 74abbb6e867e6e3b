"""Every prompt the assistant sends to an LLM, in one place.

The fixed instructions come first and the varying parts (passages, date, question) last, so a
local model re-uses the cached prefix and reads only the new tokens. Instructions and passages
sit in the user turn: the small local model follows them better there than in the system turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from assistant.backends.base import ContextPassage, Message, Turn
from assistant.textutils import clip_words

REFUSAL = "I cannot answer this from the news articles I have."

SYSTEM = (
    "You answer questions about news articles. You use only the numbered passages the user "
    "gives you, never outside knowledge, and you cite the passage of every sentence."
)

# No "if the passages do not say, reply ..." clause: told that, the 1.5B local model refused
# answerable questions (1 of 6 on the seed article) and refused no unanswerable one that the
# code would not refuse anyway. Refusal is the code's job: a relevance gate before the model
# and the support check after it (engine.py, verification.py).
# "Begin with what the question asks for": without it the 1.5B model often restated the
# question and buried or left out the answer ("took place this week at the British Academy
# Film Awards" for "Where did the BAFTA awards take place?"). RealTimeQA 2026 open answers
# 0.407 -> 0.434 with it (README, benchmark figures).
ANSWER_INSTRUCTIONS = (
    "Answer the question in one or two short sentences, using only the passages below. "
    "Begin with what the question asks for (the name, place, number or thing), worded as in "
    "the passages. End every sentence with the number of the passage it comes from in square "
    "brackets, like [1]. Mention the date of the passage when it is known."
)

PASSAGES_HEADING = "Passages:"
QUESTION_LABEL = "Question:"
TODAY_LABEL = "Today's date:"

# A yes/no question the model answers with one token, scored rather than generated
# (``ChatModel.score_next_token``): how strongly the passages back a claim.
SUPPORT_INSTRUCTIONS = (
    "Do the passages above show that the proposed answer to the question is correct? "
    "Reply yes or no."
)
PROPOSED_LABEL = "Proposed answer:"
SUPPORT_YES = ("yes", "Yes")
SUPPORT_NO = ("no", "No")

REWRITE_INSTRUCTIONS = (
    "Rewrite the follow-up question as one standalone question that names the people, places "
    "and topic it refers to, so it can be understood without the conversation. Reply with the "
    "rewritten question only."
)
FOLLOW_UP_LABEL = "Follow-up question:"

def age(published: date, today: date) -> str:
    """How long before ``today`` a source was published, in words ("3 days ago")."""
    days = (today - published).days
    if days <= 0:
        return "today" if days == 0 else "after today"
    if days == 1:
        return "yesterday"
    count, unit = ((days, "day") if days < 14 else (days // 7, "week") if days < 60
                   else (days // 30, "month") if days < 365 else (days // 365, "year"))
    return f"{count} {unit}{'s' if count > 1 else ''} ago"


def format_passages(passages: Sequence[ContextPassage], today: date | None = None) -> str:
    """The numbered passages; with ``today``, each header says how old its source is (a small
    model compares "2 years ago" with "3 days ago" far better than two ISO dates)."""
    blocks = []
    for p in passages:
        header = p.header
        if today is not None and p.passage.published is not None:
            header = f"{header[:-1]}, {age(p.passage.published, today)})"
        blocks.append(f"{header}\n{p.text}")
    return "\n\n".join(blocks)


def grounded_question(question: str, passages: Sequence[ContextPassage], today: date) -> str:
    """The passages, today's date and the question: the body every grounded prompt shares.
    Prompts that begin with it (the support question, a quiz pick before it) share the
    model's cached passages."""
    return (f"{PASSAGES_HEADING}\n{format_passages(passages, today)}\n\n"
            f"{TODAY_LABEL} {today.isoformat()}\n{QUESTION_LABEL} {question}")


def answer_messages(
    question: str, passages: Sequence[ContextPassage], today: date
) -> list[Message]:
    user = f"{ANSWER_INSTRUCTIONS}\n\n{grounded_question(question, passages, today)}"
    return [Message("system", SYSTEM), Message("user", user)]


def support_messages(
    question: str, claim: str, passages: Sequence[ContextPassage], today: date
) -> list[Message]:
    """The passages first, then the question and a proposed answer: judging several answers
    to one question re-uses the cached passages."""
    user = (f"{grounded_question(question, passages, today)}\n"
            f"{PROPOSED_LABEL} {claim}\n\n{SUPPORT_INSTRUCTIONS}")
    return [Message("system", SYSTEM), Message("user", user)]


def rewrite_messages(history: Sequence[Turn], question: str) -> list[Message]:
    conversation = "\n".join(
        f"Q: {turn.question}\nA: {clip_words(turn.answer, 60)}" for turn in history[-3:]
    )
    user = (
        f"{REWRITE_INSTRUCTIONS}\n\nConversation:\n{conversation}\n\n"
        f"{FOLLOW_UP_LABEL} {question}"
    )
    return [Message("system", "You rewrite follow-up questions."), Message("user", user)]


# -- timelines (assistant/timeline.py) ---------------------------------------------------------
# One short call per article: the 1.5B local model reads ~80 prompt tokens a second, so the
# article is cut to its lead and most relevant sentences, and the reply is one line. The
# instructions and the topic come first: they are the same for every article of a timeline,
# so llama.cpp evaluates them once and only the article's tokens after.
EVENT_SYSTEM = "You write one-line summaries of news articles, using only the article."
EVENT_INSTRUCTIONS = (
    "Write the main new event that the article below reports about the topic, as one short "
    "sentence of at most 20 words: who did what, with its key number if there is one. "
    "Use only the article. Reply with the sentence only."
)
TOPIC_LABEL = "Topic:"
ARTICLE_LABEL = "Article"


def event_messages(topic: str, title: str, source: str, published: date | None,
                   sentences: Sequence[str]) -> list[Message]:
    when = published.isoformat() if published else "date unknown"
    user = (
        f"{EVENT_INSTRUCTIONS}\n\n{TOPIC_LABEL} {topic}\n\n"
        f"{ARTICLE_LABEL} ({source or 'unknown source'}, {when}): {title}\n"
        + " ".join(sentences)
    )
    return [Message("system", EVENT_SYSTEM), Message("user", user)]

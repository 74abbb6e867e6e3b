"""Sentence splitting: abbreviations of US news do not end a sentence."""

from __future__ import annotations

from assistant.backends.base import ContextPassage
from assistant.citations import parse_claims
from assistant.context import build_context
from assistant.documents import Passage
from assistant.embedders.minilm import MiniLMEmbedder
from assistant.textutils import split_sentences


def test_news_abbreviations_do_not_end_a_sentence() -> None:
    text = ("The average life expectancy in the U.S. rose to 79 years, the CDC said. Police "
            "arrested him on Feb. 19 at his home. Gov. Tim Walz and Sen. Amy Klobuchar spoke "
            "in Washington, D.C. on Monday. Mr. Smith left the U.S.\n\nHe came back in May.")
    assert split_sentences(text) == [
        "The average life expectancy in the U.S. rose to 79 years, the CDC said.",
        "Police arrested him on Feb. 19 at his home.",
        "Gov. Tim Walz and Sen. Amy Klobuchar spoke in Washington, D.C. on Monday.",
        "Mr. Smith left the U.S.",
        "He came back in May.",
    ]


def test_an_answer_about_the_us_is_one_claim() -> None:
    (claim,) = parse_claims("The U.S. has hosted the Winter Olympics four times [1].", valid=[1])
    assert claim.text == "The U.S. has hosted the Winter Olympics four times."
    assert claim.cited == [1]


def test_the_context_keeps_the_whole_sentence_with_the_answer() -> None:
    text = ("It was a long season. The average life expectancy in the U.S. is 79 years, "
            "according to new federal data.")
    passage = Passage("a#0", "a", "Life expectancy rises", "cdc.test", "https://x.test/a",
                      None, text, 0, len(text))
    (source,) = build_context("What is the average life expectancy in the US?", [passage],
                              MiniLMEmbedder(), budget_tokens=200)
    assert isinstance(source, ContextPassage)
    assert ("The average life expectancy in the U.S. is 79 years, according to new federal "
            "data.") in source.sentences

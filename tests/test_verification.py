"""Support scores: supported claims pass, wrong numbers and unrelated claims are flagged."""

from __future__ import annotations

import pytest

from assistant.backends.base import ContextPassage
from assistant.citations import parse_claims
from assistant.documents import Passage
from assistant.embedders import load_embedder
from assistant.settings import load_settings
from assistant.verification import Verifier, looks_like_refusal

TROOPS = ("The United States has reduced the number of its troops in Iraq to 2,500, according "
          "to a statement released by the Department of Defense on Friday.")
RATES = "The central bank raised its main interest rate by half a point to fight inflation."


def _source(n: int, text: str) -> ContextPassage:
    passage = Passage(f"a{n}#0", f"a{n}", f"Title {n}", "src", "", None, text, 0, len(text))
    return ContextPassage(n, passage, text, [text], [1.0], [passage])


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    settings = load_settings()
    return Verifier(load_embedder(settings), settings.answer.min_support)


CONTEXT = [_source(1, TROOPS), _source(2, RATES)]


def _check(verifier: Verifier, answer: str):  # type: ignore[no-untyped-def]
    return verifier.check(parse_claims(answer, [1, 2]), CONTEXT)


def test_faithful_paraphrase_is_supported(verifier: Verifier) -> None:
    (claim,) = _check(verifier, "The US cut its troops in Iraq to 2,500 [1].")
    assert claim.supported and claim.cited == [1] and claim.support > 0.6


def test_wrong_number_is_flagged(verifier: Verifier) -> None:
    (claim,) = _check(verifier, "The US cut its troops in Iraq to 5,000 [1].")
    assert not claim.supported


def test_outside_knowledge_is_flagged(verifier: Verifier) -> None:
    (claim,) = _check(verifier, "Paris is the capital of France [1].")
    assert not claim.supported and claim.support < 0.4


def test_wrong_citation_is_repaired(verifier: Verifier) -> None:
    (claim,) = _check(verifier, "The central bank raised its interest rate by half a point [1].")
    assert claim.supported and claim.repaired and claim.cited == [2]


def test_missing_citation_is_added(verifier: Verifier) -> None:
    (claim,) = _check(verifier, "Troops in Iraq were reduced to 2,500.")
    assert claim.supported and claim.cited == [1]


@pytest.mark.parametrize("text", [
    "I cannot answer this from the news articles I have.",
    "The passages do not mention the capital of France.",
    "There is no information about that in the passages.",
])
def test_refusals_are_recognised(text: str) -> None:
    assert looks_like_refusal(text)


def test_facts_are_not_refusals() -> None:
    assert not looks_like_refusal(TROOPS)


def test_the_articles_own_date_is_not_an_invented_number(verifier: Verifier) -> None:
    from datetime import date

    passage = Passage("d#0", "d", "Troops", "src", "", date(2023, 3, 10), TROOPS, 0, len(TROOPS))
    dated = [ContextPassage(1, passage, TROOPS, [TROOPS], [1.0], [passage])]
    (claim,) = verifier.check(
        parse_claims("On 10 March 2023 the US cut its troops in Iraq to 2,500 [1].", [1]), dated)
    assert claim.supported
    # Another date is still a number the passage does not hold.
    (wrong,) = verifier.check(
        parse_claims("On 14 June 2019 the US cut its troops in Iraq to 2,500 [1].", [1]), dated)
    assert wrong.support < claim.support


GAME = ("The New England Patriots will meet the Seattle Seahawks at Levi's Stadium, after "
        "both won their conference championship games on Sunday.")


def test_what_the_claim_repeats_of_the_question_is_not_evidence(verifier: Verifier) -> None:
    question = "Which two NFL teams will face off in the Super Bowl on February 8?"
    game = [_source(1, GAME)]
    answer = ("The New England Patriots and the Seattle Seahawks will face off in the Super "
              "Bowl on February 8 [1].")
    # Without the question, its date reads as a number the passage does not hold.
    (alone,) = verifier.check(parse_claims(answer, [1]), game)
    assert not alone.supported
    (right,) = verifier.check(parse_claims(answer, [1]), game, question)
    assert right.supported and right.cited == [1]
    # Judged on what it adds: a wrong answer gains nothing from repeating the question.
    wrong_text = ("The Kansas City Chiefs and the Philadelphia Eagles will face off in the "
                  "Super Bowl on February 8 [1].")
    (wrong,) = verifier.check(parse_claims(wrong_text, [1]), game, question)
    assert not wrong.supported and wrong.support < right.support

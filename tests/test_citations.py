"""Parsing, repairing and renumbering citation markers."""

from __future__ import annotations

from assistant.backends.base import ContextPassage
from assistant.citations import parse_claims, renumber
from assistant.documents import Passage


def _source(n: int, title: str, text: str) -> ContextPassage:
    passage = Passage(f"{title}#0", title, title, "src", f"https://x.test/{n}", None, text, 0,
                      len(text))
    return ContextPassage(n, passage, text, [text], [1.0], [passage])


def test_markers_variants_are_read() -> None:
    claims = parse_claims(
        "Alpha rose [1]. Beta fell [1, 2]. Gamma held [1-2]. Delta [Source 2]. Eps 【1】.",
        valid=[1, 2],
    )
    assert [c.cited for c in claims] == [[1], [1, 2], [1, 2], [2], [1]]
    assert [c.text for c in claims] == ["Alpha rose.", "Beta fell.", "Gamma held.", "Delta.",
                                        "Eps."]


def test_markers_pointing_at_nothing_are_dropped() -> None:
    (claim,) = parse_claims("Troops number 2,500 [3][1].", valid=[1, 2])
    assert claim.cited == [1] and claim.dropped == [3]


def test_marker_after_the_full_stop_belongs_to_that_sentence() -> None:
    claims = parse_claims("Troops number 2,500. [1] Miller announced it. [2]", valid=[1, 2])
    assert [(c.text, c.cited) for c in claims] == [("Troops number 2,500.", [1]),
                                                   ("Miller announced it.", [2])]


def test_brackets_that_are_not_markers_stay() -> None:
    (claim,) = parse_claims("They fought Daesh [ISIS] in Syria [1].", valid=[1])
    assert claim.text == "They fought Daesh [ISIS] in Syria." and claim.cited == [1]


def test_renumbered_in_order_of_first_use() -> None:
    context = [_source(1, "A", "a text"), _source(2, "B", "b text"), _source(3, "C", "c text")]
    claims = parse_claims("First fact [3]. Second fact [1][3]. Third fact.", valid=[1, 2, 3])
    text, citations = renumber(claims, context)
    assert text == "First fact [1]. Second fact [1][2]. Third fact."
    assert [(c.n, c.title) for c in citations] == [(1, "C"), (2, "A")]
    assert citations[0].passage == "c text" and citations[0].url == "https://x.test/3"


def test_marker_goes_after_a_closing_quote() -> None:
    context = [_source(1, "A", "x")]
    claims = parse_claims('He said it was "vital." [1]', valid=[1])
    text, _ = renumber(claims, context)
    assert text == 'He said it was "vital." [1]'

"""Citation markers: parse ``[n]`` from model output, repair, renumber in order of first use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.answer import Citation
from assistant.backends.base import ContextPassage
from assistant.textutils import split_sentences

# Citation markers: [1]  [1, 2]  [1-3]  [1][2]  [Source 1]  [Passage 2]  [Article 3]  【1】
MARKER = re.compile(
    r"[\[【]\s*(?:(?:source|passage|article|ref(?:erence)?)\s*)?"
    r"(\d{1,2}(?:\s*(?:,|;|and|-|–)\s*(?:(?:source|passage|article)\s*)?\d{1,2})*)\s*[\]】]",
    re.IGNORECASE,
)
# "... 2,500. [1] Next" -> "... 2,500 [1]. Next": a marker after the full stop cites that sentence.
_AFTER_STOP = re.compile(r"([.!?][\"”’')]*)(\s*)((?:" + MARKER.pattern + r"\s*)+)", re.IGNORECASE)
_ONLY_MARKERS = re.compile(r"^(?:\s*(?:" + MARKER.pattern + r")\s*[.,;]?)+\s*$", re.IGNORECASE)
_END_PUNCT = re.compile(r"[.!?…]$")
_END_QUOTE = re.compile(r"[\"”’')]$")


@dataclass
class Claim:
    """One sentence of an answer and the sources it cites (context numbers)."""

    text: str
    cited: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)  # markers that pointed at nothing
    support: float | None = None
    supported: bool = True
    repaired: bool = False


def _numbers(group: str) -> list[int]:
    found: list[int] = []
    for piece in re.split(r"\s*(?:,|;|and)\s*", group, flags=re.IGNORECASE):
        piece = re.sub(r"(?i)source|passage|article", "", piece).strip()
        span = re.match(r"^(\d+)\s*[-–]\s*(\d+)$", piece)
        if span:
            low, high = int(span[1]), int(span[2])
            found.extend(range(low, min(high, low + 9) + 1))
        elif piece.isdigit():
            found.append(int(piece))
    return found


def parse_claims(text: str, valid: Sequence[int]) -> list[Claim]:
    """Split an answer into sentences with their citations; drop markers that match no source."""
    claims: list[Claim] = []
    valid_set = set(valid)
    text = _AFTER_STOP.sub(lambda m: f" {m.group(3).strip()}{m.group(1)} ", text)
    for sentence in split_sentences(text):
        numbers = [n for m in MARKER.finditer(sentence) for n in _numbers(m.group(1))]
        bare = MARKER.sub("", sentence)
        bare = re.sub(r"\s+([.,;:!?])", r"\1", bare)
        bare = re.sub(r"\s{2,}", " ", bare).strip()
        kept = list(dict.fromkeys(n for n in numbers if n in valid_set))
        dropped = [n for n in numbers if n not in valid_set]
        if _ONLY_MARKERS.match(sentence) and claims:
            # "... 2,500. [1]" puts the marker after the full stop: it belongs to the
            # sentence before.
            claims[-1].cited.extend(n for n in kept if n not in claims[-1].cited)
            claims[-1].dropped.extend(dropped)
            continue
        if not bare or re.fullmatch(r"[\W_]+", bare):
            continue
        claims.append(Claim(bare, kept, dropped))
    return claims


def renumber(
    claims: Sequence[Claim], context: Sequence[ContextPassage]
) -> tuple[str, list[Citation]]:
    """Final text with markers renumbered 1.. in order of first use, and the citation list."""
    by_n = {p.n: p for p in context}
    order: dict[int, int] = {}
    for claim in claims:
        for n in claim.cited:
            order.setdefault(n, len(order) + 1)
    sentences = []
    for claim in claims:
        markers = "".join(f"[{order[n]}]" for n in sorted(set(claim.cited), key=order.__getitem__))
        sentences.append(_attach(claim.text, markers))
    citations = []
    for old, new in sorted(order.items(), key=lambda kv: kv[1]):
        source = by_n[old]
        p = source.passage
        citations.append(
            Citation(
                n=new,
                article_id=p.article_id,
                title=p.title,
                source=p.source,
                published=p.published,
                url=p.url,
                passage=source.text,
                chunk_ids=[c.chunk_id for c in source.chunks] or [p.chunk_id],
                also_reported_by=list(p.copies),
            )
        )
    return " ".join(sentences), citations


def _attach(sentence: str, markers: str) -> str:
    if not markers:
        return sentence
    if _END_QUOTE.search(sentence):  # 'said "...done."' -> 'said "...done." [1]'
        return f"{sentence} {markers}"
    match = _END_PUNCT.search(sentence)
    if match:
        return f"{sentence[: match.start()]} {markers}{match.group(0)}"
    return f"{sentence} {markers}"

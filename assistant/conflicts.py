"""Conflicting reports, found in code: the same quantity of the same thing, different values.

A *fact* is one value a sentence reports for something measurable: a count with its noun and
what happened to it ("31 people killed", "60 ships waiting"), an amount of money ("410 million
euros" of damage), a percentage with its role ("a 9 percent pay rise" demanded), or who did
something ("called by the Dockers' Union of Keld"). Facts are compared only within one story
(see ``topics.py``: two floods in two countries are two stories) and only between different
articles; a conflict is a key with more than one value. Precision comes first: anything whose
subject or role cannot be read (a bare number, an amount with no subject) is left out, and
"not 120", "from 31", "an earlier figure of 120" are old values, not reports.

Written by hand because no library extracts (quantity, unit, subject) triples from news text
offline; the rules are small tables below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from assistant.developments import Conflict, ReportedValue
from assistant.textutils import NUMBER_WORDS, STOPWORDS, content_terms, split_sentences

# -- tables ------------------------------------------------------------------------------------
_NUMBER_WORDS = {**NUMBER_WORDS, "a hundred": 100, "a dozen": 12, "dozen": 12}
_MULTIPLIERS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9,
                "bn": 1e9}
_CURRENCY_SIGNS = {"$": "dollars", "€": "euros", "£": "pounds", "usd": "dollars",
                   "eur": "euros", "gbp": "pounds"}
_CURRENCY_WORDS = {"dollar": "dollars", "dollars": "dollars", "euro": "euros", "euros": "euros",
                   "pound": "pounds", "pounds": "pounds", "kroner": "kroner", "krona": "kronor",
                   "kronor": "kronor", "crowns": "crowns", "francs": "francs", "yen": "yen"}
# Measures that are not reports about the story ("a 48-hour strike", "7.9 metres", "3 hours").
_UNITS = frozenset("""second seconds minute minutes hour hours day days week weeks month months
    year years decade decades century centuries metre metres meter meters km kilometre
    kilometres kilometers mile miles cm mm foot feet inch inches kg kilogram kilograms tonne
    tonnes ton tons degree degrees c f am pm a.m p.m o'clock times percent per""".split())
_MONTHS = ("january february march april may june july august september october november "
           "december jan feb mar apr jun jul aug sep sept oct nov dec").split()

# What happened to the counted things: class -> trigger words (lower-case, whole words).
_PREDICATES: dict[str, tuple[str, ...]] = {
    "deaths": ("killed", "killing", "kill", "kills", "dead", "died", "die", "deaths", "death",
               "toll", "fatalities", "drowned", "lives"),
    "injured": ("injured", "injuring", "injuries", "hurt", "wounded", "hospitalised",
                "hospitalized", "treated"),
    "missing": ("missing", "unaccounted"),
    "evacuated": ("evacuated", "evacuation", "displaced", "leave their homes", "fled"),
    "arrested": ("arrested", "detained", "held"),
    "on board": ("on board", "aboard", "carrying", "carried", "onboard"),
    "on strike": ("walked out", "walkout", "on strike", "striking", "strike", "stopped work"),
    "waiting": ("waiting", "wait", "stranded", "queued", "queue", "at anchor"),
    "sheltered": ("shelters", "shelter"),
    "sent": ("sent", "deployed"),
}
_PREDICATE_LABELS = {"deaths": "death toll", "injured": "number of people injured",
                     "missing": "number of people missing", "evacuated": "number evacuated",
                     "arrested": "number arrested"}
# Nouns counted under one name.
_NOUN_CLASSES = {
    "people": ("people", "persons", "residents", "civilians", "villagers", "victims",
               "adults", "children", "hikers", "tourists"),
    "workers": ("workers", "dockworkers", "dockers", "members", "employees", "staff",
                "strikers"),
    "ships": ("ships", "vessels", "boats", "container ships"),
    "passengers": ("passengers",),
    "crew": ("crew", "crew members", "sailors"),
    "soldiers": ("soldiers", "troops"),
    "homes": ("homes", "houses", "households", "buildings"),
}
_NOUN_OF = {word: cls for cls, words in _NOUN_CLASSES.items() for word in words}
_PEOPLE_CLASSES = {"deaths", "injured", "missing", "evacuated", "arrested"}

_AMOUNT_SUBJECTS = ("damage", "damages", "aid", "relief", "fund", "fine", "compensation",
                    "cost", "costs", "bill", "budget", "loan", "losses", "bonus", "ransom",
                    "investment", "price", "deal", "settlement", "claims", "bail")
_PERCENT_ROLES: dict[str, tuple[str, ...]] = {
    "demanded": ("demand", "demands", "demanding", "demanded", "wants", "want", "asking",
                 "seeking", "calls for", "called for"),
    "offered": ("offer", "offers", "offered", "offering", "proposed", "proposal"),
    "agreed": ("accept", "accepted", "accepting", "agreed", "agree", "deal", "settled",
               "settlement", "won"),
}
_AGENT_VERBS = ("called", "organised", "organized", "led", "steered", "piloted", "driven",
                "captained", "operated", "owned", "claimed", "carried out", "ordered",
                "started", "caused", "triggered", "brokered", "mediated", "headed",
                "commanded", "chaired", "signed", "planned", "launched")
_AUXILIARIES = frozenset("was were is are be been being had has have the a an its their his "
                         "her this that which".split())
_OLD_VALUE = re.compile(
    r"(?:\bnot|\bfrom|\bthan|\binstead of|\brather than|\bearlier (?:\w+ )?(?:figure|"
    r"estimate|report|count|toll)s? (?:of|was)|\binitial(?:ly)?(?: \w+)?(?: of| at)?|"
    r"\bfirst reported(?: as| at)?|\bpreviously(?: \w+)?|\bdown from|\bup from)\s*"
    r"(?:about |around |some |nearly |almost |more than |over |at least |just )?$",
    re.IGNORECASE,
)

_NUMBER_WORD_PATTERN = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NUMBER = re.compile(
    r"(?<![\w.,-])(?P<cur>[$€£]\s?|(?:USD|EUR|GBP)\s)?"
    rf"(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?|(?i:{_NUMBER_WORD_PATTERN}))"
    r"(?![\w-])(?:\s?(?P<mult>hundred|thousand|million|billion|bn|m)\b)?"
    r"(?:\s?(?P<pct>%|percent\b|per cent\b))?",
)
_CLAUSE_BREAK = re.compile(r"[;:—–()\"“”]|,\s(?:and|but|while|who|which|where|as)\b|\.\s")
_PLACE = re.compile(r"\b(?:in|at|near|off|outside|across)\s+(?:the\s+)?((?:[A-Z][\w’'-]+)"
                    r"(?:\s+(?:of\s+)?[A-Z][\w’'-]+)*)")
_AGENT = re.compile(
    rf"\b(?P<verb>{'|'.join(_AGENT_VERBS)})\s+by\s+"
    r"(?P<who>(?:(?:the|its|their|his|her|a|an)\s+)?(?:[a-z][\w-]*\s+){0,3}?"
    r"[A-Z][\w’'.-]*(?:\s+(?:of\s+|the\s+|de\s+|van\s+|von\s+)?[A-Z][\w’'.-]*)*)"
)


# -- facts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """One value a sentence reports for one measurable thing."""

    key: tuple[str, ...]  # what is measured; equal keys are comparable
    label: str  # how an answer names it: "death toll", "ships waiting"
    kind: str  # count | amount | percent | actor
    value: str  # as shown: "2,300", "410 million euros", "Dockers' Union of Keld"
    norm: float | str  # what is compared
    places: frozenset[str] = frozenset()
    terms: frozenset[str] = frozenset()  # stems a question about it would use
    sentence: str = ""


def _number_value(match: re.Match[str]) -> float | None:
    raw = match["num"].lower()
    if raw in _NUMBER_WORDS:
        value = float(_NUMBER_WORDS[raw])
    else:
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            return None
    if match["mult"]:
        value *= _MULTIPLIERS[match["mult"].lower()]
    return value


def _show(value: float) -> str:
    if value >= 1e9 and value % 1e7 == 0:
        return f"{value / 1e9:g} billion"
    if value >= 1e6 and value % 1e4 == 0:
        return f"{value / 1e6:g} million"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'’-]*|\d[\d,.]*", text.lower())


def _has(words: Sequence[str], trigger: str) -> bool:
    parts = trigger.split()
    n = len(parts)
    return any(list(words[i:i + n]) == parts for i in range(len(words) - n + 1))


def _clause(sentence: str, start: int, end: int) -> tuple[str, str]:
    """The text of the clause around ``start:end``, split before and after it."""
    left = sentence[:start]
    breaks = list(_CLAUSE_BREAK.finditer(left))
    left = left[breaks[-1].end():] if breaks else left
    right = sentence[end:]
    after = _CLAUSE_BREAK.search(right)
    right = right[: after.start()] if after else right
    return left, right


def _is_date_or_time(sentence: str, match: re.Match[str]) -> bool:
    before = _words(sentence[max(0, match.start() - 12):match.start()])
    after = _words(sentence[match.end():match.end() + 12])
    if (before and before[-1] in _MONTHS) or (after and after[0] in _MONTHS):
        return True
    raw = match["num"]
    if re.fullmatch(r"(?:19|20)\d\d", raw) and not match["cur"]:
        return True
    return bool(re.match(r"\s?(?::\d\d|[ap]\.?m\b)", sentence[match.end():]))


def _predicate(words: Sequence[str], classes: Iterable[str]) -> str | None:
    for cls in classes:
        if any(_has(words, t) for t in _PREDICATES[cls]):
            return cls
    return None


def _places(sentence: str) -> frozenset[str]:
    return frozenset(m[1] for m in _PLACE.finditer(sentence))


def _stems(*texts: str) -> frozenset[str]:
    return frozenset(t for text in texts for t in content_terms(text))


def _count_fact(sentence: str, match: re.Match[str], value: float) -> Fact | None:
    left, right = _clause(sentence, match.start(), match.end())
    after = _words(right)
    before = _words(left)
    # "2,300 of its members": the counted noun follows the partitive
    if after[:1] == ["of"] and len(after) > 2 and after[1] in {"its", "their", "the"}:
        if after[2] in ("them", "those", "whom"):
            return None
        after = after[2:]
    elif after[:2] in (["of", "them"], ["of", "those"], ["of", "whom"]):
        return None  # "two of them seriously": part of a count already given
    noun = None
    skipped = 0
    for i, word in enumerate(after[:4]):
        if word in _UNITS:
            return None
        two = " ".join(after[i:i + 2])
        if two in _NOUN_OF:
            noun, rest = _NOUN_OF[two], after[i + 2:]
            break
        if word in _NOUN_OF:
            noun, rest = _NOUN_OF[word], after[i + 1:]
            break
        if word in {"more", "other", "new", "further", "additional", "extra", "of"}:
            skipped += 1
            continue
        if not word.isalpha() or i - skipped >= 2:
            break
    if noun is None:
        rest = after
        # "the number of ships waiting ... grew to 85", "the death toll reached 48"
        phrase = re.search(r"\bnumber of (?:the )?(\w+)(?:\s+(\w+))?", left, re.IGNORECASE)
        if re.search(r"\b(?:death )?toll\b", left, re.IGNORECASE):
            return _people_fact("deaths", value, sentence)
        if phrase:
            word = phrase[1].lower()
            if word in {"dead", "deaths", "killed", "victims", "fatalities"}:
                return _people_fact("deaths", value, sentence)
            if word in {"injured", "wounded"}:
                return _people_fact("injured", value, sentence)
            if word in {"people", "residents"} and phrase[2]:
                cls = _predicate([phrase[2].lower()], _PEOPLE_CLASSES)
                if cls:
                    return _people_fact(cls, value, sentence)
            if word in _NOUN_OF:
                noun = _NOUN_OF[word]
                rest = _words(left[phrase.end(1):]) + after
        if noun is None:
            return None
    window = rest[:6] + before[-5:]
    if noun == "people":
        cls = _predicate(rest[:6], _PEOPLE_CLASSES) or _predicate(before[-4:], _PEOPLE_CLASSES)
        return _people_fact(cls, value, sentence) if cls else None
    others = [c for c in _PREDICATES if c not in _PEOPLE_CLASSES]
    cls = _predicate(rest[:6], others) or _predicate(before[-5:], others)
    if cls is None:
        if noun == "passengers" and _has(window, "with"):
            cls = "on board"
        else:
            return None
    return Fact(("count", noun, cls), f"{noun} {cls}", "count", _show(value), value,
                _places(sentence), _stems(noun, cls, *_NOUN_CLASSES.get(noun, ()),
                                          *_PREDICATES[cls]), sentence)


def _people_fact(cls: str, value: float, sentence: str) -> Fact:
    label = _PREDICATE_LABELS.get(cls, f"people {cls}")
    return Fact(("people", cls), label, "count", _show(value), value, _places(sentence),
                _stems(label, "people", *_PREDICATES[cls]), sentence)


def _amount_fact(sentence: str, match: re.Match[str], value: float, currency: str
                 ) -> Fact | None:
    left, right = _clause(sentence, match.start(), match.end())
    words = _words(right)[:4] + _words(left)[-6:]
    subject = next((s for s in _AMOUNT_SUBJECTS if s in words), None)
    if subject is None:
        return None
    subject = {"damages": "damage", "costs": "cost", "relief": "aid"}.get(subject, subject)
    shown = f"{_show(value)} {currency}"
    return Fact(("amount", subject, currency), subject, "amount", shown, value,
                _places(sentence), _stems(subject, "how much cost money"), sentence)


def _percent_fact(sentence: str, match: re.Match[str], value: float) -> Fact | None:
    left, right = _clause(sentence, match.start(), match.end())
    after, before = _words(right)[:4], _words(left)[-6:]
    subject_words = []
    for word in after[:2]:  # "a 9 percent pay rise", "6.5 percent pay rise over two years"
        if not word.isalpha() or word in STOPWORDS:
            break
        subject_words.append(word)
    subject = " ".join(subject_words)
    if not subject:
        return None  # "offered 3 percent and ...": of what is not said here
    role = next((r for r, triggers in _PERCENT_ROLES.items()
                 if any(_has(before + after, t) for t in triggers)), None)
    if role is None:
        return None
    return Fact(("percent", subject, role), f"{subject} {role}", "percent", f"{value:g}%",
                value, _places(sentence), _stems(subject, role, "percent", *_PERCENT_ROLES[role]),
                sentence)


def _agent_facts(sentence: str) -> list[Fact]:
    facts = []
    for match in _AGENT.finditer(sentence):
        if re.search(r"\bnot\s*$", sentence[: match.start("verb")]):
            continue
        who = match["who"]
        name = re.sub(r"^(?:(?:the|its|their|his|her|a|an)\s+)?(?:[a-z][\w-]*\s+)*", "", who)
        name = re.sub(r"[’']s$", "", name).strip(" .,")
        if not name:
            continue
        thing = None
        for word in reversed(re.findall(r"[A-Za-z][\w’'-]*", sentence[: match.start()])[-6:]):
            if word.lower() in _AUXILIARIES or word.lower() in {"being", "not"}:
                continue
            if not word[0].isupper():  # a name ("the ferry Aurora") is not the kind of thing
                thing = word.lower()
                break
        verb = match["verb"]
        label = f"who {verb} the {thing}" if thing else f"who {verb} it"
        facts.append(Fact(("actor", verb, thing or ""), label, "actor", name, name.lower(),
                          _places(sentence), _stems(verb, thing or "", "who"), sentence))
    return facts


def facts_in(sentence: str) -> list[Fact]:
    """Every fact ``sentence`` reports (see the module notes for what counts)."""
    facts: list[Fact] = []
    for match in _NUMBER.finditer(sentence):
        if _OLD_VALUE.search(sentence[: match.start()]) or _is_date_or_time(sentence, match):
            continue
        value = _number_value(match)
        if value is None:
            continue
        if match["pct"]:
            fact = _percent_fact(sentence, match, value)
        else:
            after = _words(sentence[match.end():])[:1]
            currency = (_CURRENCY_SIGNS.get((match["cur"] or "").strip().lower())
                        or (_CURRENCY_WORDS.get(after[0]) if after else None))
            if currency:
                fact = _amount_fact(sentence, match, value, currency)
            else:
                fact = _count_fact(sentence, match, value)
        if fact is not None:
            facts.append(fact)
    facts.extend(_agent_facts(sentence))
    return facts


# -- conflicts ---------------------------------------------------------------------------------
@dataclass
class Report:
    """One article's text as read for an answer, with the citation it has (or will get)."""

    ref: int  # the caller's handle (e.g. its position); becomes ReportedValue.citation
    article_id: str
    source: str
    published: date | None
    text: str
    facts: list[Fact] = field(default_factory=list)


def _same_value(a: Fact, b: Fact) -> bool:
    if a.kind == "actor":
        wa, wb = set(str(a.norm).split()), set(str(b.norm).split())
        return wa <= wb or wb <= wa
    return a.norm == b.norm


def _compatible(a: Fact, b: Fact) -> bool:
    return not a.places or not b.places or bool(a.places & b.places)


def _comparable(a: Fact, b: Fact) -> bool:
    if a.key == b.key:
        return True
    # "who steered it" (the subject was a name: "the Aurora") matches "who steered the ferry"
    return (a.kind == b.kind == "actor" and a.key[1] == b.key[1]
            and (not a.key[2] or not b.key[2]))


def article_facts(text: str) -> list[Fact]:
    """One fact per key for the article: its first report of that key (the lead is the news);
    a key the article itself gives two different values for is dropped as unclear."""
    found: dict[tuple[str, ...], Fact] = {}
    unclear: set[tuple[str, ...]] = set()
    for sentence in split_sentences(text):
        for fact in facts_in(sentence):
            first = found.get(fact.key)
            if first is None:
                found[fact.key] = fact
            elif not _same_value(first, fact) and _compatible(first, fact):
                unclear.add(fact.key)
    return [f for k, f in found.items() if k not in unclear]


def find_conflicts(reports: Sequence[Report]) -> list[Conflict]:
    """Keys that the reports (one story, one article each) give different values for.

    Values are listed newest report first; each report appears once per conflict.
    """
    return [conflict for _, conflict in keyed_conflicts(reports)]


def keyed_conflicts(reports: Sequence[Report]) -> list[tuple[tuple[str, ...], Conflict]]:
    """:func:`find_conflicts`, each conflict with the key of the facts behind it."""
    for report in reports:
        if not report.facts:
            report.facts = article_facts(report.text)
    found: list[tuple[tuple[str, ...], Conflict]] = []
    used: set[tuple[int, tuple[str, ...]]] = set()
    for i, report in enumerate(reports):
        for fact in report.facts:
            if (i, fact.key) in used:
                continue
            group = [(i, fact)]
            for j, other in enumerate(reports):
                if j == i:
                    continue
                match = next((f for f in other.facts if _comparable(fact, f)
                              and _compatible(fact, f)), None)
                if match is not None and (j, match.key) not in used:
                    group.append((j, match))
            if len({r for r, _ in group}) < 2:
                continue
            distinct: list[Fact] = []
            for _, f in group:
                if not any(_same_value(f, d) for d in distinct):
                    distinct.append(f)
            if len(distinct) < 2:
                continue
            used.update((r, f.key) for r, f in group)
            values = [ReportedValue(_display(f, distinct), reports[r].ref, reports[r].source,
                                    reports[r].published, f.sentence) for r, f in group]
            values.sort(key=lambda v: (v.date or date.min, -v.citation), reverse=True)
            label = next((f.label for _, f in group if f.key[-1]), fact.label)
            found.append((fact.key, Conflict(label, values, fact.kind)))
    return found


def _display(fact: Fact, distinct: Sequence[Fact]) -> str:
    """Actor names that are the same person or body shown one way (the longest)."""
    if fact.kind != "actor":
        return fact.value
    same = [d.value for d in distinct if _same_value(d, fact)] + [fact.value]
    return max(same, key=len)


def _asks_for(question: str) -> set[str]:
    """The kinds of fact a question asks for: who -> actors; how many / how much -> figures;
    anything else -> any kind."""
    q = question.lower()
    if re.match(r"\s*(?:who|whom|which (?:group|union|person|company|body|officer|"
                r"organisation|organization))\b", q):
        return {"actor"}
    if re.search(r"\bhow (?:many|much)\b|\b(?:toll|number|figure|count|amount|cost|percent|"
                 r"total)\b", q):
        return {"count", "amount", "percent"}
    return {"count", "amount", "percent", "actor"}


def relevant_conflicts(keyed: Sequence[tuple[tuple[str, ...], Conflict]], question: str,
                       facts: Sequence[Fact]) -> list[Conflict]:
    """The conflicts about what the question asks: among all the facts of the story (in
    conflict or not), those of the kind it asks for that share the most words with it; their
    conflicts, if any. "What pay rise did they accept?" is about the agreed pay rise, so the
    disputed number of strikers is not reported with it."""
    kinds = _asks_for(question)
    asked = set(content_terms(question))
    best, keys = 0, set()
    for fact in facts:
        if fact.kind not in kinds:
            continue
        overlap = len(asked & fact.terms)
        if overlap > best:
            best, keys = overlap, {fact.key}
        elif overlap == best and overlap:
            keys.add(fact.key)
    if not best:
        return []
    return [conflict for key, conflict in keyed
            if key in keys or any(_comparable_keys(key, k) for k in keys)]


def _comparable_keys(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return a[:2] == b[:2] == ("actor", a[1]) and (not a[2] or not b[2])

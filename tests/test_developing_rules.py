"""The rules behind timelines, conflicts and as-of dates, on plain data (no index, no model)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant import asof
from assistant.annotate import (
    ArticleText,
    cite_conflicts,
    compose,
    conflict_note,
    finish,
    group_articles,
    split_notes,
)
from assistant.answer import Answer, Citation
from assistant.conflicts import (
    Report,
    article_facts,
    facts_in,
    find_conflicts,
    keyed_conflicts,
    relevant_conflicts,
)
from assistant.developments import Conflict, Event, ReportedValue, format_day
from assistant.documents import Passage
from assistant.errors import ConfigError
from assistant.eventdates import named_day
from assistant.settings import DevelopingSettings, load_settings
from assistant.timeline import (
    clean_sentence,
    code_events,
    timeline_text,
    timeline_topic,
)
from assistant.topics import StoryArticle, group_stories, names_in, names_missing, story_for

MON, TUE, WED, THU = date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)


# -- stories ---------------------------------------------------------------------------------
def test_names_skip_sentence_openers_outlets_and_take_the_dateline() -> None:
    text = ("HARBOR CITY (Global Wire) — Floodwaters rose in Harbor City on Monday. Rescuers "
            "from the Red Cross helped Mayor Ines Varga. Boats carried people to safety.")
    names = names_in(text, outlets=["Global Wire"])
    assert {"Harbor City", "Red Cross", "Ines Varga"} <= names
    assert not names & {"Floodwaters", "Rescuers", "Boats", "Global Wire", "Monday", "Mayor"}


def _article(i: str, title: str, text: str, day: date, source: str = "Wire") -> StoryArticle:
    return StoryArticle(i, title, source, day, text)


def test_look_alike_stories_are_kept_apart_and_reprints_joined() -> None:
    articles = [
        _article("a", "Floods kill 12 in Harbor City", "HARBOR CITY — The Lenna River burst "
                 "its banks in Harbor City on Monday, killing 12 people.", MON),
        _article("b", "Flash floods kill seven in Vellmar", "VELLMAR — Flash floods swept "
                 "through Vellmar on Tuesday, killing seven people near the Oster River.", TUE),
        _article("c", "Floods kill 12 in Harbor City", "HARBOR CITY — The Lenna River burst "
                 "its banks in Harbor City on Monday, killing 12 people.", MON, "Herald"),
        _article("d", "Toll rises to 31", "The number of people killed by the floods in Harbor "
                 "City rose to 31 as the Lenna River kept rising.", TUE),
        _article("e", "Old story", "The Lenna River burst its banks in Harbor City in 2019.",
                 date(2019, 3, 1)),
    ]
    groups = group_stories(articles)
    assert groups == [[0, 2, 3], [1], [4]]  # too far apart in time to be one story
    assert story_for("How did the Vellmar floods unfold?", articles, groups) == [1]
    assert story_for("What happened in the floods?", articles, groups) == [0, 2, 3]


def test_names_missing_from_passages() -> None:
    keld = "How many ships were waiting outside the Port of Keld?"
    assert names_missing(keld, ["The ferry Aurora ran aground off Skarholm."])
    assert not names_missing(keld, ["Ships wait", "outside the port of KELD on Monday."])
    assert not names_missing("How many ships were waiting?", ["Nothing named here."])


# -- dates -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("sentence", "published", "expected"), [
    ("The river burst its banks on Monday.", WED, MON),
    ("Officials said on Wednesday that 31 people had died.", WED, WED),  # publication day
    ("Last night the army arrived.", WED, TUE),
    ("The ferry, which ran aground on 15 March, was towed off on Thursday.", date(2026, 3, 19),
     date(2026, 3, 19)),  # the latest day named is the news
    ("The floods have killed 31 people since the river burst its banks on Monday.", WED, None),
    ("Service will resume on 24 March.", date(2026, 3, 19), None),  # a plan
    ("Work would restart on Tuesday.", MON, None),
    ("Talks resumed last week.", WED, None),  # a period, not a day
    ("The mayor spoke to reporters.", WED, None),
])
def test_the_day_a_sentence_names(sentence: str, published: date, expected: date | None) -> None:
    assert named_day(sentence, published) == expected


# -- facts and conflicts ---------------------------------------------------------------------
def _one(sentence: str) -> tuple[tuple[str, ...], str]:
    (fact,) = facts_in(sentence)
    return fact.key, fact.value


@pytest.mark.parametrize(("sentence", "key", "value"), [
    ("The floods killed at least 12 people.", ("people", "deaths"), "12"),
    ("The death toll from the floods reached 48, officials said.", ("people", "deaths"), "48"),
    ("Police said the number of dead had risen to 27.", ("people", "deaths"), "27"),
    ("Three people were injured.", ("people", "injured"), "3"),
    ("The union said 2,300 of its members had walked out.",
     ("count", "workers", "on strike"), "2,300"),
    ("The number of ships waiting outside the port grew to 85.",
     ("count", "ships", "waiting"), "85"),
    ("The floods caused damage worth 410 million euros.",
     ("amount", "damage", "euros"), "410 million euros"),
    ("The union is demanding a 9 percent pay rise.",
     ("percent", "pay rise", "demanded"), "9%"),
    ("The strike was called by the Dockers' Union of Keld.",
     ("actor", "called", "strike"), "Dockers' Union of Keld"),
    ("The ferry was being steered by captain Lars Dahl.",
     ("actor", "steered", "ferry"), "Lars Dahl"),
])
def test_facts(sentence: str, key: tuple[str, ...], value: str) -> None:
    assert _one(sentence) == (key, value)


@pytest.mark.parametrize("sentence", [
    "The ferry carried 86 passengers, not 120 as first reported.",  # only 86 is a report
    "It corrected an earlier figure of 120 passengers.",
    "The toll rose to 31 from 12.",
    "The river peaked at 7.9 metres.",  # a measurement, not a count
    "Workers began a 48-hour strike on 9 March 2026.",
    "Five people were injured, two of them seriously.",  # the part is not a second count
    "The company said it had offered 3 percent and called the walkout irresponsible.",
    "The cup final was watched by Maria Lopez.",  # not a verb of agency
    "The ferry was steered by the captain, not by Lars Dahl.",
])
def test_old_values_and_non_reports_are_not_facts(sentence: str) -> None:
    values = {f.value for f in facts_in(sentence)}
    assert not values & {"120", "12", "7.9", "48", "2", "3%", "Maria Lopez", "Lars Dahl"}


def _report(i: int, text: str, day: date, source: str = "Wire") -> Report:
    return Report(i, f"id{i}", source, day, text)


def test_revised_figures_make_a_conflict_newest_first() -> None:
    reports = [
        _report(0, "The floods killed at least 12 people in Harbor City.", MON),
        _report(1, "The floods killed at least 12 people in Harbor City.", MON, "Herald"),
        _report(2, "The death toll rose to 31, officials said.", TUE),
        _report(3, "Officials said 48 people had now died.", THU),
    ]
    (conflict,) = find_conflicts(reports)
    assert conflict.what == "death toll" and conflict.kind == "count"
    assert [(v.value, v.citation) for v in conflict.values] == [
        ("48", 3), ("31", 2), ("12", 0), ("12", 1)]
    assert conflict.latest == "48" and conflict.distinct_values == ["48", "31", "12"]


def test_no_conflict_from_agreement_other_places_other_things_or_one_article() -> None:
    assert find_conflicts([
        _report(0, "The floods killed 12 people.", MON),
        _report(1, "The floods killed 12 people.", MON),  # reprints agree
    ]) == []
    assert find_conflicts([
        _report(0, "Floods killed 31 people in Harbor City.", TUE),
        _report(1, "Floods killed 7 people in Vellmar.", TUE),  # two places: two tolls
    ]) == []
    assert find_conflicts([
        _report(0, "The union is demanding a 9 percent pay rise.", MON),
        _report(1, "Workers voted to accept a 6.5 percent pay rise.", THU),  # demand vs deal
    ]) == []
    assert find_conflicts([
        _report(0, "The floods killed 12 people. Later the floods killed 31 people.", MON),
    ]) == []  # one article: not a conflict between reports (and unclear, so dropped)
    assert article_facts("The floods killed 12 people. Later the floods killed 31 people.") == []


def test_who_did_it_conflicts_and_the_newest_day_disagreeing() -> None:
    reports = [
        _report(0, "The ferry was being steered by captain Lars Dahl.", MON),
        _report(1, "The Aurora was being steered by second officer Mikael Strand.", TUE),
    ]
    (conflict,) = find_conflicts(reports)
    assert conflict.kind == "actor" and conflict.latest == "Mikael Strand"
    same_day = find_conflicts([
        _report(0, "The death toll rose to 31.", TUE),
        _report(1, "Police said the number of dead had risen to 27.", TUE),
    ])
    assert same_day[0].latest is None  # the newest reports disagree: no single latest


def test_the_conflicts_a_question_is_about() -> None:
    reports = [
        _report(0, "The strike was called by the Harbour Workers' Federation. About 1,800 "
                   "dockworkers took part in the walkout.", MON),
        _report(1, "The strike was called by the Dockers' Union of Keld. The union said "
                   "2,300 of its members had walked out. Workers want a 9 percent pay rise.",
                TUE),
        _report(2, "Dockworkers voted to accept a 6.5 percent pay rise, ending the strike.", THU),
    ]
    keyed = keyed_conflicts(reports)
    facts = [f for r in reports for f in r.facts]

    def about(question: str) -> list[str]:
        return [c.what for c in relevant_conflicts(keyed, question, facts)]

    assert about("Who called the strike?") == ["who called the strike"]
    assert about("How many dockworkers went on strike?") == ["workers on strike"]
    assert about("What pay rise did the dockworkers accept to end the strike?") == []
    assert about("What is the weather like?") == []


# -- timelines -------------------------------------------------------------------------------
@pytest.mark.parametrize(("question", "topic"), [
    ("How did the Harbor City floods unfold?", "the Harbor City floods"),
    ("What happened with the Port of Keld strike since 4 March?", "the Port of Keld strike"),
    ("Timeline of the Aurora grounding", "the Aurora grounding"),
    ("How has the strike developed so far?", "the strike"),
    ("What are the latest developments in the Keld strike?", "the Keld strike"),
    ("Keld port strike timeline", "Keld port strike"),
    ("What happened last week?", None),  # no topic: an ordinary question
    ("What happened with the Port of Keld strike?", "the Port of Keld strike"),
    ("What has happened in the Keld strike in March?", "the Keld strike"),
    ("What happened to interest rates last week?", None),  # one moment: an answer
    ("What happened in Iraq yesterday?", None),
    ("What happened near the airport?", None),
    ("How many US troops remain in Iraq?", None),
])
def test_timeline_questions(question: str, topic: str | None) -> None:
    assert timeline_topic(question) == topic


def test_a_forced_timeline_takes_the_text_as_topic() -> None:
    assert timeline_topic("the port strike since March", forced=True) == "the port strike"
    assert timeline_topic("How did the strike unfold?", forced=True) == "the strike"


def test_timeline_lines() -> None:
    assert clean_sentence("HARBOR CITY (Global Wire) — the river burst.") == "The river burst."
    events = [Event(MON, "The river burst its banks.", [1, 2], "text"),
              Event(None, "Undated note", [3], "unknown")]
    assert timeline_text("the floods", events, 3).splitlines() == [
        "Timeline of the floods (2 events from 3 articles):",
        "- 9 March 2026: The river burst its banks [1][2].",
        "- date unknown: Undated note [3]",
    ]


def test_timeline_text_counts_the_copies_cited_with_the_articles() -> None:
    events = [Event(MON, "The river burst its banks.", [1], "text")]
    assert timeline_text("the floods", events, 1, 1).splitlines()[0] == (
        "Timeline of the floods (1 event from 1 article and 1 copy):")
    assert timeline_text("the floods", events, 9, 2).splitlines()[0] == (
        "Timeline of the floods (1 event from 9 articles and 2 copies):")


def _passage(article: str, text: str, start: int, day: date | None, source: str = "Wire",
             copies: list[dict[str, str]] | None = None) -> Passage:
    return Passage(f"{article}#{start}", article, f"Title {article}", source,
                   f"https://x/{article}", day, text, start, start + len(text),
                   copies=copies or [])


def test_code_events_take_the_lead_and_sentences_naming_other_days() -> None:
    article = ArticleText("a", [_passage("a", "The strike began on Monday. Talks failed on "
                                         "Wednesday. Talks will resume on Friday.", 0, THU)])
    sentences = ["The strike began on Monday.", "Talks failed on Wednesday.",
                 "Talks will resume on Friday."]
    found = code_events(0, article, sentences, [0.9, 0.5, 0.8], limit=3)
    assert [(f.text, f.date, f.dated_by) for f in found] == [
        ("The strike began on Monday.", MON, "text"),
        ("Talks failed on Wednesday.", WED, "text"),  # a plan ("will resume") dates nothing
    ]
    assert len(code_events(0, article, sentences, [0.9, 0.5, 0.8], limit=1)) == 1
    # Without the article's start the most relevant sentence leads; no day: the article's.
    middle = ArticleText("b", [_passage("b", "Boats carried people to safety.", 500, THU)])
    (event,) = code_events(1, middle, ["Boats carried people to safety."], [0.4], limit=2)
    assert (event.date, event.dated_by) == (THU, "article")


def test_values_are_cited_and_missing_sources_added_with_their_copies() -> None:
    copy = {"id": "c2", "title": "Copy", "source": "Herald", "url": "https://x/c2",
            "published": "2026-03-09"}
    articles = group_articles([
        _passage("a", "31 people were killed.", 0, TUE),
        _passage("b", "12 people were killed.", 0, MON, copies=[copy]),
        _passage("a", "31 people were killed.", 0, TUE),  # the same chunk again: kept once
    ])
    assert [len(a.chunks) for a in articles] == [1, 1]
    citations = [Citation(1, "a", "Title a", "Wire", TUE, "https://x/a", "31 people")]
    conflict = Conflict("death toll", [ReportedValue("31", 0, "Wire", TUE),
                                       ReportedValue("12", 1, "Wire", MON)])
    cite_conflicts([conflict], articles, citations)
    assert [v.citation for v in conflict.values] == [1, 2]
    assert citations[1].article_id == "b" and citations[1].also_reported_by == [copy]
    assert citations[1].passage == ""  # no sentence was recorded for the value


def test_as_of_is_the_newest_citation_and_staleness_the_story() -> None:
    settings = DevelopingSettings()
    answer = Answer("q", "", citations=[
        Citation(1, "a", "A", "Wire", date(2026, 3, 19), "", ""),
        Citation(2, "b", "B", "Wire", MON, "", "")])
    # The story's newest article is 9 March: a question about now, asked 16 days later.
    finish(answer, "Body [1].", [], [MON, None], "What is the latest?", date(2026, 3, 25),
           settings)
    assert answer.as_of == date(2026, 3, 19) and answer.stale
    assert answer.text.endswith("9 March 2026, 16 days before 25 March 2026; it may be out "
                                "of date.")
    finish(answer, "Body [1].", [], [], "What is the latest?", date(2026, 3, 25), settings)
    assert not answer.stale  # no story dates: the citations' newest (6 days) decides
    finish(answer, "Body [1].", [], [MON], "What was the toll?", date(2026, 6, 1), settings)
    assert not answer.stale and "As of 19 March 2026" in answer.text


# -- as of, stale, notes ---------------------------------------------------------------------
def test_present_questions_and_staleness() -> None:
    assert asof.asks_about_present("What is the death toll now?")
    assert asof.asks_about_present("What is the latest on the strike?")
    assert not asof.asks_about_present("How many people died in the floods?")
    today = date(2026, 4, 10)
    assert asof.is_stale("What is the toll now?", date(2026, 3, 17), today, 7)
    assert not asof.is_stale("What is the toll now?", date(2026, 4, 5), today, 7)
    assert not asof.is_stale("What was the toll?", date(2026, 3, 17), today, 7)  # the past
    assert not asof.is_stale("What is the toll now?", None, today, 7)  # undated: unknown
    assert not asof.is_stale("What is the toll now?", date(2026, 3, 17), today, 0)  # off


def test_notes_are_composed_and_split_back() -> None:
    conflict = Conflict("death toll", [
        ReportedValue("48", 3, "Herald", THU), ReportedValue("31", 2, "Daily", TUE),
        ReportedValue("31", 1, "Wire", TUE)])
    note = conflict_note(conflict)
    assert note == ("Reports differ on the death toll: the latest report gives 48 (Herald, "
                    "12 March 2026 [3]); earlier reports gave 31 (Daily, 10 March 2026 [2]; "
                    "Wire, 10 March 2026 [1]).")
    text = compose("48 people died [3].", [conflict], THU, THU, date(2026, 4, 1))
    body, notes = split_notes(text)
    assert body == "48 people died [3]."
    assert notes[0] == note
    assert notes[1].startswith("As of 12 March 2026") and "20 days before 1 April" in notes[1]
    assert compose("Text.", [], None, None, THU) == "Text."  # nothing to add: unchanged


def test_answer_json_fields() -> None:
    answer = Answer("q", "t", events=[Event(MON, "e", [1])],
                    conflicts=[Conflict("toll", [ReportedValue("2", 1, "S", MON),
                                                 ReportedValue("1", 2, "T", None)])],
                    as_of=MON, stale=True)
    data = answer.to_dict()
    assert data["events"] == [{"date": "2026-03-09", "text": "e", "citations": [1],
                               "dated_by": "article"}]
    assert data["conflicts"][0]["latest"] == "2"
    assert data["conflicts"][0]["values"][1] == {"value": "1", "citation": 2, "source": "T",
                                                 "date": None, "sentence": ""}
    assert (data["as_of"], data["stale"]) == ("2026-03-09", True)
    empty = Answer("q", "t").to_dict()
    assert (empty["events"], empty["conflicts"], empty["as_of"], empty["stale"]) == (
        [], [], None, False)
    assert format_day(None) == "date unknown"


def test_developing_settings_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().developing.stale_days == 7
    config = tmp_path / "assistant.toml"
    config.write_text("[developing]\nstale_days = 3\ntimeline_articles = 4\n")
    settings = load_settings(config)
    assert (settings.developing.stale_days, settings.developing.timeline_articles) == (3, 4)
    monkeypatch.setenv("ASSISTANT_DEVELOPING__STALE_DAYS", "30")
    assert load_settings(config).developing.stale_days == 30
    assert load_settings(developing={"stale_days": 2}).developing.stale_days == 2
    assert load_settings().updated(developing={"merge_similarity": 0.5}).developing == (
        DevelopingSettings(stale_days=30, merge_similarity=0.5))
    monkeypatch.setenv("ASSISTANT_DEVELOPING__STALE_DAYS", "-1")
    with pytest.raises(ConfigError, match=r"developing\.stale_days"):
        load_settings()
    monkeypatch.delenv("ASSISTANT_DEVELOPING__STALE_DAYS")
    with pytest.raises(ConfigError, match="stale_days"):  # new settings have no flat name
        load_settings(stale_days=3)
    # Every field is described (the README's table is generated from the descriptions).
    assert all(f.description for f in DevelopingSettings.model_fields.values())


def test_a_number_in_words_supports_the_same_number_in_digits() -> None:
    from assistant.backends.base import ContextPassage
    from assistant.citations import Claim
    from assistant.documents import Passage
    from assistant.embedders import load_embedder
    from assistant.textutils import spelled_numbers
    from assistant.verification import Verifier

    assert spelled_numbers("Floods killed seven people and two hikers.") == {"7", "2"}
    text = "Flash floods swept through Vellmar on Tuesday, killing seven people."
    source = ContextPassage(1, Passage("c", "a", "Flash floods in Vellmar", "Gazette", "", TUE,
                                       text, 0, len(text)), text, [text])
    verifier = Verifier(load_embedder(load_settings()), 0.5)
    right, wrong = Claim("The floods in Vellmar killed 7 people.", [1]), Claim(
        "The floods in Vellmar killed 9 people.", [1])
    verifier.check([right, wrong], [source])
    assert right.supported and not wrong.supported

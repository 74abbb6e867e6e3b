"""Time words of a question -> inclusive publication-date range (assistant.timewords)."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.timewords import DateRange, infer_date_range, strip_time_words

T1 = date(2020, 11, 24)  # a Tuesday
T2 = date(2022, 6, 16)  # a Thursday
FRIDAY = date(2020, 11, 27)
NEW_YEAR = date(2021, 1, 15)
LEAP_DAY = date(2020, 2, 29)  # a Saturday
MARCH_FIRST = date(2020, 3, 1)
MARCH_31 = date(2021, 3, 31)


def d(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


CASES = [
    # relative days and weeks
    ("What happened today?", T1, "2020-11-24", "2020-11-24"),
    ("What did Biden say earlier today?", T1, "2020-11-24", "2020-11-24"),
    ("What did the Pentagon announce yesterday?", T1, "2020-11-23", "2020-11-23"),
    ("What was in yesterday's briefing?", NEW_YEAR, "2021-01-14", "2021-01-14"),
    ("Who spoke last night?", T1, "2020-11-23", "2020-11-24"),
    ("What happened this week?", T1, "2020-11-18", "2020-11-24"),
    ("What happened last week in Iraq?", T1, "2020-11-17", "2020-11-24"),
    ("What happened in the past week?", T2, "2022-06-09", "2022-06-16"),
    ("What happened this past week?", T2, "2022-06-09", "2022-06-16"),
    ("What changed over the last week?", T1, "2020-11-17", "2020-11-24"),
    # months and years relative to today
    ("What happened this month?", T1, "2020-11-01", "2020-11-24"),
    ("What happened last month?", T1, "2020-10-01", "2020-10-31"),
    ("What happened last month?", NEW_YEAR, "2020-12-01", "2020-12-31"),
    ("What happened last month?", MARCH_FIRST, "2020-02-01", "2020-02-29"),
    ("What happened in the past month?", T1, "2020-10-24", "2020-11-24"),
    ("What happened in the past month?", MARCH_31, "2021-02-28", "2021-03-31"),
    ("What happened during the last month?", T2, "2022-05-16", "2022-06-16"),
    ("What happened this year?", T2, "2022-01-01", "2022-06-16"),
    ("What happened last year?", T2, "2021-01-01", "2021-12-31"),
    ("What happened last year?", NEW_YEAR, "2020-01-01", "2020-12-31"),
    ("What happened in the past year?", LEAP_DAY, "2019-02-28", "2020-02-29"),
    # past/last N units
    ("What happened in the past 3 days?", T1, "2020-11-21", "2020-11-24"),
    ("What happened in the last 7 days?", T2, "2022-06-09", "2022-06-16"),
    ("What happened in the past two weeks?", T1, "2020-11-10", "2020-11-24"),
    ("What happened over the past couple of weeks?", T1, "2020-11-10", "2020-11-24"),
    ("What happened in the past few days?", T1, "2020-11-21", "2020-11-24"),
    ("What happened in the last six months?", T1, "2020-05-24", "2020-11-24"),
    ("What happened in the last 3 months?", MARCH_31, "2020-12-31", "2021-03-31"),
    ("What happened in the past 2 years?", T2, "2020-06-16", "2022-06-16"),
    ("What happened in the past 24 hours?", T1, "2020-11-23", "2020-11-24"),
    ("What happened in the last 48 hours?", T1, "2020-11-22", "2020-11-24"),
    ("What happened in the past 3 days?", MARCH_FIRST, "2020-02-27", "2020-03-01"),
    # vague words: a 30-day window ending today
    ("What has Iraq said recently?", T1, "2020-10-25", "2020-11-24"),
    ("What has Iraq said lately?", T2, "2022-05-17", "2022-06-16"),
    ("What is the latest on the troop withdrawal?", T1, "2020-10-25", "2020-11-24"),
    ("What happened in recent weeks?", T1, "2020-10-25", "2020-11-24"),
    # named months and years
    ("What happened in November 2020?", T2, "2020-11-01", "2020-11-30"),
    ("Troop levels November 2020", T2, "2020-11-01", "2020-11-30"),
    ("What happened in Nov. 2020?", T2, "2020-11-01", "2020-11-30"),
    ("What happened in February 2020?", T2, "2020-02-01", "2020-02-29"),
    ("What happened in February 2021?", T2, "2021-02-01", "2021-02-28"),
    ("What happened in March of 2021?", T2, "2021-03-01", "2021-03-31"),
    ("What happened in March last year?", T2, "2021-03-01", "2021-03-31"),
    ("What happened in March this year?", T2, "2022-03-01", "2022-03-31"),
    ("What happened in 2020?", T2, "2020-01-01", "2020-12-31"),
    ("How many troops were in Iraq during 2019?", T1, "2019-01-01", "2019-12-31"),
    ("What happened in the year 2000?", T1, "2000-01-01", "2000-12-31"),
    ("What happened in 1999?", T1, "1999-01-01", "1999-12-31"),
    # month names without a year: the most recent such month not after today
    ("What happened in March?", T2, "2022-03-01", "2022-03-31"),
    ("What happened in June?", T2, "2022-06-01", "2022-06-30"),
    ("What happened in December?", T2, "2021-12-01", "2021-12-31"),
    ("What happened in December?", NEW_YEAR, "2020-12-01", "2020-12-31"),
    ("What happened in January?", NEW_YEAR, "2021-01-01", "2021-01-31"),
    ("What happened in May?", T2, "2022-05-01", "2022-05-31"),
    ("What happened last March?", T2, "2022-03-01", "2022-03-31"),
    ("What happened last June?", T2, "2021-06-01", "2021-06-30"),
    ("What happened last January?", NEW_YEAR, "2020-01-01", "2020-01-31"),
    # single days
    ("What did Trump say on November 17, 2020?", T1, "2020-11-17", "2020-11-17"),
    ("What did Trump say on November 17th 2020?", T2, "2020-11-17", "2020-11-17"),
    ("What did Trump say on Nov. 17, 2020?", T2, "2020-11-17", "2020-11-17"),
    ("What did Trump say on 17 November 2020?", T2, "2020-11-17", "2020-11-17"),
    ("What did Trump say on the 17th of November, 2020?", T2, "2020-11-17", "2020-11-17"),
    ("What did Trump say on 2020-11-17?", T2, "2020-11-17", "2020-11-17"),
    ("What did Trump say on November 17?", T1, "2020-11-17", "2020-11-17"),
    ("What did Trump say on November 25?", T1, "2019-11-25", "2019-11-25"),
    # ... or the coming one, when the question speaks of the future and it is nearer
    ("Which teams will face off in the Super Bowl on February 8?", date(2026, 1, 30),
     "2026-02-08", "2026-02-08"),
    ("Who is set to speak on November 25?", T1, "2020-11-25", "2020-11-25"),
    ("Who will speak on November 17?", T1, "2020-11-17", "2020-11-17"),  # a week ago is nearer
    ("What has changed since November 25, and what will come next?", T1, "2019-11-25",
     "2020-11-24"),
    ("What happened on February 29?", T2, "2020-02-29", "2020-02-29"),
    ("What happened on February 29, 2020?", T2, "2020-02-29", "2020-02-29"),
    # weekdays: the most recent such day strictly before today ...
    ("What happened on Friday?", T1, "2020-11-20", "2020-11-20"),
    ("What happened last Friday?", T1, "2020-11-20", "2020-11-20"),
    ("What happened last Friday?", FRIDAY, "2020-11-20", "2020-11-20"),
    # ... or today, said as news says it ("was arrested on Friday" in Friday's report)
    ("What happened on Friday?", FRIDAY, "2020-11-20", "2020-11-27"),
    ("Who was convicted of fraud on Thursday?", T2, "2022-06-09", "2022-06-16"),
    ("What happened on Thursday?", FRIDAY, "2020-11-26", "2020-11-26"),
    ("What happened on Monday?", T1, "2020-11-23", "2020-11-23"),
    ("What happened on Tuesday?", T1, "2020-11-17", "2020-11-24"),
    ("What happened this past Sunday?", T2, "2022-06-12", "2022-06-12"),
    ("What did the minister say on Friday?", LEAP_DAY, "2020-02-28", "2020-02-28"),
    # since / after / before / until
    ("What has changed since March 2021?", T2, "2021-03-01", "2022-06-16"),
    ("What has changed since 2019?", T1, "2019-01-01", "2020-11-24"),
    ("What has changed since last week?", T1, "2020-11-17", "2020-11-24"),
    ("What has changed since Monday?", T1, "2020-11-23", "2020-11-24"),
    ("What happened after 2019?", T1, "2020-01-01", "2020-11-24"),
    ("What happened before 2020?", T1, None, "2019-12-31"),
    ("What happened prior to March 2020?", T1, None, "2020-02-29"),
    ("What happened until June 2021?", T2, None, "2021-06-30"),
    ("What happened through 2019?", T2, None, "2019-12-31"),
    ("What happened until yesterday?", T1, None, "2020-11-23"),
    # ranges
    ("What happened between March and June 2021?", T2, "2021-03-01", "2021-06-30"),
    ("What happened between November and February 2021?", T2, "2020-11-01", "2021-02-28"),
    ("What happened between 2019 and 2021?", T2, "2019-01-01", "2021-12-31"),
    ("What happened from March 2019 to June 2020?", T2, "2019-03-01", "2020-06-30"),
    ("What happened from 2019 until 2020?", T2, "2019-01-01", "2020-12-31"),
    ("What happened between March and May?", T2, "2022-03-01", "2022-05-31"),
    # early / mid / late: thirds of the period
    ("What happened in early November 2020?", T2, "2020-11-01", "2020-11-10"),
    ("What happened in mid-November 2020?", T2, "2020-11-11", "2020-11-20"),
    ("What happened in late March 2020?", T2, "2020-03-22", "2020-03-31"),
    ("What happened in late 2020?", T2, "2020-09-01", "2020-12-31"),
    ("What happened at the end of 2020?", T2, "2020-09-01", "2020-12-31"),
    ("What happened in early 2020?", T2, "2020-01-01", "2020-05-01"),
    # several phrases: the narrowest period wins, one-sided phrases narrow it
    ("Last week, on Friday, what did the US say?", T1, "2020-11-20", "2020-11-20"),
    ("What did Trump say in November 2020, on November 17, 2020?", T2, "2020-11-17",
     "2020-11-17"),
    ("What was the latest news in 2019?", T2, "2019-01-01", "2019-12-31"),
    ("What happened since 2019 and before 2021?", T2, "2019-01-01", "2020-12-31"),
    ("What happened in 2020 after March 2020?", T2, "2020-04-01", "2020-12-31"),
    ("What happened in 2020 before 2019?", T2, "2020-01-01", "2020-12-31"),
    # case and position do not matter
    ("LAST WEEK what happened", T1, "2020-11-17", "2020-11-24"),
    ("in 2020 what did the US decide about Iraq", T1, "2020-01-01", "2020-12-31"),
    # numbers next to years are still years when the year stands alone
    ("How many of the 2,500 troops left in 2020?", T1, "2020-01-01", "2020-12-31"),
]


@pytest.mark.parametrize(("question", "today", "since", "until"), CASES)
def test_infer_date_range(question: str, today: date, since: str | None,
                          until: str | None) -> None:
    found = infer_date_range(question, today)
    assert found is not None, question
    assert (found.since, found.until) == (d(since), d(until))


@pytest.mark.parametrize("question", [
    "How many US troops are in Iraq?",
    "Why will 2,500 troops stay in Iraq?",
    "Did 1500 people protest in Baghdad?",
    "Were there 48 operations against ISIS?",
    "Who may win the election?",
    "May the US keep troops in Iraq?",
    "Who led the march in Baghdad?",
    "Were troops cut from 2000 to 1500?",
    "Were there over 2000 soldiers?",
    "What are the plans for 2021?",  # "for" does not make a bare year a date
    "Did Iraq send in 2000 soldiers?",
    "Who won the 2020 election?",
    "What did the Black Friday sales show?",
    "Is 45% of the force leaving?",
    "Was the budget 2020.5 million?",
    "What did the wars in 1990s cost?",
    "What happened on 2020-02-30?",
    "What is the latter?",
    "",
])
def test_no_time_words(question: str) -> None:
    assert infer_date_range(question, T1) is None
    assert strip_time_words(question) == question


def test_result_type_and_phrase() -> None:
    assert infer_date_range("What happened last week?", T1) == DateRange(
        date(2020, 11, 17), date(2020, 11, 24), "last week")
    assert infer_date_range("Troops IN NOVEMBER 2020?", T1) == DateRange(
        date(2020, 11, 1), date(2020, 11, 30), "IN NOVEMBER 2020")
    assert infer_date_range("What was in yesterday's briefing?", T1).phrase == "in yesterday's"
    combined = infer_date_range("What happened since 2019 and before 2021?", T2)
    assert combined is not None and combined.phrase == "since 2019, before 2021"
    narrow = infer_date_range("Last week, on Friday, what did the US say?", T1)
    assert narrow is not None and narrow.phrase == "on Friday"


def test_date_range_is_frozen() -> None:
    found = infer_date_range("today", T1)
    assert found is not None
    with pytest.raises(AttributeError):
        found.since = T2  # type: ignore[misc]


@pytest.mark.parametrize(("question", "stripped"), [
    ("What did the Pentagon announce last week?", "What did the Pentagon announce?"),
    ("Last week, what did the Pentagon announce?", "What did the Pentagon announce?"),
    ("What happened in Iraq in the past 3 days?", "What happened in Iraq?"),
    ("How many troops were in Iraq in November 2020?", "How many troops were in Iraq?"),
    ("What happened between March and June 2021 in Iraq?", "What happened in Iraq?"),
    ("What did Trump say, on November 17, 2020, about Iraq?",
     "What did Trump say, about Iraq?"),
    ("Why will 2,500 troops stay in Iraq since 2019?", "Why will 2,500 troops stay in Iraq?"),
    ("What did Biden say about Iraq on Friday and last week?",
     "What did Biden say about Iraq and?"),
    ("What was in yesterday's briefing?", "What was briefing?"),
    ("Who may win the election in 2020?", "Who may win the election?"),
])
def test_strip_time_words(question: str, stripped: str) -> None:
    assert strip_time_words(question) == stripped

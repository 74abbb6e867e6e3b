"""Hybrid retrieval: the right article first, filters, fusion, keyword index upkeep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from conftest import make_settings, write_small_corpus

from assistant.documents import Passage
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.retrieval import reciprocal_rank_fusion


def _p(chunk_id: str, dense: float | None = None, lexical: float | None = None) -> Passage:
    return Passage(chunk_id, chunk_id.split("#")[0], "", "", "", None, "", 0, 0,
                   dense=dense, lexical=lexical)


def test_rrf_merges_lists_and_keeps_both_scores() -> None:
    dense = [_p("a#0", dense=0.9), _p("b#0", dense=0.8)]
    lexical = [_p("b#0", lexical=7.0), _p("c#0", lexical=3.0)]
    fused = reciprocal_rank_fusion([dense, lexical], k=60)
    assert [p.chunk_id for p in fused] == ["b#0", "a#0", "c#0"]
    assert fused[0].dense == 0.8 and fused[0].lexical == 7.0
    assert abs(fused[0].score - (1 / 62 + 1 / 61)) < 1e-12


def test_seed_question_finds_seed_passage_first(shared_index: NewsIndex) -> None:
    results = shared_index.search("how many US troops are in Iraq", k=3)
    assert results[0].title.startswith("US reduces troop numbers in Iraq")
    assert "2,500" in results[0].text
    assert results[0].dense is not None and results[0].dense > 0.5


def test_every_result_has_metadata_and_similarity(shared_index: NewsIndex) -> None:
    results = shared_index.search("marathon world record Berlin", k=5)
    top = results[0]
    assert top.title == "Marathon record falls in Berlin" and top.source == "Sport Daily"
    assert top.published == date(2022, 9, 25)
    assert all(p.dense is not None for p in results)  # keyword-only hits get one too


def test_keyword_side_finds_rare_exact_terms(shared_index: NewsIndex) -> None:
    lexical = shared_index.keyword.search("Kipchoge", 5, SearchFilters())
    assert lexical and lexical[0].title == "Marathon record falls in Berlin"


def test_source_filter_is_case_insensitive(shared_index: NewsIndex) -> None:
    results = shared_index.search("troops", k=5, filters=SearchFilters.make("rudaw"))
    assert results and {p.source for p in results} == {"Rudaw"}
    assert shared_index.search("troops", k=5, filters=SearchFilters.make("nope")) == []


def test_date_range_filter(shared_index: NewsIndex) -> None:
    july = SearchFilters.make(since=date(2022, 7, 1), until=date(2022, 7, 31))
    results = shared_index.search("news", k=10, filters=july)
    assert {p.title for p in results} == {"Central bank raises interest rates",
                                          "Heatwave breaks records in Europe"}
    since = shared_index.search("record", k=10, filters=SearchFilters.make(since=date(2022, 9, 1)))
    assert {p.title for p in since} == {"Marathon record falls in Berlin"}
    # Undated articles only come back when the range is a soft (inferred) one.
    soft = SearchFilters(since=date(2022, 9, 1), include_undated=True)
    titles = {p.title for p in shared_index.search("troops Iraq", k=10, filters=soft)}
    assert "British troops leave Basra palace" in titles  # undated
    assert "US reduces troop numbers in Iraq to 2,500: Pentagon" not in titles  # January 2021
    assert "Central bank raises interest rates" not in titles


def test_keyword_index_catches_up_when_store_changes_behind_its_back(tmp_path: Path) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    settings = make_settings(tmp_path)
    first = NewsIndex(settings)
    first.ingest([corpus])
    assert first.keyword.size == first.store.count_chunks()
    # Another process (or a crash) changes the store: the generation token moves on.
    other = NewsIndex(settings)
    other.store.delete(["https://example.com/heat"])
    assert first.keyword.search("heatwave", 5, SearchFilters())  # stale until it syncs
    results = first.search("heatwave London rail", k=5)
    assert all(p.article_id != "https://example.com/heat" for p in results)
    assert first.keyword.search("heatwave", 5, SearchFilters()) == []
    assert first.keyword.generation == first.store.generation
    assert first.keyword.size == first.store.count_chunks()


def test_first_use_builds_from_default_corpus(tmp_path: Path) -> None:
    index = NewsIndex(make_settings(tmp_path))
    events = []
    report = index.ensure_built(events.append)
    assert report is not None and len(report.added) == 1
    assert {e.phase for e in events} >= {"reading", "embedding"}
    assert index.ensure_built() is None  # already built: nothing to do
    assert index.search("US troops Iraq", k=1)[0].source == "Rudaw"


def test_preferred_scope_breaks_ties_but_does_not_exclude(tmp_path: Path) -> None:
    import json

    corpus = tmp_path / "rates"
    corpus.mkdir()
    rows = [
        {"title": f"Central bank raises interest rates in {year}", "published": f"{year}-07-14",
         "url": f"https://example.com/rates-{year}", "source": "cnn.com",
         "text": "The central bank raised its main interest rate by half a point to fight "
                 "inflation, the governor said at a press conference."}
        for year in (2019, 2022)
    ]
    (corpus / "rates.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    query = "central bank interest rate inflation"

    def first(prefer: SearchFilters | None) -> str:
        return index.search(query, k=2, prefer=prefer)[0].article_id

    july_2022 = SearchFilters(since=date(2022, 7, 1), until=date(2022, 7, 20))
    july_2019 = SearchFilters(since=date(2019, 7, 1), until=date(2019, 7, 20))
    assert first(july_2022) == "https://example.com/rates-2022"
    assert first(july_2019) == "https://example.com/rates-2019"
    both = index.search(query, k=5, prefer=july_2022)
    assert {p.article_id for p in both} == {"https://example.com/rates-2019",
                                            "https://example.com/rates-2022"}




def test_reports_from_long_before_a_named_period_are_set_aside(tmp_path: Path) -> None:
    import json

    from assistant.answer import RetrievalTrace
    from assistant.engine import Assistant

    corpus = tmp_path / "layoffs"
    corpus.mkdir()

    def row(slug: str, day: str, company: str) -> dict[str, str]:
        return {"title": f"{company} to cut 16,000 jobs", "published": day,
                "url": f"https://example.com/{slug}", "source": "cnn.com",
                "text": f"{company} announced that it is laying off 16,000 employees, its "
                        "biggest round of job cuts, as it reorganises."}

    rows = [row("old", "2014-05-22", "HP"), row("new", "2026-01-28", "Amazon"),
            {"title": "Amazon layoffs: what 16,000 job cuts mean for workers",
             "published": "2026-01-29", "url": "https://example.com/new2", "source": "usatoday.com",
             "text": "Workers at the retail giant learned on Wednesday which teams lose the "
                     "16,000 employees being laid off; severance runs for three months."}]
    (corpus / "layoffs.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    assistant = Assistant(index.settings, backend="extractive", index=index)
    today = date(2026, 1, 30)
    question = "Which company announced this week that it is laying off 16,000 employees?"
    trace = assistant.scope(question, SearchFilters(), today)
    assert trace.stale_before is not None and trace.stale_before < date(2025, 11, 1)
    searched = {p.article_id for p in trace.search(index, 5)}
    read = {p.article_id for p in assistant.read(trace, 5)}
    assert "https://example.com/old" in searched
    assert read == {"https://example.com/new", "https://example.com/new2"}
    # With one report of the period only, nothing is set aside.
    lone = RetrievalTrace(trace.query, trace.filters,
                          SearchFilters(since=date(2026, 1, 29), until=today),
                          trace.stale_before)
    assert "https://example.com/old" in {p.article_id for p in lone.read(index, 5)}
    # Without a period named, nothing either.
    plain = assistant.scope("Which company is laying off 16,000 employees?", SearchFilters(),
                            today)
    assert plain.stale_before is None


def test_a_refusal_says_when_only_older_reports_were_about_it(tmp_path: Path) -> None:
    import json

    from assistant.engine import Assistant

    corpus = tmp_path / "news"
    corpus.mkdir()
    rows = [
        {"title": "HP to cut 16,000 jobs", "published": "2014-05-22", "source": "cnn.com",
         "url": "https://example.com/hp", "text": "HP announced that it is laying off 16,000 "
         "employees, its biggest round of job cuts, as it reorganises."},
        {"title": "Snowstorm closes schools", "published": "2026-01-27", "source": "cnn.com",
         "url": "https://example.com/snow", "text": "A snowstorm closed schools across the "
         "Midwest on Tuesday as forecasters warned of more snow."},
        {"title": "Heat records fall in Australia", "published": "2026-01-28",
         "source": "usatoday.com", "url": "https://example.com/heat",
         "text": "Temperatures passed 45C in Adelaide as the heatwave set new records."},
    ]
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    index = NewsIndex(make_settings(tmp_path))
    index.ingest([corpus])
    assistant = Assistant(index.settings, backend="extractive", index=index)
    answer = assistant.ask("Which company announced this week that it is laying off 16,000 "
                           "employees?", reference_date=date(2026, 1, 30))
    assert answer.refused
    assert answer.reason.startswith("no report from the period the question names")
    assert "2014-05-22" in answer.reason
    # Asked without a period, the old report answers, with its date.
    plain = assistant.ask("Which company laid off 16,000 employees?",
                          reference_date=date(2026, 1, 30))
    assert not plain.refused and plain.citations[0].url == "https://example.com/hp"

"""Following feeds end to end against a real HTTP server on loopback (fake answer backend)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import feed_settings
from news_site import INSURANCE, Site, change_budget_page

from assistant.feeds import Feeds
from assistant.filters import SearchFilters
from assistant.index import NewsIndex
from assistant.textutils import split_sentences

GOOD = ["herald", "valley", "courier", "planet-sitemap", "planet-news"]
BAD = {"broken": "malformed XML", "gone": "HTTP 404", "slow": "no data for 0.5 s",
       "huge": "over the limit", "logo": "not a feed (content type image/png)"}


def article_text(index: NewsIndex, article_id: str) -> str:
    """The article's text as stored (its chunks put back together), whitespace collapsed."""
    return " ".join(index.store.article_texts([article_id])[article_id].split())


def follow(feeds: Feeds, site: Site, names: list[str]) -> None:
    for name in names:
        feeds.follow(site.feeds[name], name=name)


@pytest.fixture
def followed(tmp_path: Path, news_site: Site) -> tuple[Feeds, Site]:
    feeds = Feeds(feed_settings(tmp_path))
    follow(feeds, news_site, GOOD + list(BAD))
    return feeds, news_site


def test_first_update_reads_every_kind_of_feed_and_reports_each_failure(
    followed: tuple[Feeds, Site]
) -> None:
    feeds, _site = followed
    report = feeds.update()
    by_name = {f.name: f for f in report.feeds}
    # One line per failed feed, naming it and the reason; the others all went through.
    assert {f.name for f in report.failed} == set(BAD)
    for name, reason in BAD.items():
        assert reason in by_name[name].line() and by_name[name].line().startswith(f"feed {name}")
    assert by_name["herald"].kind == "rss20" and by_name["valley"].kind == "atom10"
    assert by_name["courier"].kind == "rss10" and by_name["planet-news"].kind == "news-sitemap"
    assert by_name["planet-sitemap"].kind == "sitemap"
    titles = {ref.title for ref in report.added}
    assert "Floods force 4,000 from homes in Marnholt" in titles
    assert "Army called in as river floods Marnholt" in titles
    assert "Library closed after flood" in titles  # reached through three redirects
    assert len(report.added) == 9
    # Pages that could not become articles, each with its reason.
    problems = {p.url.rsplit("/", 1)[-1]: p for p in by_name["herald"].rejected}
    assert problems["missing.html"].reason == "HTTP 404" and not problems["missing.html"].transient
    assert problems["server-error.html"].reason == "HTTP 500"
    assert problems["server-error.html"].transient
    assert "no data for 0.5 s" in problems["slow.html"].reason
    assert "over the limit of 200,000 bytes" in problems["huge.html"].reason
    assert problems["report.pdf"].reason == "not an HTML page (content type application/pdf)"
    assert "no article text" in problems["gallery.html"].reason
    assert "disallowed by robots.txt" in problems["secret.html"].reason
    # State: the feed list shows items, errors and when it was updated.
    listed = {f.name: f for f in feeds.list()}
    assert listed["herald"].items == 3 and listed["herald"].last_error is None
    assert listed["gone"].last_error == "HTTP 404" and listed["gone"].last_update


def test_articles_are_clean_and_carry_page_and_feed_metadata(
    followed: tuple[Feeds, Site]
) -> None:
    feeds, site = followed
    feeds.update()
    index = feeds.index
    records = index.store.article_records()
    herald = records[site.copy_urls["Northern Herald"]]
    assert herald.source == "Northern Herald" and str(herald.published) == "2026-11-19"
    texts = {cid: (text, meta) for cid, text, meta in index.store.iter_chunks()}
    body = " ".join(t for t, m in texts.values() if m["article_id"] == herald.id)
    assert "4,000 residents" in body and "hypothermia" in body
    for junk in ("BoatFan77", "Subscribe", "ADVERTISEMENT", "tracker", "Most read",
                 "Copyright", "loadMoreAds"):
        assert junk not in body, junk
    # The news sitemap's title and date fill what the page lacks; the canonical url is the id.
    volunteers = records[site.url("/planet/volunteers.html")]
    assert str(volunteers.published) == "2026-11-21"
    assert volunteers.source == "Daily Planet"
    assert site.url("/herald/library-closed.html") in records  # canonical after redirects


def test_second_update_costs_one_304_per_feed_and_no_page(
    followed: tuple[Feeds, Site]
) -> None:
    feeds, site = followed
    feeds.update()
    site.server.clear()
    report = feeds.update()
    assert report.added == [] and report.updated == []
    # Only the two pages that failed for a passing reason (500, timeout) are tried again.
    assert report.pages_fetched == 2
    good = {site.feeds[n].split(":", 2)[2].split("/", 1)[1] for n in GOOD}
    hits = {h.path: h.status for h in site.server.hits}
    assert {f"/{p}" for p in good} <= set(hits)
    assert all(hits[f"/{p}"] == 304 for p in good)
    # Pages are never asked for again: only feeds (and no robots.txt: cached for a day).
    pages = {p for p in hits if p.endswith(".html") or p.startswith("/go/")}
    assert pages == {"/herald/server-error.html", "/herald/slow.html"}
    assert "/robots.txt" not in hits
    # The failed feeds are tried again, every update.
    assert {"/broken.xml", "/gone.xml", "/slow.xml", "/huge.xml", "/logo.png"} <= set(hits)
    assert {f.name for f in report.failed} == set(BAD)


def test_changed_page_replaces_the_old_version(followed: tuple[Feeds, Site]) -> None:
    feeds, site = followed
    feeds.update()
    article_id = site.url("/valley/council-budget.html")
    before = feeds.index.store.records([article_id])[article_id]
    assert before.updated == ""
    change_budget_page(site)
    report = feeds.update()
    assert [ref.id for ref in report.updated] == [article_id]
    after = feeds.index.store.records([article_id])[article_id]
    assert after.title == "Council raises road repair budget after floods"
    assert after.updated and after.added == before.added
    chunks = [t for _, t, m in feeds.index.store.iter_chunks() if m["article_id"] == article_id]
    assert chunks and all("12 million" not in t for t in chunks)
    assert any("14 million" in t for t in chunks)
    hits = feeds.index.search("road repair budget million euros", k=3)
    assert hits[0].article_id == article_id and "14 million" in hits[0].text


def test_failed_feed_is_retried_and_a_vanished_feed_removes_nothing(
    followed: tuple[Feeds, Site]
) -> None:
    from news_server import Route, rss

    feeds, site = followed
    first = feeds.update()
    count = feeds.index.store.count_articles()
    # The 404 feed comes back; the Courier's feed disappears.
    site.server.routes["/gone.xml"] = Route(rss("Back", [
        {"title": "Insurance", "link": site.url("/herald/insurers-brace-for-claims.html"),
         "guid": "x"}]), "application/rss+xml")
    del site.server.routes["/courier/rdf.xml"]
    second = feeds.update()
    by_name = {f.name: f for f in second.feeds}
    assert not by_name["gone"].failed and by_name["gone"].status != "failed"
    assert by_name["courier"].failed and by_name["courier"].error == "HTTP 404"
    assert feeds.index.store.count_articles() == count
    assert site.copy_urls["Evening Courier"] in feeds.index.store.article_records()
    assert {f.name for f in first.failed} - {f.name for f in second.failed} == {"gone"}


def test_transient_page_failure_is_retried_next_update(followed: tuple[Feeds, Site]) -> None:
    from news_server import Route, article_page

    feeds, site = followed
    feeds.update()
    site.server.routes["/herald/server-error.html"] = Route(article_page(
        "Back online", INSURANCE[:2]))
    site.server.clear()
    report = feeds.update()
    assert "/herald/server-error.html" in site.server.paths()
    assert "/herald/missing.html" not in site.server.paths()  # 404 is final for this entry
    assert [ref.title for ref in report.added] == ["Back online"]


def test_stop_between_feeds_then_resume_without_duplicates(
    tmp_path: Path, news_site: Site
) -> None:
    feeds = Feeds(feed_settings(tmp_path))
    follow(feeds, news_site, GOOD)
    stop = threading.Event()

    def stop_after_first_feed(event: object) -> None:
        if getattr(event, "phase", "") == "fetching" and getattr(event, "done", 0) > 0:
            stop.set()

    first = feeds.update(stop=stop, progress=stop_after_first_feed)
    assert first.stopped and 0 < len(first.added) < 9
    second = feeds.update()
    assert not second.stopped
    assert len(first.added) + len(second.added) == 9
    ids = [ref.id for ref in first.added + second.added]
    assert len(set(ids)) == len(ids)
    rows = list(feeds.index.store.iter_chunks())
    assert len({cid for cid, _, _ in rows}) == len(rows)
    assert feeds.index.store.count_articles() == 9


def test_stories_group_copies_and_keep_same_topic_stories_apart(
    followed: tuple[Feeds, Site]
) -> None:
    feeds, site = followed
    feeds.update()
    records = feeds.index.store.article_records()
    copies = [records[url] for url in site.copy_urls.values()]
    assert len({r.story for r in copies}) == 1
    insurance = next(r for r in records.values() if r.title.startswith("Insurers brace"))
    engineers = next(r for r in records.values() if r.title.startswith("Why Marnholt"))
    others = {r.story for r in records.values() if r not in copies}
    assert copies[0].story not in others
    assert insurance.story != engineers.story
    stats = feeds.index.stats()
    assert stats["articles"] == 9 and stats["stories"] == 7


def test_search_returns_one_copy_per_story_unless_all_copies(
    followed: tuple[Feeds, Site]
) -> None:
    feeds, site = followed
    feeds.update()
    query = "how many residents left their homes in Marnholt floods"
    folded = feeds.index.search(query, k=5)
    copy_ids = set(site.copy_urls.values())
    from_copies = {p.article_id for p in folded} & copy_ids
    assert from_copies == {site.copy_urls["Northern Herald"]}  # the earliest copy
    herald = next(p for p in folded if p.article_id == site.copy_urls["Northern Herald"])
    assert {c["source"] for c in herald.copies} == {"Valley Times", "Evening Courier"}
    every = feeds.index.search(query, k=5, all_copies=True)
    assert {p.article_id for p in every} & copy_ids == copy_ids


def test_answer_cites_earliest_copy_and_counts_outlets(followed: tuple[Feeds, Site]) -> None:
    from assistant.engine import Assistant

    feeds, site = followed
    feeds.update()
    bot = Assistant(feeds.settings, index=feeds.index, backend="fake")
    answer = bot.ask("How many people were rescued by boat in Marnholt?")
    assert not answer.refused and "212" in answer.text
    citation = answer.citations[0]
    assert citation.url == site.copy_urls["Northern Herald"]
    assert citation.source == "Northern Herald" and citation.outlets == 3
    assert [c["source"] for c in citation.also_reported_by] == ["Valley Times",
                                                                "Evening Courier"]
    # The quoted passage really is the Herald's text.
    herald_text = article_text(feeds.index, citation.article_id)
    assert all(s in herald_text for s in split_sentences(citation.passage))
    assert answer.to_dict()["citations"][0]["outlets"] == 3


def test_earliest_copy_substituted_when_only_a_later_copy_matches(
    tmp_path: Path, news_site: Site
) -> None:
    """The Courier's copy alone has the added sentence; filtering to it keeps it, but an
    unfiltered search cites the Herald with the Herald's own passage."""
    feeds = Feeds(feed_settings(tmp_path))
    follow(feeds, news_site, ["herald", "valley", "courier"])
    feeds.update()
    index: NewsIndex = feeds.index
    query = "Evening Courier will publish updates on the floods throughout the day"
    top = index.search(query, k=1)[0]
    assert top.article_id == news_site.copy_urls["Northern Herald"]
    assert " ".join(top.text.split()) in article_text(index, top.article_id)
    assert "publish updates" not in top.text
    only = index.search(query, k=1, filters=SearchFilters.make("Evening Courier"))[0]
    assert only.article_id == news_site.copy_urls["Evening Courier"]
    assert "publish updates" in only.text

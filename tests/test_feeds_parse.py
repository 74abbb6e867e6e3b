"""Feed and sitemap parsing (RSS 2.0, RSS 1.0/RDF, Atom, sitemaps, news sitemaps), and pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from news_server import article_page, atom, news_sitemap, rdf, rss, sitemap
from news_site import WIRE

from assistant.feeds.parse import FeedParseError, parse_feed
from assistant.pages import EntryHints, PageRejected, article_from_page

ITEMS = [{"title": "First", "link": "http://n.test/1", "guid": "g-1",
          "date": "Thu, 19 Nov 2026 07:00:00 GMT", "author": "a@n.test (Ann Lee)"},
         {"title": "Second", "link": "/2", "guid": "g-2"}]


def test_rss20_entries_keyed_by_guid_with_dates_and_links_resolved() -> None:
    parsed = parse_feed(rss("Herald", ITEMS), "http://n.test/feed.xml")
    assert parsed.kind == "rss20" and parsed.title == "Herald"
    first, second = parsed.entries
    assert (first.key, first.url, first.hints.title) == ("g-1", "http://n.test/1", "First")
    assert first.hints.published == date(2026, 11, 19)
    assert first.hints.published_time == "2026-11-19T07:00:00+00:00"
    assert first.hints.source == "Herald"
    assert second.url == "http://n.test/2"


def test_atom_and_rdf() -> None:
    parsed = parse_feed(atom("Valley", [{"title": "A", "link": "http://v.test/a",
                                         "guid": "urn:a", "author": "Bo"}]), "http://v.test/")
    (entry,) = parsed.entries
    assert parsed.kind == "atom10" and entry.key == "urn:a" and entry.hints.authors == ["Bo"]
    parsed = parse_feed(rdf("Courier", [{"title": "C", "link": "http://c.test/c"}]),
                        "http://c.test/")
    (entry,) = parsed.entries
    assert parsed.kind == "rss10" and entry.key == "http://c.test/c"
    assert entry.hints.published == date(2026, 11, 20) and entry.hints.authors == ["Wire Desk"]


def test_entry_digest_changes_when_the_feed_says_the_entry_changed() -> None:
    def entry(updated: str):  # type: ignore[no-untyped-def]
        feed = atom("V", [{"title": "A", "link": "http://v.test/a", "guid": "urn:a",
                           "updated": updated}])
        return parse_feed(feed, "http://v.test/").entries[0]

    assert entry("2026-11-19T09:00:00Z").digest == entry("2026-11-19T09:00:00Z").digest
    assert entry("2026-11-19T09:00:00Z").digest != entry("2026-11-21T09:00:00Z").digest


def test_sitemaps() -> None:
    parsed = parse_feed(sitemap([("http://s.test/a", "2026-11-20")]), "http://s.test/sm.xml")
    assert parsed.kind == "sitemap" and parsed.entries[0].version == "2026-11-20"
    parsed = parse_feed(news_sitemap([{"link": "http://s.test/n", "title": "News title",
                                       "date": "2026-11-21T06:00:00Z"}], "Planet"), "http://s.test/")
    (entry,) = parsed.entries
    assert parsed.kind == "news-sitemap"
    assert (entry.hints.title, entry.hints.source) == ("News title", "Planet")
    assert entry.hints.published == date(2026, 11, 21)
    index = (b"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/"
             b"sitemap/0.9'><sitemap><loc>/sm-1.xml</loc></sitemap></sitemapindex>")
    assert parse_feed(index, "http://s.test/i.xml").sitemaps == ["http://s.test/sm-1.xml"]


@pytest.mark.parametrize(("body", "message"), [
    (b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>x</titl></item>",
     "malformed XML"),
    (b"<html><body>Just a web page</body></html>", "not an RSS/Atom feed or sitemap"),
    (b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
     b"<url><loc>http://a</loc></url", "malformed XML"),
])
def test_what_is_not_a_feed_is_rejected_with_its_reason(body: bytes, message: str) -> None:
    with pytest.raises(FeedParseError, match=message):
        parse_feed(body, "http://x.test/feed")


def test_entity_expansion_is_off_in_sitemaps() -> None:
    bomb = (b"<?xml version='1.0'?><!DOCTYPE urlset [<!ENTITY a 'aaaaaaaaaa'>"
            b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
            b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            b"<url><loc>http://x.test/&b;</loc></url></urlset>")
    parsed = parse_feed(bomb, "http://x.test/")
    assert all("aaaaaaaaaa" not in e.url for e in parsed.entries)


def test_page_extraction_keeps_the_article_and_drops_the_clutter() -> None:
    html = article_page("Floods force 4,000 from homes", WIRE, site="Northern Herald",
                        canonical="http://h.test/floods", author="Associated Wire")
    article = article_from_page(html, "http://h.test/floods?utm=x", "text/html", "utf-8")
    assert article.url == article.id == "http://h.test/floods"
    assert article.title == "Floods force 4,000 from homes"
    assert article.source == "Northern Herald" and article.authors == ["Associated Wire"]
    assert article.published == date(2026, 11, 20)
    assert "212 people" in article.text
    for junk in ("BoatFan77", "Reader42", "ADVERTISEMENT", "UA-TRACKING", "Most read",
                 "Copyright", "Subscribe now"):
        assert junk not in article.text


def test_feed_hints_fill_what_the_page_lacks() -> None:
    html = article_page("", WIRE[:3], site="", published=None, author=None)
    hints = EntryHints(title="From the feed", published=date(2026, 11, 18),
                       authors=["Feed Author"], source="Feed Name")
    article = article_from_page(html, "http://h.test/x", "text/html", hints=hints)
    assert article.published == date(2026, 11, 18)
    assert article.authors == ["Feed Author"]


@pytest.mark.parametrize(("body", "ctype", "message"), [
    (b"%PDF-1.4", "application/pdf", "not an HTML page (content type application/pdf)"),
    (b"<html><body><nav>Home</nav></body></html>", "text/html", "no article text"),
    (b"", "text/html", "no article text"),
])
def test_pages_that_are_not_articles_are_rejected(body: bytes, ctype: str,
                                                  message: str) -> None:
    with pytest.raises(PageRejected, match=re.escape(message)):
        article_from_page(body, "http://h.test/x", ctype)

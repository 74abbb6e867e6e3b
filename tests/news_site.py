"""The news sites the feed tests follow, served by ``NewsServer`` on loopback.

Three outlets print one wire story about floods in Marnholt with small edits (different
headline, byline, a sentence changed, added or dropped); two other articles are about the same
floods but written independently (they must stay separate stories). Around them: every kind
of trouble a feed reader meets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from news_server import NewsServer, Route, article_page, atom, news_sitemap, rdf, rss, sitemap

WIRE = [
    "Floodwaters swept through the river town of Marnholt on Thursday after three days of "
    "torrential rain, forcing more than 4,000 residents to leave their homes, regional "
    "officials said.",
    "The Vell river rose 3.2 metres above its normal level overnight, breaching a flood wall "
    "that was built in 1998 and had never failed before, according to the regional water "
    "authority.",
    "Emergency crews used boats to rescue 212 people who were trapped in their houses in the "
    "old town, and two temporary shelters were opened in school gymnasiums on higher ground.",
    "Governor Anna Lindqvist said the army would send 300 soldiers to help fill sandbags and "
    "reinforce embankments downstream, where the river is expected to peak on Saturday.",
    "No deaths have been reported, but one man was taken to hospital with hypothermia after "
    "spending several hours on the roof of his car, the local hospital said.",
    "Meteorologists warned that another 80 millimetres of rain could fall over the weekend, "
    "and rail services between Marnholt and the regional capital remain suspended.",
]
COPY_B = [WIRE[0].replace("on Thursday", "on Thursday morning"), WIRE[1],
          WIRE[2].replace("Emergency crews", "Rescue teams"), WIRE[3], WIRE[4]]
COPY_C = [WIRE[0].replace("torrential", "heavy"), *WIRE[1:],
          "The Evening Courier will publish updates on the floods throughout the day."]

INSURANCE = [
    "Insurance companies are preparing for a wave of claims from Marnholt, where floods this "
    "week damaged hundreds of homes and shops along the Vell.",
    "Analysts at Nordbank estimate that insured losses could reach 45 million euros, most of "
    "it from water damage to ground floors and basements in the old town.",
    "Several insurers said they would send extra assessors to the region and speed up "
    "emergency payments for families who had to leave their homes.",
    "Consumer groups urged residents to photograph the damage before starting any clean-up "
    "and to keep receipts for temporary accommodation.",
]
ENGINEERS = [
    "Engineers who studied the Marnholt flood wall say its 1998 design assumed a once-in-a-"
    "century river level that has now been exceeded twice in a decade.",
    "Professor Jonas Ek of the technical university said the concrete sections were sound "
    "but water seeped under the foundations, which were never deepened.",
    "The regional water authority had asked for funding to reinforce the wall in 2021, but "
    "the request was postponed when the budget was cut.",
    "A review of every flood defence on the Vell is expected to be announced next month.",
]
BUDGET_V1 = [
    "The Marnholt city council approved a budget of 12 million euros for road repairs on "
    "Tuesday evening after a long debate.",
    "Mayor Petra Holm said the work would start in spring and focus on the bridges over the "
    "Vell, which carry most of the town's traffic.",
    "Opposition councillors argued that the money should go to schools instead.",
]
BUDGET_V2 = [
    "The Marnholt city council raised its road repair budget to 14 million euros on Friday, "
    "after the floods damaged two of the bridges over the Vell.",
    "Mayor Petra Holm said the extra money would pay for urgent inspections and a temporary "
    "footbridge near the old town.",
    "Opposition councillors supported the change this time.",
]
SITEMAP_TEXT = [
    "The Marnholt public library will stay closed until the end of the month while its "
    "flooded basement archive is dried out by specialists.",
    "Librarians moved 3,000 rare books to the town hall before the water arrived, the "
    "head librarian said.",
]
MUSEUM_TEXT = [
    "The Marnholt town museum reopened its upper galleries on Saturday, although the ground "
    "floor will stay closed while the walls dry out.",
    "Curators said the river paintings collection had been moved upstairs in time and was "
    "undamaged, and entry will be free until Christmas.",
]
NEWS_SITEMAP_TEXT = [
    "Volunteers from across the region arrived in Marnholt on Friday to help clear mud from "
    "streets and gardens in the old town.",
    "The volunteer centre in the main square registered more than 600 helpers by noon and "
    "handed out shovels, gloves and boots.",
]


@dataclass
class Site:
    server: NewsServer
    feeds: dict[str, str] = field(default_factory=dict)  # name -> url
    copy_urls: dict[str, str] = field(default_factory=dict)  # outlet -> wire copy url

    def url(self, path: str) -> str:
        return self.server.url(path)


def build_site(server: NewsServer) -> Site:
    site = Site(server)
    u = server.url
    r = server.routes
    r["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")

    # The wire story, three outlets.
    site.copy_urls = {"Northern Herald": u("/herald/floods-force-4000-from-homes.html"),
                      "Valley Times": u("/valley/marnholt-flooding-thousands-evacuated.html"),
                      "Evening Courier": u("/courier/army-called-in-as-river-floods.html")}
    r["/herald/floods-force-4000-from-homes.html"] = Route(article_page(
        "Floods force 4,000 from homes in Marnholt", WIRE, site="Northern Herald",
        author="Associated Wire", published="2026-11-19T07:00:00Z",
        canonical=site.copy_urls["Northern Herald"]))
    r["/valley/marnholt-flooding-thousands-evacuated.html"] = Route(article_page(
        "Marnholt flooding: thousands evacuated as the Vell bursts its banks", COPY_B,
        site="Valley Times", author="Valley Times staff", published="2026-11-19T09:00:00Z"))
    r["/courier/army-called-in-as-river-floods.html"] = Route(article_page(
        "Army called in as river floods Marnholt", COPY_C, site="Evening Courier",
        author="Courier reporter", published="2026-11-19T11:30:00Z"))
    # Same floods, different stories.
    r["/herald/insurers-brace-for-claims.html"] = Route(article_page(
        "Insurers brace for flood claims after Marnholt deluge", INSURANCE,
        site="Northern Herald", published="2026-11-20T10:00:00Z"))
    r["/valley/why-the-flood-wall-failed.html"] = Route(article_page(
        "Why Marnholt's flood wall failed", ENGINEERS, site="Valley Times",
        published="2026-11-20T12:00:00Z"))
    r["/valley/council-budget.html"] = Route(article_page(
        "Council approves road repair budget", BUDGET_V1, site="Valley Times",
        published="2026-11-17T18:00:00Z"))
    # Trouble.
    r["/go/1"] = Route(status=301, location="/go/2")
    r["/go/2"] = Route(status=302, location=u("/go/3"))
    r["/go/3"] = Route(status=307, location="/herald/library-closed.html")
    r["/herald/library-closed.html"] = Route(article_page(
        "Library closed after flood", SITEMAP_TEXT, site="Northern Herald",
        canonical=u("/herald/library-closed.html")))
    r["/herald/server-error.html"] = Route(status=500)
    r["/herald/slow.html"] = Route(article_page("Slow", WIRE[:2]), delay=2.0)
    r["/herald/huge.html"] = Route(article_page("Huge", WIRE * 400), length=False)
    r["/herald/report.pdf"] = Route(b"%PDF-1.4 fake", "application/pdf")
    r["/herald/gallery.html"] = Route(
        b"<html><head><title>Photo gallery</title></head><body><nav>Home</nav>"
        b"<div class='gallery'><img src='a.jpg'><img src='b.jpg'></div></body></html>")
    r["/private/secret.html"] = Route(article_page("Secret", ENGINEERS))

    herald_items = [
        {"title": "Floods force 4,000 from homes in Marnholt",
         "link": site.copy_urls["Northern Herald"], "guid": "herald-1",
         "date": "Thu, 19 Nov 2026 07:00:00 GMT", "author": "wire@herald.example"},
        {"title": "Insurers brace for flood claims",
         "link": u("/herald/insurers-brace-for-claims.html"), "guid": "herald-2",
         "date": "Fri, 20 Nov 2026 10:00:00 GMT"},
        {"title": "Library closed", "link": u("/go/1"), "guid": "herald-3"},
        {"title": "Missing page", "link": u("/herald/missing.html"), "guid": "herald-4"},
        {"title": "Broken page", "link": u("/herald/server-error.html"), "guid": "herald-5"},
        {"title": "Slow page", "link": u("/herald/slow.html"), "guid": "herald-6"},
        {"title": "Huge page", "link": u("/herald/huge.html"), "guid": "herald-7"},
        {"title": "Flood report (PDF)", "link": u("/herald/report.pdf"), "guid": "herald-8"},
        {"title": "Photo gallery", "link": u("/herald/gallery.html"), "guid": "herald-9"},
        {"title": "Members only", "link": u("/private/secret.html"), "guid": "herald-10"},
    ]
    r["/herald/rss.xml"] = Route(rss("Northern Herald", herald_items), "application/rss+xml")
    r["/valley/atom.xml"] = Route(atom("Valley Times", [
        {"title": "Marnholt flooding: thousands evacuated",
         "link": site.copy_urls["Valley Times"], "guid": "urn:valley:1",
         "published": "2026-11-19T09:00:00Z", "updated": "2026-11-19T09:00:00Z"},
        {"title": "Why Marnholt's flood wall failed",
         "link": u("/valley/why-the-flood-wall-failed.html"), "guid": "urn:valley:2"},
        {"title": "Council approves road repair budget", "link": u("/valley/council-budget.html"),
         "guid": "urn:valley:3", "published": "2026-11-17T18:00:00Z",
         "updated": "2026-11-17T18:00:00Z"},
    ]), "application/atom+xml")
    r["/courier/rdf.xml"] = Route(rdf("Evening Courier", [
        {"title": "Army called in as river floods Marnholt",
         "link": site.copy_urls["Evening Courier"], "date": "2026-11-19T11:30:00Z"},
    ]), "application/rdf+xml")
    r["/planet/museum.html"] = Route(article_page(
        "Marnholt museum partly reopens", MUSEUM_TEXT, site="Daily Planet"))
    r["/sitemap.xml"] = Route(sitemap([(u("/planet/museum.html"), "2026-11-20")]),
                              "application/xml")
    r["/planet/volunteers.html"] = Route(article_page(
        "", NEWS_SITEMAP_TEXT, site="Daily Planet", published=None, author=None))
    r["/news-sitemap.xml"] = Route(news_sitemap([
        {"link": u("/planet/volunteers.html"), "date": "2026-11-21T06:00:00Z",
         "title": "Hundreds of volunteers help Marnholt clean up"}], "Daily Planet"),
        "application/xml")
    r["/broken.xml"] = Route(b"<?xml version='1.0'?><rss version='2.0'><channel><title>Oops"
                             b"</title><item><title>half</titl></item>", "application/xml")
    r["/slow.xml"] = Route(rss("Slow", []), "application/rss+xml", delay=2.0)
    r["/huge.xml"] = Route(rss("Huge", herald_items * 2000), "application/rss+xml")
    r["/logo.png"] = Route(b"\x89PNG\r\n\x1a\nfake", "image/png")
    site.feeds = {
        "herald": u("/herald/rss.xml"), "valley": u("/valley/atom.xml"),
        "courier": u("/courier/rdf.xml"), "planet-sitemap": u("/sitemap.xml"),
        "planet-news": u("/news-sitemap.xml"), "broken": u("/broken.xml"),
        "gone": u("/gone.xml"), "slow": u("/slow.xml"), "huge": u("/huge.xml"),
        "logo": u("/logo.png"),
    }
    return site


def change_budget_page(site: Site) -> None:
    """The council page is rewritten and the Atom feed says so (a new <updated>)."""
    r = site.server.routes
    r["/valley/council-budget.html"] = Route(article_page(
        "Council raises road repair budget after floods", BUDGET_V2, site="Valley Times",
        published="2026-11-17T18:00:00Z"))
    feed = r["/valley/atom.xml"].body.decode()
    feed = feed.replace("<updated>2026-11-17T18:00:00Z</updated>",
                        "<updated>2026-11-21T08:00:00Z</updated>")
    r["/valley/atom.xml"] = Route(feed.encode(), "application/atom+xml")

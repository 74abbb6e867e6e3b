"""A real HTTP server on 127.0.0.1 for the feed tests: news sites, feeds, and bad behaviour.

Routes are a dict that tests can change between updates. Each route can answer with a body
(ETag / Last-Modified validators and 304s handled here, as a real server does), a redirect, an
error status, a delay before the headers, or a body sent without Content-Length. Every request
is logged (path, headers, start time, how many were in flight on the server at that moment).
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for redirects
    delay: float = 0.0  # seconds before answering
    validators: bool = True  # send ETag / Last-Modified and answer 304 to matching requests
    length: bool = True  # send Content-Length (False: body until the connection closes)
    last_modified: float = field(default_factory=lambda: 1_700_000_000.0)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    started: float
    in_flight: int
    status: int = 0


class NewsServer:
    """``server.url(path)``; ``server.routes[path] = Route(...)``; ``server.hits``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: simple and honest

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner._serve(self)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self, prefix: str = "") -> list[str]:
        return [h.path for h in self.hits if h.path.startswith(prefix)]

    def clear(self) -> None:
        with self._lock:
            self.hits.clear()
            self.max_in_flight = 0

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            hit = Hit(handler.path, {k.lower(): v for k, v in handler.headers.items()},
                      time.monotonic(), self._in_flight)
            self.hits.append(hit)
        try:
            route = self.routes.get(handler.path)
            if route is None:
                hit.status = 404
                self._send(handler, 404, b"not found", "text/plain")
                return
            if route.delay:
                time.sleep(route.delay)
            if route.location is not None:
                hit.status = route.status
                handler.send_response(route.status)
                handler.send_header("Location", route.location)
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            if route.status >= 400:
                hit.status = route.status
                self._send(handler, route.status, b"error", "text/plain")
                return
            modified = formatdate(route.last_modified, usegmt=True)
            if route.validators and (
                handler.headers.get("If-None-Match") == route.etag
                or (handler.headers.get("If-None-Match") is None
                    and handler.headers.get("If-Modified-Since") == modified)
            ):
                hit.status = 304
                handler.send_response(304)
                handler.send_header("ETag", route.etag)
                handler.end_headers()
                return
            hit.status = route.status
            handler.send_response(route.status)
            handler.send_header("Content-Type", route.content_type)
            if route.validators:
                handler.send_header("ETag", route.etag)
                handler.send_header("Last-Modified", modified)
            if route.length:
                handler.send_header("Content-Length", str(len(route.body)))
            handler.end_headers()
            # The client may give up early (size limit): expected.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler.wfile.write(route.body)
        finally:
            with self._lock:
                self._in_flight -= 1

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


# -- content ------------------------------------------------------------------------------------
def article_page(
    title: str,
    paragraphs: list[str],
    *,
    site: str = "The Daily Planet",
    canonical: str | None = None,
    published: str | None = "2026-11-20T08:00:00Z",
    author: str | None = "Lois Lane",
    comments: bool = True,
) -> bytes:
    """An article page with everything a real one has around the text: navigation, ads,
    scripts, a sidebar, reader comments and a footer."""
    head = [f"<title>{title} | {site}</title>",
            f'<meta property="og:site_name" content="{site}">',
            f'<meta property="og:title" content="{title}">']
    if canonical:
        head.append(f'<link rel="canonical" href="{canonical}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published}">')
    if author:
        head.append(f'<meta name="author" content="{author}">')
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    comment_block = (
        '<section id="comments" class="comments"><h3>Comments</h3>'
        '<div class="comment"><p>BoatFan77: Totally predictable, this always happens. '
        "Subscribe to my channel for more.</p></div>"
        '<div class="comment"><p>Reader42: First! Great article, thanks for sharing.</p></div>'
        "</section>" if comments else "")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>" + "".join(head)
        + "<script>window.tracker = {id: 'UA-TRACKING-SNIPPET'}; console.log('tracking');"
        "</script><style>.ad{color:red}</style></head><body>"
        "<header><nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li>"
        "<li><a href='/sport'>Sport</a></li><li><a href='/subscribe'>Subscribe now</a></li>"
        "</ul></nav></header>"
        "<div class='ad banner'>ADVERTISEMENT: Buy SuperWidget today, 50% off!</div>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<aside class='sidebar'><h3>Most read</h3><ul><li><a href='/x'>Celebrity chef opens "
        "new bistro</a></li><li><a href='/y'>Ten tips for a better sleep</a></li></ul></aside>"
        + comment_block
        + "<footer><p>Copyright 2026 Planet Media Group. All rights reserved.</p>"
        "<script>loadMoreAds();</script></footer></body></html>"
    ).encode()


def rss(title: str, items: list[dict[str, str]]) -> bytes:
    """RSS 2.0: items with guid, link, title, pubDate, author."""
    parts = [f"<item><title>{i['title']}</title><link>{i['link']}</link>"
             f"<guid isPermaLink='false'>{i.get('guid', i['link'])}</guid>"
             f"<pubDate>{i.get('date', 'Fri, 20 Nov 2026 08:00:00 GMT')}</pubDate>"
             + (f"<author>{i['author']}</author>" if i.get("author") else "")
             + "</item>" for i in items]
    return (f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
            f"<title>{title}</title><link>http://example.invalid/</link>"
            f"<description>news</description>{''.join(parts)}</channel></rss>").encode()


def atom(title: str, entries: list[dict[str, str]]) -> bytes:
    parts = [f"<entry><title>{e['title']}</title><link rel='alternate' href='{e['link']}'/>"
             f"<id>{e.get('guid', e['link'])}</id>"
             f"<updated>{e.get('updated', '2026-11-20T09:00:00Z')}</updated>"
             f"<published>{e.get('published', '2026-11-20T09:00:00Z')}</published>"
             f"<author><name>{e.get('author', 'Staff')}</name></author></entry>"
             for e in entries]
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>{title}</title><id>urn:feed:{title}</id>"
            f"<updated>2026-11-20T09:00:00Z</updated>{''.join(parts)}</feed>").encode()


def rdf(title: str, items: list[dict[str, str]]) -> bytes:
    """RSS 1.0 (RDF) with Dublin Core dates and creators."""
    about = "".join(f"<rdf:li rdf:resource='{i['link']}'/>" for i in items)
    parts = [f"<item rdf:about='{i['link']}'><title>{i['title']}</title><link>{i['link']}</link>"
             f"<dc:date>{i.get('date', '2026-11-20T10:00:00Z')}</dc:date>"
             f"<dc:creator>{i.get('author', 'Wire Desk')}</dc:creator></item>" for i in items]
    return ("<?xml version='1.0'?><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'"
            " xmlns='http://purl.org/rss/1.0/' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
            f"<channel rdf:about='urn:{title}'><title>{title}</title><link>urn:{title}</link>"
            f"<description>d</description><items><rdf:Seq>{about}</rdf:Seq></items></channel>"
            f"{''.join(parts)}</rdf:RDF>").encode()


def sitemap(urls: list[tuple[str, str]]) -> bytes:
    """A plain sitemap: (loc, lastmod)."""
    parts = "".join(f"<url><loc>{loc}</loc><lastmod>{mod}</lastmod></url>" for loc, mod in urls)
    return ("<?xml version='1.0' encoding='UTF-8'?>"
            f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{parts}</urlset>"
            ).encode()


def news_sitemap(items: list[dict[str, str]], publication: str) -> bytes:
    parts = "".join(
        f"<url><loc>{i['link']}</loc><news:news><news:publication><news:name>{publication}"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{i['date']}</news:publication_date>"
        f"<news:title>{i['title']}</news:title></news:news></url>" for i in items)
    return ("<?xml version='1.0' encoding='UTF-8'?>"
            "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            f"xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>{parts}</urlset>"
            ).encode()

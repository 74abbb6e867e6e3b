"""Polite, bounded HTTP fetching: the one place the assistant talks to web servers.

Every request names the project in its User-Agent, goes to http(s) only, waits its turn per
host (at most ``per_host`` at once, starts spaced by ``host_delay`` or the host's robots.txt
Crawl-delay), has connect/read timeouts and an overall deadline, reads at most
``max_body_bytes`` (enforced while streaming, whatever Content-Length says), and follows a
bounded number of redirects, each hop checked again (scheme, robots.txt). Conditional GETs
(ETag / Last-Modified) turn an unchanged resource into one 304 and no body.

robots.txt is read with ``urllib.robotparser`` and cached (in memory, and for a day through an
optional ``RobotsCache`` such as the feed state). Status handling follows RFC 9309: a 4xx means
no rules, a 5xx or network error means "do not crawl" until the next try.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Protocol
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from assistant.settings import FeedSettings

ROBOTS_MAX_AGE_S = 24 * 3600  # RFC 9309: a cached robots.txt should not be used for longer
MAX_CRAWL_DELAY_S = 60.0
_REDIRECTS = {301, 302, 303, 307, 308}
ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/rdf+xml, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "robots": "text/plain, */*;q=0.5",
}


class FetchError(Exception):
    """A request that gave nothing usable; ``transient`` failures are worth retrying later."""

    def __init__(self, url: str, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.url = url
        self.reason = reason
        self.transient = transient

    def __str__(self) -> str:
        return self.reason


@dataclass
class Response:
    url: str  # after redirects
    status: int
    body: bytes = b""
    content_type: str = ""  # media type, lower case, without parameters
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # of a redirect
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class RobotsCache(Protocol):
    """Where robots.txt answers are kept between runs."""

    def load_robots(self, origin: str, max_age_s: float) -> tuple[int, str] | None: ...

    def save_robots(self, origin: str, status: int, text: str) -> None: ...


def check_url(url: str) -> str:
    """The url without its fragment; FetchError unless it is an absolute http(s) url."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"}:
        raise FetchError(url, f"not an http(s) url (scheme {parts.scheme or 'missing'!r})")
    if not parts.hostname:
        raise FetchError(url, "url has no host")
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", parts.query, ""))


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class _HostGate:
    """At most ``per_host`` requests at once per host, their starts ``delay`` apart."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._next_start: dict[str, float] = {}

    def ready_in(self, host: str) -> float:
        """Seconds until a request to ``host`` may start (0: now, if a slot is free)."""
        with self._lock:
            return max(0.0, self._next_start.get(host, 0.0) - time.monotonic())

    @contextmanager
    def turn(self, host: str, delay: float) -> Iterator[None]:
        with self._lock:
            slots = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        slots.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + delay
            if start > now:
                time.sleep(start - now)
            yield
        finally:
            slots.release()


class Fetcher:
    """A polite HTTP client shared by the threads of one update (thread-safe)."""

    def __init__(
        self,
        settings: FeedSettings,
        robots_cache: RobotsCache | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.robots_cache = robots_cache
        self.client = httpx.Client(
            headers={"User-Agent": settings.user_agent},
            timeout=httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                                  write=settings.read_timeout, pool=None),
            follow_redirects=False,  # followed by hand: every hop is checked
            limits=httpx.Limits(max_connections=settings.workers + 4,
                                max_keepalive_connections=settings.workers),
            transport=transport,
        )
        self._gate = _HostGate(settings.per_host)
        self._robots: dict[str, RobotFileParser | str] = {}
        self._robots_lock = threading.Lock()
        self._origin_locks: dict[str, threading.Lock] = {}
        self._count_lock = threading.Lock()
        self.requests = 0  # HTTP requests made (robots.txt included)
        self.requests_by_kind: dict[str, int] = {}

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public ------------------------------------------------------------------------------
    def get(
        self,
        url: str,
        *,
        kind: str = "page",
        etag: str | None = None,
        last_modified: str | None = None,
        respect_robots: bool | None = None,
    ) -> Response:
        """GET ``url``; a 304 comes back as a Response with ``not_modified``. Any other
        failure (status >= 400, too big, too slow, too many redirects, robots.txt) raises
        FetchError with a one-line reason."""
        obey = self.settings.respect_robots if respect_robots is None else respect_robots
        current = check_url(url)
        hops: list[str] = []
        for _hop in range(self.settings.max_redirects + 1):
            if obey and kind != "robots":
                self._check_robots(current)
            response = self._request(current, kind, etag, last_modified)
            if response.status not in _REDIRECTS:
                response.redirects = hops
                return self._final(response)
            hops.append(current)
            location = response.location
            if not location:
                raise FetchError(url, f"HTTP {response.status} redirect without a Location")
            try:
                current = check_url(urljoin(current, location))
            except FetchError as exc:
                raise FetchError(url, f"redirected to {location}: {exc.reason}") from None
            if current in hops:
                raise FetchError(url, f"redirect loop at {current}")
        raise FetchError(url, f"more than {self.settings.max_redirects} redirects "
                         f"(last to {current})")

    def host_ready_in(self, url: str) -> float:
        """Seconds before this url's host takes another request (for schedulers)."""
        return self._gate.ready_in(_host(url))

    def can_fetch(self, url: str) -> bool:
        try:
            self._check_robots(check_url(url))
        except FetchError:
            return False
        return True

    # -- internals ---------------------------------------------------------------------------
    def _final(self, response: Response) -> Response:
        if response.status == 304 or 200 <= response.status < 300:
            return response
        status = response.status
        transient = status >= 500 or status in {408, 425, 429}
        raise FetchError(response.url, f"HTTP {status}", transient=transient)

    def _count(self, kind: str) -> None:
        with self._count_lock:
            self.requests += 1
            self.requests_by_kind[kind] = self.requests_by_kind.get(kind, 0) + 1

    def _delay_for(self, url: str) -> float:
        rules = self._robots.get(_origin(url))
        delay = self.settings.host_delay
        if isinstance(rules, RobotFileParser):
            crawl_delay = rules.crawl_delay(self.settings.user_agent)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), MAX_CRAWL_DELAY_S))
        return delay

    def _request(
        self, url: str, kind: str, etag: str | None, last_modified: str | None
    ) -> Response:
        s = self.settings
        headers = {"Accept": ACCEPT.get(kind, "*/*")}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._gate.turn(_host(url), self._delay_for(url)):
            self._count(kind)
            started = time.monotonic()
            try:
                with self.client.stream("GET", url, headers=headers) as reply:
                    if reply.status_code in _REDIRECTS:
                        return Response(url, reply.status_code,
                                        location=reply.headers.get("location"))
                    if reply.status_code == 304 or reply.status_code >= 400:
                        return Response(url, reply.status_code)
                    declared = reply.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > s.max_body_bytes:
                        raise FetchError(url, f"body of {int(declared):,} bytes is over the "
                                         f"limit of {s.max_body_bytes:,} (max_body_bytes)")
                    body = bytearray()
                    for piece in reply.iter_bytes():
                        body += piece
                        if len(body) > s.max_body_bytes:
                            raise FetchError(url, f"body over the limit of "
                                             f"{s.max_body_bytes:,} bytes (max_body_bytes)")
                        if time.monotonic() - started > s.total_timeout:
                            raise FetchError(url, f"response took longer than "
                                             f"{s.total_timeout:g} s (total_timeout)", True)
                    media, charset = _content_type(reply.headers.get("content-type", ""))
                    return Response(
                        str(reply.url), reply.status_code, bytes(body), media, charset,
                        reply.headers.get("etag"), reply.headers.get("last-modified"),
                    )
            except httpx.ConnectTimeout:
                raise FetchError(url, f"no connection within {s.connect_timeout:g} s", True) \
                    from None
            except httpx.ReadTimeout:
                raise FetchError(url, f"no data for {s.read_timeout:g} s (read_timeout)", True) \
                    from None
            except httpx.ConnectError as exc:
                raise FetchError(url, f"cannot connect ({_short(exc)})", True) from None
            except httpx.TooManyRedirects:  # not raised with follow_redirects=False; be safe
                raise FetchError(url, "too many redirects") from None
            except httpx.HTTPError as exc:
                raise FetchError(url, f"{type(exc).__name__}: {_short(exc)}", True) from None

    def _check_robots(self, url: str) -> None:
        origin = _origin(url)
        rules = self._robots_for(origin)
        if isinstance(rules, str) and rules.startswith("unreachable"):
            raise FetchError(url, f"robots.txt of {origin} {rules}; not crawled until it "
                             "answers (RFC 9309)", transient=True)
        if isinstance(rules, RobotFileParser) and not rules.can_fetch(
                self.settings.user_agent, url):
            raise FetchError(url, "disallowed by robots.txt (respect_robots = false, or "
                             "'feeds add --ignore-robots' for your own feeds)")

    def _robots_for(self, origin: str) -> RobotFileParser | str:
        with self._robots_lock:
            if origin in self._robots:
                return self._robots[origin]
            lock = self._origin_locks.setdefault(origin, threading.Lock())
        with lock:  # one robots.txt request per origin, even with several threads waiting
            if origin in self._robots:
                return self._robots[origin]
            rules = self._load_robots(origin)
            with self._robots_lock:
                self._robots[origin] = rules
            return rules

    def _load_robots(self, origin: str) -> RobotFileParser | str:
        cached = self.robots_cache.load_robots(origin, ROBOTS_MAX_AGE_S) \
            if self.robots_cache else None
        if cached is None:
            try:
                response = self.get(origin + "/robots.txt", kind="robots", respect_robots=False)
                status, text = response.status, _decode(response)
            except FetchError as exc:
                if exc.transient:  # 5xx, timeout, no connection
                    return f"unreachable ({exc.reason})"
                status, text = 404, ""  # 4xx, too big, redirect trouble: no usable rules
            if self.robots_cache:
                self.robots_cache.save_robots(origin, status, text)
        else:
            status, text = cached
        if status >= 400:
            return "allow"
        parser = RobotFileParser()
        parser.parse(text.splitlines())
        return parser


def _decode(response: Response) -> str:
    try:
        return response.body.decode(response.charset or "utf-8", errors="replace")
    except LookupError:
        return response.body.decode("utf-8", errors="replace")


def _content_type(header: str) -> tuple[str, str | None]:
    if not header:
        return "", None
    message = Message()
    message["content-type"] = header
    charset = message.get_param("charset")
    return message.get_content_type().lower(), str(charset) if isinstance(charset, str) else None


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]

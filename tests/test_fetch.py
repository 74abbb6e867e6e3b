"""The polite fetch module against a real HTTP server on loopback."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from news_server import NewsServer, Route

from assistant.fetch import Fetcher, FetchError
from assistant.settings import FeedSettings

FAST = {"host_delay": 0.0, "read_timeout": 0.5, "connect_timeout": 2.0, "total_timeout": 5.0,
        "max_body_bytes": 10_000}


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    server = NewsServer()
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")
    try:
        yield server
    finally:
        server.close()


def fetcher(**overrides: object) -> Fetcher:
    return Fetcher(FeedSettings(**{**FAST, **overrides}))


def test_user_agent_and_conditional_get(server: NewsServer) -> None:
    server.routes["/a"] = Route(b"<html>hello</html>")
    with fetcher() as f:
        first = f.get(server.url("/a"))
        assert first.status == 200 and first.body == b"<html>hello</html>"
        assert first.content_type == "text/html" and first.charset == "utf-8"
        assert first.etag and first.last_modified
        again = f.get(server.url("/a"), etag=first.etag)
        assert again.not_modified and again.body == b""
        by_date = f.get(server.url("/a"), last_modified=first.last_modified)
        assert by_date.not_modified
    agents = {h.headers["user-agent"] for h in server.hits}
    assert agents == {FeedSettings().user_agent} and "news-assistant" in agents.pop()
    page_hits = [h for h in server.hits if h.path == "/a"]
    assert page_hits[1].headers["if-none-match"] == first.etag


def test_redirect_chain_is_followed_and_bounded(server: NewsServer) -> None:
    server.routes["/r1"] = Route(status=301, location="/r2")
    server.routes["/r2"] = Route(status=302, location=server.url("/r3"))
    server.routes["/r3"] = Route(status=308, location="/final")
    server.routes["/final"] = Route(b"done")
    server.routes["/loop"] = Route(status=302, location="/loop")
    server.routes["/ftp"] = Route(status=302, location="ftp://127.0.0.1/file")
    with fetcher() as f:
        response = f.get(server.url("/r1"))
        assert response.url == server.url("/final") and response.body == b"done"
        assert len(response.redirects) == 3
        with pytest.raises(FetchError, match="redirect loop"):
            f.get(server.url("/loop"))
        with pytest.raises(FetchError, match="not an http"):
            f.get(server.url("/ftp"))
    with fetcher(max_redirects=2) as f, pytest.raises(FetchError, match="more than 2 redirects"):
        f.get(server.url("/r1"))


def test_errors_say_whether_to_retry(server: NewsServer) -> None:
    server.routes["/500"] = Route(status=500)
    server.routes["/429"] = Route(status=429)
    with fetcher() as f:
        with pytest.raises(FetchError) as missing:
            f.get(server.url("/nothing-here"))
        assert str(missing.value) == "HTTP 404" and not missing.value.transient
        for path in ("/500", "/429"):
            with pytest.raises(FetchError) as failed:
                f.get(server.url(path))
            assert failed.value.transient
        with pytest.raises(FetchError, match="not an http"):
            f.get("file:///etc/passwd")
        with pytest.raises(FetchError, match="cannot connect"):
            f.get("http://127.0.0.1:9/closed")


def test_slow_response_times_out(server: NewsServer) -> None:
    server.routes["/slow"] = Route(b"late", delay=3.0)
    started = time.monotonic()
    with fetcher() as f, pytest.raises(FetchError, match=r"no data for 0.5 s") as slow:
        f.get(server.url("/slow"))
    assert slow.value.transient and time.monotonic() - started < 2.5


def test_body_size_limit_with_and_without_content_length(server: NewsServer) -> None:
    server.routes["/declared"] = Route(b"x" * 50_000)
    server.routes["/streamed"] = Route(b"x" * 50_000, length=False)
    server.routes["/fits"] = Route(b"x" * 9_000, length=False)
    with fetcher() as f:
        with pytest.raises(FetchError, match=r"body of 50,000 bytes is over the limit"):
            f.get(server.url("/declared"))
        with pytest.raises(FetchError, match=r"body over the limit of 10,000 bytes"):
            f.get(server.url("/streamed"))
        assert len(f.get(server.url("/fits")).body) == 9_000


def test_robots_txt_is_honoured_unless_turned_off(server: NewsServer) -> None:
    for path in ("/private/a", "/no-assistants/b", "/public/c"):
        server.routes[path] = Route(b"page")
    with fetcher() as f:
        with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
            f.get(server.url("/private/a"))
        assert f.get(server.url("/public/c")).body == b"page"
        assert f.get(server.url("/private/a"), respect_robots=False).body == b"page"
    assert server.paths("/robots.txt") == ["/robots.txt"]  # read once per run
    with fetcher(respect_robots=False) as f:
        assert f.get(server.url("/private/a")).body == b"page"
    # A group for our own product token replaces the '*' group (RFC 9309).
    server.routes["/robots.txt"] = Route(
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: news-assistant\n"
        b"Disallow: /no-assistants/\n", "text/plain")
    with fetcher() as f:
        with pytest.raises(FetchError, match=r"disallowed by robots\.txt"):
            f.get(server.url("/no-assistants/b"))
        assert f.get(server.url("/private/a")).body == b"page"


def test_robots_txt_server_error_means_do_not_crawl(server: NewsServer) -> None:
    server.routes["/robots.txt"] = Route(status=503)
    server.routes["/page"] = Route(b"page")
    with fetcher() as f, pytest.raises(FetchError, match=r"robots\.txt .* unreachable") as exc:
        f.get(server.url("/page"))
    assert exc.value.transient
    assert "/page" not in server.paths()


def test_at_most_two_requests_per_host_spaced_by_the_delay(server: NewsServer) -> None:
    server.routes["/robots.txt"] = Route(b"", "text/plain")
    for i in range(8):
        server.routes[f"/p{i}"] = Route(b"page", delay=0.25)
    errors: list[BaseException] = []
    with fetcher(host_delay=0.1, per_host=2) as f:
        f.get(server.url("/robots.txt"), kind="robots")
        server.clear()

        def get(i: int) -> None:
            try:
                f.get(server.url(f"/p{i}"))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=get, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    starts = sorted(h.started for h in server.hits if h.path.startswith("/p"))
    assert len(starts) == 8
    # Each page is served for 0.25 s: at most two may start within any 0.2 s window. (Not the
    # server's in-flight counter: it counts robots.txt too, and on a loaded machine it
    # decrements after the client already holds the whole response.)
    assert max(sum(1 for t in starts if s <= t < s + 0.2) for s in starts) == 2, starts
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # The client spaces its starts 0.1 s apart; the server's clock adds its own scheduling jitter
    # (CI saw 0.087 s). Without the gate the two of a pair start within a few milliseconds, so
    # half the delay still tells spacing from none.
    assert min(gaps) >= 0.05, gaps


def test_crawl_delay_from_robots_txt_slows_requests(server: NewsServer) -> None:
    server.routes["/robots.txt"] = Route(b"User-agent: *\nCrawl-delay: 1\n", "text/plain")
    for i in range(3):
        server.routes[f"/c{i}"] = Route(b"page")
    with fetcher() as f:
        for i in range(3):
            f.get(server.url(f"/c{i}"))
    starts = [h.started for h in server.hits if h.path.startswith("/c")]
    assert starts[2] - starts[0] >= 1.9

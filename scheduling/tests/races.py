"""What the HTTP race tests share: a live server that takes everyone at once, raw requests, a race.

Each request goes on its own connection, as separate people's browsers would. The live
server runs at most SERVER_THREADS requests at once, like a production worker pool
(PostgreSQL allows 100 connections); the rest wait in its queue, all in flight together.
"""

import http.client
import re
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings

from conftest import run_threads

SERVER_THREADS = 24
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")

Outcome = tuple[int, str]


def open_to_all(live_server: Any, monkeypatch: pytest.MonkeyPatch, *, backlog: int) -> str:
    """Bound the live server's threads to SERVER_THREADS and let `backlog` connections queue; its URL."""
    httpd = live_server.thread.httpd
    pool = threading.BoundedSemaphore(SERVER_THREADS)
    handle = httpd.process_request_thread

    def bounded(request: Any, client_address: Any) -> None:
        with pool:
            handle(request, client_address)

    monkeypatch.setattr(httpd, "process_request_thread", bounded)
    # Every racer comes from this test's one address: the per-address rate limits (tested on their own,
    # tests/test_ratelimits.py) would refuse all but the first few.
    monkeypatch.setattr(settings, "RATELIMIT_ENABLE", False, raising=False)
    # A listen backlog for everyone at once (Django's server asks for 10).
    httpd.socket.listen(backlog)
    return str(live_server.url)


def request(base: str, method: str, path: str, *, body: str = "", cookie: str = "") -> tuple[int, str, str]:
    """One request on its own connection: (status, body, Set-Cookie header)."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname or "localhost", url.port, timeout=60)
    headers = {"Connection": "close"}
    if cookie:
        headers["Cookie"] = cookie
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode(), response.getheader("Set-Cookie") or ""
    finally:
        connection.close()


def form_token(base: str, path: str, *, cookie: str = "") -> tuple[str, str]:
    """GET a form: (the CSRF cookie to send back, the token to put in the form)."""
    status, body, set_cookie = request(base, "GET", path, cookie=cookie)
    assert status == 200, body[:500]
    csrf_cookie = _CSRF_COOKIE.search(set_cookie)
    field = _CSRF_INPUT.search(body)
    assert csrf_cookie is not None and field is not None
    return f"csrftoken={csrf_cookie.group(1)}", field.group(1)


def race(attempts: list[Callable[[], Outcome]]) -> list[Outcome]:
    """Run every attempt in its own thread (each waits on a shared barrier to fire); (status, body) of each."""
    results: list[Outcome] = []
    lock = threading.Lock()

    def run(attempt: Callable[[], Outcome]) -> None:
        try:
            outcome = attempt()
        except Exception as error:  # a dropped connection fails the test, with its text
            outcome = (0, f"{type(error).__name__}: {error}")
        with lock:
            results.append(outcome)

    run_threads([partial(run, attempt) for attempt in attempts])
    return results


def outcome_counts(results: list[Outcome], *, taken: str) -> Counter[str]:
    """How many were booked (302), told `taken` (409), and anything else, with its text."""
    counts: Counter[str] = Counter()
    for status, body in results:
        if status == 302:
            counts["302 booked"] += 1
        elif status == 409 and taken in body:
            counts["409 just taken"] += 1
        else:
            counts[f"{status} {body[:300]!r}"] += 1
    return counts


def assert_no_database_errors(results: list[Outcome], caplog: Any, capfd: Any) -> None:
    _, err = capfd.readouterr()
    for text in (caplog.text, err, *(body for _, body in results)):
        assert "database is locked" not in text
        assert "Internal Server Error" not in text
        assert "Traceback" not in text

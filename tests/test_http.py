"""What uptime monitors, link checkers and browsers get over HTTP: HEAD, compression, CSRF through it."""

import gzip
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation

pytestmark = pytest.mark.django_db

NOT_PUBLIC = ("/admin/", "/staff/", "/es/staff/")
# The public ids staff pages name their records by (a patient's pages carry only a token, then nothing).
# `pk`: a passkey, on its owner's sessions page.
RECORD_IDS = {"uuid", "item", "other", "episode", "pk"}
# A patient's emailed link is used up by its first GET; HEAD is refused (405) so that a mail scanner
# probing it cannot use it up (patients' tests check that the link still works after a HEAD).
LINK_OPENERS = {"patients:intake_start", "patients:consent_remote", "outcomes:survey_start"}
BOOKING = {
    "first_name": "Rosa",
    "last_name": "Díaz",
    "phone": "(818) 555-0199",
    "email": "rosa@example.com",
    "date_of_birth": "1958-03-14",
    "area_of_concern": "cartilage",
}


def url_names(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[tuple[str, list[str]]]:
    """Every named URL the site has, with the names of its arguments, read from the URL conf itself."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            if entry.namespace != "admin":
                yield from url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, list(entry.pattern.regex.groupindex)


@pytest.fixture
def booking(client: Client, practice: Any) -> dict[str, str]:
    """The demo schedule and one appointment booked online: the values the booking URLs take."""
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    days = client.get("/book/los-angeles/").context["days"]
    slot = days[0].times[0].value
    booked = client.post("/book/los-angeles/details/", {**BOOKING, "slot": days[0].times[1].value})
    assert booked.status_code == 302
    token = re.search(r"/book/manage/([^/]+)/", booked["Location"]).group(1)  # type: ignore[union-attr]
    return {"slot": slot, "token": token}


def public_get_urls(booking: dict[str, str]) -> list[str]:
    """Each public URL, in both languages, with its arguments filled from the demo practice."""
    values = {
        "slug": "los-angeles",
        "office_slug": "los-angeles",
        "token": booking["token"],
        "section": "concerns",
        "number": 1,
        "instrument": "NRS",
        "resource_type": "Patient",
    }
    queries = {"scheduling:details": "?slot=" + booking["slot"]}
    urls = []
    for name, arguments in url_names():
        missing = [a for a in arguments if a not in values and a not in RECORD_IDS]
        assert not missing, f"{name}: the test does not know a value for {missing}"
        if RECORD_IDS.intersection(arguments):  # only staff pages name a record
            continue
        if name in LINK_OPENERS:
            continue
        for language in ("en", "es"):
            with translation.override(language):
                url = reverse(name, kwargs={a: values[a] for a in arguments}) + queries.get(name, "")
            if not url.startswith(NOT_PUBLIC) and url not in urls:
                urls.append(url)
    return urls


def test_the_walk_finds_the_public_pages_and_the_booking_pages(booking: dict[str, str]) -> None:
    urls = public_get_urls(booking)
    for expected in (
        "/",
        "/es/stem-cell-therapy/",
        "/offices/los-angeles/",
        "/contact/thanks/",
        "/book/",
        "/es/book/los-angeles/",
        "/book/los-angeles/callback/",
        f"/book/manage/{booking['token']}/calendar.ics",
        "/healthz",
        "/accounts/sign-in/",
    ):
        assert expected in urls, expected


def test_every_public_url_that_answers_get_answers_head_alike(client: Client, booking: dict[str, str]) -> None:
    differ = {}
    pages = 0
    for url in public_get_urls(booking):
        get = client.get(url)
        if get.status_code == 405:  # POST-only (cancel, sign-out): not a page
            continue
        assert get.status_code < 500, url
        pages += 1
        head = client.head(url)
        seen = (head.status_code, head.get("Content-Type"), head.content)
        if seen != (get.status_code, get.get("Content-Type"), b""):
            differ[url] = f"GET {get.status_code}, HEAD {head.status_code}"
    assert differ == {}, "\n".join(f"{url}: {answer}" for url, answer in differ.items())
    assert pages >= 25


def test_an_html_page_is_sent_compressed_to_a_browser_that_accepts_it(client: Client, practice: Any) -> None:
    plain = client.get("/book/")
    packed = client.get("/book/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert "Content-Encoding" not in plain
    html = gzip.decompress(packed.content).decode()
    assert html.startswith("<!doctype html>") and "</html>" in html
    assert len(packed.content) < len(plain.content) / 2


def test_the_self_check_form_works_through_compressed_cached_pages(practice: Any) -> None:
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_ENCODING="gzip")
    tokens = []
    for _ in range(2):  # the first render fills the page cache; the second is served from it
        page = browser.get("/stem-cell-therapy/")
        assert page["Content-Encoding"] == "gzip"
        html = gzip.decompress(page.content).decode()
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    # Masked afresh on every response, so the compressed size says nothing about the secret (BREACH).
    assert tokens[0] != tokens[1]
    answers = {"area": "knee", "duration": "over_3_months", "tried": ["rest"], "avoid_surgery": "yes"}
    refused = browser.post("/stem-cell-therapy/", answers)
    accepted = browser.post("/stem-cell-therapy/", {**answers, "csrfmiddlewaretoken": tokens[1]})
    assert (refused.status_code, accepted.status_code) == (403, 200)
    assert "These are common reasons people ask about this therapy" in gzip.decompress(accepted.content).decode()


def test_static_files_keep_whitenoises_own_compression(client: Client, practice: Any) -> None:
    """WhiteNoise answers before the GZip middleware: its precompressed file, and fonts left as they are."""
    html = client.get("/").content.decode()
    css_url = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    css = client.get(css_url, HTTP_ACCEPT_ENCODING="gzip")
    body = b"".join(css.streaming_content)  # type: ignore[attr-defined]
    assert css["Content-Encoding"] == "gzip"
    assert int(css["Content-Length"]) == len(body)
    assert gzip.decompress(body).startswith(b"/* RegenClinic public site.")
    font_url = re.search(r'url\("([^"]+\.woff2)"\)', gzip.decompress(body).decode()).group(1)  # type: ignore[union-attr]
    font = client.get(css_url.rsplit("/", 2)[0] + "/" + font_url.removeprefix("../"), HTTP_ACCEPT_ENCODING="gzip")
    assert font.status_code == 200 and "Content-Encoding" not in font

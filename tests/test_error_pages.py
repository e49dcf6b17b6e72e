"""Error pages name nothing of the request, and DEBUG can never be on with HTTPS=1."""

import os
import secrets
import subprocess
import sys
from typing import Any

import pytest
from django.test import Client, override_settings

from accounts.models import User
from accounts.testing import sign_in

pytestmark = pytest.mark.django_db


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    code = "import django; from django.conf import settings; django.setup(); print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "regenclinic.settings", **env},
        capture_output=True,
        text=True,
    )


def test_settings_refuse_to_start_with_debug_on_and_https() -> None:
    refused = _import_settings(DEBUG="1", HTTPS="1")
    assert refused.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: DEBUG=1 with HTTPS=1: DEBUG must never be on where the site "
        "is served; unset DEBUG." in refused.stderr
    )


def test_settings_start_with_either_alone() -> None:
    answers = [_import_settings(DEBUG="1", HTTPS="0"), _import_settings(DEBUG="0", HTTPS="1")]
    assert [(done.returncode, done.stdout.strip()) for done in answers] == [(0, "True"), (0, "False")]


def _nothing_of(html: str, *secrets_: str) -> list[str]:
    return [value for value in secrets_ if value in html]


@pytest.mark.parametrize(
    ("prefix", "heading"), [("", "We could not find that page"), ("/es", "No encontramos esa página")]
)
def test_a_missing_page_is_the_sites_page_showing_nothing_of_the_request(
    client: Client, practice: Any, alice: User, prefix: str, heading: str
) -> None:
    path_marker, query_marker = secrets.token_hex(8), secrets.token_hex(8)
    sign_in(client, alice)
    missing = client.get(f"{prefix}/no-such-{path_marker}/?q={query_marker}&email=rosa@example.com")
    html = missing.content.decode()
    assert missing.status_code == 404
    assert f"<h1>{heading}</h1>" in html and 'class="site-header"' in html
    assert _nothing_of(html, path_marker, query_marker, "rosa@example.com", "no-such", "alice") == []


def test_a_wrong_link_is_a_404_that_does_not_repeat_the_token(client: Client, practice: Any) -> None:
    for url in ("/intake/{}/", "/book/manage/{}/", "/es/questionnaire/{}/", "/consent/{}/"):
        token = secrets.token_urlsafe(24)
        answer = client.get(url.format(token))
        assert answer.status_code == 404, url
        assert _nothing_of(answer.content.decode(), token) == [], url


@override_settings(ROOT_URLCONF="tests.error_urls")
def test_a_server_error_shows_nothing_of_the_request_or_the_error(practice: Any) -> None:
    client = Client(raise_request_exception=False)
    broken = client.get("/broken/?q=rosa@example.com")
    html = broken.content.decode()
    assert broken.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in html
    assert "Algo salió mal de nuestro lado" in html
    assert _nothing_of(html, "broken", "rosa@example.com", "canary", "RuntimeError", "Traceback") == []

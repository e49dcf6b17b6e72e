"""Every page's security headers, as Mozilla's HTTP Observatory grades them for an A+, with the HTTPS=1 settings.

The settings are those `HTTPS=1` really produces (read in a fresh interpreter), so the
test checks the production configuration, not one written for it.
"""

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from accounts import links
from accounts.models import Role, User
from accounts.testing import sign_in
from patients.tests.episode_fixtures import documents, episode
from scheduling.tests.conftest import schedule
from tests.test_http import booking, public_get_urls, url_names

__all__ = ["booking", "documents", "episode", "schedule"]
pytestmark = pytest.mark.django_db

HTTPS_NAMES = [
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
]
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


def _https_settings() -> dict[str, Any]:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in {HTTPS_NAMES!r}}}))"
    )
    env = {**os.environ, "HTTPS": "1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "regenclinic.settings"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    values: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return values


@pytest.fixture(scope="module")
def https_settings() -> dict[str, Any]:
    return _https_settings()


@pytest.fixture
def https(https_settings: dict[str, Any]) -> Any:
    # Ask for it before `client`: the client reads the middleware settings at its first request.
    # SECURE_SSL_REDIRECT stays off: the test client asks over "https" itself (secure=True).
    with override_settings(**https_settings, SECURE_SSL_REDIRECT=False):
        yield https_settings


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def header_problems(response: Any) -> list[str]:
    """What an Observatory A+ would find wrong with this response's headers (empty when nothing)."""
    problems = []
    policy = directives(response.get("Content-Security-Policy", ""))
    for name in ("script-src", "style-src"):
        sources = policy.get(name, policy.get("default-src"))
        if sources is None or {"'unsafe-inline'", "'unsafe-eval'"} & set(sources):
            problems.append(f"CSP {name}: {sources}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors: {policy.get('frame-ancestors')}")
    if policy.get("object-src") != ["'none'"]:
        problems.append(f"CSP object-src: {policy.get('object-src')}")
    if "base-uri" not in policy:
        problems.append("CSP has no base-uri")
    hsts = response.get("Strict-Transport-Security", "")
    parts = [part.strip() for part in hsts.split(";")]
    max_age = next((int(part.split("=")[1]) for part in parts if part.startswith("max-age=")), 0)
    if max_age < 31536000 or "includeSubDomains" not in parts or "preload" not in parts:
        problems.append(f"HSTS: {hsts!r}")
    permissions = response.get("Permissions-Policy", "")
    for feature in DENIED_FEATURES:
        if f"{feature}=()" not in permissions:
            problems.append(f"Permissions-Policy does not deny {feature}: {permissions!r}")
    expected = {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    problems += [f"{name}: {response.get(name)!r}" for name, value in expected.items() if response.get(name) != value]
    for name, morsel in response.cookies.items():
        if not (morsel["secure"] and morsel["httponly"] and morsel["samesite"] in {"Lax", "Strict"}):
            problems.append(f"cookie {name}: {morsel.OutputString()}")
    return problems


def check(client: Client, urls: list[str]) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        response = client.get(url, secure=True)
        assert response.status_code < 500, url
        problems = header_problems(response)
        if problems:
            found[url] = problems
    return found


def test_the_check_finds_a_page_without_the_headers() -> None:
    """The check itself can fail: a bare response has every problem it looks for."""
    from django.http import HttpResponse

    bare = HttpResponse("x")
    bare.set_cookie("plain", "1")
    problems = header_problems(bare)
    assert len(problems) == 2 + 3 + 1 + len(DENIED_FEATURES) + 5 + 1


def test_every_public_page_in_both_languages(https: Any, client: Client, booking: dict[str, str]) -> None:
    urls = public_get_urls(booking)
    assert len(urls) >= 40 and "/es/" in urls
    assert check(client, urls) == {}


def test_a_refusal_and_a_missing_page(client: Client, practice: Any, https: Any) -> None:
    with override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "1/h"}):
        client.post("/contact/", {}, secure=True)
        refused = client.post("/contact/", {}, secure=True)
    missing = client.get("/no-such-page/", secure=True)
    assert (refused.status_code, missing.status_code) == (429, 404)
    assert (header_problems(refused), header_problems(missing)) == ([], [])


def test_the_server_error_page(practice: Any, https: Any) -> None:
    client = Client(raise_request_exception=False)
    with override_settings(ROOT_URLCONF="tests.error_urls"):
        broken = client.get("/broken/", secure=True)
    assert broken.status_code == 500
    assert header_problems(broken) == []


def test_the_sign_in_page_and_the_cookies_signing_in_sets(client: Client, alice: User, https: Any) -> None:
    page = client.get("/accounts/sign-in/", secure=True)
    assert "csrftoken" in page.cookies and header_problems(page) == []
    signed_in = client.post("/accounts/sign-in/", {"username": "alice", "password": "alice-password-1"}, secure=True)
    assert signed_in.status_code == 302
    assert settings.SESSION_COOKIE_NAME in signed_in.cookies
    assert header_problems(signed_in) == []


def test_every_staff_page_and_the_signature_pads(client: Client, episode: Any, https: Any) -> None:
    doctor = User.objects.create_user("dana", password="dana-password-1", role=Role.PHYSICIAN, is_staff=True)
    sign_in(client, doctor)
    urls = [
        reverse(name)
        for name, arguments in url_names()
        if not arguments and reverse(name).startswith("/staff/") and not name.endswith(("_csv", "_pdf"))
    ]
    office_pad = reverse("patients:consent_sign", kwargs={"uuid": episode.uuid})
    urls += [office_pad, reverse("patients:episode", kwargs={"uuid": episode.uuid})]
    assert len(urls) >= 10
    assert check(client, urls) == {}
    assert b'<canvas class="signature-canvas"' in client.get(office_pad, secure=True).content


def test_the_patients_own_signature_pad(episode: Any, https: Any) -> None:
    patient = Client()
    _link, token = links.link_issue(purpose="consent", patient=episode.patient, target=episode.uuid)
    opened = patient.get(f"/consent/{token}/", secure=True)
    assert opened.status_code == 302
    assert check(patient, [opened["Location"]]) == {}
    assert b'<canvas class="signature-canvas"' in patient.get(opened["Location"], secure=True).content


def test_the_admin_sign_in_and_a_change_page(client: Client, https: Any) -> None:
    admin = User.objects.create_superuser("root", password="root-password-1", role=Role.ADMIN)
    assert check(client, ["/admin/login/"]) == {}
    sign_in(client, admin)
    change = f"/admin/accounts/user/{admin.pk}/change/"
    assert client.get(change, secure=True).status_code == 200
    assert check(client, ["/admin/", change]) == {}


def test_static_files_carry_the_resource_policy(client: Client, practice: Any) -> None:
    call_command("collectstatic", "--noinput", verbosity=0)
    html = client.get("/").content.decode()
    css = html.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    answer = client.get(css)
    assert answer.status_code == 200
    assert (answer["Cross-Origin-Resource-Policy"], answer["X-Content-Type-Options"]) == ("same-origin", "nosniff")
    assert "camera=()" in answer["Permissions-Policy"]

"""A member of staff's sessions: the list (started, last used, device, address, this device), ending one,
the others, or all of them (sign-out everywhere); and the session cookies' names and flags.

Personas: alice (front desk) signed in from two browsers, and bob (physician) from his own.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import AuditEvent, StaffSession, User
from accounts.staff_sessions import describe_user_agent
from accounts.testing import fresh_code

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)


def browser(username: str, password: str, *, agent: str, ip: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post("/accounts/sign-in/", {"username": username, "password": password})
    assert response.status_code == 302
    second = client.post("/accounts/two-step/", {"code": fresh_code(User.objects.get(username=username))})
    assert second.status_code == 302
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def signed_in(client: Client) -> bool:
    return client.get("/accounts/sessions/").status_code == 200


@pytest.fixture
def two(alice: User) -> tuple[Client, Client]:
    return (
        browser("alice", "alice-password-1", agent=FIREFOX_WINDOWS, ip="10.0.0.5"),
        browser("alice", "alice-password-1", agent=SAFARI_IPHONE, ip="10.0.0.6"),
    )


def test_a_user_agent_is_said_in_words() -> None:
    assert [describe_user_agent(agent) for agent in (FIREFOX_WINDOWS, SAFARI_IPHONE, CHROME_MAC, EDGE_WINDOWS)] == [
        "Firefox on Windows",
        "Safari on iPhone",
        "Chrome on macOS",
        "Microsoft Edge on Windows",
    ]
    assert describe_user_agent("") == "An unknown browser"
    # Chromium without a window says "HeadlessChrome/", and Safari too: it is Chrome.
    headless = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/139.0.0.0 Safari/537.36"
    )
    assert describe_user_agent(headless) == "Chrome on Linux"


def test_the_list_shows_each_of_my_sessions_and_which_is_this_device(two: tuple[Client, Client], bob: User) -> None:
    laptop, _phone = two
    browser("bob", "bob-password-1", agent=CHROME_MAC, ip="10.0.0.7")
    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200
    shown = text(page)
    assert "2 sessions" in shown
    assert "Firefox on Windows (this device)" in shown
    assert "Safari on iPhone 10.0.0.6" in shown
    assert "Chrome on macOS" not in shown  # bob's
    assert "10.0.0.7" not in shown
    assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_ending_another_session_signs_it_out_and_leaves_an_audit_row(two: tuple[Client, Client], alice: User) -> None:
    laptop, phone = two
    other = StaffSession.objects.get(user_agent=SAFARI_IPHONE)
    response = laptop.post(f"/accounts/sessions/{other.uuid}/end/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/sessions/")
    assert signed_in(laptop) is True
    assert signed_in(phone) is False
    assert list(StaffSession.objects.values_list("user_agent", flat=True)) == [FIREFOX_WINDOWS]
    ended = AuditEvent.objects.filter(action=AuditEvent.Action.SESSION_ENDED)
    assert list(ended.values_list("actor", "object_type", "object_ref")) == [
        (alice.pk, "staff_session", str(other.uuid))
    ]


def test_ending_this_devices_session_signs_out_here_only(two: tuple[Client, Client]) -> None:
    laptop, phone = two
    mine = StaffSession.objects.get(user_agent=FIREFOX_WINDOWS)
    response = laptop.post(f"/accounts/sessions/{mine.uuid}/end/", follow=True)
    assert "You are signed out." in text(response)
    assert [signed_in(laptop), signed_in(phone)] == [False, True]


def test_a_sign_in_forgets_sessions_older_than_the_longest_one(two: tuple[Client, Client], alice: User) -> None:
    StaffSession.objects.filter(user_agent=SAFARI_IPHONE).update(started_at=timezone.now() - timedelta(hours=13))
    browser("alice", "alice-password-1", agent=CHROME_MAC, ip="10.0.0.8")
    assert sorted(StaffSession.objects.values_list("user_agent", flat=True)) == sorted([FIREFOX_WINDOWS, CHROME_MAC])


def test_another_persons_session_cannot_be_ended(two: tuple[Client, Client], bob: User) -> None:
    laptop, _phone = two
    bobs = browser("bob", "bob-password-1", agent=CHROME_MAC, ip="10.0.0.7")
    theirs = StaffSession.objects.get(user=bob)
    assert laptop.post(f"/accounts/sessions/{theirs.uuid}/end/").status_code == 404
    assert signed_in(bobs) is True


def test_end_all_others_keeps_this_one(two: tuple[Client, Client], alice: User) -> None:
    laptop, phone = two
    third = browser("alice", "alice-password-1", agent=CHROME_MAC, ip="10.0.0.8")
    response = laptop.post("/accounts/sessions/end-others/", follow=True)
    assert "Ended 2 other sessions." in text(response)
    assert [signed_in(laptop), signed_in(phone), signed_in(third)] == [True, False, False]


def test_sign_out_everywhere_ends_every_session_of_mine_and_no_one_elses(two: tuple[Client, Client], bob: User) -> None:
    laptop, phone = two
    bobs = browser("bob", "bob-password-1", agent=CHROME_MAC, ip="10.0.0.7")
    response = laptop.post("/accounts/sign-out-everywhere/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/sign-in/")
    assert [signed_in(laptop), signed_in(phone), signed_in(bobs)] == [False, False, True]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SESSION_ENDED).count() == 2
    assert list(StaffSession.objects.values_list("user", flat=True)) == [bob.pk]


def test_signing_out_removes_the_session_from_the_list(two: tuple[Client, Client]) -> None:
    laptop, _phone = two
    laptop.post("/accounts/sign-out/")
    assert list(StaffSession.objects.values_list("user_agent", flat=True)) == [SAFARI_IPHONE]


def test_the_list_needs_a_sign_in() -> None:
    response = Client().get("/accounts/sessions/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/sign-in/?next=/accounts/sessions/")


# --- The cookies -----------------------------------------------------------------------------------


def _cookie_settings(https: bool) -> list[str]:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "regenclinic.settings", "HTTPS": "1" if https else "0"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=settings.BASE_DIR
    )
    return done.stdout.split()


def test_over_https_the_cookies_are_host_prefixed_secure_and_lax() -> None:
    assert _cookie_settings(https=True) == ["__Host-sessionid", "__Host-csrftoken", "Lax", "Lax", "True", "True"]


def test_over_plain_http_in_development_they_keep_the_usual_names() -> None:
    assert _cookie_settings(https=False) == ["sessionid", "csrftoken", "Lax", "Lax", "False", "False"]


@override_settings(
    SESSION_COOKIE_NAME="__Host-sessionid",
    CSRF_COOKIE_NAME="__Host-csrftoken",
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_the_host_prefixed_cookies_are_sent_as_the_prefix_requires(alice: User) -> None:
    client = Client()
    page = client.get("/accounts/sign-in/", secure=True)
    csrf = page.cookies["__Host-csrftoken"]
    response = client.post(
        "/accounts/sign-in/",
        {"username": "alice", "password": "alice-password-1", "csrfmiddlewaretoken": csrf.value},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    for cookie in (csrf, session):
        # The prefix's rules: Secure, Path=/ and no Domain; and SameSite=Lax.
        assert (cookie["secure"], cookie["path"], cookie["domain"], cookie["samesite"]) == (True, "/", "", "Lax")
    assert session["httponly"] is True

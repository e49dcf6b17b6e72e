"""Passwords (Argon2, 12 characters), staff sessions that end (15 minutes idle, 12 hours in all), and no-store.

The clock of a staff session is the two moments kept in it (`accounts.middleware`):
tests move them back to stand for the time that has passed.
"""

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, SlugConverter, UUIDConverter
from django.utils import timezone

from accounts.links import link_issue, link_open
from accounts.middleware import SEEN_AT, SIGNED_IN_AT, TOUCH_SECONDS, NoStoreMiddleware
from accounts.models import PatientLink, Role, User
from accounts.testing import fresh_code, sign_in
from patients.models import Patient
from website.models import Inquiry

pytestmark = pytest.mark.django_db

NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"
MINUTE = 60
HOUR = 60 * MINUTE
IDLE_MESSAGE = "You were signed out after 15 minutes without activity. Please sign in again."
LONG_MESSAGE = "You were signed out 12 hours after signing in. Please sign in again."


def sign_in_with_password(client: Client, username: str, password: str) -> None:
    """Both steps of sign-in, as a person does them: the password, then a code from their authenticator."""
    response = client.post("/accounts/sign-in/", {"username": username, "password": password})
    assert response.status_code == 302
    code = fresh_code(User.objects.get(username=username))
    assert client.post("/accounts/two-step/", {"code": code}).status_code == 302


def move_clock(client: Client, *, signed_in_ago: float | None = None, seen_ago: float | None = None) -> None:
    """Pretend the session was signed into `signed_in_ago` seconds ago and last used `seen_ago` seconds ago."""
    session = client.session
    now = timezone.now().timestamp()
    if signed_in_ago is not None:
        session[SIGNED_IN_AT] = now - signed_in_ago
    if seen_ago is not None:
        session[SEEN_AT] = now - seen_ago
    session.save()


def inbox(client: Client) -> Any:
    return client.get("/staff/inquiries/")


# --- Passwords ----------------------------------------------------------------------------------------


def test_new_passwords_are_hashed_with_argon2id() -> None:
    assert make_password("a long enough passphrase").startswith("argon2$argon2id$")
    user = User.objects.create_user("dana", password="a long enough passphrase")
    assert user.password.startswith("argon2$argon2id$")


def test_a_password_kept_with_pbkdf2_still_signs_in_and_is_rehashed_with_argon2(client: Client, practice: Any) -> None:
    user = User.objects.create_user("erin", role=Role.FRONT_DESK)
    user.password = make_password("an older passphrase", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    sign_in_with_password(client, "erin", "an older passphrase")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert check_password("an older passphrase", user.password) is True


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short-pw-11", ["This password is too short. It must contain at least 12 characters."]),
        ("password1234", ["This password is too common."]),
        ("839201748392", ["This password is entirely numeric."]),
        ("twelve-chars", []),
    ],
)
def test_passwords_need_12_characters_and_not_a_common_or_numeric_one(password: str, refused: list[str]) -> None:
    try:
        validate_password(password)
        found: list[str] = []
    except ValidationError as error:
        found = list(error.messages)
    assert found == refused


# --- Staff sessions -----------------------------------------------------------------------------------


def test_signing_in_starts_both_clocks(client: Client, alice: User, practice: Any) -> None:
    before = timezone.now().timestamp()
    sign_in_with_password(client, "alice", "alice-password-1")
    session = client.session
    assert before <= session[SIGNED_IN_AT] == session[SEEN_AT] <= timezone.now().timestamp()


def test_a_request_within_15_minutes_keeps_the_session_and_restarts_the_idle_clock(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    move_clock(client, signed_in_ago=2 * HOUR, seen_ago=15 * MINUTE - 5)
    assert inbox(client).status_code == 200
    assert timezone.now().timestamp() - client.session[SEEN_AT] < 5
    # Every 14 minutes for 11 hours: still signed in.
    move_clock(client, signed_in_ago=11 * HOUR, seen_ago=14 * MINUTE)
    assert inbox(client).status_code == 200


def test_after_15_minutes_without_activity_staff_are_signed_out_and_told_why(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    move_clock(client, seen_ago=15 * MINUTE + TOUCH_SECONDS + 1)
    response = inbox(client)
    assert (response.status_code, response["Location"]) == (302, "/accounts/sign-in/?next=/staff/inquiries/")
    assert response["Cache-Control"] == NO_STORE
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"])
    assert IDLE_MESSAGE in page.content.decode()
    # The next page asks for a sign-in again, without the message.
    again = inbox(client)
    assert again["Location"] == "/accounts/sign-in/?next=/staff/inquiries/"
    assert IDLE_MESSAGE not in client.get(again["Location"]).content.decode()


def test_the_last_request_is_written_down_every_30_seconds_and_the_idle_limit_allows_for_it(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    # A request 29 seconds after the one written down is not written (no session write)...
    move_clock(client, seen_ago=TOUCH_SECONDS - 1)
    written = client.session[SEEN_AT]
    assert inbox(client).status_code == 200
    assert client.session[SEEN_AT] == written
    # ...so the session may really have been used up to 30 seconds after the moment kept: 15 minutes
    # and 29 seconds after it, it is still open (never signed out early), and one second more ends it.
    move_clock(client, seen_ago=15 * MINUTE + TOUCH_SECONDS - 1)
    assert inbox(client).status_code == 200
    move_clock(client, seen_ago=15 * MINUTE + TOUCH_SECONDS + 1)
    assert inbox(client).status_code == 302


def test_12_hours_after_signing_in_staff_are_signed_out_however_active(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    move_clock(client, signed_in_ago=12 * HOUR - 5, seen_ago=60)
    assert inbox(client).status_code == 200
    move_clock(client, signed_in_ago=12 * HOUR + 1, seen_ago=60)
    response = inbox(client)
    assert response.status_code == 302
    assert LONG_MESSAGE in client.get(response["Location"]).content.decode()
    assert SESSION_KEY not in client.session


def test_signing_in_again_restarts_the_12_hours(client: Client, alice: User, practice: Any) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    move_clock(client, signed_in_ago=11 * HOUR, seen_ago=60)
    sign_in_with_password(client, "alice", "alice-password-1")
    assert timezone.now().timestamp() - client.session[SIGNED_IN_AT] < 5


def test_a_change_sent_after_the_session_ended_is_not_made(client: Client, alice: User, practice: Any) -> None:
    inquiry = Inquiry.objects.create(name="Ann Example", email="ann@example.com", message="Parking?", client_key="k")
    sign_in_with_password(client, "alice", "alice-password-1")
    move_clock(client, seen_ago=16 * MINUTE)
    response = client.post(f"/staff/inquiries/{inquiry.uuid}/status/", {"status": "answered"})
    # A POST's page is not one to come back to: plain sign-in.
    assert (response.status_code, response["Location"]) == (302, "/accounts/sign-in/")
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.NEW


def test_a_session_from_before_the_clocks_starts_them_at_its_next_request(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in(client, alice)
    session = client.session
    session.pop(SIGNED_IN_AT, None)
    session.pop(SEEN_AT, None)
    session.save()
    assert inbox(client).status_code == 200
    assert timezone.now().timestamp() - client.session[SIGNED_IN_AT] < 5


def test_a_patients_link_session_is_not_ended_by_the_staff_idle_limit(client: Client, practice: Any) -> None:
    session = client.session
    until = (timezone.now() + timedelta(minutes=40)).timestamp()
    session["patient_links"] = {"intake": {"link": 1, "patient": 1, "target": "intake-1", "until": until}}
    session[SEEN_AT] = timezone.now().timestamp() - HOUR  # as if left from a staff session: ignored
    session.save()
    assert client.get("/").status_code == 200
    assert client.session["patient_links"]["intake"]["until"] == until


def test_the_session_cookie_ends_with_the_browser_and_lasts_no_longer_than_12_hours(
    client: Client, alice: User, practice: Any
) -> None:
    sign_in_with_password(client, "alice", "alice-password-1")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert (cookie["max-age"], cookie["expires"], cookie["httponly"], cookie["samesite"]) == ("", "", True, "Lax")
    assert client.session.get_expiry_age() == 12 * HOUR


# --- no-store ----------------------------------------------------------------------------------------


def routes(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every named route outside the admin, with its pattern (for its converters)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            inner = pattern.namespace or ""
            yield from routes(
                pattern.url_patterns, f"{namespace}:{inner}" if namespace and inner else inner or namespace
            )
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern


def every_path(patient_uuid: uuid.UUID) -> dict[str, str]:
    """A path for each route, its ids filled in by converter (the patient's uuid for `uuid`, a random one elsewhere).

    A regular-expression route gets the first word of a choice (`(?P<section>concerns|...)`), else a uuid.
    """
    paths = {}
    for name, pattern in routes():
        converters = getattr(pattern.pattern, "converters", {})
        kwargs = {key: _value_for(key, converter, patient_uuid) for key, converter in converters.items()}
        for key, body in _REGEX_GROUP.findall(str(pattern.pattern)):
            kwargs.setdefault(key, body.split("|")[0] if _CHOICES.fullmatch(body) else uuid.uuid4())
        paths[name] = reverse(name, kwargs=kwargs)
    return paths


_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>([^()]*)\)")
_CHOICES = re.compile(r"[\w-]+(\|[\w-]+)*")


def _value_for(key: str, converter: Any, patient_uuid: uuid.UUID) -> Any:
    if isinstance(converter, UUIDConverter):
        return patient_uuid if key == "uuid" else uuid.uuid4()
    if isinstance(converter, IntConverter):
        return 1
    if isinstance(converter, SlugConverter):
        return "los-angeles"
    return "t0ken"


@pytest.fixture
def rosa(db: Any) -> Any:
    return Patient.objects.create(first_name="Rosa", last_name="Example", date_of_birth=date(1958, 3, 14))


def cache_controls(client: Client, paths: dict[str, str]) -> dict[str, str]:
    # What each page says about caching, whatever it answers (other pages' own tests judge their answers).
    client.raise_request_exception = False
    return {name: client.get(path).get("Cache-Control", "") for name, path in paths.items()}


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PHYSICIAN, Role.TECHNICIAN, Role.MANAGER])
def test_every_page_for_a_signed_in_member_of_staff_says_no_store(
    client: Client, practice: Any, rosa: Any, role: str
) -> None:
    user = User.objects.create_user(f"user-{role}", password="a-password-for-tests", role=role, is_staff=True)
    sign_in(client, user)
    paths = every_path(rosa.uuid)
    assert len(paths) >= 30
    assert {name: value for name, value in cache_controls(client, paths).items() if value != NO_STORE} == {}


def test_every_page_reached_with_a_patients_link_session_says_no_store(
    client: Client, practice: Any, rosa: Any
) -> None:
    session = client.session
    until = (timezone.now() + timedelta(minutes=30)).timestamp()
    session["patient_links"] = {"intake": {"link": 1, "patient": rosa.pk, "target": "intake-1", "until": until}}
    session.save()
    found = cache_controls(client, every_path(rosa.uuid))
    assert {name: value for name, value in found.items() if value != NO_STORE} == {}


def test_a_link_session_that_ran_out_no_longer_marks_public_pages(client: Client, practice: Any, rosa: Any) -> None:
    session = client.session
    until = (timezone.now() - timedelta(minutes=1)).timestamp()
    session["patient_links"] = {"intake": {"link": 1, "patient": rosa.pk, "target": "intake-1", "until": until}}
    session.save()
    assert "no-store" not in client.get("/").get("Cache-Control", "")


def test_the_admin_says_no_store_to_everyone(client: Client, practice: Any, rosa: Any) -> None:
    anonymous = {path: client.get(path)["Cache-Control"] for path in ("/admin/", "/admin/login/")}
    sign_in(client, User.objects.create_superuser("root", password="root-password-1"))
    admin_pages = ("/admin/", "/admin/patients/patient/", f"/admin/patients/patient/{rosa.pk}/change/")
    signed_in = {path: client.get(path)["Cache-Control"] for path in admin_pages}
    assert set(anonymous.values()) | set(signed_in.values()) == {NO_STORE}


@pytest.mark.parametrize(
    "name", ["website:home", "website:stem_cells", "website:prp", "website:contact", "scheduling:start"]
)
def test_public_pages_stay_cacheable_for_anonymous_visitors(client: Client, practice: Any, name: str) -> None:
    response = client.get(reverse(name))
    assert (response.status_code, "no-store" in response.get("Cache-Control", "")) == (200, False)


def test_the_very_response_that_opens_a_link_says_no_store_though_the_visitor_had_no_cookie(rosa: Any) -> None:
    _, token = link_issue(purpose=PatientLink.Purpose.INTAKE, patient=rosa, target="intake-1")

    def intake_page(request: HttpRequest) -> HttpResponse:
        link_open(request, token, purpose=PatientLink.Purpose.INTAKE)
        return HttpResponse("the intake form")

    def plain_page(request: HttpRequest) -> HttpResponse:
        return HttpResponse("a public page")

    responses = []
    for view in (intake_page, plain_page):
        request = RequestFactory().get("/intake/")
        request.session, request.user = SessionStore(), AnonymousUser()
        responses.append(NoStoreMiddleware(view)(request).get("Cache-Control", ""))
    assert responses == [NO_STORE, ""]

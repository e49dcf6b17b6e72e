"""Rate limits on every public form and link (accounts.ratelimit), found from the URL conf itself."""

import os
import secrets
import socket
import uuid
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from accounts import links
from accounts.models import AuditEvent, PatientLink
from accounts.ratelimit import client_address
from patients.models import Patient
from tests.test_http import NOT_PUBLIC, RECORD_IDS, booking, url_names

__all__ = ["booking"]
pytestmark = pytest.mark.django_db

# Sign-in is counted by its own lockout (django-axes, per account and per address); signing out
# changes nothing for a visitor who is not signed in; the liveness probe is for monitors; a staff
# member's own session list and its sign-outs answer only a signed-in staff member (a visitor is
# sent to sign in); so do the second step of sign-in and its set-up (only after the password;
# guesses there wait 1, 2, 4... seconds, django-otp's throttle, and five end the session) and new
# recovery codes. The passkey ceremonies answer a visitor 403 before any work: registration needs a
# session past the second step, authentication one past the password; a refused passkey counts as
# a wrong code there.
NOT_COUNTED_HERE = {
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "accounts:two_step",
    "accounts:two_step_set_up",
    "accounts:recovery_codes",
    "accounts:login",
    "accounts:logout",
    "healthz",
    "accounts:sessions",
    "accounts:sessions_end_others",
    "accounts:sign_out_everywhere",
}
EVERY_GROUP_AT_TWO = {group: "2/h" for group in settings.RATE_LIMITS}
# What the walk must find, so that it cannot pass by finding nothing.
EXPECTED = {
    "website:contact",
    "website:stem_cells",
    "scheduling:details",
    "scheduling:callback",
    "scheduling:manage",
    "scheduling:booked",
    "scheduling:cancel",
    "scheduling:reschedule",
    "scheduling:calendar",
    "patients:intake_start",
    "patients:intake",
    "patients:intake_section",
    "patients:consent_remote",
    "patients:consent_remote_sign",
    "outcomes:survey_start",
    "outcomes:survey_step",
}


def public_endpoints(client: Client, token: str) -> dict[str, tuple[str, str]]:
    """Each public URL that takes a POST, and each that carries a token: name -> (method, URL)."""
    values = {"slug": "los-angeles", "office_slug": "los-angeles", "token": token, "section": "concerns", "number": 1}
    found = {}
    for name, arguments in url_names():
        if RECORD_IDS.intersection(arguments) or name in NOT_COUNTED_HERE:
            continue
        url = reverse(name, kwargs={a: values[a] for a in arguments if a in values})
        if url.startswith(NOT_PUBLIC) or set(arguments) - set(values):
            continue
        cache.clear()
        takes_post = client.post(url).status_code != 405
        if "token" in arguments:
            found[name] = ("GET" if client.get(url).status_code != 405 else "POST", url)
        elif takes_post:
            found[name] = ("POST", url)
    cache.clear()
    return found


def test_every_public_form_and_link_refuses_past_its_limit(client: Client, booking: dict[str, str]) -> None:
    endpoints = public_endpoints(client, booking["token"])
    assert EXPECTED - set(endpoints) == set()
    unlimited = {}
    with override_settings(RATE_LIMITS=EVERY_GROUP_AT_TWO):
        for name, (method, url) in endpoints.items():
            cache.clear()
            send = client.post if method == "POST" else client.get
            statuses = [send(url).status_code for _ in range(3)]
            if statuses[2] != 429 or 429 in statuses[:2]:
                unlimited[name] = f"{method} {url}: {statuses}"
    assert unlimited == {}, "\n".join(unlimited.values())


@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "1/h"})
def test_a_refusal_is_the_sites_page_saying_when_to_try_again_in_both_languages(client: Client, practice: Any) -> None:
    assert client.post("/contact/", {}).status_code == 200
    refused = client.post("/contact/", {})
    spanish = client.post("/es/contact/", {})
    assert (refused.status_code, spanish.status_code) == (429, 429)
    assert 1 <= int(refused["Retry-After"]) <= 3600
    html = refused.content.decode()
    minutes = -(-int(refused["Retry-After"]) // 60)
    assert "<h1>Too many tries in a short time</h1>" in html
    assert (f"Please try again in {minutes} minute" + ("s." if minutes > 1 else ".")) in html
    assert 'class="site-header"' in html and practice.name in html
    es = spanish.content.decode()
    assert '<html lang="es">' in es and "Demasiados intentos en poco tiempo" in es
    assert f"Vuelva a intentarlo en {minutes} minuto" in es


@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "1/h"})
def test_one_address_is_refused_and_another_is_not(client: Client, practice: Any) -> None:
    first = [client.post("/contact/", {}, REMOTE_ADDR="203.0.113.7").status_code for _ in range(2)]
    other = client.post("/contact/", {}, REMOTE_ADDR="203.0.113.8").status_code
    assert (first, other) == ([200, 429], 200)


def test_the_address_is_the_sockets_unless_behind_a_proxy() -> None:
    factory = RequestFactory()
    spoofed = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9")
    v6 = factory.get("/", REMOTE_ADDR="2001:db8:1:2:3:4:5:6")
    with override_settings(BEHIND_PROXY=False):
        assert client_address(spoofed) == "10.0.0.5"
    with override_settings(BEHIND_PROXY=True):
        # Only the entry the proxy itself appended; the visitor wrote the rest.
        assert client_address(spoofed) == "203.0.113.9"
        assert client_address(factory.get("/", REMOTE_ADDR="10.0.0.5")) == "10.0.0.5"
    assert client_address(v6) == "2001:db8:1:2::"


def _patient() -> Patient:
    return Patient.objects.create(
        first_name="Guess", last_name="Target", date_of_birth=date(1961, 2, 3), email="guess@example.com"
    )


LINK_PAGES = {
    "booking": ("/book/manage/{}/", "booking_link"),
    "intake": ("/intake/{}/", "patient_link"),
    "consent": ("/consent/{}/", "patient_link"),
    "questionnaire": ("/questionnaire/{}/", "patient_link"),
}


def _wrong_token(kind: str) -> str:
    if kind == "booking":  # shaped like a real one, signed with another key
        return signing.Signer(key="not-the-site-key", salt="scheduling.manage").sign(f"{uuid.uuid4().hex}.1700000000")
    return secrets.token_urlsafe(links.TOKEN_BYTES)


@pytest.mark.parametrize("kind", sorted(LINK_PAGES))
def test_wrong_tokens_are_each_refused_then_the_address_is_rate_limited(
    client: Client, practice: Any, kind: str
) -> None:
    page, group = LINK_PAGES[kind]
    limit = int(settings.RATE_LIMITS[group].split("/")[0])
    statuses = [client.get(page.format(_wrong_token(kind))).status_code for _ in range(limit + 3)]
    assert statuses == [404] * limit + [429] * 3
    # An unknown token names no patient, so nothing is audited; nothing was opened either.
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize("purpose", ["intake", "consent", "questionnaire"])
def test_a_used_link_retried_is_refused_and_audited_each_time_until_the_limit(
    client: Client, practice: Any, purpose: str
) -> None:
    link, token = links.link_issue(purpose=purpose, patient=_patient(), target=uuid.uuid4())
    PatientLink.objects.filter(pk=link.pk).update(used_at=link.created_at)
    limit = int(settings.RATE_LIMITS["link_token"].split("/")[0])
    # From many addresses, as a spread-out guesser would: the token's own counter stops them.
    statuses = [client.get(f"/{purpose}/{token}/", REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(limit + 2)]
    assert statuses == [410] * limit + [429] * 2
    denied = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED, object_type=f"{purpose}_link")
    assert denied.count() == limit


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
needs_redis = pytest.mark.skipif(
    os.environ.get("REQUIRE_REDIS") != "1" and not _redis_reachable(), reason="Redis is not reachable"
)
KEY_PREFIX = f"test-ratelimits-{os.getpid()}"


def two_servers(backend: str, location: str) -> dict[str, Any]:
    """Two cache connections, as two app servers have: `a` and `b`, each its own client."""
    return {
        alias: {"BACKEND": backend, "LOCATION": location if backend.endswith("RedisCache") else alias + location}
        | ({"KEY_PREFIX": KEY_PREFIX} if backend.endswith("RedisCache") else {})
        for alias in ("default", "a", "b")
    }


def _counted_on(client: Client, alias: str) -> int:
    with override_settings(RATELIMIT_USE_CACHE=alias):
        return client.post("/contact/", {}).status_code


@needs_redis
@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "2/h"})
def test_two_app_servers_on_redis_count_together(client: Client, practice: Any) -> None:
    with override_settings(CACHES=two_servers("django.core.cache.backends.redis.RedisCache", REDIS_URL)):
        from django.core.cache import caches

        redis = caches["a"]._cache.get_client()  # type: ignore[attr-defined]
        try:
            statuses = [_counted_on(client, "a"), _counted_on(client, "b"), _counted_on(client, "a")]
            keys = redis.keys(f"{KEY_PREFIX}*")
        finally:
            # Only this test's keys: cache.clear() would empty the whole Redis database others share.
            for key in redis.keys(f"{KEY_PREFIX}*"):
                redis.delete(key)
    assert statuses == [200, 200, 429]
    assert keys and all(b"203.0.113" not in key and b"127.0.0.1" not in key for key in keys)


def test_two_app_servers_each_with_its_own_memory_do_not(client: Client, practice: Any) -> None:
    """The control for the test above: it fails where the servers do not share a cache."""
    with (
        override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "2/h"}),
        override_settings(CACHES=two_servers("django.core.cache.backends.locmem.LocMemCache", "-memory")),
    ):
        statuses = [_counted_on(client, "a"), _counted_on(client, "b"), _counted_on(client, "a")]
    assert statuses == [200, 200, 200]


@override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "contact": "1/h"})
def test_with_the_cache_unreachable_a_visitor_is_let_through_and_the_log_says_so(
    client: Client, practice: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # A Redis address nothing listens on: the counters cannot be kept.
    unreachable = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "rl": unreachable},
        RATELIMIT_USE_CACHE="rl",
    ):
        statuses = [client.post("/contact/", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records if r.name == "accounts.ratelimit"]
    assert warnings == ["rate limit contact not counted: the cache is unreachable (ConnectionError)"] * 3


def test_the_benchmarks_lift_every_rate_limit_group_the_settings_know() -> None:
    # bench/run.py runs outside Django, so it keeps its own list of the variables: it must be the settings' list.
    import importlib.util
    from pathlib import Path

    from ops.crash_drill import rate_limit_variables

    spec = importlib.util.spec_from_file_location(
        "bench_run", Path(__file__).resolve().parent.parent / "bench" / "run.py"
    )
    assert spec is not None and spec.loader is not None
    bench_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_run)
    assert sorted(bench_run.RATE_LIMIT_VARIABLES) == sorted(rate_limit_variables())

"""The patients' links (accounts.links): unguessable, stored hashed, used once, expiring, replaced; their session.

`link_open` is tested as a function: the 404/410 pages are its callers' (intake, consent,
questionnaires), which turn `LinkUnknown` and `LinkGone` into them.
"""

import hashlib
import string
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections
from django.http import HttpRequest
from django.test import RequestFactory
from django.utils import timezone

from accounts import links
from accounts.links import LinkGone, LinkUnknown, PatientSession, current, end, link_issue, link_open
from accounts.models import AuditEvent, PatientLink
from accounts.tests.audit import audit_clear
from conftest import run_threads, together
from patients.models import Patient

INTAKE = PatientLink.Purpose.INTAKE
CONSENT = PatientLink.Purpose.CONSENT
URLSAFE = set(string.ascii_letters + string.digits + "-_")


def visitor() -> HttpRequest:
    """A request from a browser with a session of its own, as a link page receives one."""
    request = RequestFactory().get("/intake/")
    request.session = SessionStore()
    return request


def make_patient(n: int = 1) -> Patient:
    return Patient.objects.create(
        first_name=f"Linda{n}", last_name="Ortega", date_of_birth=date(1961, 5, 17), email=f"linda{n}@example.com"
    )


@pytest.fixture
def patient(db: Any) -> Patient:
    return make_patient()


def later(minutes: float) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


# --- Tokens ----------------------------------------------------------------------------------------


def test_a_token_carries_192_random_bits_in_url_safe_characters(patient: Patient) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    # 32 characters of base64url are 192 bits, over the 128 the issue asks for.
    assert (len(token), set(token) <= URLSAFE) == (32, True)


def test_a_thousand_tokens_are_a_thousand_different_tokens(patient: Patient) -> None:
    tokens = {link_issue(purpose=INTAKE, patient=patient, target=f"intake-{n}")[1] for n in range(1000)}
    assert len(tokens) == 1000
    assert PatientLink.objects.values("token_sha256").distinct().count() == 1000


def test_only_the_tokens_hash_is_stored_and_the_token_is_nowhere_in_the_database(patient: Patient) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    link_open(visitor(), token, purpose=INTAKE)
    assert PatientLink.objects.get().token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    columns = [field.attname for field in PatientLink._meta.concrete_fields]
    link_values = [str(value) for value in PatientLink.objects.values_list(*columns).get()]
    assert [value for value in link_values if token in value] == []
    # And in no column of any table (the audit log, sessions, the chart included).
    found = []
    for model in apps.get_models():
        names = [field.attname for field in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*names):
            found += [
                f"{model._meta.db_table}.{name}" for name, value in zip(names, row, strict=True) if token in str(value)
            ]
    assert found == []


# --- The first visit, and every one after it -------------------------------------------------------


def test_the_first_visit_uses_the_link_up_and_opens_a_session_for_its_target(patient: Patient) -> None:
    link, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    request = visitor()
    audit_clear()
    opened = link_open(request, token, purpose=INTAKE)
    link.refresh_from_db()
    assert opened == PatientSession(
        link_id=link.pk, patient_id=patient.pk, purpose=INTAKE, target="intake-1", until=opened.until
    )
    assert link.used_at is not None
    assert opened.until == link.used_at + timedelta(minutes=60)
    assert current(request, purpose=INTAKE) == opened
    assert current(request, purpose=INTAKE, target="intake-1") == opened
    assert list(AuditEvent.objects.values_list("actor", "role", "action", "object_type", "object_ref", "patient")) == [
        (None, "patient", "view", "intake_link", str(link.uuid), patient.pk)
    ]


@pytest.mark.parametrize("purpose", list(PatientLink.Purpose))
def test_a_head_request_uses_nothing_up_opens_nothing_and_leaves_no_row(patient: Patient, purpose: str) -> None:
    link, token = link_issue(purpose=purpose, patient=patient, target="target-1")
    probe = RequestFactory().head("/")
    probe.session = SessionStore()
    audit_clear()
    with pytest.raises(links.LinkProbe):
        link_open(probe, token, purpose=purpose)
    link.refresh_from_db()
    assert (link.used_at, current(probe, purpose=purpose), AuditEvent.objects.count()) == (None, None, 0)
    # The patient's own visit afterwards opens it.
    assert link_open(visitor(), token, purpose=purpose).target == "target-1"


def test_the_visitor_gets_a_new_session_id_once_the_link_is_used(patient: Patient) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    request = visitor()
    request.session.save()
    before = request.session.session_key
    link_open(request, token, purpose=INTAKE)
    assert request.session.session_key not in {before, None}


def test_a_second_visit_with_the_same_link_is_gone_as_used_and_audited_as_refused(patient: Patient) -> None:
    link, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    link_open(visitor(), token, purpose=INTAKE)
    audit_clear()
    second = visitor()
    with pytest.raises(LinkGone) as gone:
        link_open(second, token, purpose=INTAKE)
    assert (gone.value.reason, gone.value.link) == ("used", link)
    assert current(second, purpose=INTAKE) is None
    assert list(AuditEvent.objects.values_list("role", "action", "object_type", "patient", "outcome")) == [
        ("", "view", "intake_link", patient.pk, "denied")
    ]


def test_a_link_past_its_expiry_is_gone_as_expired_and_opens_nothing(patient: Patient) -> None:
    link, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1", valid_for=timedelta(days=1))
    PatientLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    request = visitor()
    with pytest.raises(LinkGone) as gone:
        link_open(request, token, purpose=INTAKE)
    link.refresh_from_db()
    assert (gone.value.reason, link.used_at, current(request, purpose=INTAKE)) == ("expired", None, None)


def test_each_purpose_has_its_own_validity(patient: Patient) -> None:
    issued = {
        purpose: link_issue(purpose=purpose, patient=patient, target=f"{purpose}-1")[0]
        for purpose in PatientLink.Purpose.values
    }
    # created_at is stamped a moment after the expiry is reckoned: to the nearest day.
    days = {purpose: round((link.expires_at - link.created_at) / timedelta(days=1)) for purpose, link in issued.items()}
    assert days == {
        "intake": 14,
        "consent": 7,
        "questionnaire": 30,
    }


def test_a_newer_link_for_the_same_target_revokes_the_older_one(patient: Patient) -> None:
    older, old_token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    newer, new_token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    with pytest.raises(LinkGone) as gone:
        link_open(visitor(), old_token, purpose=INTAKE)
    assert (gone.value.reason, gone.value.link) == ("revoked", older)
    assert link_open(visitor(), new_token, purpose=INTAKE).link_id == newer.pk


def test_a_newer_link_for_another_target_leaves_the_first_one_working(patient: Patient) -> None:
    first, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    link_issue(purpose=INTAKE, patient=patient, target="intake-2")
    assert link_open(visitor(), token, purpose=INTAKE).link_id == first.pk


def test_an_unknown_token_and_a_token_of_another_purpose_are_unknown(patient: Patient) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    with pytest.raises(LinkUnknown):
        link_open(visitor(), token[:-1] + ("A" if token[-1] != "A" else "B"), purpose=INTAKE)
    with pytest.raises(LinkUnknown):
        link_open(visitor(), token, purpose=CONSENT)
    # The link was not used up by the wrong door.
    assert link_open(visitor(), token, purpose=INTAKE).target == "intake-1"


# --- The session the link is swapped for ------------------------------------------------------------


def test_the_session_ends_after_sixty_minutes(patient: Patient, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    request = visitor()
    opened = link_open(request, token, purpose=INTAKE)
    monkeypatch.setattr(timezone, "now", lambda: opened.until - timedelta(seconds=1))
    assert current(request, purpose=INTAKE) == opened
    monkeypatch.setattr(timezone, "now", lambda: opened.until)
    assert current(request, purpose=INTAKE) is None
    assert links.open_sessions(request) == []


def test_the_session_opens_only_its_own_target_and_purpose(patient: Patient) -> None:
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    request = visitor()
    link_open(request, token, purpose=INTAKE)
    assert current(request, purpose=INTAKE, target="intake-2") is None
    assert current(request, purpose=CONSENT) is None
    assert current(request, purpose=CONSENT, target="intake-1") is None


def test_two_links_of_two_purposes_keep_two_sessions_until_one_ends(patient: Patient) -> None:
    _, intake = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    _, consent = link_issue(purpose=CONSENT, patient=patient, target="episode-1")
    request = visitor()
    link_open(request, intake, purpose=INTAKE)
    link_open(request, consent, purpose=CONSENT)
    assert sorted(opened.purpose for opened in links.open_sessions(request)) == ["consent", "intake"]
    end(request, purpose=INTAKE)
    assert (current(request, purpose=INTAKE), [s.purpose for s in links.open_sessions(request)]) == (None, ["consent"])


# --- Two first visits at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("visitors", [2, 8])
def test_first_visits_at_once_open_exactly_one_session(visitors: int) -> None:
    patient = make_patient()
    _, token = link_issue(purpose=INTAKE, patient=patient, target="intake-1")
    barrier = together(visitors)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def visit() -> None:
        request = visitor()
        try:
            barrier.wait()
            link_open(request, token, purpose=INTAKE)
            result = "opened"
        except LinkGone as gone:
            result = gone.reason
        except Exception as error:  # any other error fails the test, with its text
            result = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    run_threads([visit] * visitors)
    assert outcomes == Counter({"opened": 1, "used": visitors - 1})
    assert list(AuditEvent.objects.order_by("outcome").values_list("outcome", flat=True)) == [
        "allowed",
        *["denied"] * (visitors - 1),
    ]

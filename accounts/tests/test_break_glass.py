"""Break-glass: a technician (charlie) reads a patient's intake, which the role does not, for 60 minutes with a reason.

Personas: bob (physician: reads it all, nothing to ask for), charlie (technician), and a
practice manager who reads every grant and what it opened.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts import access
from accounts.break_glass import break_glass_grant, break_glass_report
from accounts.models import AuditEvent, BreakGlassGrant, Role, User
from accounts.testing import sign_in
from patients import intake as intakes
from patients.models import Intake
from patients.tests.test_intake import audit_mark, audit_since, book, fill
from scheduling.tests.conftest import Schedule, make_patient

pytestmark = pytest.mark.django_db

REFUSED_REASON = "Say why you need this patient&#x27;s records: the practice manager reads every reason."


@pytest.fixture
def sent(schedule: Schedule, outbox_capture: Any) -> Intake:
    appointment, _token = book(schedule, outbox_capture)
    return intakes.intake_submit(intake=fill(appointment.intakes.get()))


@pytest.fixture
def manager(db: Any) -> User:
    return User.objects.create_user("mia", password="mia-password-12", role=Role.MANAGER, is_staff=True)


def signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def intake_page(intake: Intake) -> str:
    return f"/staff/patients/intakes/{intake.uuid}/"


def glass_page(intake: Intake) -> str:
    return f"/staff/patients/{intake.patient.uuid}/break-glass/"


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def age(grant: BreakGlassGrant, minutes: float) -> None:
    """Pretend the grant was given `minutes` ago (it lasts 60)."""
    start = timezone.now() - timedelta(minutes=minutes)
    BreakGlassGrant.objects.filter(pk=grant.pk).update(granted_at=start, expires_at=start + timedelta(minutes=60))


def test_without_a_grant_the_technician_is_refused_the_intake(sent: Intake, charlie: User) -> None:
    client = signed_in(charlie)
    mark = audit_mark()
    assert client.get(intake_page(sent)).status_code == 404
    assert audit_since(mark) == [(charlie.pk, "technician", "view", "intake", str(sent.uuid), None, "denied")]


def test_an_empty_reason_is_refused_with_a_message_and_grants_nothing(sent: Intake, charlie: User) -> None:
    client = signed_in(charlie)
    response = client.post(glass_page(sent), {"reason": "   "})
    assert response.status_code == 200
    assert REFUSED_REASON in response.content.decode()
    assert BreakGlassGrant.objects.count() == 0
    assert client.get(intake_page(sent)).status_code == 404


def test_a_reason_opens_the_intake_for_60_minutes_and_each_read_is_flagged(sent: Intake, charlie: User) -> None:
    client = signed_in(charlie)
    mark = audit_mark()
    response = client.post(glass_page(sent), {"reason": "Patient reports a reaction during the harvest"})
    assert (response.status_code, response["Location"]) == (302, sent.patient.get_absolute_url())
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.reason) == (
        charlie,
        sent.patient,
        "Patient reports a reaction during the harvest",
    )
    assert grant.expires_at - grant.granted_at == timedelta(minutes=60)
    assert client.get(intake_page(sent)).status_code == 200
    assert client.get(intake_page(sent)).status_code == 200
    flagged = (charlie.pk, "technician", "view", "intake", str(sent.uuid), sent.patient_id, "breakglass")
    assert audit_since(mark) == [
        (charlie.pk, "technician", "view", "patient", str(sent.patient.uuid), sent.patient_id, "allowed"),
        (charlie.pk, "technician", "create", "break_glass", str(grant.uuid), sent.patient_id, "breakglass"),
        flagged,
        flagged,
    ]


def test_the_grant_still_opens_at_59_minutes_and_not_at_60(sent: Intake, charlie: User) -> None:
    grant = break_glass_grant(by=charlie, patient=sent.patient, reason="Allergy check")
    client = signed_in(charlie)
    age(grant, 59)
    assert client.get(intake_page(sent)).status_code == 200
    age(grant, 60)
    mark = audit_mark()
    assert client.get(intake_page(sent)).status_code == 404
    assert audit_since(mark) == [(charlie.pk, "technician", "view", "intake", str(sent.uuid), None, "denied")]


def test_a_grant_opens_only_its_own_patient(
    sent: Intake, charlie: User, schedule: Schedule, outbox_capture: Any
) -> None:
    other, _token = book(schedule, outbox_capture, at="11:00", patient=make_patient(7))
    break_glass_grant(by=charlie, patient=other.patient, reason="Allergy check")
    assert other.patient != sent.patient
    assert signed_in(charlie).get(intake_page(sent)).status_code == 404


def test_a_grant_opens_reads_only_never_a_change(sent: Intake, charlie: User) -> None:
    break_glass_grant(by=charlie, patient=sent.patient, reason="Allergy check")
    assert access.break_glass_opens(charlie, access.Act.VIEW, access.Record.INTAKE) is True
    assert access.break_glass_opens(charlie, access.Act.CHANGE, access.Record.INTAKE) is False
    assert signed_in(charlie).post(intake_page(sent) + "confirm/").status_code == 404


def test_roles_that_read_it_all_or_no_records_cannot_ask(sent: Intake, bob: User, alice: User, manager: User) -> None:
    for user in (bob, alice, manager):
        assert signed_in(user).get(glass_page(sent)).status_code == 404
    assert BreakGlassGrant.objects.count() == 0


def test_the_chart_offers_it_to_the_technician_only(sent: Intake, charlie: User, bob: User) -> None:
    chart = sent.patient.get_absolute_url()
    assert "Break the glass" in text(signed_in(charlie).get(chart))
    assert "Break the glass" not in text(signed_in(bob).get(chart))


def test_the_manager_sees_every_grant_and_the_reads_made_under_it(sent: Intake, charlie: User, manager: User) -> None:
    grant = break_glass_grant(by=charlie, patient=sent.patient, reason="Allergy check before injection")
    reader = signed_in(charlie)
    assert reader.get(intake_page(sent)).status_code == 200
    assert reader.get(intake_page(sent)).status_code == 200
    reports = break_glass_report()
    assert [(report.grant, [row.object_ref for row in report.accesses]) for report in reports] == [
        (grant, [str(sent.uuid), str(sent.uuid)])
    ]
    assert {row.outcome for row in reports[0].accesses} == {AuditEvent.Outcome.BREAK_GLASS}
    reviewer = signed_in(manager)
    mark = audit_mark()
    page = reviewer.get("/staff/break-glass/")
    assert page.status_code == 200
    shown = text(page)
    assert "Allergy check before injection" in shown
    assert str(charlie) in shown
    assert shown.count(f"Break-glass · intake {sent.uuid}") == 2
    assert audit_since(mark) == [(manager.pk, "manager", "view", "break_glass", "grants:1", None, "allowed")]


def test_only_the_manager_and_administrators_read_the_grants(charlie: User, bob: User, alice: User) -> None:
    for user in (charlie, bob, alice):
        assert signed_in(user).get("/staff/break-glass/").status_code == 403


def test_the_patients_access_report_names_the_grant_and_each_read_under_it(sent: Intake, charlie: User) -> None:
    from accounts.audit import access_report

    grant = break_glass_grant(by=charlie, patient=sent.patient, reason="Allergy check")
    signed_in(charlie).get(intake_page(sent))
    entries = [(e.who, e.action, e.record, e.record_ref, e.outcome) for e in access_report(patient=sent.patient)]
    assert entries[-2:] == [
        ("charlie", "Created", "a break-glass grant", str(grant.uuid), "Allowed by break-glass"),
        ("charlie", "Viewed", "the intake", str(sent.uuid), "Allowed by break-glass"),
    ]

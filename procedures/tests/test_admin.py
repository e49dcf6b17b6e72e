"""Procedure records and adverse events in the admin: read-only, under the policy, audited."""

from datetime import date

import pytest
from django.test import Client

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from procedures import services
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.tests.conftest import Clinic, at, signed

pytestmark = pytest.mark.django_db


def staff(role: str) -> Client:
    client = Client()
    sign_in(client, User.objects.create_user(f"a-{role}", password="a-password-for-tests", role=role, is_staff=True))
    return client


@pytest.fixture
def event(clinic: Clinic) -> AdverseEvent:
    record = signed(clinic)
    return services.adverse_event_report(
        episode=clinic.episode,
        data={"kind": "haematoma", "onset_date": date(2031, 3, 6), "grade": 1, "serious": False, "procedure": record},
        by=clinic.doctor,
        now=at("12:00", date(2031, 3, 7)),
    )


def test_a_physician_reads_a_record_in_the_admin_with_one_row_per_page(event: AdverseEvent, clinic: Clinic) -> None:
    record = ProcedureRecord.objects.get()
    client = staff(Role.PHYSICIAN)
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert client.get("/admin/procedures/procedurerecord/").status_code == 200
    assert client.get(f"/admin/procedures/procedurerecord/{record.pk}/change/").status_code == 200
    assert list(
        AuditEvent.objects.filter(pk__gt=mark).order_by("pk").values_list("action", "object_ref", "patient")
    ) == [
        ("view", "admin:list", None),
        ("view", str(record.uuid), clinic.rosa.pk),
    ]


@pytest.mark.parametrize("model", ["procedurerecord", "adverseevent"])
def test_nothing_is_added_or_deleted_from_the_admin(event: AdverseEvent, model: str) -> None:
    client = staff(Role.PHYSICIAN)
    pk = ProcedureRecord.objects.get().pk if model == "procedurerecord" else event.pk
    assert client.get(f"/admin/procedures/{model}/add/").status_code == 403
    assert client.get(f"/admin/procedures/{model}/{pk}/delete/").status_code == 403
    before = ProcedureRecord.objects.get().signed_sha256
    client.post(f"/admin/procedures/procedurerecord/{ProcedureRecord.objects.get().pk}/change/", {"kit_lot": "X"})
    assert ProcedureRecord.objects.get().signed_sha256 == before
    assert ProcedureRecord.objects.get().kit_lot == "LOT-42"


@pytest.mark.parametrize(
    ("role", "model", "list_status", "row_status"),
    [
        (Role.FRONT_DESK, "procedurerecord", 403, 404),
        (Role.MANAGER, "adverseevent", 403, 404),
        (Role.TECHNICIAN, "adverseevent", 403, 404),
        (Role.TECHNICIAN, "procedurerecord", 200, 200),
    ],
)
def test_the_admin_follows_the_policy(
    event: AdverseEvent, role: str, model: str, list_status: int, row_status: int
) -> None:
    client = staff(role)
    pk = ProcedureRecord.objects.get().pk if model == "procedurerecord" else event.pk
    assert client.get(f"/admin/procedures/{model}/").status_code == list_status
    assert client.get(f"/admin/procedures/{model}/{pk}/change/").status_code == row_status

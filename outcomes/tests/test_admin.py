"""Outcomes in the admin: the instrument sets edited by the practice; follow-ups, answers, scores read-only, audited."""

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from outcomes.models import FollowUp, InstrumentSet, Invitation, Response, Score, SurgeryConversion
from outcomes.tests.test_staff_pages import signed_in, staff, treated

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows() -> dict[str, Any]:
    follow_up = treated()
    Invitation.objects.create(
        follow_up=follow_up, kind="invitation", status="skipped", skip_reason="test", claimed_at=timezone.now()
    )
    conversion = SurgeryConversion.objects.create(
        episode=follow_up.episode, surgery_date=date.today() - timedelta(days=1), procedure="other", source="staff"
    )
    response = Response.objects.filter(follow_up__episode=follow_up.episode).first()
    return {
        "followup": follow_up,
        "invitation": Invitation.objects.get(),
        "response": response,
        "score": Score.objects.filter(response=response).first(),
        "surgeryconversion": conversion,
    }


def paths(model: str, pk: Any) -> dict[str, str]:
    base = f"/admin/outcomes/{model}/"
    return {
        "list": base,
        "add": base + "add/",
        "change": f"{base}{pk}/change/",
        "history": f"{base}{pk}/history/",
        "delete": f"{base}{pk}/delete/",
    }


# What each role gets: a record is a 404 (never confirming it exists), the list and the add form a 403.
READ = {"list": 200, "add": 403, "change": 200, "history": 200, "delete": 403}
NONE = {"list": 403, "add": 403, "change": 404, "history": 404, "delete": 404}


@pytest.mark.parametrize(
    ("role", "follow_ups", "outcomes"),
    [
        (Role.PHYSICIAN, READ, READ),
        (Role.ADMIN, READ, READ),
        # The front desk reads follow-ups (the call list's records) but not answers or scores.
        (Role.FRONT_DESK, READ, NONE),
        (Role.TECHNICIAN, NONE, NONE),
        (Role.MANAGER, NONE, NONE),
    ],
)
def test_the_admin_follows_the_policy(
    rows: dict[str, Any], role: str, follow_ups: dict[str, int], outcomes: dict[str, int]
) -> None:
    client = signed_in(staff(role))
    found, expected = {}, {}
    for model, row in rows.items():
        wanted = follow_ups if model in ("followup", "invitation") else outcomes
        for view, path in paths(model, row.pk).items():
            found[(model, view)] = client.get(path).status_code
            expected[(model, view)] = wanted[view]
    assert found == expected


def test_reading_a_follow_up_in_the_admin_leaves_one_row_per_page(rows: dict[str, Any]) -> None:
    follow_up: FollowUp = rows["followup"]
    client = signed_in(staff(Role.PHYSICIAN))
    audit_clear()
    assert client.get("/admin/outcomes/followup/").status_code == 200
    assert client.get(f"/admin/outcomes/followup/{follow_up.pk}/change/").status_code == 200
    assert client.get(f"/admin/outcomes/response/{rows['response'].pk}/change/").status_code == 200
    assert list(AuditEvent.objects.order_by("pk").values_list("action", "object_type", "object_ref", "patient")) == [
        ("view", "follow_up", "admin:list", None),
        ("view", "follow_up", str(follow_up.uuid), follow_up.episode.patient_id),
        ("view", "outcome", str(rows["response"].uuid), follow_up.episode.patient_id),
    ]


def test_nothing_is_changed_from_the_admin(rows: dict[str, Any]) -> None:
    client = signed_in(staff(Role.PHYSICIAN))
    response: Response = rows["response"]
    before = (response.answers, response.status)
    posted = client.post(f"/admin/outcomes/response/{response.pk}/change/", {"answers": "{}", "status": "in_progress"})
    assert posted.status_code == 403
    response.refresh_from_db()
    assert (response.answers, response.status) == before
    follow_up: FollowUp = rows["followup"]
    client.post(f"/admin/outcomes/followup/{follow_up.pk}/change/", {"status": "missed"})
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN


def test_the_practice_edits_its_instrument_sets_with_their_history() -> None:
    admin = User.objects.create_superuser("root", password="a-password-for-tests")
    client = Client()
    sign_in(client, admin)
    form = {"indication": "osteoarthritis", "site": "knee", "instrument": " koos_jr ", "order": "5"}
    assert client.post("/admin/outcomes/instrumentset/add/", form).status_code == 302
    added = InstrumentSet.objects.get(instrument="KOOS_JR")
    assert (added.indication, added.site, added.order, added.after_treatment_only) == (
        "osteoarthritis",
        "knee",
        5,
        False,
    )
    assert added.history.get().history_user == admin
    page = client.get(f"/admin/outcomes/instrumentset/{added.pk}/change/").content.decode()
    assert "One of: ASES, FAOS, HOOS, HOOS_JR, KOOS, KOOS_JR, LEFS, NRS, ODI, PGIC, SANE, VISA-P." in page


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.FRONT_DESK, Role.MANAGER])
def test_the_instrument_sets_are_the_practice_s_settings_not_every_role_s(role: str) -> None:
    client = signed_in(staff(role))
    assert client.get("/admin/outcomes/instrumentset/").status_code == 403

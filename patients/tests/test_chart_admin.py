"""The chart's records in the admin: read-only, under the policy, each read audited."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, User
from accounts.testing import sign_in
from patients.models import Allergy, MedicalHistory, Medication, Source
from patients.tests.test_chart import document, last_audit_id, make_episode, new_audit_rows, sign
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db


def staff(role: str) -> Client:
    client = Client()
    sign_in(client, User.objects.create_user(f"user-{role}", password="a-password-123", role=role, is_staff=True))
    return client


@pytest.fixture
def rows(schedule: Schedule) -> dict[str, Any]:
    rosa = schedule.rosa
    episode = make_episode(schedule, rosa)
    return {
        "medicalhistory": MedicalHistory.objects.create(patient=rosa, diabetes=True, source=Source.PATIENT),
        "allergy": Allergy.objects.create(patient=rosa, substance="Latex"),
        "medication": Medication.objects.create(patient=rosa, name="Eliquis", drug_class="anticoagulant"),
        "episode": episode,
        "consentsignature": sign(episode, document()),
    }


@pytest.mark.parametrize("model", ["medicalhistory", "allergy", "medication"])
def test_the_chart_s_records_are_shown_read_only_and_each_read_is_audited(
    schedule: Schedule, rows: dict[str, Any], model: str
) -> None:
    client = staff(Role.FRONT_DESK)
    row = rows[model]
    base = f"/admin/patients/{model}/"
    assert client.get(base).status_code == 200
    since = last_audit_id()
    page = client.get(f"{base}{row.pk}/change/")
    assert page.status_code == 200
    assert '<input type="submit" value="Save"' not in page.content.decode()
    assert new_audit_rows(since) == [
        ("user-front_desk", "view", "patient", str(getattr(row, "uuid", "") or row.pk), schedule.rosa.pk, "allowed")
    ]
    assert (client.get(base + "add/").status_code, client.get(f"{base}{row.pk}/delete/").status_code) == (403, 403)
    # A POST to the read-only form changes nothing.
    client.post(f"{base}{row.pk}/change/", {"is_active": "", "substance": "Changed"})
    row.refresh_from_db()
    assert getattr(row, "substance", "Latex") == "Latex"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RESEARCHER])
def test_roles_without_the_chart_see_none_of_it_in_the_admin(rows: dict[str, Any], role: str) -> None:
    client = staff(role)
    for model, row in rows.items():
        assert client.get(f"/admin/patients/{model}/").status_code == 403, model
        assert client.get(f"/admin/patients/{model}/{row.pk}/change/").status_code == 404, model


def test_an_episode_and_a_consent_are_read_under_their_own_kinds(schedule: Schedule, rows: dict[str, Any]) -> None:
    client = staff(Role.PHYSICIAN)
    since = last_audit_id()
    assert client.get(f"/admin/patients/episode/{rows['episode'].pk}/change/").status_code == 200
    assert client.get(f"/admin/patients/consentsignature/{rows['consentsignature'].pk}/change/").status_code == 200
    assert [row[1:5] for row in new_audit_rows(since)] == [
        ("view", "episode", str(rows["episode"].uuid), schedule.rosa.pk),
        ("view", "consent", str(rows["consentsignature"].uuid), schedule.rosa.pk),
    ]

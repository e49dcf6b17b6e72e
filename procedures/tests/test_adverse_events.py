"""Adverse events: reported in an episode, judged by a physician, counted without names on the safety page."""

import uuid
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES
from procedures import queries, services
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.tests.conftest import Clinic, at, signed

pytestmark = pytest.mark.django_db

REPORT = {
    "kind": "harvest_site_pain",
    "kind_other": "",
    "description": "Aching at the left iliac crest.",
    "onset_date": date(2031, 3, 6),
    "grade": 1,
    "serious": False,
    "action": "Paracetamol, ice.",
    "outcome": "recovering",
}


def client_for(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def mark() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def rows_since(before: int) -> list[tuple[str, str, str, Any]]:
    return list(
        AuditEvent.objects.filter(pk__gt=before)
        .order_by("pk")
        .values_list("action", "object_type", "outcome", "patient")
    )


def report(clinic: Clinic, procedure: ProcedureRecord | None = None, **changes: Any) -> AdverseEvent:
    return services.adverse_event_report(
        episode=clinic.episode,
        data={**REPORT, "procedure": procedure, **changes},
        by=clinic.doctor,
        now=at("12:00", date(2031, 3, 7)),
    )


# --- The services --------------------------------------------------------------------------------


def test_an_event_is_reported_in_the_episode_waiting_for_a_judgement(clinic: Clinic) -> None:
    record = signed(clinic)
    before = mark()
    event = report(clinic, record)
    assert (event.episode, event.procedure, event.reported_by, event.related_to_product, event.adjudicated_at) == (
        clinic.episode,
        record,
        clinic.doctor,
        "not_assessed",
        None,
    )
    assert rows_since(before) == [("create", "adverse_event", "allowed", clinic.rosa.pk)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"onset_date": date(2031, 3, 8)}, "onset_date"),  # after today
        ({"kind": "other"}, "kind_other"),
        ({"grade": 5, "outcome": "recovered", "serious": True}, "outcome"),
        ({"grade": 2, "outcome": "fatal"}, "grade"),
        ({"grade": 4, "serious": False}, "serious"),
        ({"grade": 6}, "grade"),
    ],
)
def test_a_report_that_does_not_hold_together_is_refused_next_to_the_field(
    clinic: Clinic, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        report(clinic, **changes)
    assert field in refused.value.message_dict
    assert AdverseEvent.objects.count() == 0


def test_the_onset_cannot_precede_the_procedure_it_follows(clinic: Clinic) -> None:
    record = signed(clinic)
    with pytest.raises(ValidationError) as refused:
        report(clinic, record, onset_date=date(2031, 3, 4))
    assert refused.value.message_dict == {"onset_date": ["The onset cannot be before the procedure it is linked to."]}


def test_a_procedure_of_another_episode_is_refused(clinic: Clinic) -> None:
    other = services.procedure_start(episode=clinic.other_episode, by=clinic.doctor, now=at("08:00"))
    with pytest.raises(ValidationError) as refused:
        report(clinic, other)
    assert list(refused.value.message_dict) == ["procedure"]


def test_a_technician_cannot_report(clinic: Clinic) -> None:
    with pytest.raises(PermissionDenied):
        services.adverse_event_report(episode=clinic.episode, data=REPORT, by=clinic.tech, now=at("12:00"))


def test_a_physician_judges_relatedness(clinic: Clinic) -> None:
    event = report(clinic)
    before = mark()
    judged = services.adverse_event_adjudicate(
        event=event,
        related_to_harvest="probable",
        related_to_injection="unrelated",
        related_to_product="unlikely",
        outcome="recovered",
        by=clinic.doctor,
        now=at("13:00", date(2031, 3, 7)),
    )
    assert (judged.related_to_harvest, judged.outcome, judged.adjudicated_by, judged.is_related) == (
        "probable",
        "recovered",
        clinic.doctor,
        True,
    )
    assert rows_since(before) == [("change", "adverse_event", "allowed", clinic.rosa.pk)]


def test_a_physician_assistant_cannot_judge_relatedness(clinic: Clinic) -> None:
    event = report(clinic)
    with pytest.raises(PermissionDenied):
        services.adverse_event_adjudicate(
            event=event,
            related_to_harvest="possible",
            related_to_injection="possible",
            related_to_product="possible",
            by=clinic.pa,
            now=at("13:00"),
        )


def test_the_episode_and_the_chart_list_their_events_in_one_query(clinic: Clinic) -> None:
    first = report(clinic, onset_date=date(2031, 3, 6))
    second = report(clinic, onset_date=date(2031, 3, 7), kind="haematoma")
    with CaptureQueriesContext(connection) as asked:
        episode_events = queries.adverse_events_for_episode(clinic.episode)
        chart_events = queries.adverse_events_for_patient(clinic.rosa)
        [event.procedure for event in episode_events + chart_events]
    assert (episode_events, chart_events, len(asked)) == ([second, first], [second, first], 2)
    assert queries.adverse_events_for_patient(clinic.luis) == []


# --- The pages -----------------------------------------------------------------------------------


def new_url(clinic: Clinic) -> str:
    return reverse("procedures:adverse_event_new", kwargs={"episode": clinic.episode.uuid})


def form_data(**changes: Any) -> dict[str, Any]:
    # The pages run on today's clock: an onset in the past.
    data = {**REPORT, "onset_date": "2025-06-01", "serious": "no", **changes}
    return {key: value for key, value in data.items() if value is not None}


def test_the_report_page_records_the_event_and_goes_to_it(clinic: Clinic, settings: Any) -> None:
    client = client_for(clinic.pa)
    before = mark()
    page = client.get(new_url(clinic))
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert rows_since(before) == [("view", "episode", "allowed", clinic.rosa.pk)]
    before = mark()
    response = client.post(new_url(clinic), form_data())
    event = AdverseEvent.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/staff/procedures/adverse-events/{event.uuid}/")
    assert (event.kind, event.grade, event.serious, event.reported_by) == ("harvest_site_pain", 1, False, clinic.pa)
    assert rows_since(before) == [("create", "adverse_event", "allowed", clinic.rosa.pk)]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"grade": "9"}, ["grade"]),
        ({"onset_date": "soon"}, ["onset_date"]),
        ({"kind": "other"}, ["kind_other"]),
        ({"grade": "4", "serious": "no"}, ["serious"]),
        ({"procedure": "not-an-id"}, ["procedure"]),
        ({"serious": "maybe", "outcome": "alive"}, ["serious", "outcome"]),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    clinic: Clinic, data: dict[str, str], errors: list[str]
) -> None:
    response = client_for(clinic.doctor).post(new_url(clinic), form_data(**data))
    assert response.status_code == 200
    assert sorted(response.context["form"].errors) == sorted(errors)
    assert AdverseEvent.objects.count() == 0


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.FRONT_DESK, Role.MANAGER])
def test_the_report_page_is_a_404_to_roles_without_adverse_events(clinic: Clinic, role: str) -> None:
    user = User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role)
    assert client_for(user).get(new_url(clinic)).status_code == 404


def test_the_event_page_shows_it_and_a_physician_judges_it_there(clinic: Clinic) -> None:
    event = report(clinic)
    client = client_for(clinic.doctor)
    before = mark()
    page = client.get(f"/staff/procedures/adverse-events/{event.uuid}/")
    assert page.status_code == 200
    assert "Physician's judgement" in page.content.decode()
    assert rows_since(before) == [("view", "adverse_event", "allowed", clinic.rosa.pk)]
    response = client.post(
        f"/staff/procedures/adverse-events/{event.uuid}/",
        {
            "related_to_harvest": "definite",
            "related_to_injection": "unrelated",
            "related_to_product": "unlikely",
            "action": "Ice.",
            "outcome": "recovered",
        },
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.related_to_harvest, event.adjudicated_by) == ("definite", clinic.doctor)


def test_a_physician_assistant_sees_the_event_but_cannot_judge_it(clinic: Clinic) -> None:
    event = report(clinic)
    client = client_for(clinic.pa)
    page = client.get(f"/staff/procedures/adverse-events/{event.uuid}/")
    assert (page.status_code, page.context["form"]) == (200, None)
    response = client.post(f"/staff/procedures/adverse-events/{event.uuid}/", {"related_to_harvest": "definite"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.related_to_harvest == "not_assessed"


def test_an_unknown_event_is_a_404(clinic: Clinic) -> None:
    assert client_for(clinic.doctor).get(f"/staff/procedures/adverse-events/{uuid.uuid4()}/").status_code == 404


# --- The safety summary --------------------------------------------------------------------------


def manager() -> User:
    return User.objects.create_user("manager", password="a-password-for-tests", role=Role.MANAGER)


def test_the_safety_summary_counts_by_kind_grade_seriousness_and_relatedness(clinic: Clinic) -> None:
    record = signed(clinic)
    report(clinic, record)
    serious = report(clinic, record, kind="infection", grade=3, serious=True)
    services.adverse_event_adjudicate(
        event=serious,
        related_to_harvest="unrelated",
        related_to_injection="probable",
        related_to_product="possible",
        by=clinic.doctor,
        now=at("13:00", date(2031, 3, 7)),
    )
    unrelated = report(clinic, record, kind="other", kind_other="Fall at home", grade=2)
    services.adverse_event_adjudicate(
        event=unrelated,
        related_to_harvest="unrelated",
        related_to_injection="unrelated",
        related_to_product="unlikely",
        by=clinic.doctor,
        now=at("13:00", date(2031, 3, 7)),
    )
    summary = queries.safety_summary()
    by_kind = {row.kind: row.by_grade for row in summary.rows if row.total}
    assert by_kind == {"harvest_site_pain": [1, 0, 0, 0, 0], "infection": [0, 0, 1, 0, 0], "other": [0, 1, 0, 0, 0]}
    assert (summary.total, summary.serious, summary.not_serious) == (3, 1, 2)
    assert (summary.related, summary.not_related, summary.not_judged) == (1, 1, 1)
    assert (summary.procedures, summary.procedures_with_events, summary.per_100_procedures) == (1, 1, 300.0)
    assert summary.grade_totals == [1, 1, 1, 0, 0]


def test_the_safety_page_names_nobody_and_leaves_one_row(clinic: Clinic) -> None:
    report(clinic, signed(clinic))
    client = client_for(manager())
    before = mark()
    response = client.get("/staff/safety/")
    assert response.status_code == 200
    html = response.content.decode()
    for identifying in ("Patient1", "RC000001", "01/01/1960", str(clinic.episode.uuid), str(clinic.rosa.uuid)):
        assert identifying not in html, identifying
    assert rows_since(before) == [("view", "safety_summary", "allowed", None)]


@pytest.mark.parametrize("events", [1, 3])
def test_the_safety_page_asks_a_fixed_number_of_queries(clinic: Clinic, events: int) -> None:
    record = signed(clinic)
    for n in range(events):
        report(clinic, record, grade=1 + n)
    client = client_for(manager())
    client.get("/staff/safety/")
    with CaptureQueriesContext(connection) as asked:
        response = client.get("/staff/safety/")
    assert response.context["summary"].total == events
    selects = [q["sql"] for q in asked if q["sql"].startswith("SELECT")]
    # session, user, authenticator, the events grouped, the procedures counted, the audit chain's head (and its
    # lock on PostgreSQL)
    assert len(selects) == 5 + CHAIN_QUERIES, [sql[:80] for sql in selects]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
def test_roles_without_the_summary_get_a_403(clinic: Clinic, role: str) -> None:
    user = User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role)
    assert client_for(user).get("/staff/safety/").status_code == 403

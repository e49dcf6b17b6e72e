"""Possible duplicates and merging two charts of one person: every record moves, the merge is recorded,
nothing is half-merged, and two charts booked at the same time are refused with the clash named."""

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client

from accounts.audit import access_report_rows, audit_record
from accounts.links import link_issue
from accounts.models import PatientLink, User
from accounts.testing import sign_in
from patients import merge as merging
from patients.merge import MergeRefused, patient_merge, records_to_move
from patients.models import (
    Allergy,
    CandidacyAssessment,
    Indication,
    Intake,
    MedicalHistory,
    Medication,
    Patient,
    Source,
)
from patients.queries import Likeness, possible_duplicates
from patients.tests.test_chart import (
    appointment,
    chart_url,
    last_audit_id,
    make_episode,
    new_audit_rows,
    text,
    with_mrn,
)
from procedures.models import ProcedureRecord
from scheduling.models import Appointment, AppointmentStatus
from scheduling.tests.conftest import Schedule, local

pytestmark = pytest.mark.django_db

BORN = date(1960, 1, 1)
REASON = "Booked again online with a new email"


def patient(first: str, last: str, **fields: Any) -> Patient:
    values: dict[str, Any] = {"first_name": first, "last_name": last, "date_of_birth": BORN}
    values.update(fields)
    return with_mrn(Patient.objects.create(**values))


@pytest.fixture
def desk(client: Client, alice: User) -> Client:
    sign_in(client, alice)
    return client


# --- Possible duplicates -------------------------------------------------------------------------


def test_the_same_person_booking_twice_with_a_new_email_is_a_possible_duplicate(db: Any) -> None:
    first = patient("Rosa", "García", phone="(310) 555-0100", email="rosa@example.com")
    again = patient("Rosa", "Garcia", phone="310.555.0100", email="rosa.new@example.com")
    assert [(d.patient, d.reasons) for d in possible_duplicates(first)] == [
        (again, (Likeness.LAST_NAME, Likeness.PHONE))
    ]


@pytest.mark.parametrize(
    ("other", "reasons"),
    [
        ({"first_name": "Maria", "last_name": "Example"}, (Likeness.LAST_NAME,)),
        ({"first_name": "Rosa", "last_name": "García López"}, ()),  # shares no word with "Example"
        ({"first_name": "Rosa", "last_name": "Smith", "phone": "+1 310 555 0100"}, (Likeness.PHONE,)),
        ({"first_name": "Rosa", "last_name": "Smith", "email": "ROSA@example.com"}, (Likeness.EMAIL,)),
        ({"first_name": "Rosa", "last_name": "Smith"}, ()),
        ({"first_name": "Rosa", "last_name": "Example", "date_of_birth": date(1960, 1, 2)}, ()),
    ],
)
def test_possible_duplicates_share_the_birth_date_and_one_more_thing(
    db: Any, other: dict[str, Any], reasons: tuple[Likeness, ...]
) -> None:
    rosa = patient("Rosa", "Example", phone="(310) 555-0100", email="rosa@example.com")
    candidate = Patient.objects.create(**{"date_of_birth": BORN, **other})
    found = [(d.patient, d.reasons) for d in possible_duplicates(rosa)]
    assert found == ([(candidate, reasons)] if reasons else [])


def test_last_names_match_word_by_word_without_accents_or_case(db: Any) -> None:
    rosa = patient("Rosa", "García López")
    other = patient("Rosa", "GARCIA")
    assert [d.patient for d in possible_duplicates(rosa)] == [other]


def test_a_merged_chart_and_the_chart_itself_are_never_offered(db: Any) -> None:
    rosa = patient("Rosa", "Example")
    merged = patient("Rosa", "Example")
    Patient.objects.filter(pk=merged.pk).update(merged_into=rosa)
    assert possible_duplicates(rosa) == []


def test_possible_duplicates_take_one_query(db: Any, django_assert_num_queries: Any) -> None:
    rosa = patient("Rosa", "Example")
    for n in range(3):
        patient(f"Rosa{n}", "Example")
    with django_assert_num_queries(1):
        assert len(possible_duplicates(rosa)) == 3


# --- Merging: what moves -------------------------------------------------------------------------


def every_kind_of_record(s: Schedule, chart: Patient, by: User) -> dict[str, Any]:
    episode = make_episode(s, chart, 0)
    return {
        "appointment": appointment(s, chart, local(date(2031, 3, 5), "10:00")),
        "intake": Intake.objects.create(patient=chart, status=Intake.Status.SUBMITTED),
        "episode": episode,
        "candidacy": CandidacyAssessment.objects.create(
            patient=chart,
            indication=Indication.OSTEOARTHRITIS,
            site="knee",
            side="right",
            decision=CandidacyAssessment.Decision.CANDIDATE,
            reason="Grade 2 on X-ray",
            decided_by=by,
            episode=episode,
        ),
        "procedure": ProcedureRecord.objects.create(episode=episode, procedure_date=date(2031, 3, 12)),
        "allergy": Allergy.objects.create(patient=chart, substance="Latex", source=Source.PATIENT),
        "medication": Medication.objects.create(patient=chart, name="Eliquis", drug_class="anticoagulant"),
        "link": link_issue(purpose=PatientLink.Purpose.INTAKE, patient=chart, target="intake-1")[0],
    }


def test_every_record_of_the_duplicate_moves_to_the_survivor(schedule: Schedule, alice: User, bob: User) -> None:
    survivor, duplicate = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    records = every_kind_of_record(schedule, duplicate, bob)
    earlier = patient("Luis", "Example")
    Patient.objects.filter(pk=earlier.pk).update(merged_into=duplicate)
    assert patient_merge(survivor=survivor, duplicate=duplicate, by=alice, reason=REASON) == survivor
    for name, row in records.items():
        row.refresh_from_db()
        owner = row.episode.patient if name == "procedure" else row.patient
        assert owner == survivor, name
    earlier.refresh_from_db()
    duplicate.refresh_from_db()
    # A chart merged into the duplicate before now leads to the survivor too.
    assert (earlier.merged_into, duplicate.merged_into, duplicate.updated_by) == (survivor, survivor, alice)
    assert records_to_move(duplicate) == []
    # The duplicate stays.
    assert Patient.objects.filter(pk=duplicate.pk).exists()


def test_moved_records_and_both_charts_get_history_rows_with_who_and_why(
    schedule: Schedule, alice: User, bob: User
) -> None:
    survivor, duplicate = schedule.rosa, schedule.luis
    records = every_kind_of_record(schedule, duplicate, bob)
    patient_merge(survivor=survivor, duplicate=duplicate, by=alice, reason=REASON)
    for name in ("appointment", "intake", "episode", "candidacy", "allergy", "medication"):
        row = records[name]
        last = type(row).history.filter(id=row.pk).order_by("-history_id").first()
        assert (last.patient_id, last.history_user, last.history_change_reason) == (survivor.pk, alice, REASON), name
    for chart in (survivor, duplicate):
        last = Patient.history.filter(id=chart.pk).order_by("-history_id").first()
        assert (last.history_user, last.history_change_reason) == (alice, REASON)
    assert Patient.history.filter(id=duplicate.pk).order_by("-history_id").first().merged_into_id == survivor.pk


def test_the_audit_log_stays_where_it_was_and_records_the_merge_on_both_charts(schedule: Schedule, alice: User) -> None:
    survivor, duplicate = schedule.rosa, schedule.luis
    before = audit_record(
        actor=alice, action="view", object_type="patient", object_ref=str(duplicate.uuid), patient=duplicate
    )
    since = last_audit_id()
    patient_merge(survivor=survivor, duplicate=duplicate, by=alice, reason=REASON)
    assert new_audit_rows(since) == [
        ("alice", "change", "patient_merge", str(duplicate.uuid), survivor.pk, "allowed"),
        ("alice", "change", "patient_merge", str(survivor.uuid), duplicate.pk, "allowed"),
    ]
    before.refresh_from_db()
    assert before.patient == duplicate
    # The survivor's access report lists what was read of the merged chart, too.
    assert before in list(access_report_rows(patient=survivor))


def test_the_medical_history_keeps_the_survivor_s_answers_and_fills_blanks_from_the_duplicate(
    schedule: Schedule, alice: User, bob: User
) -> None:
    survivor, duplicate = schedule.rosa, schedule.luis
    kept = MedicalHistory.objects.create(
        patient=survivor, diabetes=False, smoking="never", source=Source.CLINICIAN, confirmed_by=bob
    )
    theirs = MedicalHistory.objects.create(
        patient=duplicate,
        diabetes=True,
        bleeding_disorder=True,
        prior_surgery_at_site="ACL 2015",
        source=Source.PATIENT,
    )
    patient_merge(survivor=survivor, duplicate=duplicate, by=alice, reason=REASON)
    kept.refresh_from_db()
    theirs.refresh_from_db()
    assert (kept.diabetes, kept.smoking, kept.bleeding_disorder, kept.prior_surgery_at_site) == (
        False,
        "never",
        True,
        "ACL 2015",
    )
    # What the patient said now stands in the survivor's history: to confirm again.
    assert (kept.source, kept.confirmed_at, kept.confirmed_by) == (Source.PATIENT, None, None)
    # The duplicate's own row stays with the duplicate chart, as it was.
    assert (theirs.patient, theirs.diabetes) == (duplicate, True)


def test_a_medical_history_moves_whole_when_the_survivor_has_none(schedule: Schedule, alice: User) -> None:
    theirs = MedicalHistory.objects.create(patient=schedule.luis, diabetes=True)
    patient_merge(survivor=schedule.rosa, duplicate=schedule.luis, by=alice, reason=REASON)
    theirs.refresh_from_db()
    assert theirs.patient == schedule.rosa


# --- Merging: what is refused --------------------------------------------------------------------


def test_a_chart_cannot_be_merged_into_itself(schedule: Schedule, alice: User) -> None:
    with pytest.raises(MergeRefused) as refused:
        patient_merge(survivor=schedule.rosa, duplicate=schedule.rosa, by=alice, reason=REASON)
    assert refused.value.messages == ["A chart cannot be merged into itself."]


@pytest.mark.parametrize("side", ["survivor", "duplicate"])
def test_a_merged_chart_cannot_take_part_in_another_merge(schedule: Schedule, alice: User, side: str) -> None:
    rosa, luis = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    third = patient("Third", "Example")
    Patient.objects.filter(pk=third.pk).update(merged_into=rosa)
    pair = {"survivor": third, "duplicate": luis} if side == "survivor" else {"survivor": luis, "duplicate": third}
    with pytest.raises(MergeRefused) as refused:
        patient_merge(**pair, by=alice, reason=REASON)
    assert refused.value.messages == [
        f"Chart {third.mrn} was already merged into another chart. Merge the surviving chart instead."
    ]
    assert Patient.objects.get(pk=luis.pk).merged_into is None


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("  ", "Please say why these two charts are the same person."),
        ("x" * 101, "Please keep the reason to 100 characters."),
    ],
)
def test_a_merge_needs_a_short_reason(schedule: Schedule, alice: User, reason: str, message: str) -> None:
    with pytest.raises(MergeRefused) as refused:
        patient_merge(survivor=schedule.rosa, duplicate=schedule.luis, by=alice, reason=reason)
    assert refused.value.message_dict == {"reason": [message]}


def test_two_charts_booked_at_overlapping_times_are_refused_with_the_clash_named(
    schedule: Schedule, alice: User
) -> None:
    rosa, luis = schedule.rosa, schedule.luis
    appointment(schedule, rosa, local(date(2031, 3, 5), "10:00"))
    # The same person booked again online, with another provider, half an hour later.
    clash = appointment(schedule, luis, local(date(2031, 3, 5), "10:30"), provider=schedule.pa)
    with pytest.raises(MergeRefused) as refused:
        patient_merge(survivor=rosa, duplicate=luis, by=alice, reason=REASON)
    assert refused.value.messages == [
        "Both charts have an appointment at the same time: Wednesday, March 5, 2031 at 10 a.m., Los Angeles. "
        "Cancel the one that is not needed, then merge."
    ]
    clash.refresh_from_db()
    assert (clash.patient, Patient.objects.get(pk=luis.pk).merged_into) == (luis, None)
    # Once one is cancelled, the merge goes through; back-to-back visits never clash.
    Appointment.objects.filter(pk=clash.pk).update(status=AppointmentStatus.CANCELLED)
    appointment(schedule, luis, local(date(2031, 3, 5), "11:00"), provider=schedule.pa)
    patient_merge(survivor=rosa, duplicate=luis, by=alice, reason=REASON)
    assert Appointment.objects.filter(patient=rosa).count() == 3


def test_nothing_is_half_merged_when_a_step_fails(
    schedule: Schedule, alice: User, bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    survivor, duplicate = schedule.rosa, schedule.luis
    records = every_kind_of_record(schedule, duplicate, bob)
    real_audit = merging.audit_record
    calls = []

    def fail_on_the_second(**kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real_audit(**kwargs)

    monkeypatch.setattr(merging, "audit_record", fail_on_the_second)
    since = last_audit_id()
    with pytest.raises(RuntimeError):
        patient_merge(survivor=survivor, duplicate=duplicate, by=alice, reason=REASON)
    for name, row in records.items():
        row.refresh_from_db()
        owner = row.episode.patient if name == "procedure" else row.patient
        assert owner == duplicate, name
    assert (Patient.objects.get(pk=duplicate.pk).merged_into, new_audit_rows(since)) == (None, [])
    assert Allergy.history.filter(history_change_reason=REASON).count() == 0


def test_a_database_refusal_is_said_plainly_never_a_500(
    schedule: Schedule, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    Allergy.objects.create(patient=schedule.luis, substance="Latex")

    def refuse(**kwargs: Any) -> None:
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(merging, "_move_records", refuse)
    with pytest.raises(MergeRefused) as refused:
        patient_merge(survivor=schedule.rosa, duplicate=schedule.luis, by=alice, reason=REASON)
    assert refused.value.messages == [
        "These charts cannot be merged: the database refused to move a record (a uniqueness rule). Nothing was changed."
    ]


# --- The merge page ------------------------------------------------------------------------------


def merge_url(one: Patient, other: Patient) -> str:
    return f"{chart_url(one)}merge/{other.uuid}/"


def test_the_merge_page_shows_both_charts_side_by_side_and_reads_both(desk: Client, schedule: Schedule) -> None:
    rosa, luis = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    Allergy.objects.create(patient=luis, substance="Latex")
    appointment(schedule, luis, local(date(2031, 3, 5), "10:00"))
    since = last_audit_id()
    response = desk.get(merge_url(rosa, luis))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    assert f"Chart {rosa.mrn} Name Patient1 Example Date of birth Jan. 1, 1960" in page
    assert f"Chart {luis.mrn} Name Patient2 Example Date of birth Jan. 1, 1960" in page
    assert "Records 1 appointment 1 allergy" in page
    # One read per chart shown, so each patient's access report lists it.
    assert new_audit_rows(since) == [
        ("alice", "view", "patient", str(rosa.uuid), rosa.pk, "allowed"),
        ("alice", "view", "patient", str(luis.uuid), luis.pk, "allowed"),
    ]


def test_staff_choose_the_survivor_and_the_merge_lands_on_its_chart(desk: Client, schedule: Schedule) -> None:
    rosa, luis = with_mrn(schedule.rosa), with_mrn(schedule.luis)
    allergy = Allergy.objects.create(patient=rosa, substance="Latex")
    since = last_audit_id()
    # Opened from Rosa's chart, but Luis's is the one kept.
    response = desk.post(merge_url(rosa, luis), {"survivor": str(luis.uuid), "reason": REASON})
    assert (response.status_code, response["Location"]) == (302, chart_url(luis))
    allergy.refresh_from_db()
    assert (allergy.patient, Patient.objects.get(pk=rosa.pk).merged_into) == (luis, luis)
    assert [row[:4] for row in new_audit_rows(since)] == [
        ("alice", "change", "patient_merge", str(rosa.uuid)),
        ("alice", "change", "patient_merge", str(luis.uuid)),
    ]
    shown = desk.get(chart_url(luis))
    assert f"Merged. Chart {rosa.mrn} now leads here; its records moved to this chart." in text(shown)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"reason": REASON}, {"survivor": ["Choose the chart to keep."]}),
        ({"survivor": "someone-else", "reason": REASON}, {"survivor": ["Choose one of the two charts shown."]}),
        ({"survivor": "ROSA", "reason": ""}, {"reason": ["Please say why these two charts are the same person."]}),
    ],
)
def test_a_merge_form_with_a_mistake_says_so_next_to_the_field_and_merges_nothing(
    desk: Client, schedule: Schedule, data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    rosa, luis = schedule.rosa, schedule.luis
    data = {key: (str(rosa.uuid) if value == "ROSA" else value) for key, value in data.items()}
    since = last_audit_id()
    response = desk.post(merge_url(rosa, luis), data)
    assert response.status_code == 200
    assert dict(response.context["form"].errors.items()) == errors
    assert response.context["form"].data.get("reason") == data.get("reason")
    assert Patient.objects.filter(merged_into__isnull=False).count() == 0
    assert [row[1:4] for row in new_audit_rows(since)] == [
        ("view", "patient", str(rosa.uuid)),
        ("view", "patient", str(luis.uuid)),
    ]


def test_a_clash_is_shown_at_the_top_of_the_merge_form(desk: Client, schedule: Schedule) -> None:
    appointment(schedule, schedule.rosa, local(date(2031, 3, 5), "10:00"))
    appointment(schedule, schedule.luis, local(date(2031, 3, 5), "10:00"), provider=schedule.pa)
    response = desk.post(
        merge_url(schedule.rosa, schedule.luis), {"survivor": str(schedule.rosa.uuid), "reason": REASON}
    )
    assert response.context["form"].non_field_errors() == [
        "Both charts have an appointment at the same time: Wednesday, March 5, 2031 at 10 a.m., Los Angeles. "
        "Cancel the one that is not needed, then merge."
    ]


def test_merging_a_chart_into_itself_from_the_page_goes_back_with_a_message(desk: Client, schedule: Schedule) -> None:
    response = desk.get(merge_url(schedule.rosa, schedule.rosa), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["A chart cannot be merged into itself."]


def test_the_merge_page_is_a_404_for_a_role_without_merge_and_for_an_unknown_chart(
    client: Client, schedule: Schedule, charlie: User, alice: User
) -> None:
    sign_in(client, charlie)
    assert client.get(merge_url(schedule.rosa, schedule.luis)).status_code == 404
    assert (
        client.post(
            merge_url(schedule.rosa, schedule.luis), {"survivor": str(schedule.rosa.uuid), "reason": REASON}
        ).status_code
        == 404
    )
    sign_in(client, alice)
    unknown = Patient(first_name="No", last_name="One", date_of_birth=BORN)
    assert client.get(merge_url(schedule.rosa, unknown)).status_code == 404
    assert (
        client.post(merge_url(unknown, schedule.rosa), {"survivor": str(unknown.uuid), "reason": REASON}).status_code
        == 404
    )
    assert Patient.objects.filter(merged_into__isnull=False).count() == 0


def test_records_to_move_names_each_kind_and_how_many(schedule: Schedule, bob: User) -> None:
    every_kind_of_record(schedule, schedule.luis, bob)
    Allergy.objects.create(patient=schedule.luis, substance="Iodine")
    assert records_to_move(schedule.luis) == [
        ("patient link", 1),
        ("appointment", 1),
        ("allergies", 2),
        ("medication", 1),
        ("intake", 1),
        ("episode", 1),
        ("candidacy assessment", 1),
    ]

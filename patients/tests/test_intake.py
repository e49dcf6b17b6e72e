"""The intake's questions and services (patients.intake): booking makes it, saving keeps it, sending charts it.

Personas: alice (front desk), bob (physician). Rosa and Luis are the schedule's patients.
The pages are tested in test_intake_views.py (the patient's) and test_intake_staff.py.
"""

import re
from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import links
from accounts.models import AuditEvent, PatientLink, Role, User
from patients import intake as intakes
from patients.intake import (
    BY_KEY,
    FORM_SECTIONS,
    SECTION_KEYS,
    IntakeClosed,
    IntakeIncomplete,
    IntakeNotSubmitted,
    NoEmailAddress,
    Problem,
)
from patients.models import Allergy, Intake, MedicalHistory, Medication, Patient, Source
from scheduling import services
from scheduling.models import Appointment, AppointmentType
from scheduling.tests.conftest import NOW, Schedule, local

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2031, 3, 5)
SITE = "http://127.0.0.1:8000"
TOKEN_IN = re.compile(r"http://127\.0\.0\.1:8000(?:/es)?/intake/([A-Za-z0-9_-]{32})/")

# A finished intake, section by section, as the forms hand it to `intake_save_section`.
COMPLETE: dict[str, dict[str, Any]] = {
    "concerns": {
        "areas": [
            {"site": "knee", "other": "", "side": "right", "duration": "1_2_years"},
            {"site": "lumbar_spine", "other": "", "side": "midline", "duration": "3_12_months"},
        ],
        "pain_now": 6,
    },
    "treatments": {"tried": ["physical_therapy", "nsaids", "surgery"], "other": "", "surgery": "Arthroscopy, 2019"},
    "imaging": {"kinds": ["xray", "mri"], "when": "under_6_months"},
    "goals": {"goals": ["avoid_surgery", "walk_without_pain"], "own_words": "Hike with my grandchildren"},
    "medications": {
        "none": False,
        "medications": [{"name": "Eliquis", "dose": "5 mg twice a day"}, {"name": "Metformin", "dose": ""}],
    },
    "allergies": {"none": False, "allergies": [{"substance": "Penicillin", "reaction": "Hives"}]},
    "screening": {
        "infection": "no",
        "fever": "no",
        "cancer": "no",
        "bleeding_disorder": "unsure",
        "anticoagulant": "yes",
        "pregnancy": "no",
        "steroid_injection": "no",
        "details": "",
    },
}


def book(
    schedule: Schedule,
    outbox_capture: Any,
    *,
    patient: Patient | None = None,
    at: str = "10:00",
    appointment_type: AppointmentType | None = None,
    by: User | None = None,
) -> tuple[Appointment, str]:
    """Book as the front desk would, deliver the email; the appointment and its intake link's token ("" if none)."""
    with outbox_capture(execute=True):
        appointment = services.appointment_book(
            office=schedule.la,
            provider=schedule.doctor,
            appointment_type=appointment_type or schedule.consult,
            starts_at=local(WEDNESDAY, at),
            patient=patient or schedule.rosa,
            source=Appointment.Source.STAFF,
            by=by,
            now=NOW,
        )
    found = TOKEN_IN.search(str(mail.outbox[-1].body)) if mail.outbox else None
    return appointment, found.group(1) if found else ""


def fill(intake: Intake, *sections: str) -> Intake:
    for key in sections or tuple(COMPLETE):
        intakes.intake_save_section(intake=intake, section=key, data=COMPLETE[key])
    return intake


def audit_since(mark: int) -> list[tuple[Any, ...]]:
    rows = AuditEvent.objects.filter(pk__gt=mark).order_by("pk")
    return list(rows.values_list("actor", "role", "action", "object_type", "object_ref", "patient", "outcome"))


def audit_queries() -> int:
    """How many queries one audit row costs (the log's own business: its chain, its lock), measured now."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.audit import audit_record

    with CaptureQueriesContext(connection) as queries:
        audit_record(actor=None, action="view", object_type="query_count_probe")
    return len(queries)


def audit_mark() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- The questions, as data ------------------------------------------------------------------------


def test_the_eight_steps_are_the_issues_sections_then_the_review() -> None:
    assert SECTION_KEYS == (
        "concerns",
        "treatments",
        "imaging",
        "goals",
        "medications",
        "allergies",
        "screening",
        "review",
    )
    assert [section.number for section in intakes.SECTIONS] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_the_prior_treatments_and_screening_questions_are_the_issues() -> None:
    assert [key for key, _label in intakes.TREATMENTS] == [
        "physical_therapy",
        "nsaids",
        "cortisone",
        "hyaluronic_acid",
        "prp",
        "surgery",
        "other",
        "none",
    ]
    assert [key for key, _label in intakes.IMAGING] == ["xray", "mri", "ultrasound", "ct", "none"]
    assert [name for name, _label, _field in intakes.SCREENING] == [
        "infection",
        "fever",
        "cancer",
        "bleeding_disorder",
        "anticoagulant",
        "pregnancy",
        "steroid_injection",
    ]


def test_a_complete_intake_has_no_problems_in_any_section() -> None:
    assert {key: BY_KEY[key].problems(COMPLETE[key]) for key in COMPLETE} == {key: [] for key in COMPLETE}


def test_empty_sections_each_say_what_is_missing() -> None:
    found = {section.key: section.problems(section.empty_answers()) for section in FORM_SECTIONS}
    answer = "Please answer yes, no or not sure."
    assert found == {
        "concerns": [
            Problem("areas", "Please add at least one area that bothers you."),
            Problem("pain_now", "Please choose a number from 0 to 10."),
        ],
        "treatments": [Problem("tried", "Please choose at least one, or “No treatment yet”.")],
        "imaging": [Problem("kinds", "Please choose at least one, or “None”.")],
        "goals": [Problem("goals", "Please choose at least one goal, or write your own.")],
        "medications": [Problem("none", "Please list your medications, or tick “I take no medications”.")],
        "allergies": [Problem("none", "Please list your allergies, or tick “I have no allergies”.")],
        "screening": [Problem(name, answer) for name, _label, _field in intakes.SCREENING],
    }


def test_an_area_row_needs_a_side_that_fits_and_says_which_other_area() -> None:
    concerns = BY_KEY["concerns"]
    answers = {
        "areas": [
            {"site": "knee", "other": "", "side": "midline", "duration": "1_2_years"},
            {"site": "other", "other": "", "side": "left", "duration": ""},
            {"site": "", "other": "", "side": "", "duration": "over_2_years"},
        ],
        "pain_now": 0,
    }
    assert concerns.problems(answers) == [
        Problem("side", "Midline is for the neck or the lower back. Please choose left, right or both sides.", 0),
        Problem("other", "Please tell us which area.", 1),
        Problem("duration", "Please tell us how long you have had it.", 1),
        Problem("site", "Please choose the area.", 2),
        Problem("side", "Please choose the side.", 2),
    ]


def test_none_cannot_go_with_a_choice_or_a_list() -> None:
    assert BY_KEY["treatments"].problems({"tried": ["none", "surgery"], "other": "", "surgery": ""}) == [
        Problem("tried", "You chose “No treatment yet” and a treatment. Please choose one or the other.")
    ]
    assert BY_KEY["treatments"].problems({"tried": ["other"], "other": " ", "surgery": ""}) == [
        Problem("other", "Please tell us what else you tried.")
    ]
    assert BY_KEY["imaging"].problems({"kinds": ["mri"], "when": ""}) == [
        Problem("when", "Please tell us when the most recent one was done.")
    ]
    assert BY_KEY["imaging"].problems({"kinds": ["none"], "when": ""}) == []
    both = {"none": True, "medications": [{"name": "Aspirin", "dose": ""}]}
    assert BY_KEY["medications"].problems(both) == [
        Problem("none", "You ticked “I take no medications” and listed some. Please untick it, or clear the list.")
    ]
    unnamed = {"none": False, "allergies": [{"substance": "", "reaction": "Rash"}]}
    assert BY_KEY["allergies"].problems(unnamed) == [Problem("substance", "Please say what you are allergic to.", 0)]


@pytest.mark.parametrize(
    ("section", "answers"),
    [
        ("concerns", {"areas": [], "pain_now": 11}),
        ("concerns", {"areas": [], "pain_now": "6"}),
        ("concerns", {"areas": [], "pain_now": True}),
        ("concerns", {"areas": [{"site": "moon", "other": "", "side": "left", "duration": ""}], "pain_now": 1}),
        ("concerns", {"areas": [{"site": "", "other": "", "side": "", "duration": ""}], "pain_now": 1}),
        ("concerns", {"areas": [], "pain_now": 1, "diagnosis": "x"}),
        ("concerns", {"areas": []}),
        ("treatments", {"tried": ["magic"], "other": "", "surgery": ""}),
        ("treatments", {"tried": ["prp", "prp"], "other": "", "surgery": ""}),
        ("goals", {"goals": [], "own_words": "x" * 501}),
        ("medications", {"none": "no", "medications": []}),
        ("medications", {"none": False, "medications": [{"name": "A", "dose": ""}] * 11}),
        ("screening", {**COMPLETE["screening"], "fever": "maybe"}),
        ("imaging", ["xray"]),
    ],
)
def test_saving_refuses_what_is_not_the_sections_answers_and_writes_nothing(
    schedule: Schedule, outbox_capture: Any, section: str, answers: Any
) -> None:
    appointment, _token = book(schedule, outbox_capture)
    intake = appointment.intakes.get()
    mark = audit_mark()
    with pytest.raises(ValidationError):
        intakes.intake_save_section(intake=intake, section=section, data=answers)
    intake.refresh_from_db()
    assert (intake.answers, intake.started_at, audit_since(mark)) == ({}, None, [])


@pytest.mark.parametrize("section", ["review", "diagnosis", ""])
def test_saving_refuses_a_step_without_questions(schedule: Schedule, outbox_capture: Any, section: str) -> None:
    appointment, _token = book(schedule, outbox_capture)
    with pytest.raises(ValidationError):
        intakes.intake_save_section(intake=appointment.intakes.get(), section=section, data={})


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(["areas", "pain_now", "x"]),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(),
            st.lists(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4), max_size=3),
        ),
    )
)
def test_any_shape_of_answers_is_either_stored_as_checked_or_refused(intake: Intake, data: Any) -> None:
    try:
        BY_KEY["concerns"].check(data)
    except ValidationError:
        with pytest.raises(ValidationError):
            intakes.intake_save_section(intake=intake, section="concerns", data=data)
        return
    intakes.intake_save_section(intake=intake, section="concerns", data=data)
    intake.refresh_from_db()
    assert intake.answers["concerns"] == data


@pytest.fixture
def intake(schedule: Schedule, outbox_capture: Any) -> Intake:
    appointment, _token = book(schedule, outbox_capture)
    return appointment.intakes.get()


# --- A booking makes the intake and its link --------------------------------------------------------


def test_booking_a_first_visit_makes_an_intake_in_progress_and_emails_its_link(
    schedule: Schedule, outbox_capture: Any, alice: User
) -> None:
    appointment, token = book(schedule, outbox_capture, by=alice)
    intake = Intake.objects.get()
    assert (intake.patient, intake.appointment, intake.status, intake.language, intake.answers) == (
        schedule.rosa,
        appointment,
        Intake.Status.IN_PROGRESS,
        "en",
        {},
    )
    [link] = PatientLink.objects.all()
    assert (link.purpose, link.patient, link.target, link.created_by) == (
        "intake",
        schedule.rosa,
        str(intake.uuid),
        alice,
    )
    assert link.token_sha256 == links.digest(token)
    assert round((link.expires_at - link.created_at).total_seconds()) == 14 * 24 * 3600
    [email] = mail.outbox
    assert f"Before your visit, please fill in a short form:\n{SITE}/intake/{token}/\n" in email.body


def test_a_spanish_speaking_patient_gets_the_spanish_link(schedule: Schedule, outbox_capture: Any) -> None:
    Patient.objects.filter(pk=schedule.rosa.pk).update(preferred_language="es")
    schedule.rosa.refresh_from_db()
    _appointment, token = book(schedule, outbox_capture)
    assert f"{SITE}/es/intake/{token}/" in mail.outbox[0].body
    assert Intake.objects.get().language == "es"


def test_a_second_booking_reuses_the_intake_in_progress_and_replaces_its_link(
    schedule: Schedule, outbox_capture: Any
) -> None:
    first, old_token = book(schedule, outbox_capture)
    second, new_token = book(schedule, outbox_capture, at="14:00")
    intake = Intake.objects.get()
    # Still pointed at the first visit: it is booked.
    assert intake.appointment == first
    assert (bool(old_token), bool(new_token), old_token != new_token) == (True, True, True)
    old = PatientLink.objects.get(token_sha256=links.digest(old_token))
    assert old.revoked_at is not None
    services.appointment_cancel(appointment=first, enforce_cutoff=False)
    book(schedule, outbox_capture, at="15:30")
    intake.refresh_from_db()
    assert intake.appointment == Appointment.objects.get(starts_at=local(WEDNESDAY, "15:30"))
    assert second.intakes.count() == 0


def test_a_patient_who_sent_an_intake_gets_none_for_a_follow_up_but_one_for_a_new_consultation(
    schedule: Schedule, outbox_capture: Any
) -> None:
    appointment, _token = book(schedule, outbox_capture)
    intakes.intake_submit(intake=fill(appointment.intakes.get()))
    mail.outbox = []
    _follow_up, token = book(schedule, outbox_capture, at="13:00", appointment_type=schedule.follow_up)
    assert token == ""
    assert "short form" not in mail.outbox[0].body
    assert Intake.objects.count() == 1
    consultation = AppointmentType.objects.create(
        name="New-patient consultation", slug="new-patient-consultation", duration_minutes=45
    )
    _again, token = book(schedule, outbox_capture, at="15:00", appointment_type=consultation)
    assert (len(token), Intake.objects.count(), Intake.objects.filter(status="in_progress").count()) == (32, 2, 1)


def test_a_patient_without_an_email_address_gets_an_intake_but_no_email(
    schedule: Schedule, outbox_capture: Any
) -> None:
    Patient.objects.filter(pk=schedule.rosa.pk).update(email="")
    schedule.rosa.refresh_from_db()
    _appointment, token = book(schedule, outbox_capture)
    assert (token, mail.outbox, Intake.objects.count(), PatientLink.objects.count()) == ("", [], 1, 1)


def test_a_refused_booking_leaves_no_intake_and_no_link(schedule: Schedule, outbox_capture: Any) -> None:
    book(schedule, outbox_capture)
    with pytest.raises(services.SlotTaken):
        book(schedule, outbox_capture, patient=schedule.luis)
    assert (Intake.objects.filter(patient=schedule.luis).count(), PatientLink.objects.count()) == (0, 1)


# --- Saving as the patient goes ---------------------------------------------------------------------


def test_each_save_keeps_the_other_sections_and_leaves_one_change_row(intake: Intake) -> None:
    mark = audit_mark()
    fill(intake, "concerns")
    fill(intake, "imaging")
    intake.refresh_from_db()
    assert intake.answers == {"concerns": COMPLETE["concerns"], "imaging": COMPLETE["imaging"]}
    assert intake.started_at is not None
    change = (None, "", "change", "intake", str(intake.uuid), intake.patient_id, "allowed")
    assert audit_since(mark) == [change, change]
    assert intake.history.count() == 3


def test_where_a_patient_picks_up_is_the_first_unfinished_step(intake: Intake) -> None:
    assert intakes.resume_section(intake).key == "concerns"
    fill(intake, "concerns", "treatments")
    intakes.intake_save_section(intake=intake, section="imaging", data={"kinds": ["mri"], "when": ""})
    fill(intake, "goals")
    assert intakes.resume_section(intake).key == "imaging"
    fill(intake)
    assert intakes.resume_section(intake).key == "review"


def test_a_sent_intake_can_no_longer_be_saved(intake: Intake) -> None:
    intakes.intake_submit(intake=fill(intake))
    with pytest.raises(IntakeClosed):
        intakes.intake_save_section(intake=intake, section="goals", data=COMPLETE["goals"])


# --- Sending lands the patient's report in the chart ------------------------------------------------


def test_sending_refuses_while_a_step_is_unfinished_and_names_them(intake: Intake) -> None:
    fill(intake, "concerns", "treatments", "imaging", "goals", "screening")
    with pytest.raises(IntakeIncomplete) as refused:
        intakes.intake_submit(intake=intake)
    assert refused.value.sections == ["medications", "allergies"]
    intake.refresh_from_db()
    assert (intake.status, Medication.objects.count(), Allergy.objects.count()) == ("in_progress", 0, 0)


def test_sending_lands_patient_reported_rows_in_the_chart(intake: Intake) -> None:
    rosa = intake.patient
    fill(intake)
    mark = audit_mark()
    intakes.intake_submit(intake=intake)
    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.submitted_at is not None
    medications = list(Medication.objects.filter(patient=rosa).order_by("pk"))
    assert [(m.name, m.dose, m.drug_class, m.source, m.confirmed_at) for m in medications] == [
        ("Eliquis", "5 mg twice a day", "anticoagulant", "patient", None),
        ("Metformin", "", "other", "patient", None),
    ]
    assert all(m.classified_by.startswith("drug-classes-") for m in medications)
    assert list(Allergy.objects.filter(patient=rosa).values_list("substance", "reaction", "source")) == [
        ("Penicillin", "Hives", "patient")
    ]
    history = MedicalHistory.objects.get(patient=rosa)
    # "no" to cancer is charted; "not sure" about a bleeding disorder is left unset for the clinician to ask.
    assert (history.cancer_history, history.bleeding_disorder, history.prior_surgery_at_site, history.source) == (
        False,
        None,
        "Arthroscopy, 2019",
        "patient",
    )
    rows = audit_since(mark)
    assert [(action, kind) for _actor, _role, action, kind, _ref, _p, _o in rows] == [
        ("change", "intake"),
        ("create", "medication"),
        ("create", "medication"),
        ("create", "allergy"),
        ("create", "medical_history"),
    ]
    assert {(actor, patient) for actor, _role, _a, _k, _ref, patient, _o in rows} == {(None, rosa.pk)}


def test_sending_twice_is_harmless(intake: Intake) -> None:
    intakes.intake_submit(intake=fill(intake))
    submitted_at = Intake.objects.get().submitted_at
    mark = audit_mark()
    intakes.intake_submit(intake=intake)
    assert (Medication.objects.count(), Allergy.objects.count(), MedicalHistory.objects.count()) == (2, 1, 1)
    assert (Intake.objects.get().submitted_at, audit_since(mark)) == (submitted_at, [])


def test_a_clinicians_history_is_never_changed_and_listed_rows_are_not_added_twice(intake: Intake, bob: User) -> None:
    rosa = intake.patient
    MedicalHistory.objects.create(patient=rosa, cancer_history=None, source=Source.CLINICIAN)
    Medication.objects.create(patient=rosa, name="eliquis", dose="5 MG TWICE A DAY", source=Source.CLINICIAN)
    Allergy.objects.create(patient=rosa, substance="penicillin", source=Source.CLINICIAN)
    intakes.intake_submit(intake=fill(intake))
    history = MedicalHistory.objects.get(patient=rosa)
    assert (history.cancer_history, history.prior_surgery_at_site, history.source) == (None, "", "clinician")
    assert list(Medication.objects.filter(source="patient").values_list("name", flat=True)) == ["Metformin"]
    assert Allergy.objects.filter(source="patient").count() == 0


def test_a_patient_reported_history_only_gets_its_unset_answers(intake: Intake) -> None:
    rosa = intake.patient
    MedicalHistory.objects.create(patient=rosa, cancer_history=True, source=Source.PATIENT)
    intakes.intake_submit(intake=fill(intake))
    history = MedicalHistory.objects.get(patient=rosa)
    assert (history.cancer_history, history.prior_surgery_at_site) == (True, "Arthroscopy, 2019")


def test_none_ticked_lands_no_rows(intake: Intake) -> None:
    fill(intake)
    intakes.intake_save_section(intake=intake, section="medications", data={"none": True, "medications": []})
    intakes.intake_save_section(intake=intake, section="allergies", data={"none": True, "allergies": []})
    intakes.intake_submit(intake=intake)
    assert (Medication.objects.count(), Allergy.objects.count()) == (0, 0)


# --- A clinician confirms ---------------------------------------------------------------------------


def test_a_physician_confirms_the_intake_and_the_rows_it_charted(intake: Intake, bob: User) -> None:
    intakes.intake_submit(intake=fill(intake))
    mark = audit_mark()
    intakes.intake_confirm(intake=intake, by=bob)
    intake.refresh_from_db()
    assert (intake.status, intake.confirmed_by) == (Intake.Status.CONFIRMED, bob)
    assert set(Medication.objects.values_list("confirmed_by", flat=True)) == {bob.pk}
    assert set(Allergy.objects.values_list("confirmed_by", flat=True)) == {bob.pk}
    assert MedicalHistory.objects.get().confirmed_by == bob
    rows = audit_since(mark)
    assert [(actor, role, action, kind) for actor, role, action, kind, _r, _p, _o in rows] == [
        (bob.pk, "physician", "change", "intake"),
        (bob.pk, "physician", "change", "medication"),
        (bob.pk, "physician", "change", "medication"),
        (bob.pk, "physician", "change", "allergy"),
        (bob.pk, "physician", "change", "medical_history"),
    ]
    # Twice is once.
    mark = audit_mark()
    intakes.intake_confirm(intake=intake, by=bob)
    assert audit_since(mark) == []


def test_only_a_clinician_confirms_and_only_a_sent_intake(intake: Intake, alice: User, bob: User) -> None:
    with pytest.raises(IntakeNotSubmitted):
        intakes.intake_confirm(intake=intake, by=bob)
    intakes.intake_submit(intake=fill(intake))
    with pytest.raises(intakes.IntakeError):
        intakes.intake_confirm(intake=intake, by=alice)
    pa = User.objects.create_user("pat", role=Role.PHYSICIAN_ASSISTANT)
    intakes.intake_confirm(intake=intake, by=pa)
    assert Intake.objects.get().confirmed_by == pa


# --- A new link -------------------------------------------------------------------------------------


def test_the_front_desk_resends_a_new_link_and_the_old_one_stops_working(
    intake: Intake, alice: User, outbox_capture: Any
) -> None:
    old = PatientLink.objects.get()
    mark = audit_mark()
    with outbox_capture(execute=True) as queued:
        intakes.intake_resend(intake=intake, by=alice)
    [email] = [item.email for item in queued]
    assert (email.kind, email.reference, email.to) == ("intake.link", str(intake.uuid), "p1@example.com")
    token = TOKEN_IN.search(email.body).group(1)  # type: ignore[union-attr]
    assert email.subject == "Your link to the form before your visit"
    assert email.body == (
        "Here is your new link to the short form before your visit:\n"
        f"{SITE}/intake/{token}/\n\n"
        "The link works once, for 14 days.\n\n"
        "Call the Los Angeles office at (310) 555-0100\n"
        "Please do not reply to this email.\n"
    )
    old.refresh_from_db()
    assert old.revoked_at is not None
    new = PatientLink.objects.get(token_sha256=links.digest(token))
    assert (new.created_by, new.revoked_at, new.used_at) == (alice, None, None)
    assert audit_since(mark) == [
        (alice.pk, "front_desk", "change", "intake", str(intake.uuid), intake.patient_id, "allowed")
    ]


def test_a_patient_asking_gets_no_second_link_while_one_sent_a_moment_ago_is_unused(
    intake: Intake, outbox_capture: Any
) -> None:
    # The booking's link went out a moment ago and is still unused: that is the one to use.
    with outbox_capture() as queued:
        assert intakes.intake_resend(intake=intake, by=None) is None
    assert queued == []
    PatientLink.objects.update(created_at=timezone.now() - intakes.RESEND_EVERY)
    with outbox_capture() as queued:
        assert intakes.intake_resend(intake=intake, by=None) is not None
        assert intakes.intake_resend(intake=intake, by=None) is None
    assert len(queued) == 1


def test_a_patient_who_just_used_their_link_gets_a_new_one_at_once(intake: Intake, outbox_capture: Any) -> None:
    PatientLink.objects.update(used_at=timezone.now())
    with outbox_capture() as queued:
        assert intakes.intake_resend(intake=intake, by=None) is not None
    assert len(queued) == 1


def test_no_link_for_a_sent_intake_or_a_patient_without_email(intake: Intake, alice: User) -> None:
    Patient.objects.filter(pk=intake.patient_id).update(email="")
    intake.patient.refresh_from_db()
    with pytest.raises(NoEmailAddress):
        intakes.intake_resend(intake=intake, by=alice)
    intakes.intake_submit(intake=fill(intake))
    with pytest.raises(IntakeClosed):
        intakes.intake_resend(intake=intake, by=alice)


@pytest.mark.parametrize("kind", ["booked", "link"])
def test_no_email_says_anything_about_health(schedule: Schedule, outbox_capture: Any, alice: User, kind: str) -> None:
    Patient.objects.filter(pk=schedule.rosa.pk).update(first_name="Rosa", last_name="Díaz")
    schedule.rosa.refresh_from_db()
    appointment, _token = book(schedule, outbox_capture)
    intake = appointment.intakes.get()
    fill(intake, "concerns", "medications", "screening")
    if kind == "link":
        with outbox_capture(execute=True):
            intakes.intake_resend(intake=intake, by=alice)
    email = mail.outbox[-1]
    text = TOKEN_IN.sub("LINK", f"{email.subject}\n{email.body}")
    for word in ("Rosa", "Díaz", "knee", "Knee", "pain", "Eliquis", "blood", "medication", "allerg", "Consultation"):
        assert word not in text

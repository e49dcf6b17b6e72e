"""`manage.py load_demo_clinic`: the demo's patients at every stage, as the chart reports them, loaded once.

On a fresh database the command runs after the three it builds on (the demo practice,
the demo schedule with its appointments, the consent documents), as `make demo` runs it.
Loading takes seconds, so two tests load it: one reads every stage (a function per
stage, named for what it checks), the other verifies the signatures and runs it again.
"""

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Model
from django.utils import timezone

from accounts.models import AuditEvent, PatientLink, User
from outbox.models import Email
from patients.chart import Chart, chart_patients, chart_read
from patients.consent import TYPED_SIGNATURE, consent_verify, current_document, valid_consent
from patients.intake import reported_unconfirmed
from patients.management.commands import load_demo_clinic as demo
from patients.models import (
    Allergy,
    CandidacyAssessment,
    ConsentSignature,
    Episode,
    Intake,
    MedicalHistory,
    Medication,
    Patient,
)
from procedures import product, queries
from procedures.models import AdverseEvent, Injection, ProcedureRecord
from procedures.services import procedure_verify
from scheduling.models import Appointment, AppointmentStatus, WorkingHours

pytestmark = pytest.mark.django_db

LINE = re.compile(
    r"^load_demo_clinic: (?P<stage>[a-z ]+?) +(?P<name>\S+) +/staff/patients/(?P<uuid>[0-9a-f-]{36})/ +\w"
)
COUNTED: tuple[type[Model], ...] = (
    Patient,
    Appointment,
    Intake,
    PatientLink,
    Medication,
    Allergy,
    MedicalHistory,
    CandidacyAssessment,
    Episode,
    ConsentSignature,
    ProcedureRecord,
    Injection,
    AdverseEvent,
    Email,
    AuditEvent,
)


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in COUNTED}


def load() -> str:
    """A fresh demo: practice, schedule with appointments, consent documents, then the clinic (its output)."""
    run("load_demo_practice")
    run("load_demo_schedule", "--with-appointments")
    run("load_consent_documents")
    return run("load_demo_clinic")


def chart_of(stage: str) -> Chart:
    person = next(p for p in demo.PEOPLE if p.stage == stage)
    return chart_read(patient=chart_patients().get(email=person.email))


def only_episode(chart: Chart) -> Episode:
    assert len(chart.episodes) == 1
    return chart.episodes[0].episode


# --- What each stage shows (called by the first test, on one loaded demo) ----------------------------


def one_line_per_patient_with_its_stage_and_chart_and_nothing_about_health(loaded: str) -> None:
    lines = loaded.strip().splitlines()
    found = [LINE.match(line) for line in lines]
    assert all(found), lines
    assert [m.group("stage") for m in found if m] == [p.stage for p in demo.PEOPLE]
    assert {m.group("stage") for m in found if m} == set(demo.STAGES)
    for match in found:
        assert match is not None
        patient = Patient.objects.get(uuid=match.group("uuid"))
        assert match.group("name") == patient.first_name
    for word in ("knee", "hip", "shoulder", "apixaban", "eliquis", "tear", "flare", "osteoarthritis", "grade"):
        assert word not in loaded.lower()


def the_booked_patient_has_a_consultation_ahead_and_an_intake_link_sent_but_not_started() -> None:
    chart = chart_of(demo.BOOKED)
    assert chart.next_appointment is not None
    assert chart.next_appointment.appointment_type.slug == "new-patient-consultation"
    assert chart.next_appointment.starts_at > timezone.now()
    [intake] = chart.intakes
    assert (intake.status, intake.answers, intake.started_at) == (Intake.Status.IN_PROGRESS, {}, None)
    link = PatientLink.objects.get(purpose=PatientLink.Purpose.INTAKE, target=str(intake.uuid))
    assert (link.used_at, link.revoked_at) == (None, None)
    # The booking confirmation, carrying the link, waits in the outbox for the worker.
    assert Email.objects.filter(to=chart.patient.email, reference=str(chart.next_appointment.uuid)).count() == 1
    assert chart.episodes == []


def the_intake_done_patient_sent_it_and_what_they_reported_waits_for_a_clinician() -> None:
    chart = chart_of(demo.INTAKE_DONE)
    [intake] = chart.intakes
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.submitted_at is not None
    assert chart.next_appointment is not None and chart.next_appointment.starts_at > timezone.now()
    reported = reported_unconfirmed(chart.patient)
    assert reported.medications and reported.allergies
    assert chart.to_confirm == len(reported.medications) + len(reported.allergies) + int(reported.history is not None)
    assert chart.episodes == []


def the_candidate_has_a_knee_osteoarthritis_episode_waiting_for_consent_and_an_anticoagulant_flag() -> None:
    chart = chart_of(demo.CANDIDATE)
    episode = only_episode(chart)
    assessment = CandidacyAssessment.objects.get(episode=episode)
    assert (assessment.indication, assessment.site, assessment.kellgren_lawrence_grade, assessment.decision) == (
        "osteoarthritis",
        "knee",
        2,
        CandidacyAssessment.Decision.CANDIDATE,
    )
    assert assessment.failed_conservative_care
    assert "anticoagulant" in {s["code"] for s in assessment.suggestions}
    assert (episode.status, chart.episodes[0].next_due) == (Episode.Status.CANDIDATE, "Consent to sign")
    assert valid_consent(episode) is None
    assert [m.drug_class for m in chart.flagged] == [Medication.DrugClass.ANTICOAGULANT]
    assert chart.to_confirm == 0
    assert [i.status for i in chart.intakes] == [Intake.Status.CONFIRMED]
    assert chart.patient.preferred_language == "es"


def the_consented_patient_signed_the_current_version_in_the_office_and_has_a_procedure_ahead() -> None:
    chart = chart_of(demo.CONSENTED)
    episode = only_episode(chart)
    signature = valid_consent(episode)
    assert signature is not None
    assert chart.episodes[0].consent.signature == signature
    assert signature.document == current_document(chart.patient.preferred_language)
    assert (signature.method, signature.recorded_by) == (
        ConsentSignature.Method.IN_OFFICE,
        User.objects.get(username="drlee"),
    )
    assert signature.signature_png not in ("", TYPED_SIGNATURE)
    assert consent_verify(signature).valid
    assert (episode.status, chart.episodes[0].next_due) == (Episode.Status.CONSENTED, "Procedure")
    assert chart.next_appointment is not None
    assert chart.next_appointment.appointment_type.slug == "procedure-visit"
    assert chart.next_appointment.room is not None


def signed_record(stage: str) -> tuple[Chart, ProcedureRecord]:
    chart = chart_of(stage)
    [record] = chart.episodes[0].procedures
    return chart, queries.records().get(pk=record.pk)


def the_treated_patients_have_a_signed_same_day_record_classified_from_its_counts(stage: str) -> None:
    chart, record = signed_record(stage)
    episode = only_episode(chart)
    injections = list(record.injections.all())
    assert record.status == ProcedureRecord.Status.SIGNED
    assert record.signed_by == episode.physician
    assert record.consent == valid_consent(episode)
    assert procedure_verify(record).ok
    assert queries.record_check(record, injections).ok
    # Every section filled; the product computed from the counts, as the services store it.
    for name in ("timeout_at", "blood_drawn_at", "harvest_ended_at", "processing_done_at", "concentrate_tnc"):
        assert getattr(record, name) is not None, name
    assert record.rehabilitation_protocol and injections
    assert record.paw_code and record.classification_version and record.cell_dose
    assert record.paw_code == product.stored_fields(product.classify(record, injections))["paw_code"]
    # A past weekday, at an office the physician works that day, the visit completed.
    today = timezone.localdate()
    assert today - timedelta(days=35) <= record.procedure_date < today
    assert record.procedure_date.weekday() < 5
    appointment = record.appointment
    assert appointment is not None and appointment.status == AppointmentStatus.COMPLETED
    assert WorkingHours.objects.filter(
        provider=episode.physician, office=appointment.office, weekday=record.procedure_date.weekday()
    ).exists()
    # procedure_sign leaves the episode "consented" today; a later sign-off may move it to "treated".
    assert episode.status in (Episode.Status.CONSENTED, Episode.Status.TREATED)
    assert chart.next_appointment is not None and chart.next_appointment.appointment_type.slug == "follow-up"


def one_treated_patient_had_a_flare_judged_by_the_physician() -> None:
    chart, record = signed_record(demo.ADVERSE_EVENT)
    [event] = chart.episodes[0].adverse_events
    assert (event.kind, event.grade, event.serious, event.procedure) == (
        AdverseEvent.Kind.POST_INJECTION_FLARE,
        1,
        False,
        record,
    )
    assert event.onset_date >= record.procedure_date
    assert event.adjudicated_by == User.objects.get(username="drlee")
    assert event.adjudicated_at is not None and event.is_related
    assert event.outcome == AdverseEvent.Outcome.RECOVERED
    _chart, other = signed_record(demo.TREATED)
    assert not other.adverse_events.exists()


def the_patient_who_is_not_a_candidate_has_the_decision_and_its_reason_and_no_episode() -> None:
    chart = chart_of(demo.NOT_CANDIDATE)
    [assessment] = CandidacyAssessment.objects.filter(patient=chart.patient)
    assert assessment.decision == CandidacyAssessment.Decision.NOT_CANDIDATE
    assert (assessment.indication, assessment.tear_type, assessment.episode) == ("rotator_cuff", "full", None)
    assert assessment.reason.strip()
    assert "full_thickness_tear" in {s["code"] for s in assessment.suggestions}
    assert chart.episodes == []


# --- The tests ------------------------------------------------------------------------------------


def test_every_stage_is_there_as_the_chart_reports_it() -> None:
    loaded = load()
    one_line_per_patient_with_its_stage_and_chart_and_nothing_about_health(loaded)
    the_booked_patient_has_a_consultation_ahead_and_an_intake_link_sent_but_not_started()
    the_intake_done_patient_sent_it_and_what_they_reported_waits_for_a_clinician()
    the_candidate_has_a_knee_osteoarthritis_episode_waiting_for_consent_and_an_anticoagulant_flag()
    the_consented_patient_signed_the_current_version_in_the_office_and_has_a_procedure_ahead()
    the_treated_patients_have_a_signed_same_day_record_classified_from_its_counts(demo.TREATED)
    the_treated_patients_have_a_signed_same_day_record_classified_from_its_counts(demo.ADVERSE_EVENT)
    one_treated_patient_had_a_flare_judged_by_the_physician()
    the_patient_who_is_not_a_candidate_has_the_decision_and_its_reason_and_no_episode()


def test_the_demo_verifies_and_running_it_again_adds_nothing() -> None:
    loaded = load()
    assert run("verify_consent").strip() == "verify_consent: OK, 3 consents"
    records = list(ProcedureRecord.objects.all())
    assert len(records) == 2 and all(procedure_verify(record).ok for record in records)
    before = counts()
    again = run("load_demo_clinic")
    assert counts() == before
    assert again.count("already there") == len(demo.PEOPLE)
    assert [line.split("/staff/")[1] for line in again.splitlines()] == [
        line.split("/staff/")[1].replace("added", "already there") for line in loaded.splitlines()
    ]


def test_it_needs_the_demo_practice_schedule_and_consent_documents(db: Any) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        run("load_demo_clinic")
    assert Patient.objects.count() == 0

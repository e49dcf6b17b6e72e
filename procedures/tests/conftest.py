"""A clinic to test the procedure record against: rosa's right-knee episode with a valid consent, staff of each role.

Times are on Wednesday 5 March 2031 in Los Angeles (the schedule's week), passed as `now`
explicitly; `filled` fills every section of a record as the day goes.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Role, User
from outcomes.tests.factories import baseline_answered
from patients.consent import sha256
from patients.models import (
    Allergy,
    BodySite,
    CandidacyAssessment,
    ConsentDocument,
    ConsentSignature,
    Episode,
    Indication,
    Medication,
    Patient,
    Side,
)
from procedures import services
from procedures.models import ProcedureRecord
from scheduling.models import Appointment
from scheduling.tests.conftest import LA_ZONE, Schedule, schedule

__all__ = ["schedule"]

DAY = date(2031, 3, 5)


def at(hhmm: str, day: date = DAY) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LA_ZONE)


NOW = at("08:00")


@dataclass
class Clinic:
    schedule: Schedule
    rosa: Patient
    luis: Patient
    episode: Episode
    other_episode: Episode  # luis's left hip
    doctor: User  # bob, physician with a provider row
    tech: User  # charlie
    pa: User
    desk: User  # alice
    appointment: Appointment


def signed_consent(episode: Episode, *, text: str = "I agree to the procedure described above.") -> ConsentSignature:
    """A valid signed consent of the current English version, bound to its text and PDF by their hashes."""
    document = ConsentDocument.objects.filter(language="en").order_by("-version").first()
    if document is None:
        document = ConsentDocument.objects.create(
            language="en", version=1, title="Consent to BMAC and PRP", body="The procedure, its risks, alternatives."
        )
    pdf = b"%PDF-1.4 consent of " + str(episode.uuid).encode()
    return ConsentSignature.objects.create(
        episode=episode,
        document=document,
        printed_name=f"{episode.patient.first_name} {episode.patient.last_name}",
        signature_png="iVBORw0KGgo=",
        meaning="I have read this consent and agree to the procedure.",
        rendered_text=text,
        text_sha256=sha256(text),
        method=ConsentSignature.Method.IN_OFFICE,
        signed_at=at("07:30"),
        pdf=pdf,
        pdf_sha256=sha256(pdf),
    )


@pytest.fixture
def clinic(schedule: Schedule, bob: User, charlie: User, alice: User) -> Clinic:
    rosa, luis = schedule.rosa, schedule.luis
    Patient.objects.filter(pk=rosa.pk).update(sex=Patient.Sex.FEMALE, mrn="RC000001")
    Patient.objects.filter(pk=luis.pk).update(mrn="RC000002")
    rosa.refresh_from_db()
    luis.refresh_from_db()
    episode = Episode.objects.create(
        patient=rosa,
        indication=Indication.OSTEOARTHRITIS,
        site=BodySite.KNEE,
        side=Side.RIGHT,
        physician=schedule.doctor,
        status=Episode.Status.CONSENTED,
    )
    CandidacyAssessment.objects.create(
        patient=rosa,
        indication=Indication.OSTEOARTHRITIS,
        site=BodySite.KNEE,
        side=Side.RIGHT,
        kellgren_lawrence_grade=3,
        failed_conservative_care=["physical_therapy", "nsaids"],
        decision=CandidacyAssessment.Decision.CANDIDATE,
        reason="Grade 3, a year of therapy without lasting relief.",
        decided_by=bob,
        episode=episode,
    )
    other = Episode.objects.create(
        patient=luis,
        indication=Indication.OSTEOARTHRITIS,
        site=BodySite.HIP,
        side=Side.LEFT,
        physician=schedule.doctor,
        status=Episode.Status.CONSENTED,
    )
    signed_consent(episode)
    signed_consent(other)
    # Rosa answered her baseline questionnaires a week before the procedure, as the schedule asks.
    baseline_answered(episode, at=at("18:00", DAY - timedelta(days=7)))
    Allergy.objects.create(patient=rosa, substance="Penicillin", reaction="rash")
    Medication.objects.create(patient=rosa, name="Aspirin", dose="81 mg daily", drug_class="antiplatelet")
    Medication.objects.create(patient=rosa, name="Metformin", dose="500 mg", drug_class="other")
    pa = User.objects.create_user("pat", password="pat-password-1", role=Role.PHYSICIAN_ASSISTANT, is_staff=True)
    appointment = Appointment.objects.create(
        office=schedule.la,
        provider=schedule.doctor,
        room=schedule.la_room,
        appointment_type=schedule.procedure,
        patient=rosa,
        starts_at=at("09:00"),
        ends_at=at("11:30"),
        blocks_until=at("12:00"),
        source=Appointment.Source.STAFF,
    )
    return Clinic(
        schedule=schedule,
        rosa=rosa,
        luis=luis,
        episode=episode,
        other_episode=other,
        doctor=bob,
        tech=charlie,
        pa=pa,
        desk=alice,
        appointment=appointment,
    )


# --- What a whole day's record holds -------------------------------------------------------------

LABEL = "BMA-2031-0305-01"
TIMEOUT: dict[str, Any] = {
    "timeout_identifiers": ["full_name", "date_of_birth"],
    "timeout_site_side_confirmed": True,
    "timeout_consent_confirmed": True,
    "timeout_allergies_reviewed": True,
    "timeout_anticoagulants_reviewed": True,
}
BLOOD: dict[str, Any] = {
    "blood_volume_ml": Decimal("13.50"),
    "blood_anticoagulant": "acd_a",
    "blood_anticoagulant_ml": Decimal("1.50"),
    "blood_drawn_at": at("09:05"),
}
HARVEST: dict[str, Any] = {
    "harvest_site": "posterior_iliac_crest",
    "harvest_side": "right",
    "anaesthetic": "lidocaine 1%",
    "anaesthetic_ml": Decimal("10.00"),
    "needle": "trocar",
    "needle_gauge": "11 G",
    "punctures": 2,
    "ml_per_draw": Decimal("10.00"),
    "aspirate_volume_ml": Decimal("60.00"),
    "harvest_anticoagulant": "heparin",
    "harvest_started_at": at("09:15"),
    "harvest_ended_at": at("09:35"),
    "harvest_sample_label": LABEL,
}
PROCESSING: dict[str, Any] = {
    "device": "Centrifuge X",
    "kit": "BMAC kit",
    "kit_lot": "LOT-42",
    "spins": [{"g": 1500, "minutes": 10}, {"g": 3000, "minutes": 5}],
    "processing_input_ml": Decimal("60.00"),
    "concentrate_volume_ml": Decimal("6.00"),
    "prp_volume_ml": Decimal("4.00"),
    "activation": "none",
    "activation_detail": "",
    "cultured_or_expanded": False,
    "added_agents": ["acd_a", "heparin", "saline"],
    "processing_done_at": at("10:00"),
}
# Dejnek 2022's whole-blood means and its Arthrex ACP means (PRP), a BMAC of 25 x 10^6/mL from 12.5.
COUNTS: dict[str, Any] = {
    "baseline_platelets": Decimal("240.67"),
    "baseline_wbc": Decimal("6.49"),
    "baseline_neutrophils": Decimal("3.79"),
    "baseline_rbc": Decimal("4.97"),
    "prp_platelets": Decimal("357.33"),
    "prp_wbc": Decimal("0.87"),
    "prp_neutrophils": Decimal("0.10"),
    "prp_rbc": Decimal("0.05"),
    "aspirate_tnc": Decimal("12.50"),
    "concentrate_tnc": Decimal("25.00"),
    "cfu_f": Decimal("120.00"),
    "viability_pct": Decimal("96.50"),
}
INJECTION: dict[str, Any] = {
    "action": "add",
    "target_structure": "medial compartment",
    "site": "knee",
    "side": "right",
    "guidance": "ultrasound",
    "concentrate_ml": Decimal("4.00"),
    "prp_ml": Decimal("4.00"),
    "carrier": "none",
    "activation_agent": "none",
    "sample_label": LABEL,
    "injected_at": at("10:10"),
}
REHAB: dict[str, Any] = {
    "rehabilitation_protocol": "Crutches 48 hours, then walking; no NSAIDs for 2 weeks; physio from week 2."
}
SECTIONS_BY = (
    ("timeout", TIMEOUT, "doctor"),
    ("blood_draw", BLOOD, "tech"),
    ("harvest", HARVEST, "tech"),
    ("processing", PROCESSING, "tech"),
    ("counts", COUNTS, "tech"),
    ("injections", INJECTION, "doctor"),
    ("rehab", REHAB, "doctor"),
)


def start(clinic: Clinic, **kwargs: Any) -> ProcedureRecord:
    values: dict[str, Any] = {"episode": clinic.episode, "by": clinic.doctor, "appointment": clinic.appointment}
    values.update(kwargs)
    return services.procedure_start(now=NOW, **values)


def fill(clinic: Clinic, record: ProcedureRecord, **overrides: dict[str, Any]) -> ProcedureRecord:
    """Every section saved by whoever does it on the day; `overrides` replace values of a section."""
    for section, data, who in SECTIONS_BY:
        values = {**data, **overrides.get(section, {})}
        record = services.procedure_save_section(
            record=record, section=section, data=values, by=getattr(clinic, who), now=at("10:30")
        )
    return record


def signed(clinic: Clinic, **overrides: dict[str, Any]) -> ProcedureRecord:
    record = fill(clinic, start(clinic), **overrides)
    return services.procedure_sign(record=record, by=clinic.doctor, meaning="I performed it.", now=at("10:45"))


@pytest.fixture
def filled(clinic: Clinic) -> ProcedureRecord:
    return fill(clinic, start(clinic))

"""`manage.py load_demo_clinic`: demo patients at every stage of care, made through the staff pages' own services.

Run after `load_demo_practice`, `load_demo_schedule --with-appointments` and
`load_consent_documents` (`make demo` runs the four in that order). Seven fictional
patients (example.com addresses, 555-01xx numbers), one at each stage:

- booked: a consultation ahead, the intake link sent with the confirmation, not started;
- intake done: the intake sent, what the patient listed waiting for a clinician to confirm;
- candidate: knee osteoarthritis (Kellgren-Lawrence 2) after failed conservative care, an
  episode waiting for consent; on apixaban, so the chart's bleeding flag shows;
- consented: signed in the office (a drawn signature) on the current version, procedure booked;
- treated: a same-day BMAC/PRP record a few weeks ago, every section filled, signed off;
- adverse event: treated, then a grade 1 post-injection flare, judged by the physician;
- not a candidate: a full-thickness rotator cuff tear, referred for a surgical opinion.

Nothing is written around the rules: charts are made by booking (`appointment_book`),
intakes filled and sent as the patient's pages do, confirmed, assessed, signed, recorded
and reported by the services the staff pages call, each as the demo staff member who
would do it (frontdesk, drlee, pkim, tech). Dates are relative to today in the practice's
zone; where a service takes `now`, it is given the moment the step happened.

Idempotent: a demo patient already on file (by email) is left as it is. Each patient is
made in one transaction, so a run that fails leaves that patient out, not half made.
Prints one line per patient: its stage and its chart's path, nothing about health.
"""

import base64
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from outcomes import services as outcomes
from outcomes.demo import answers_at
from patients import intake as intakes
from patients.consent import consent_sign, current_document, document_for
from patients.episodes import AssessmentDetails, assessment_record
from patients.models import CandidacyAssessment, ConsentSignature, Episode, Intake, Patient
from patients.services import Demographics, PatientDetails, patient_update
from procedures import services as procedures
from procedures.models import AdverseEvent, ProcedureRecord
from scheduling import rules, services
from scheduling.management.commands.load_demo_schedule import demo_holidays
from scheduling.models import Appointment, AppointmentStatus, AppointmentType, Provider, WorkingHours

BOOKED = "booked"
INTAKE_DONE = "intake done"
CANDIDATE = "candidate"
CONSENTED = "consented"
TREATED = "treated"
ADVERSE_EVENT = "adverse event"
NOT_CANDIDATE = "not a candidate"
STAGES = (BOOKED, INTAKE_DONE, CANDIDATE, CONSENTED, TREATED, ADVERSE_EVENT, NOT_CANDIDATE)
# The stages with a signed consent.
SIGNED = (CONSENTED, TREATED, ADVERSE_EVENT)

CONSULTATION, PROCEDURE, FOLLOW_UP = "new-patient-consultation", "procedure-visit", "follow-up"
STAFF = ("frontdesk", "drlee", "pkim", "tech")
# How far to look for a free slot from the day a step aims at.
SEARCH_DAYS = 21
SIGN_MEANING = "I performed this procedure, and this record of it is accurate and complete."


# --- Who the demo patients are, and what they went through -------------------------------------------


@dataclass(frozen=True, slots=True)
class Complaint:
    """What the patient says at intake, and what the clinician finds: one site and side."""

    indication: str
    site: str
    side: str
    duration: str
    pain: int
    tried: tuple[str, ...]
    imaging: tuple[str, ...]
    imaging_when: str
    goals: tuple[str, ...]
    own_words: str = ""
    surgery: str = ""
    # The assessment.
    kl_grade: int | None = None
    tear_type: str = ""
    failed_care: tuple[str, ...] = ()
    imaging_reviewed: str = ""
    decision: str = CandidacyAssessment.Decision.CANDIDATE
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Procedure:
    """What the day's record holds beyond the shared values: where it was injected, the counts."""

    days_ago: int
    target: str
    harvest_side: str
    counts: dict[str, Decimal]
    volumes: dict[str, Decimal]
    rehabilitation: str


@dataclass(frozen=True, slots=True)
class Person:
    stage: str
    first_name: str
    last_name: str
    born: date
    sex: str
    language: str
    phone: str
    street: str
    city: str
    postal_code: str
    # The consultation, in days from today (negative: past), and with whom ("physician" or "pa").
    consult_in_days: int
    consult_with: str = "physician"
    # What brings them in (None: not told yet, the intake not started).
    complaint: Complaint | None = None
    medications: tuple[tuple[str, str], ...] = ()
    allergies: tuple[tuple[str, str], ...] = ()
    screening: dict[str, str] = field(default_factory=dict)
    screening_details: str = ""
    procedure: Procedure | None = None

    @property
    def email(self) -> str:
        return f"{self.first_name}.{self.last_name}@example.com".lower().replace("í", "i")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# The shared values of a day's record (as procedures/tests/conftest.py fills one), the times from the visit's start.
TIMEOUT: dict[str, Any] = {
    "timeout_identifiers": ["full_name", "date_of_birth"],
    "timeout_site_side_confirmed": True,
    "timeout_consent_confirmed": True,
    "timeout_allergies_reviewed": True,
    "timeout_anticoagulants_reviewed": True,
}
HARVEST: dict[str, Any] = {
    "harvest_site": "posterior_iliac_crest",
    "anaesthetic": "lidocaine 1%",
    "anaesthetic_ml": Decimal("10.00"),
    "needle": "trocar",
    "needle_gauge": "11 G",
    "punctures": 2,
    "ml_per_draw": Decimal("10.00"),
    "aspirate_volume_ml": Decimal("60.00"),
    "harvest_anticoagulant": "heparin",
}
PROCESSING: dict[str, Any] = {
    "device": "Centrifuge X",
    "kit": "BMAC kit",
    "spins": [{"g": 1500, "minutes": 10}, {"g": 3000, "minutes": 5}],
    "processing_input_ml": Decimal("60.00"),
    "activation": "none",
    "activation_detail": "",
    "cultured_or_expanded": False,
    "added_agents": ["acd_a", "heparin", "saline"],
}
# Dejnek 2022's whole-blood means and Arthrex ACP means (a leukocyte-poor PRP), a BMAC of 25 x 10^6/mL from 12.5.
COUNTS_ACP: dict[str, Decimal] = {
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
# A double-spin PRP, concentrated about four times, still leukocyte-poor; a richer aspirate.
COUNTS_DOUBLE_SPIN: dict[str, Decimal] = {
    "baseline_platelets": Decimal("212.00"),
    "baseline_wbc": Decimal("6.20"),
    "baseline_neutrophils": Decimal("3.55"),
    "baseline_rbc": Decimal("4.61"),
    "prp_platelets": Decimal("918.00"),
    "prp_wbc": Decimal("1.30"),
    "prp_neutrophils": Decimal("0.21"),
    "prp_rbc": Decimal("0.09"),
    "aspirate_tnc": Decimal("14.20"),
    "concentrate_tnc": Decimal("31.50"),
    "cfu_f": Decimal("95.00"),
    "viability_pct": Decimal("95.20"),
}
KNEE_REHAB = "Crutches 48 hours, then walking; no NSAIDs for 2 weeks; physical therapy from week 2."
HIP_REHAB = "Walking as comfortable with a cane for a week; no NSAIDs for 2 weeks; physical therapy from week 2."

PEOPLE: tuple[Person, ...] = (
    Person(
        stage=BOOKED,
        first_name="Keisha",
        last_name="Washington",
        born=date(1978, 7, 14),
        sex=Patient.Sex.FEMALE,
        language="en",
        phone="(323) 555-0131",
        street="4100 Example Avenue",
        city="Los Angeles",
        postal_code="90008",
        consult_in_days=5,
    ),
    Person(
        stage=INTAKE_DONE,
        first_name="Linh",
        last_name="Nguyen",
        born=date(1969, 3, 2),
        sex=Patient.Sex.FEMALE,
        language="en",
        phone="(626) 555-0132",
        street="250 Sample Street",
        city="Alhambra",
        postal_code="91801",
        complaint=Complaint(
            "osteoarthritis",
            "hip",
            "left",
            "1_2_years",
            5,
            ("physical_therapy", "nsaids"),
            ("xray",),
            "6_12_months",
            ("walk_without_pain", "return_to_sport"),
            own_words="Get back to dancing on weekends.",
        ),
        consult_in_days=2,
        consult_with="pa",
        medications=(("Ibuprofen", "400 mg as needed"), ("Levothyroxine", "50 mcg every morning")),
        allergies=(("Sulfa drugs", "Rash"),),
    ),
    Person(
        stage=CANDIDATE,
        first_name="Roberto",
        last_name="Alvarado",
        born=date(1956, 11, 8),
        sex=Patient.Sex.MALE,
        language="es",
        phone="(323) 555-0133",
        street="1800 Placeholder Boulevard",
        city="Los Angeles",
        postal_code="90033",
        complaint=Complaint(
            "osteoarthritis",
            "knee",
            "right",
            "over_2_years",
            7,
            ("physical_therapy", "nsaids", "cortisone"),
            ("xray",),
            "under_6_months",
            ("walk_without_pain", "avoid_surgery"),
            own_words="Caminar con mis nietos sin dolor.",
            kl_grade=2,
            failed_care=("physical_therapy", "nsaids", "cortisone"),
            imaging_reviewed="Standing X-rays of both knees: right medial joint-space narrowing, small osteophytes.",
            reason=(
                "Mild to moderate medial osteoarthritis of the right knee (KL 2) after six months of physical "
                "therapy, NSAIDs and a cortisone injection without lasting relief. On apixaban for atrial "
                "fibrillation: the hold before the harvest is to be agreed with his cardiologist before consent."
            ),
        ),
        consult_in_days=-6,
        medications=(("Eliquis", "5 mg, dos veces al día"), ("Lisinopril", "10 mg al día")),
        screening={"anticoagulant": "yes"},
        screening_details="Tomo Eliquis por fibrilación auricular.",
    ),
    Person(
        stage=CONSENTED,
        first_name="Guadalupe",
        last_name="Ramírez",
        born=date(1962, 5, 21),
        sex=Patient.Sex.FEMALE,
        language="es",
        phone="(818) 555-0134",
        street="7300 Example Way",
        city="Van Nuys",
        postal_code="91405",
        complaint=Complaint(
            "osteoarthritis",
            "knee",
            "left",
            "1_2_years",
            6,
            ("physical_therapy", "hyaluronic_acid"),
            ("xray", "mri"),
            "under_6_months",
            ("avoid_surgery", "daily_tasks"),
            own_words="Poder trabajar de pie todo el día.",
            kl_grade=3,
            failed_care=("physical_therapy", "hyaluronic_acid", "weight_loss"),
            imaging_reviewed="X-rays and MRI of the left knee: medial and patellofemoral narrowing, intact menisci.",
            reason=(
                "Moderate osteoarthritis of the left knee (KL 3); a year of physical therapy, weight loss and a "
                "hyaluronic acid series without lasting relief. Wishes to avoid a knee replacement for now."
            ),
        ),
        consult_in_days=-10,
        medications=(("Metformina", "850 mg dos veces al día"),),
        allergies=(("Penicilina", "Urticaria"),),
    ),
    Person(
        stage=TREATED,
        first_name="James",
        last_name="Okafor",
        born=date(1971, 1, 30),
        sex=Patient.Sex.MALE,
        language="en",
        phone="(310) 555-0135",
        street="5600 Sample Drive",
        city="Inglewood",
        postal_code="90302",
        complaint=Complaint(
            "osteoarthritis",
            "knee",
            "right",
            "1_2_years",
            6,
            ("physical_therapy", "nsaids", "prp"),
            ("xray", "mri"),
            "6_12_months",
            ("return_to_sport", "avoid_surgery"),
            own_words="Play pickup basketball again.",
            kl_grade=2,
            failed_care=("physical_therapy", "nsaids", "earlier_prp"),
            imaging_reviewed="X-rays of the right knee: mild medial narrowing; MRI: grade 2 chondral wear, medial.",
            reason=(
                "Mild osteoarthritis of the right knee (KL 2); physical therapy, NSAIDs and one PRP injection "
                "elsewhere gave a few months' relief only. Active, wants to return to sport."
            ),
        ),
        consult_in_days=-42,
        medications=(("Atorvastatin", "20 mg at night"),),
        procedure=Procedure(
            days_ago=21,
            target="medial compartment",
            harvest_side="right",
            counts=COUNTS_ACP,
            volumes={
                "blood_volume_ml": Decimal("13.50"),
                "blood_anticoagulant_ml": Decimal("1.50"),
                "concentrate_volume_ml": Decimal("6.00"),
                "prp_volume_ml": Decimal("4.00"),
                "concentrate_ml": Decimal("4.00"),
                "prp_ml": Decimal("4.00"),
            },
            rehabilitation=KNEE_REHAB,
        ),
    ),
    Person(
        stage=ADVERSE_EVENT,
        first_name="Armen",
        last_name="Petrosyan",
        born=date(1966, 9, 12),
        sex=Patient.Sex.MALE,
        language="en",
        phone="(818) 555-0136",
        street="900 Example Street",
        city="Glendale",
        postal_code="91203",
        complaint=Complaint(
            "osteoarthritis",
            "hip",
            "left",
            "over_2_years",
            6,
            ("physical_therapy", "cortisone"),
            ("xray",),
            "under_6_months",
            ("walk_without_pain", "sleep_without_pain"),
            own_words="Walk the dog without limping.",
            kl_grade=2,
            failed_care=("physical_therapy", "cortisone", "activity_change"),
            imaging_reviewed="AP pelvis and left hip X-rays: superior joint-space narrowing, small osteophytes.",
            reason=(
                "Mild to moderate osteoarthritis of the left hip (KL 2); physical therapy, activity change and "
                "two cortisone injections over a year without lasting relief."
            ),
        ),
        consult_in_days=-35,
        medications=(("Omeprazole", "20 mg daily"),),
        allergies=(("Latex", "Itching"),),
        procedure=Procedure(
            days_ago=14,
            target="left hip joint (intra-articular)",
            harvest_side="right",
            counts=COUNTS_DOUBLE_SPIN,
            volumes={
                "blood_volume_ml": Decimal("60.00"),
                "blood_anticoagulant_ml": Decimal("6.00"),
                "concentrate_volume_ml": Decimal("7.00"),
                "prp_volume_ml": Decimal("5.00"),
                "concentrate_ml": Decimal("5.00"),
                "prp_ml": Decimal("4.00"),
            },
            rehabilitation=HIP_REHAB,
        ),
    ),
    Person(
        stage=NOT_CANDIDATE,
        first_name="Marisol",
        last_name="Vega",
        born=date(1959, 2, 17),
        sex=Patient.Sex.FEMALE,
        language="es",
        phone="(213) 555-0137",
        street="320 Placeholder Avenue",
        city="Los Angeles",
        postal_code="90012",
        complaint=Complaint(
            "rotator_cuff",
            "shoulder",
            "right",
            "3_12_months",
            7,
            ("physical_therapy", "cortisone"),
            ("mri",),
            "under_6_months",
            ("sleep_without_pain", "daily_tasks"),
            own_words="Dormir sin dolor y poder peinarme.",
            tear_type=CandidacyAssessment.TearType.FULL,
            failed_care=("physical_therapy", "cortisone"),
            imaging_reviewed="MRI of the right shoulder: full-thickness supraspinatus tear, 2 cm, with retraction.",
            decision=CandidacyAssessment.Decision.NOT_CANDIDATE,
            reason=(
                "Full-thickness supraspinatus tear with retraction on MRI: not a partial tear, so not one the "
                "practice treats. Referred to an orthopedic surgeon for an opinion on repair."
            ),
        ),
        consult_in_days=-9,
        medications=(("Acetaminofén", "500 mg si hay dolor"),),
    ),
)


def signature_png(name: str) -> str:
    """A drawn signature as the signing pad sends it: a data: URL of a PNG with a few dark strokes (Pillow)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    # A loop per letter of the first name (up to five), so each patient's looks a little different.
    x = 40
    for letter in name[:5]:
        rise = 40 + (ord(letter) % 5) * 12
        draw.line([(x, 150), (x + 30, rise), (x + 60, 160), (x + 95, 90)], fill=(17, 17, 17, 255), width=4)
        x += 90
    draw.line([(40, 175), (x, 170)], fill=(17, 17, 17, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def intake_answers(person: Person) -> dict[str, dict[str, Any]]:
    """The intake as the patient fills it, section by section (`patients.intake.SECTIONS`)."""
    c = person.complaint
    assert c is not None, person.stage
    screening: dict[str, Any] = {name: intakes.NO for name, _label, _field in intakes.SCREENING}
    screening.update(person.screening)
    return {
        "concerns": {
            "areas": [{"site": c.site, "other": "", "side": c.side, "duration": c.duration}],
            "pain_now": c.pain,
        },
        "treatments": {"tried": list(c.tried), "other": "", "surgery": c.surgery},
        "imaging": {"kinds": list(c.imaging), "when": c.imaging_when},
        "goals": {"goals": list(c.goals), "own_words": c.own_words},
        "medications": {
            "none": not person.medications,
            "medications": [{"name": name, "dose": dose} for name, dose in person.medications],
        },
        "allergies": {
            "none": not person.allergies,
            "allergies": [{"substance": what, "reaction": reaction} for what, reaction in person.allergies],
        },
        "screening": {**screening, "details": person.screening_details},
    }


# --- Building it ----------------------------------------------------------------------------------


@dataclass
class Clinic:
    """The demo practice's people and visit types, and the moment the demo is loaded."""

    staff: dict[str, User]
    physician: Provider
    pa: Provider
    types: dict[str, AppointmentType]
    now: datetime
    zone: ZoneInfo
    holidays: set[date]

    @property
    def today(self) -> date:
        return self.now.astimezone(self.zone).date()

    def at(self, day: date, hhmm: str) -> datetime:
        hours, minutes = (int(part) for part in hhmm.split(":"))
        return datetime.combine(day, time(hours, minutes), tzinfo=self.zone)


def clinic_or_refuse() -> Clinic:
    """What the demo clinic is built on; CommandError naming what to run first when it is missing."""
    staff = {user.username: user for user in User.objects.filter(username__in=STAFF)}
    if set(staff) != set(STAFF):
        raise CommandError("The demo staff are missing: run `manage.py load_demo_practice` first.")
    physician = Provider.objects.filter(user=staff["drlee"], kind=Provider.Kind.PHYSICIAN).first()
    pa = Provider.objects.filter(user=staff["pkim"]).first()
    types = {t.slug: t for t in AppointmentType.objects.filter(slug__in=[CONSULTATION, PROCEDURE, FOLLOW_UP])}
    if physician is None or pa is None or len(types) != 3:
        raise CommandError("The demo schedule is missing: run `manage.py load_demo_schedule` first.")
    for language in ("en", "es"):
        if current_document(language) is None:
            raise CommandError("The consent documents are missing: run `manage.py load_consent_documents` first.")
    now = timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    year = now.astimezone(zone).year
    holidays = {day for y in (year - 1, year, year + 1) for day, _name in demo_holidays(y)}
    return Clinic(staff=staff, physician=physician, pa=pa, types=types, now=now, zone=zone, holidays=holidays)


class Builder:
    """One patient's story, step by step, each through the service the staff page (or the patient's) calls."""

    def __init__(self, clinic: Clinic, person: Person) -> None:
        self.clinic = clinic
        self.person = person
        self.desk = clinic.staff["frontdesk"]
        self.doctor = clinic.staff["drlee"]
        self.pa_user = clinic.staff["pkim"]
        self.tech = clinic.staff["tech"]

    # --- Scheduling

    def book(
        self,
        *,
        patient: Patient | PatientDetails,
        slug: str,
        provider: Provider,
        near: date,
        times: Sequence[str],
        booked_at: datetime | None = None,
        notify: bool = False,
    ) -> Appointment:
        """The first free slot from `near` (earlier days for a visit in the past, later ones for one ahead).

        A visit in the past is booked as of `booked_at` (default: ten days before it), as
        `load_demo_schedule` books the week's earlier days; every other rule applies as usual.
        """
        clinic = self.clinic
        past = near < clinic.today
        step = timedelta(days=-1 if past else 1)
        day = near
        for _n in range(SEARCH_DAYS):
            working = WorkingHours.objects.filter(provider=provider, weekday=day.weekday()).select_related("office")
            block = working.first()
            if block is not None and day not in clinic.holidays and (day < clinic.today) == past:
                for hhmm in times:
                    starts_at = clinic.at(day, hhmm)
                    as_of = booked_at or (starts_at - timedelta(days=10) if past else clinic.now)
                    try:
                        return services.appointment_book(
                            office=block.office,
                            provider=provider,
                            appointment_type=clinic.types[slug],
                            starts_at=starts_at,
                            patient=patient,
                            source=Appointment.Source.STAFF,
                            by=self.desk,
                            now=as_of,
                            notify=notify,
                        )
                    except rules.BookingError:
                        continue
            day += step
        raise CommandError(f"load_demo_clinic: no free {slug} for the {self.person.stage} patient near {near}.")

    def complete(self, appointment: Appointment) -> None:
        services.appointment_set_status(appointment=appointment, status=AppointmentStatus.COMPLETED, by=self.desk)

    # --- The story

    def build(self) -> Patient:
        person, clinic = self.person, self.clinic
        stage = person.stage
        details = PatientDetails(
            first_name=person.first_name,
            last_name=person.last_name,
            date_of_birth=person.born,
            phone=person.phone,
            email=person.email,
            language=person.language,
        )
        with_whom = clinic.pa if person.consult_with == "pa" else clinic.physician
        consult = self.book(
            patient=details,
            slug=CONSULTATION,
            provider=with_whom,
            near=clinic.today + timedelta(days=person.consult_in_days),
            times=("13:00", "15:45", "11:30", "16:00", "09:30", "14:30"),
            # The booked patient's confirmation goes out with the intake link (the worker sends it).
            notify=stage == BOOKED,
        )
        patient = consult.patient
        self.demographics(patient)
        if stage == BOOKED:
            return patient
        intake = consult.intakes.get()
        self.fill_intake(intake, sent=None if stage == INTAKE_DONE else consult.starts_at - timedelta(days=2))
        if stage == INTAKE_DONE:
            return patient
        self.complete(consult)
        intakes.intake_confirm(intake=intake, by=self.doctor, now=consult.starts_at + timedelta(minutes=20))
        assessment = self.assess(patient, at=consult.starts_at + timedelta(minutes=40))
        if stage not in SIGNED:
            return patient
        episode = assessment.episode
        assert episode is not None
        if stage == CONSENTED:
            self.sign_consent(episode, at=consult.starts_at + timedelta(minutes=50))
            self.book(
                patient=patient,
                slug=PROCEDURE,
                provider=clinic.physician,
                near=clinic.today + timedelta(days=17),
                times=("10:00", "09:00", "13:30"),
                booked_at=consult.ends_at,
            )
            return patient
        assert person.procedure is not None
        visit = self.book(
            patient=patient,
            slug=PROCEDURE,
            provider=clinic.physician,
            near=clinic.today - timedelta(days=person.procedure.days_ago),
            times=("10:00", "09:00", "13:30"),
            booked_at=consult.ends_at,
        )
        self.sign_consent(episode, at=visit.starts_at - timedelta(minutes=30))
        self.answer_baseline(episode, at=visit.starts_at - timedelta(days=4) + timedelta(hours=8))
        record = self.record_procedure(episode, visit, person.procedure)
        self.complete(visit)
        self.book(
            patient=patient,
            slug=FOLLOW_UP,
            provider=clinic.physician,
            near=record.procedure_date + timedelta(weeks=6),
            times=("16:00", "16:30", "13:00", "11:30"),
            booked_at=visit.ends_at,
        )
        if stage == ADVERSE_EVENT:
            self.report_flare(episode, record)
        return patient

    def demographics(self, patient: Patient) -> None:
        """The front desk completes the chart (sex, address) on the chart's edit form."""
        person = self.person
        patient_update(
            patient=patient,
            details=Demographics(
                first_name=patient.first_name,
                last_name=patient.last_name,
                date_of_birth=patient.date_of_birth,
                sex=person.sex,
                phone=patient.phone,
                email=patient.email,
                street=person.street,
                city=person.city,
                state="CA",
                postal_code=person.postal_code,
                preferred_language=patient.preferred_language,
            ),
            by=self.desk,
        )

    def fill_intake(self, intake: Intake, *, sent: datetime | None) -> None:
        """The patient's pages: each section saved, then the review's "Send" (`sent`: when; None: now)."""
        started = sent - timedelta(minutes=20) if sent is not None else None
        for section, data in intake_answers(self.person).items():
            intakes.intake_save_section(intake=intake, section=section, data=data, now=started)
        intakes.intake_submit(intake=intake, now=sent)

    def assess(self, patient: Patient, *, at: datetime) -> CandidacyAssessment:
        c = self.person.complaint
        assert c is not None, self.person.stage
        candidate = c.decision == CandidacyAssessment.Decision.CANDIDATE
        return assessment_record(
            patient=patient,
            details=AssessmentDetails(
                indication=c.indication,
                site=c.site,
                side=c.side,
                decision=c.decision,
                reason=c.reason,
                kl_grade=c.kl_grade,
                tear_type=c.tear_type,
                failed_care=c.failed_care,
                imaging=c.imaging_reviewed,
                physician=self.clinic.physician if candidate else None,
            ),
            by=self.doctor,
            now=at,
        )

    def sign_consent(self, episode: Episode, *, at: datetime) -> ConsentSignature:
        """Signed on the office tablet in the patient's language, drawn, recorded by the physician."""
        document = document_for(self.person.language)
        assert document is not None  # clinic_or_refuse checked
        return consent_sign(
            episode=episode,
            document=document,
            printed_name=self.person.full_name,
            signature_png=signature_png(self.person.first_name),
            method=ConsentSignature.Method.IN_OFFICE,
            by=self.doctor,
            now=at,
        )

    def baseline_wellness(self) -> float:
        """How well the patient is before treatment, 0 (worst) to 1 (best), for the baseline answers."""
        return 0.35

    def answer_baseline(self, episode: Episode, *, at: datetime) -> None:
        """The baseline questionnaires, answered online from the emailed link a few days before the procedure."""
        rng = random.Random(self.person.phone)
        follow_up = outcomes.baseline_open(episode=episode, now=at)
        for code in outcomes.instruments_for(episode, follow_up.timepoint):
            outcomes.response_save(
                follow_up=follow_up, instrument=code, answers=answers_at(code, self.baseline_wellness(), rng), now=at
            )
        outcomes.follow_up_submit(follow_up=follow_up, now=at)

    def record_procedure(self, episode: Episode, visit: Appointment, plan: Procedure) -> ProcedureRecord:
        """The day's record, section by section by whoever does it, then the physician's sign-off."""
        start = visit.starts_at

        def after(minutes: int) -> datetime:
            return start + timedelta(minutes=minutes)

        label = f"BMA-{start.astimezone(self.clinic.zone):%Y-%m%d}-01"
        volumes = plan.volumes
        site, side = episode.site, episode.side
        sections: list[tuple[str, dict[str, Any], User, int]] = [
            ("timeout", TIMEOUT, self.doctor, 5),
            (
                "blood_draw",
                {
                    "blood_volume_ml": volumes["blood_volume_ml"],
                    "blood_anticoagulant": "acd_a",
                    "blood_anticoagulant_ml": volumes["blood_anticoagulant_ml"],
                    "blood_drawn_at": after(10),
                },
                self.tech,
                12,
            ),
            (
                "harvest",
                {
                    **HARVEST,
                    "harvest_side": plan.harvest_side,
                    "harvest_started_at": after(20),
                    "harvest_ended_at": after(40),
                    "harvest_sample_label": label,
                },
                self.tech,
                42,
            ),
            (
                "processing",
                {
                    **PROCESSING,
                    "kit_lot": f"LOT-{start:%y%m}",
                    "concentrate_volume_ml": volumes["concentrate_volume_ml"],
                    "prp_volume_ml": volumes["prp_volume_ml"],
                    "processing_done_at": after(65),
                },
                self.tech,
                66,
            ),
            ("counts", dict(plan.counts), self.tech, 75),
            (
                "injections",
                {
                    "action": "add",
                    "target_structure": plan.target,
                    "site": site,
                    "side": side,
                    "guidance": "ultrasound",
                    "concentrate_ml": volumes["concentrate_ml"],
                    "prp_ml": volumes["prp_ml"],
                    "carrier": "none",
                    "activation_agent": "none",
                    "sample_label": label,
                    "injected_at": after(80),
                },
                self.doctor,
                82,
            ),
            ("rehab", {"rehabilitation_protocol": plan.rehabilitation}, self.doctor, 90),
        ]
        record = procedures.procedure_start(episode=episode, by=self.doctor, appointment=visit, now=start)
        for section, data, who, minutes in sections:
            record = procedures.procedure_save_section(
                record=record, section=section, data=data, by=who, now=after(minutes)
            )
        return procedures.procedure_sign(record=record, by=self.doctor, meaning=SIGN_MEANING, now=after(100))

    def report_flare(self, episode: Episode, record: ProcedureRecord) -> AdverseEvent:
        """The patient calls the day after; the PA records it; the physician judges it two days later."""
        onset = record.procedure_date + timedelta(days=1)
        event = procedures.adverse_event_report(
            episode=episode,
            data={
                "kind": AdverseEvent.Kind.POST_INJECTION_FLARE,
                "kind_other": "",
                "description": "Aching and stiffness in the injected joint the day after; no fever, no redness.",
                "onset_date": onset,
                "grade": 1,
                "serious": False,
                "action": "Ice, rest and acetaminophen; NSAIDs avoided.",
                "outcome": AdverseEvent.Outcome.RECOVERING,
                "procedure": record,
            },
            by=self.pa_user,
            now=self.clinic.at(onset, "11:00"),
        )
        return procedures.adverse_event_adjudicate(
            event=event,
            related_to_harvest=AdverseEvent.Relatedness.UNRELATED,
            related_to_injection=AdverseEvent.Relatedness.PROBABLE,
            related_to_product=AdverseEvent.Relatedness.POSSIBLE,
            action="Ice, rest and acetaminophen; NSAIDs avoided. Settled within three days.",
            outcome=AdverseEvent.Outcome.RECOVERED,
            by=self.doctor,
            now=self.clinic.at(onset + timedelta(days=2), "16:30"),
        )


class Command(BaseCommand):
    help = (
        "Add the demo clinic's patients, one at each stage of care (run after load_demo_practice, "
        "load_demo_schedule --with-appointments and load_consent_documents). Leaves demo patients on file alone."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = clinic_or_refuse()
        for person in PEOPLE:
            patient = Patient.objects.filter(email__iexact=person.email).order_by("pk").first()
            state = "already there"
            if patient is None:
                with transaction.atomic():
                    patient = Builder(clinic, person).build()
                state = "added"
            self.stdout.write(
                f"load_demo_clinic: {person.stage:<15} {person.first_name:<9} {patient.get_absolute_url()}  {state}"
            )

"""A practice to export: the canary patient treated through the services, and treatments written directly.

The canary is Rosa (procedures' `clinic`: her right-knee osteoarthritis treated at Los
Angeles on Wednesday 5 March 2031, the record signed by bob) given identifiers no export
may carry: a distinctive name, email, phone, record number, date of birth, street address
and ZIP code, and free text naming her in every field that takes it (history notes, the
candidacy's reason, the rehabilitation protocol, an adverse event's description and its
"other" kind, the surgery's details). She answered her baseline a week before (day -7),
her 6-week questionnaires late on 16 April at 23:30 in Los Angeles (day 42, though it is
already the 17th in UTC), had a harvest-site pain from day 1 and a knee replacement on
day 300.

`treatment()` writes a signed first procedure for a new patient without the services,
for tests about many episodes, ages and selections.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any

import pytest

from accounts.models import Role, User
from outcomes import services as outcomes
from outcomes.models import FollowUp, Response, Score, SurgeryConversion, Timepoint
from outcomes.tests.factories import complete_answers
from patients.models import CandidacyAssessment, Episode, MedicalHistory, Patient
from procedures import services as procedures
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.tests.conftest import DAY, Clinic, at, clinic, signed
from scheduling.tests.conftest import LA_ZONE, schedule

__all__ = ["clinic", "schedule"]

FIRST, LAST = "Zephyrine", "Quillfeather"
CANARY: dict[str, Any] = {
    "first_name": FIRST,
    "last_name": LAST,
    "email": "zephyrine.quillfeather@canary.example",
    "phone": "(213) 555-0187",
    "mrn": "RC-CANARY-7731",
    "date_of_birth": date(1958, 7, 19),
    "street": "1200 Juniper Canyon Road",
    "city": "Topanga",
    "postal_code": "90290",
}
# Free text naming her, written wherever a clinician or the patient can type.
NOTE = f"{FIRST} {LAST} (call (213) 555-0187, zephyrine.quillfeather@canary.example) at 1200 Juniper Canyon Road"
SIX_WEEKS = DAY + timedelta(weeks=6)  # Wednesday 16 April 2031
LATE_EVENING = datetime.combine(SIX_WEEKS, time(23, 30), tzinfo=LA_ZONE)
SURGERY_DAY = DAY + timedelta(days=300)


@dataclass
class Canary:
    clinic: Clinic
    patient: Patient
    record: ProcedureRecord
    admin: User
    researcher: User


def answer_all(follow_up: FollowUp, *, now: datetime) -> FollowUp:
    for code in outcomes.instruments_for(follow_up.episode, follow_up.timepoint):
        outcomes.response_save(follow_up=follow_up, instrument=code, answers=complete_answers(code), now=now)
    return outcomes.follow_up_submit(follow_up=follow_up, now=now)


@pytest.fixture
def canary(clinic: Clinic) -> Canary:
    Patient.objects.filter(pk=clinic.rosa.pk).update(**CANARY)
    patient = Patient.objects.get(pk=clinic.rosa.pk)
    MedicalHistory.objects.create(patient=patient, notes=NOTE, cancer_details=NOTE, prior_surgery_at_site=NOTE)
    CandidacyAssessment.objects.filter(episode=clinic.episode).update(reason=NOTE, imaging=NOTE)
    record = signed(clinic, rehab={"rehabilitation_protocol": NOTE})
    answer_all(clinic.episode.follow_ups.get(timepoint=Timepoint.WEEK_6), now=LATE_EVENING)
    for kind, other in ((AdverseEvent.Kind.HARVEST_SITE_PAIN, ""), (AdverseEvent.Kind.OTHER, NOTE[:160])):
        procedures.adverse_event_report(
            episode=clinic.episode,
            data={
                "procedure": record,
                "kind": kind,
                "kind_other": other,
                "description": NOTE,
                "onset_date": DAY + timedelta(days=1),
                "grade": 1,
                "serious": False,
                "action": NOTE,
                "outcome": "recovering",
            },
            by=clinic.doctor,
            now=at("12:00", DAY + timedelta(days=2)),
        )
    SurgeryConversion.objects.create(
        episode=clinic.episode,
        surgery_date=SURGERY_DAY,
        procedure=SurgeryConversion.Procedure.KNEE_REPLACEMENT,
        details=NOTE[:200],
        source=SurgeryConversion.Source.STAFF,
    )
    return Canary(
        clinic=clinic,
        patient=patient,
        record=record,
        admin=User.objects.create_user("ada", password="ada-password-1", role=Role.ADMIN, is_staff=True),
        researcher=User.objects.create_user("rhea", password="rhea-password-1", role=Role.RESEARCHER, is_staff=True),
    )


_numbers = count(1)


def treatment(
    clinic: Clinic,
    *,
    patient: Patient | None = None,
    episode: Episode | None = None,
    born: date = date(1960, 1, 1),
    day: date = DAY,
    indication: str = "osteoarthritis",
    site: str = "knee",
    side: str = "left",
    status: str = ProcedureRecord.Status.SIGNED,
) -> ProcedureRecord:
    """A signed procedure on `day` of `episode`, or of a new episode of `patient` (or of someone born on `born`)."""
    if episode is None:
        if patient is None:
            n = next(_numbers)
            patient = Patient.objects.create(first_name=f"Treated{n}", last_name="Example", date_of_birth=born)
        episode = Episode.objects.create(
            patient=patient,
            indication=indication,
            site=site,
            side=side,
            physician=clinic.schedule.doctor,
            status=Episode.Status.TREATED,
        )
    return ProcedureRecord.objects.create(
        episode=episode,
        status=status,
        procedure_date=day,
        paw_code="P2-Bβ",
        cell_dose=100_000_000,
        concentration_factor=2.0,
        platelet_factor=1.48,
        classification_version="paw2012-depa2016-v1",
        signed_at=at("10:45", day),
        signed_by=clinic.schedule.doctor,
        signed_sha256="0" * 64,
    )


def scored(
    record: ProcedureRecord,
    timepoint: str,
    *,
    submitted_at: datetime,
    scores: dict[str, float | None],
    instrument: str = "NRS",
    reason: str = "",
) -> Response:
    """A submitted response of `instrument` at `timepoint` with these scores (None: not scorable for `reason`)."""
    target = record.procedure_date
    follow_up, _created = FollowUp.objects.get_or_create(
        episode=record.episode,
        timepoint=timepoint,
        defaults={"target_date": target, "opens_on": target, "closes_on": target, "schedule_version": "test"},
    )
    response = Response.objects.create(
        follow_up=follow_up,
        instrument=instrument,
        status=Response.Status.SUBMITTED,
        submitted_at=submitted_at,
    )
    for code, value in scores.items():
        Score.objects.create(
            response=response,
            episode=record.episode,
            timepoint=timepoint,
            instrument=instrument,
            code=code,
            value=value,
            reason="" if value is not None else reason,
            scoring_version="1",
            computed_at=submitted_at,
        )
    return response

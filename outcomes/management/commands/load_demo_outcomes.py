"""`manage.py load_demo_outcomes`: treated demo patients with months of follow-up, so the charts mean something.

Run after `load_demo_clinic` (`make demo` does). Five fictional patients, each treated
long enough ago to have a history, made by the demo clinic's own `Builder` (booked,
intake, assessed, consented, the procedure recorded and signed by the staff pages'
services), then answering their follow-ups as the survey's services record them:

- Helen, knee osteoarthritis, 13 months ago: better at every follow-up;
- Walter, hip osteoarthritis, 7 months ago: no real change;
- Teresa, back pain, 6.5 months ago: answered at 6 weeks, missed 3 months, 6 months open
  and on the call list;
- Daniel, knee osteoarthritis, 12.5 months ago: little change, a knee replacement at
  10 months (a conversion to surgery), the 12-month questionnaire open;
- Grace, patellar tendinopathy, 6 weeks ago: the 6-week questionnaire just sent.

Answers come from `outcomes.demo.answers_at` (a level of wellness per time point), with
a fixed seed, so every run makes the same demo. Then the invitations job's daily passes of
the last weeks are replayed, so invitations, reminders and missed windows have their own
days. Idempotent like load_demo_clinic.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from outcomes import services
from outcomes.demo import answers_at
from outcomes.invitations import follow_ups_advance
from outcomes.models import FollowUp, Timepoint
from outcomes.schedule import follow_up_windows
from patients.management.commands.load_demo_clinic import (
    COUNTS_ACP,
    COUNTS_DOUBLE_SPIN,
    HIP_REHAB,
    KNEE_REHAB,
    TREATED,
    Builder,
    Clinic,
    Complaint,
    Person,
    Procedure,
    clinic_or_refuse,
)
from patients.models import Episode, Patient

# How many days of the worker's passes to replay (longer than any window the stories leave open).
PASSES_DAYS = 70
KNEE_VOLUMES = {
    "blood_volume_ml": Decimal("13.50"),
    "blood_anticoagulant_ml": Decimal("1.50"),
    "concentrate_volume_ml": Decimal("6.00"),
    "prp_volume_ml": Decimal("4.00"),
    "concentrate_ml": Decimal("4.00"),
    "prp_ml": Decimal("4.00"),
}
BACK_REHAB = (
    "Walking from the same day; no lifting over 10 lb for 2 weeks; no NSAIDs for 2 weeks; physiotherapy from week 3."
)
TENDON_REHAB = "No jumping or running for 4 weeks; eccentric loading programme with the physiotherapist from week 2."


@dataclass(frozen=True, slots=True)
class Story:
    person: Person
    # The level of wellness (0 worst, 1 best) at each time point answered; a time point left out is not answered.
    wellness: dict[str, float]
    # Days after the procedure, and which operation, for a conversion to surgery.
    surgery: tuple[int, str] | None = None


def _knee(days_ago: int, side: str, counts: dict[str, Decimal]) -> Procedure:
    return Procedure(
        days_ago=days_ago,
        target="medial compartment",
        harvest_side=side,
        counts=counts,
        volumes=KNEE_VOLUMES,
        rehabilitation=KNEE_REHAB,
    )


def _person(stage_first: str, last: str, **values: Any) -> Person:
    return Person(stage=TREATED, first_name=stage_first, last_name=last, **values)


STORIES = (
    Story(
        _person(
            "Helen",
            "Park",
            born=date(1958, 4, 2),
            sex=Patient.Sex.FEMALE,
            language="en",
            phone="(310) 555-0140",
            street="12 Sample Court",
            city="Santa Monica",
            postal_code="90401",
            complaint=Complaint(
                "osteoarthritis",
                "knee",
                "right",
                "over_2_years",
                7,
                ("physical_therapy", "nsaids", "cortisone"),
                ("xray",),
                "6_12_months",
                ("walk_without_pain", "avoid_surgery"),
                kl_grade=3,
                failed_care=("physical_therapy", "nsaids", "cortisone"),
                imaging_reviewed="Standing X-rays of the right knee: moderate medial joint-space narrowing.",
                reason="Moderate osteoarthritis of the right knee (KL 3); a year of therapy and two cortisone "
                "injections without lasting relief.",
            ),
            consult_in_days=-420,
            procedure=_knee(400, "right", COUNTS_ACP),
        ),
        {Timepoint.BASELINE: 0.30, Timepoint.WEEK_6: 0.45, "3m": 0.60, "6m": 0.70, "12m": 0.76},
    ),
    Story(
        _person(
            "Walter",
            "Greene",
            born=date(1952, 11, 20),
            sex=Patient.Sex.MALE,
            language="en",
            phone="(818) 555-0141",
            street="44 Example Lane",
            city="Encino",
            postal_code="91316",
            complaint=Complaint(
                "osteoarthritis",
                "hip",
                "left",
                "1_2_years",
                6,
                ("physical_therapy", "nsaids"),
                ("xray",),
                "under_6_months",
                ("walk_without_pain",),
                kl_grade=2,
                failed_care=("physical_therapy", "nsaids", "activity_change"),
                imaging_reviewed="AP pelvis: mild superior joint-space narrowing of the left hip.",
                reason="Mild osteoarthritis of the left hip (KL 2) after a year of therapy and NSAIDs.",
            ),
            consult_in_days=-250,
            procedure=Procedure(
                days_ago=230,
                target="left hip joint (intra-articular)",
                harvest_side="right",
                counts=COUNTS_DOUBLE_SPIN,
                volumes={**KNEE_VOLUMES, "concentrate_volume_ml": Decimal("7.00"), "concentrate_ml": Decimal("5.00")},
                rehabilitation=HIP_REHAB,
            ),
        ),
        {Timepoint.BASELINE: 0.36, Timepoint.WEEK_6: 0.38, "3m": 0.34, "6m": 0.37},
    ),
    Story(
        _person(
            "Teresa",
            "Alvarez",
            born=date(1969, 7, 8),
            sex=Patient.Sex.FEMALE,
            language="es",
            phone="(213) 555-0142",
            street="87 Placeholder Street",
            city="Los Angeles",
            postal_code="90033",
            complaint=Complaint(
                "back_pain",
                "lumbar_spine",
                "midline",
                "over_2_years",
                7,
                ("physical_therapy", "nsaids"),
                ("mri",),
                "6_12_months",
                ("daily_tasks", "sleep_without_pain"),
                failed_care=("physical_therapy", "nsaids"),
                imaging_reviewed="MRI of the lumbar spine: L4-L5 disc desiccation, facet arthropathy, no stenosis.",
                reason="Chronic low back pain from L4-L5 disc degeneration and facet arthropathy, after therapy.",
            ),
            consult_in_days=-220,
            procedure=Procedure(
                days_ago=200,
                target="L4-L5 facet joints",
                harvest_side="left",
                counts=COUNTS_ACP,
                volumes=KNEE_VOLUMES,
                rehabilitation=BACK_REHAB,
            ),
        ),
        {Timepoint.BASELINE: 0.32, Timepoint.WEEK_6: 0.44},
    ),
    Story(
        _person(
            "Daniel",
            "Brooks",
            born=date(1955, 1, 14),
            sex=Patient.Sex.MALE,
            language="en",
            phone="(818) 555-0143",
            street="300 Sample Road",
            city="Van Nuys",
            postal_code="91401",
            complaint=Complaint(
                "osteoarthritis",
                "knee",
                "left",
                "over_2_years",
                8,
                ("physical_therapy", "nsaids", "cortisone", "hyaluronic_acid"),
                ("xray", "mri"),
                "6_12_months",
                ("avoid_surgery",),
                kl_grade=3,
                failed_care=("physical_therapy", "nsaids", "cortisone", "hyaluronic_acid"),
                imaging_reviewed="Left knee X-rays: moderate narrowing, osteophytes; MRI: medial cartilage loss.",
                reason="Moderate osteoarthritis of the left knee (KL 3); wants to put off a knee replacement.",
            ),
            consult_in_days=-400,
            procedure=_knee(380, "left", COUNTS_DOUBLE_SPIN),
        ),
        {Timepoint.BASELINE: 0.25, Timepoint.WEEK_6: 0.33, "3m": 0.36, "6m": 0.28},
        surgery=(300, "knee_replacement"),
    ),
    Story(
        _person(
            "Grace",
            "Liu",
            born=date(1990, 5, 23),
            sex=Patient.Sex.FEMALE,
            language="en",
            phone="(310) 555-0144",
            street="9 Example Way",
            city="Culver City",
            postal_code="90232",
            complaint=Complaint(
                "patellar_tendonitis",
                "knee",
                "right",
                "3_12_months",
                5,
                ("physical_therapy", "nsaids"),
                ("mri",),
                "under_6_months",
                ("return_to_sport",),
                failed_care=("physical_therapy", "nsaids"),
                imaging_reviewed="MRI of the right knee: proximal patellar tendinopathy, no tear.",
                reason="Proximal patellar tendinopathy after four months of loading exercises.",
            ),
            consult_in_days=-60,
            procedure=_knee(44, "right", COUNTS_ACP),
        ),
        {Timepoint.BASELINE: 0.45},
    ),
)


class StoryBuilder(Builder):
    """The demo clinic's builder, with the story's baseline instead of the usual one."""

    def __init__(self, clinic: Clinic, story: Story) -> None:
        super().__init__(clinic, story.person)
        self.story = story

    def baseline_wellness(self) -> float:
        return self.story.wellness[Timepoint.BASELINE]


def answer(follow_up: FollowUp, wellness: float, *, on: date, clinic: Clinic, rng: random.Random) -> None:
    """The follow-up answered online at 7 pm on `on` (the survey's services, as the pages call them)."""
    moment = clinic.at(on, "19:00")
    for code in services.instruments_for(follow_up.episode, follow_up.timepoint):
        services.response_save(
            follow_up=follow_up, instrument=code, answers=answers_at(code, wellness, rng), now=moment
        )
    surgery = {"had_surgery": False} if follow_up.timepoint != Timepoint.BASELINE else None
    services.follow_up_submit(follow_up=follow_up, now=moment, surgery=surgery)


def tell(story: Story, clinic: Clinic) -> Patient:
    rng = random.Random(story.person.phone)
    patient = StoryBuilder(clinic, story).build()
    episode = Episode.objects.get(patient=patient)
    assert story.person.procedure is not None
    treated_on = clinic.today - timedelta(days=story.person.procedure.days_ago)
    surgery_on = treated_on + timedelta(days=story.surgery[0]) if story.surgery else None
    for window in follow_up_windows(treated_on):
        wellness = story.wellness.get(window.timepoint)
        answered_on = window.target + timedelta(days=rng.randint(-5, 9))
        if wellness is None or answered_on >= clinic.today:
            continue
        answer(episode.follow_ups.get(timepoint=window.timepoint), wellness, on=answered_on, clinic=clinic, rng=rng)
    if story.surgery is not None and surgery_on is not None:
        services.surgery_record(
            episode=episode, surgery_date=surgery_on, procedure=story.surgery[1], by=clinic.staff["drlee"]
        )
    return patient


class Command(BaseCommand):
    help = "Add treated demo patients with months of follow-up answers (run after load_demo_clinic)."

    def handle(self, *args: Any, **options: Any) -> None:
        clinic = clinic_or_refuse()
        for story in STORIES:
            person = story.person
            patient = Patient.objects.filter(email__iexact=person.email).order_by("pk").first()
            state = "already there"
            if patient is None:
                with transaction.atomic():
                    patient = tell(story, clinic)
                state = "added"
            self.stdout.write(f"load_demo_outcomes: {person.first_name:<9} {patient.get_absolute_url()}  {state}")
        # The worker's 9:00 passes of the last weeks, as if it had been running: invitations and reminders
        # on their days, missed windows recorded, the call list filled.
        totals: dict[str, int] = {}
        for days_ago in range(PASSES_DAYS, -1, -1):
            moment = clinic.at(clinic.today - timedelta(days=days_ago), "09:05")
            if moment > clinic.now:
                moment = clinic.now
            for name, n in follow_ups_advance(now=moment).counts().items():
                totals[name] = totals.get(name, 0) + n
        self.stdout.write("load_demo_outcomes: " + ", ".join(f"{name} {n}" for name, n in totals.items()))

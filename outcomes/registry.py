"""A synthetic practice for benchmarks and demos: `make_registry(episodes)`, run by `manage.py make_registry`.

Every patient it makes is marked as synthetic, so nobody mistakes one for a person: the last
name "Synthetic", an MRN "SYN-<seed>-<n>" (`MRN_PREFIX`), an email at example.invalid (a
domain that never resolves) and a 555-01xx phone number. `patients_not_synthetic` counts the
others, so the command can refuse to mix the two.

What one episode gets (one indication on one site and side; see the tables below for the mix):
- a patient (one in seven comes back with a second episode, 2 to 13 months later), aged as
  that indication's patients are; one in six prefers Spanish;
- its procedure on a weekday of the last three years, more in recent months (the practice
  grows), by one of the practice's physicians: a completed procedure visit in their calendar
  at the office where they work that weekday, while their calendar has room (two visits a
  day), otherwise a record with no visit linked;
- a signed procedure record of BMAC and PRP, every section filled as sign-off asks (the
  same-day guardrails hold), with counts drawn around published means for three kinds of
  PRP (single-spin leukocyte-poor, double-spin, leukocyte-rich; one in seven activated),
  so the PAW codes spread over P2 to P4, A and B; nucleated cells log-normal around
  14 x 10^6/mL concentrated about 2.3 times, so a dose of about 1.5 x 10^8 cells. PAW,
  DEPA, dose and factors are computed by `procedures.product.classify`; the signature is
  `procedures.signing`'s hash of the record as signed, as sign-off makes it. No consent
  documents are made: each record says so in its consent override;
- the follow-up schedule of `outcomes.schedule`, each answered (or not) as a patient who
  improves (60%), stays the same (30%) or gets worse (10%) would: answered at 93% at
  baseline, 85% at 6 weeks falling to 55% at 24 months (`ANSWERED`), less by patients who
  got worse; most online within days of the invitation or a reminder, one in eight by
  phone from the call list. Answers come from `outcomes.demo.answers_at` at the episode's
  level of wellness for that time point (PGIC at its change since baseline); scores are
  computed by `outcomes.scoring`'s own bulk path, as `manage.py rescore` computes them
  (with their episodes' `ScoreSummary` rows);
- a conversion to surgery for knee and hip osteoarthritis: by 24 months 4% of those who
  improve, 15% of those who do not and 35% of those who get worse (about 10% in all), a few
  more up to 36 months. From the day of the operation the patient answers nothing more;
- an adverse event for 4% of procedures, mostly a grade 1-2 post-injection flare or pain at
  the harvest site, rarely serious (a grade 3 infection), judged by the physician.

The rules the rows keep, with `today` the day the registry is made (tests prove each):
- everything recorded happened before `today`; a follow-up is answered on a day of its
  window before `today` (a baseline also before its procedure), and is otherwise missed if
  its window closed before `today`, open if `today` is in it, scheduled if it opens later,
  as the invitations worker would have left it;
- a completed follow-up has one submitted response per instrument its set asks for
  (`outcomes.services.instruments_for`), any other follow-up none; each response has the
  scores `outcomes.scoring` computes for its answers;
- no follow-up is answered on or after the day of the episode's surgery;
- a procedure signed without a baseline on file carries the reason, as sign-off asks.

How it is fast: not through the staff services, which check guardrails and write an audit
row one record at a time, nor through `bulk_create`, whose per-row work cost four times more
than the writes themselves (12,700 against 55,000 responses/s measured on SQLite): rows are
written table by table in blocks of `BLOCK` episodes, with one executemany each (PostgreSQL:
one COPY), their ids reserved first, all in one transaction. Answers are drawn from a
precomputed pool per instrument (`LEVELS` levels of wellness x `VARIANTS` scatterings), so
the scoring code scores each distinct answer once per block, as `rescore` does. No history
rows (nothing here was ever edited), audit rows or emails are made; an open follow-up's
invitation and reminders due before `today` are recorded as skipped, so the worker mails
its patients only what falls due later (`_messages_already_due`).

The same seed on the same database contents makes the same rows, public uuids included; a
seed already on file is refused (`RegistryExists`).
"""

import functools
import json
import math
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.base import ModelState
from django.utils import timezone, translation

from accounts.models import Role, User
from outcomes import schedule, scoring
from outcomes.demo import answers_at
from outcomes.invitations import DUE_ON
from outcomes.models import FollowUp, InstrumentSet, Invitation, Response, SurgeryConversion, Timepoint
from outcomes.services import instruments_for
from patients.models import Episode, Indication, Patient
from procedures import product, signing
from procedures.forms.records import DEFAULT_MEANING
from procedures.models import Activation, AdverseEvent, Injection, ProcedureRecord
from scheduling.management.commands.load_demo_schedule import APPOINTMENT_TYPES, demo_holidays
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    Provider,
    Room,
    RoomKind,
    ScheduleException,
    WorkingHours,
)
from website.models import Office

# Synthetic patients are marked by their MRN (and their last name): never a real chart's.
MRN_PREFIX = "SYN-"
LAST_NAME = "Synthetic"
EMAIL_DOMAIN = "example.invalid"
MAX_SEED = 999_999  # "SYN-999999-" and a nine-digit number fill the MRN's 20 characters
BLOCK = 1_000
YEARS = 3
LEVELS = 40
VARIANTS = 8
# Share of follow-ups answered, by time point, for a patient of average engagement.
ANSWERED = {"baseline": 0.93, "6w": 0.85, "3m": 0.78, "6m": 0.70, "12m": 0.62, "24m": 0.55}
MONTHS = {"6w": 1.4, "3m": 3.0, "6m": 6.0, "12m": 12.0, "24m": 24.0}
# Instruments that ask about change since treatment, not about how the patient is.
TRANSITION = frozenset({"PGIC"})
SECOND_EPISODE = 1 / 7
ADVERSE_EVENT = 0.04
# By 24 months, by trajectory; a further 30% of that between 24 and 36 months.
CONVERSION_BY_24M = {"better": 0.04, "same": 0.15, "worse": 0.35}
SURGICAL = {("osteoarthritis", "knee"), ("osteoarthritis", "hip")}
# A procedure visit's starts, local time: 150 minutes and a 30-minute buffer each.
VISIT_STARTS = (time(8, 30), time(12, 0))
SEARCH_DAYS = 14
NO_CONSENT = "Synthetic registry: it makes no consent documents."
NO_BASELINE = "The baseline questionnaires were not returned before the procedure; it went ahead as planned."

# (indication, site, weight): roughly the practice's mix; every shipped instrument set is reached.
CASES: tuple[tuple[str, str, int], ...] = (
    ("osteoarthritis", "knee", 30),
    ("osteoarthritis", "hip", 10),
    ("osteoarthritis", "shoulder", 5),
    ("osteoarthritis", "ankle_foot", 3),
    ("osteoarthritis", "wrist_hand", 2),
    ("tendon_injury", "knee", 3),
    ("tendon_injury", "shoulder", 4),
    ("tendon_injury", "ankle_foot", 3),
    ("tendon_injury", "hip", 2),
    ("tendon_injury", "hamstring", 2),
    ("tendon_injury", "elbow", 3),
    ("rotator_cuff", "shoulder", 8),
    ("back_pain", "lumbar_spine", 10),
    ("knee_ligament", "knee", 4),
    ("patellar_tendonitis", "knee", 4),
    ("hamstring", "hamstring", 2),
    ("hand_knee_foot_pain", "wrist_hand", 2),
    ("hand_knee_foot_pain", "knee", 2),
    ("hand_knee_foot_pain", "ankle_foot", 2),
    ("cartilage", "knee", 3),
    ("cartilage", "hip", 1),
    ("cartilage", "ankle_foot", 1),
)
# Age at the procedure (mean, sd, lowest, highest) and share of women, by indication.
AGES = {
    "osteoarthritis": (63, 9, 40, 88, 0.6),
    "back_pain": (52, 12, 25, 85, 0.5),
    "rotator_cuff": (55, 10, 30, 80, 0.45),
    "hand_knee_foot_pain": (58, 12, 30, 85, 0.55),
    "cartilage": (45, 12, 20, 70, 0.45),
}
AGES_DEFAULT = (42, 12, 18, 75, 0.45)
TARGETS = {
    ("rotator_cuff", "shoulder"): "supraspinatus tendon",
    ("back_pain", "lumbar_spine"): "L4-L5 facet joints",
    ("knee_ligament", "knee"): "medial collateral ligament",
    ("patellar_tendonitis", "knee"): "proximal patellar tendon",
    ("tendon_injury", "knee"): "quadriceps tendon",
    ("tendon_injury", "shoulder"): "long head of the biceps tendon",
    ("tendon_injury", "ankle_foot"): "Achilles tendon",
    ("tendon_injury", "hip"): "gluteus medius tendon",
    ("tendon_injury", "elbow"): "common extensor tendon",
    ("hand_knee_foot_pain", "ankle_foot"): "plantar fascia",
}
JOINTS = {
    "knee": "knee joint (intra-articular)",
    "hip": "hip joint (intra-articular)",
    "shoulder": "glenohumeral joint",
    "ankle_foot": "ankle joint",
    "wrist_hand": "first carpometacarpal joint",
    "hamstring": "proximal hamstring tendon",
    "elbow": "common extensor tendon",
    "lumbar_spine": "L4-L5 facet joints",
}
REHAB = {
    "knee": "Crutches 48 hours, then walking; no NSAIDs for 2 weeks; physical therapy from week 2.",
    "hip": "Walking as comfortable with a cane for a week; no NSAIDs for 2 weeks; physical therapy from week 2.",
    "lumbar_spine": "Walking from the same day; no lifting over 10 lb for 2 weeks; no NSAIDs for 2 weeks.",
}
REHAB_DEFAULT = "Relative rest for 1 week; no NSAIDs for 2 weeks; loading programme with the physiotherapist."
# (name, weight, device, kit, platelet factor, white cells vs blood, red cells, blood drawn mL, PRP made mL)
PRP_KINDS = (
    ("single-spin, leukocyte-poor", 45, "Centrifuge X", "ACP kit", (1.3, 2.2), (0.05, 0.25), (0.01, 0.1), 13.5, (4, 6)),
    ("double-spin", 35, "Centrifuge X", "Double-spin PRP kit", (3.0, 5.5), (0.1, 0.4), (0.05, 0.3), 27.0, (3, 6)),
    ("leukocyte-rich", 20, "Centrifuge Y", "Buffy-coat PRP kit", (4.0, 7.0), (1.5, 3.0), (0.3, 1.0), 54.0, (5, 8)),
)
FIRST_NAMES = {
    "female": (
        "Alice", "Beatriz", "Carol", "Diana", "Emma", "Fatima", "Gloria", "Hana", "Ines", "Joan", "Keiko",
        "Laura", "Maria", "Nadia", "Olivia", "Priya", "Rosa", "Sofia", "Tara", "Valeria", "Wendy", "Yolanda",
    ),
    "male": (
        "Aaron", "Bruno", "Carlos", "David", "Eduardo", "Frank", "George", "Hiro", "Ivan", "James", "Kevin",
        "Luis", "Miguel", "Nathan", "Omar", "Paul", "Raj", "Samuel", "Thomas", "Victor", "William", "Xavier",
    ),
}  # fmt: skip
# Near the two offices (Los Angeles and Encino): (city, ZIP code, area code).
PLACES = (
    ("Los Angeles", "90012", "213"),
    ("Los Angeles", "90033", "323"),
    ("Los Angeles", "90064", "310"),
    ("Culver City", "90232", "310"),
    ("Santa Monica", "90401", "310"),
    ("Glendale", "91203", "818"),
    ("Encino", "91316", "818"),
    ("Encino", "91436", "818"),
    ("Sherman Oaks", "91403", "818"),
    ("Van Nuys", "91401", "818"),
)
# (kind, weight, grades, onset days after, harvest, injection, product relatedness, description, action)
R = AdverseEvent.Relatedness
ADVERSE_KINDS = (
    (
        "post_injection_flare", 55, (1, 1, 1, 1, 1, 2), (0, 3), R.UNRELATED, R.PROBABLE, R.POSSIBLE,
        "Aching and stiffness in the injected area for a few days.", "Ice, rest and acetaminophen; NSAIDs avoided.",
    ),
    (
        "harvest_site_pain", 30, (1, 1, 1, 1, 2), (0, 2), R.DEFINITE, R.UNRELATED, R.UNRELATED,
        "Soreness at the harvest site, worse sitting.", "Ice and acetaminophen.",
    ),
    (
        "haematoma", 8, (1, 1, 2), (0, 1), R.PROBABLE, R.UNLIKELY, R.UNRELATED,
        "Bruising and swelling at the harvest site.", "Compression and ice; checked at the follow-up visit.",
    ),
    (
        "allergic_reaction", 4, (1, 2), (0, 0), R.UNRELATED, R.POSSIBLE, R.UNLIKELY,
        "Itching and a rash around the injection site (local anaesthetic suspected).", "Oral antihistamine.",
    ),
    (
        "infection", 2, (2, 2, 3), (3, 10), R.UNLIKELY, R.PROBABLE, R.POSSIBLE,
        "Redness, warmth and fever after the injection.", "Antibiotics; intravenous in hospital if grade 3.",
    ),
    (
        "nerve_injury", 1, (2,), (0, 1), R.PROBABLE, R.UNRELATED, R.UNRELATED,
        "Numbness over the buttock after the harvest.", "Reassurance; resolved over weeks.",
    ),
)  # fmt: skip
PRP_WEIGHTS = [kind[1] for kind in PRP_KINDS]
# Spun once (True) or twice.
SPINS = {True: [{"g": 1500, "minutes": 10}], False: [{"g": 1500, "minutes": 10}, {"g": 3000, "minutes": 5}]}
AGENTS = ["acd_a", "heparin", "saline"]
ACTIVATED_AGENTS = ["acd_a", "heparin", "calcium_chloride", "saline"]


class RegistryExists(Exception):
    """The registry of this seed is on file already: a second one would repeat its MRNs and public ids."""


@dataclass(frozen=True, slots=True)
class RegistryCounts:
    """How many rows of each kind the registry made."""

    patients: int = 0
    episodes: int = 0
    appointments: int = 0
    procedures: int = 0
    adverse_events: int = 0
    conversions: int = 0
    follow_ups: int = 0
    completed: int = 0
    missed: int = 0
    open: int = 0
    scheduled: int = 0
    responses: int = 0
    scores: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{getattr(self, f.name)} {f.name.replace('_', ' ')}" for f in fields(self))


def synthetic_patients() -> "models.QuerySet[Patient]":
    return Patient.objects.filter(mrn__startswith=MRN_PREFIX)


def patients_not_synthetic() -> int:
    """Patients on file that the registry did not make (real ones, or demo ones)."""
    return Patient.objects.exclude(mrn__startswith=MRN_PREFIX).count()


def make_registry(episodes: int, *, seed: int = 1, today: date | None = None) -> RegistryCounts:
    """Make `episodes` treated episodes with their histories (see the module), in one transaction."""
    if episodes < 1:
        raise ValueError("episodes must be at least 1")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be from 0 to {MAX_SEED}")
    zone = ZoneInfo(settings.TIME_ZONE)
    today = today or timezone.localdate(timezone.now(), zone)
    # No translation active: the records' wording is the English source text, and gettext costs nothing.
    with transaction.atomic(), translation.override(None), _big_cache():
        if synthetic_patients().filter(mrn__startswith=f"{MRN_PREFIX}{seed}-").exists():
            raise RegistryExists(f"The registry of seed {seed} is on file already; choose another seed.")
        builder = _Builder(seed=seed, today=today, zone=zone, practice=_practice())
        plans = builder.plan(episodes)
        for start in range(0, len(plans), BLOCK):
            builder.write(plans[start : start + BLOCK])
        _messages_already_due(seed, today, zone)
    return builder.counts()


SYNTHETIC_SKIP = "A synthetic patient: the registry sends no email."


def _messages_already_due(seed: int, today: date, zone: ZoneInfo) -> int:
    """Record each invitation and reminder due before `today` on the open follow-ups, as skipped; how many.

    As the worker would have left them, but without the emails: the worker sends its patients
    only what falls due from `today` on, and none of them is mailed on the day a demo starts.
    """
    opened = FollowUp.objects.filter(
        status=FollowUp.Status.OPEN, episode__patient__mrn__startswith=f"{MRN_PREFIX}{seed}-"
    ).values_list("pk", "opens_on")
    rows = [
        Invitation(
            follow_up_id=pk,
            kind=kind,
            status=Invitation.Status.SKIPPED,
            skip_reason=SYNTHETIC_SKIP,
            claimed_at=schedule.invitation_moment(opens_on + timedelta(days=after), zone),
        )
        for pk, opens_on in opened
        for kind, after in DUE_ON
        if after < (today - opens_on).days
    ]
    Invitation.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- The practice ----------------------------------------------------------------------------------------------


@dataclass
class _Practice:
    physicians: list[Provider]
    offices: list[Office]
    rooms: dict[int, int | None]
    visit: AppointmentType
    # Where each physician works on each weekday (0 Monday): an office's pk.
    works: dict[tuple[int, int], int]
    technician: User | None
    front_desk: User | None
    assistant: User | None


def _practice() -> _Practice:
    """The practice's physicians, offices and procedure visit; a minimal synthetic one where there is none."""
    physicians = list(Provider.objects.filter(kind=Provider.Kind.PHYSICIAN, is_active=True).order_by("pk"))
    if not physicians:
        physicians = [
            Provider.objects.create(name=f"Dr. {first} {LAST_NAME}", kind=Provider.Kind.PHYSICIAN, color=color)
            for first, color in (("Avery", "#2f6f9f"), ("Jordan", "#9f2f4f"))
        ]
    offices = list(Office.objects.filter(is_active=True).order_by("order", "pk"))
    if not offices:
        offices = [
            Office.objects.create(
                name=f"{LAST_NAME} {where}",
                slug=f"synthetic-{where.lower()}",
                street="1 Example Street",
                city=city,
                postal_code=postal_code,
                phone=f"({area}) 555-01{n:02d}",
                order=n,
            )
            for n, (where, city, postal_code, area) in enumerate(
                (("West", "Los Angeles", "90064", "310"), ("Valley", "Encino", "91316", "818"))
            )
        ]
    rooms: dict[int, int | None] = {office.pk: None for office in offices}
    for room in Room.objects.filter(office__in=offices, kind=RoomKind.PROCEDURE, is_active=True).order_by("-pk"):
        rooms[room.office_id] = room.pk
    slug, name, minutes, buffer, online, room_kind, color = next(
        t for t in APPOINTMENT_TYPES if t[0] == "procedure-visit"
    )
    visit, _created = AppointmentType.objects.get_or_create(
        slug=slug,
        defaults={
            "name": name,
            "duration_minutes": minutes,
            "buffer_after_minutes": buffer,
            "bookable_online": online,
            "room_kind": room_kind,
            "color": color,
        },
    )
    works: dict[tuple[int, int], int] = {}
    known = {office.pk for office in offices}
    for hours in WorkingHours.objects.filter(provider__in=physicians).order_by("pk"):
        if hours.office_id in known:
            works.setdefault((hours.provider_id, hours.weekday), hours.office_id)
    for n, physician in enumerate(physicians):
        if not any(provider == physician.pk for provider, _day in works):
            # No hours on file: weekdays, alternating offices, each physician a day apart from the last.
            for weekday in range(5):
                works[physician.pk, weekday] = offices[(weekday + n) % len(offices)].pk

    def staff(role: str) -> User | None:
        return User.objects.filter(role=role, is_active=True).order_by("pk").first()

    return _Practice(
        physicians=physicians,
        offices=offices,
        rooms=rooms,
        visit=visit,
        works=works,
        technician=staff(Role.TECHNICIAN),
        front_desk=staff(Role.FRONT_DESK),
        assistant=staff(Role.PHYSICIAN_ASSISTANT),
    )


class _Calendar:
    """The physicians' procedure visits: two a day where they work, around what the calendars already hold."""

    def __init__(self, practice: _Practice, *, first: date, today: date) -> None:
        self.practice = practice
        self.today = today
        self.zones = {office.pk: ZoneInfo(office.time_zone) for office in practice.offices}
        self.closed = {day for year in range(first.year, today.year + 1) for day, _name in demo_holidays(year)}
        # Days on which something is already there for a provider or a room ("p", pk) / ("r", pk): left alone.
        self.busy: set[tuple[str, int, date]] = set()
        self.taken: set[tuple[str, int, date, int]] = set()
        start = datetime.combine(first - timedelta(days=SEARCH_DAYS + 1), time(0), tzinfo=UTC)
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
        physicians = [p.pk for p in practice.physicians]
        rooms = [pk for pk in practice.rooms.values() if pk is not None]
        for provider_id, room_id, starts_at, ends_at in Appointment.objects.filter(
            models.Q(provider__in=physicians) | models.Q(room__in=rooms),
            status__in=ACTIVE_STATUSES,
            starts_at__lt=end,
            blocks_until__gt=start,
        ).values_list("provider_id", "room_id", "starts_at", "blocks_until"):
            for day in _days(starts_at, ends_at, self.zones[practice.offices[0].pk]):
                self.busy.add(("p", provider_id, day))
                if room_id is not None:
                    self.busy.add(("r", room_id, day))
        for exception in ScheduleException.objects.filter(starts_at__lt=end, ends_at__gt=start):
            for day in _days(exception.starts_at, exception.ends_at, self.zones[practice.offices[0].pk]):
                if exception.provider_id is not None:
                    self.busy.add(("p", exception.provider_id, day))
                elif exception.room_id is not None:
                    self.busy.add(("r", exception.room_id, day))
                elif exception.office_id is not None:
                    self.busy.add(("o", exception.office_id, day))
                else:
                    self.closed.add(day)

    def book(self, physician: Provider, near: date) -> tuple[date, datetime, int, int | None] | None:
        """The free visit nearest `near` (within SEARCH_DAYS, before today): day, start, office, room; or None."""
        for distance in range(SEARCH_DAYS + 1):
            for day in (near - timedelta(days=distance), near + timedelta(days=distance)):
                found = self._free(physician.pk, day)
                if found is not None:
                    return found
        return None

    def _free(self, provider_id: int, day: date) -> tuple[date, datetime, int, int | None] | None:
        office_id = self.practice.works.get((provider_id, day.weekday()))
        if office_id is None or day >= self.today or day in self.closed:
            return None
        room_id = self.practice.rooms.get(office_id)
        if ("p", provider_id, day) in self.busy or ("o", office_id, day) in self.busy:
            return None
        if room_id is not None and ("r", room_id, day) in self.busy:
            return None
        for n, start in enumerate(VISIT_STARTS):
            if ("p", provider_id, day, n) in self.taken or (room_id and ("r", room_id, day, n) in self.taken):
                continue
            self.taken.add(("p", provider_id, day, n))
            if room_id is not None:
                self.taken.add(("r", room_id, day, n))
            return day, datetime.combine(day, start, tzinfo=self.zones[office_id]), office_id, room_id
        return None


def _days(starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> Iterable[date]:
    day, last = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- What each episode will be ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    n: int
    first_name: str
    sex: str
    language: str
    born: date
    place: tuple[str, str, str]
    uuid: str
    pk: int | None = None


@dataclass(slots=True)
class _Plan:
    person: _Person
    indication: str
    site: str
    side: str
    physician: Provider
    day: date
    start: datetime
    office_id: int | None
    room_id: int | None


class _Builder:
    def __init__(self, *, seed: int, today: date, zone: ZoneInfo, practice: _Practice) -> None:
        self.seed = seed
        self.today = today
        self.zone = zone
        self.practice = practice
        # Everything recorded happened before the registry's day began.
        self.cutoff = datetime.combine(today, time(0), tzinfo=zone)
        self.rng = random.Random(seed)
        # Public ids from a stream of their own, so that they never shift what else is drawn.
        self.ids = random.Random(f"uuids-{seed}")
        self.first = today - timedelta(days=round(365.25 * YEARS))
        self.tally: dict[str, int] = {}
        self.db = _Db()
        self.sets = list(InstrumentSet.objects.all())
        self.asked: dict[tuple[str, str, str], list[str]] = {}
        self.pool = _Pool(seed)
        self.scorer = scoring._ChunkScorer(stamp=self.db.datetime(timezone.now()))
        # What every record, episode and visit shares; each one is a copy with its own values (`_fresh`).
        self.templates: dict[type[models.Model], Any] = {
            ProcedureRecord: ProcedureRecord(
                status=ProcedureRecord.Status.SIGNED,
                consent_override_reason=NO_CONSENT,
                anaesthetic="lidocaine 1%",
                anaesthetic_ml=Decimal("10.00"),
                needle_gauge="11 G",
                ml_per_draw=Decimal("10.00"),
                harvest_anticoagulant="heparin",
                timeout_identifiers=["full_name", "date_of_birth"],
                timeout_site_side_confirmed=True,
                timeout_consent_confirmed=True,
                timeout_allergies_reviewed=True,
                timeout_anticoagulants_reviewed=True,
                blood_anticoagulant="acd_a",
                cultured_or_expanded=False,
                signed_meaning=str(DEFAULT_MEANING),
            ),
            Injection: Injection(carrier="none"),
            Episode: Episode(),
            Appointment: Appointment(),
        }
        self.tables = {
            model: _Table(model, columns)
            for model, columns in (
                (Patient, _PATIENT),
                (Episode, _EPISODE),
                (Appointment, _APPOINTMENT),
                (ProcedureRecord, None),
                (Injection, None),
                (AdverseEvent, _ADVERSE_EVENT),
                (SurgeryConversion, _CONVERSION),
                (FollowUp, _FOLLOW_UP),
                (Response, _RESPONSE),
            )
        }

    def counts(self) -> RegistryCounts:
        return RegistryCounts(**self.tally)

    def count(self, name: str, n: int = 1) -> None:
        self.tally[name] = self.tally.get(name, 0) + n

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def hex_id(self) -> str:
        """A version 4 uuid as its 32 hex digits: SQLite stores that, PostgreSQL reads it."""
        bits = self.ids.getrandbits(128) & ~(0xF000 << 64 | 0xC000 << 48) | 0x4000 << 64 | 0x8000 << 48
        return f"{bits:032x}"

    # --- Phase 1: who, what and when, for every episode (small; the histories are drawn block by block)

    def plan(self, episodes: int) -> list[_Plan]:
        rng = self.rng
        calendar = _Calendar(self.practice, first=self.first, today=self.today)
        weights = [case[2] for case in CASES]
        plans: list[_Plan] = []
        n = 0
        while len(plans) < episodes:
            indication, site, _weight = rng.choices(CASES, weights)[0]
            physician = rng.choice(self.practice.physicians)
            near = self._procedure_day(rng)
            person = self._person(n, indication, near, rng)
            n += 1
            plans.append(self._episode(person, indication, site, physician, near, calendar, rng))
            if len(plans) < episodes and rng.random() < SECOND_EPISODE:
                later = near + timedelta(days=rng.randint(60, 400))
                if later < self.today - timedelta(days=1):
                    if rng.random() < 0.5 and site not in ("lumbar_spine", "hamstring"):
                        again = (indication, site)
                    else:
                        again = rng.choices(CASES, weights)[0][:2]
                    plans.append(self._episode(person, *again, physician, later, calendar, rng))
        # Written in the order they happened, as a practice's rows are.
        plans.sort(key=lambda plan: plan.start)
        return plans

    def _procedure_day(self, rng: random.Random) -> date:
        # More procedures lately: the density grows linearly to twice the first year's.
        x = math.sqrt(1 + 3 * rng.random()) - 1
        days = (self.today - self.first).days
        day = self.first + timedelta(days=min(days - 1, int(x * days)))
        return _weekday(day, before=self.today)

    def _person(self, n: int, indication: str, day: date, rng: random.Random) -> _Person:
        mean, sd, low, high, women = AGES.get(indication, AGES_DEFAULT)
        sex = "female" if rng.random() < women else "male"
        age = min(high, max(low, rng.gauss(mean, sd)))
        return _Person(
            n=n,
            first_name=rng.choice(FIRST_NAMES[sex]),
            sex=sex if rng.random() > 0.01 else Patient.Sex.UNKNOWN,
            language="es" if rng.random() < 1 / 6 else "en",
            born=day - timedelta(days=round(age * 365.25)),
            place=rng.choice(PLACES),
            uuid=self.hex_id(),
        )

    def _episode(
        self,
        person: _Person,
        indication: str,
        site: str,
        physician: Provider,
        near: date,
        calendar: _Calendar,
        rng: random.Random,
    ) -> _Plan:
        side = "midline" if site == "lumbar_spine" else rng.choices(("left", "right", "bilateral"), (47, 47, 6))[0]
        booked = calendar.book(physician, near)
        if booked is None:
            # The physician's calendar is full around then: a record with no visit linked.
            day, start, office_id, room_id = near, datetime.combine(near, time(10), tzinfo=self.zone), None, None
        else:
            day, start, office_id, room_id = booked
        return _Plan(person, indication, site, side, physician, day, start, office_id, room_id)

    # --- Phase 2: each block's rows

    def write(self, plans: Sequence[_Plan]) -> None:
        rows: dict[type[models.Model], list[list[Any]]] = {model: [] for model in self.tables}
        scored: list[tuple[Any, ...]] = []
        db = self.db
        # A patient is written with their first episode (plans come in time order).
        new: dict[int, tuple[_Person, datetime]] = {}
        for plan in plans:
            if plan.person.pk is None and plan.person.n not in new:
                new[plan.person.n] = (plan.person, plan.start)
        for (person, first), pk in zip(new.values(), self.tables[Patient].ids(len(new)), strict=True):
            person.pk = pk
            rows[Patient].append(self._patient_row(person, first))
        episode_ids = self.tables[Episode].ids(len(plans))
        record_ids = self.tables[ProcedureRecord].ids(len(plans))
        injection_ids = self.tables[Injection].ids(len(plans))
        appointment_ids = iter(self.tables[Appointment].ids(sum(1 for p in plans if p.office_id is not None)))
        histories = []
        for plan, episode_id, record_id, injection_id in zip(
            plans, episode_ids, record_ids, injection_ids, strict=True
        ):
            # The episode opened at the candidacy assessment; the procedure is signed 100 minutes into the visit.
            opened = plan.start - timedelta(days=self.rng.randint(20, 90), hours=self.rng.randint(0, 5))
            signed_at = plan.start + timedelta(minutes=100)
            history = _History.draw(plan, self.rng, self.today, self.db, opened=opened, signed_at=signed_at)
            histories.append((plan, episode_id, history))
            episode = _fresh(self.templates[Episode], id=episode_id, uuid=self.uuid())
            rows[Episode].append(
                [
                    episode_id,
                    db.uuid(episode.uuid),
                    plan.person.pk,
                    plan.indication,
                    plan.site,
                    plan.side,
                    plan.physician.pk,
                    Episode.Status.TREATED,
                    db.datetime(opened),
                    db.datetime(signed_at),
                ]
            )
            appointment = None
            if plan.office_id is not None:
                appointment = _fresh(self.templates[Appointment], id=next(appointment_ids), uuid=self.uuid())
                rows[Appointment].append(self._appointment_row(plan, appointment, opened))
            record, injection = self._record(plan, episode, appointment, record_id, injection_id, history)
            rows[ProcedureRecord].append(self.tables[ProcedureRecord].row_of(record))
            rows[Injection].append(self.tables[Injection].row_of(injection))
            event = self._adverse_event(plan, episode_id, record)
            if event is not None:
                rows[AdverseEvent].append(event)
            if history.surgery is not None:
                conversion = self._conversion(plan, episode_id, history.surgery)
                if conversion is not None:
                    rows[SurgeryConversion].append(conversion)
        follow_up_rows = []
        for plan, episode_id, history in histories:
            for visit in history.visits:
                follow_up_rows.append((plan, episode_id, history, visit))
        follow_up_ids = self.tables[FollowUp].ids(len(follow_up_rows))
        answered = []
        for (plan, episode_id, history, visit), follow_up_id in zip(follow_up_rows, follow_up_ids, strict=True):
            rows[FollowUp].append(self._follow_up_row(follow_up_id, episode_id, history, visit))
            self.count(str(visit.status))
            if visit.status == FollowUp.Status.COMPLETED:
                for code in self._asked(plan, visit.window.timepoint):
                    answered.append((plan, episode_id, history, visit, follow_up_id, code))
        response_ids = self.tables[Response].ids(len(answered))
        for (plan, episode_id, history, visit, follow_up_id, code), response_id in zip(
            answered, response_ids, strict=True
        ):
            text = self.pool.text(code, history.level(code, visit.window.timepoint), self.rng)
            rows[Response].append(
                [
                    response_id,
                    self.hex_id(),
                    follow_up_id,
                    code,
                    text,
                    plan.person.language,
                    visit.mode,
                    Response.Status.SUBMITTED,
                    visit.db_started,
                    visit.db_completed,
                    self.practice.front_desk.pk
                    if visit.mode == Response.Mode.PHONE and self.practice.front_desk
                    else None,
                ]
            )
            scored.append((response_id, code, text, episode_id, str(visit.window.timepoint)))
        scores = self.scorer.rows(scored)
        with connection.cursor() as cursor:
            for model, table in self.tables.items():
                table.insert(cursor, rows[model])
            scoring._store_new_scores(cursor, scores)
        self.count("patients", len(rows[Patient]))
        self.count("episodes", len(rows[Episode]))
        self.count("appointments", len(rows[Appointment]))
        self.count("procedures", len(rows[ProcedureRecord]))
        self.count("adverse_events", len(rows[AdverseEvent]))
        self.count("conversions", len(rows[SurgeryConversion]))
        self.count("follow_ups", len(rows[FollowUp]))
        self.count("responses", len(rows[Response]))
        self.count("scores", len(scores))

    def _asked(self, plan: _Plan, timepoint: str) -> list[str]:
        key = (plan.indication, plan.site, timepoint)
        if key not in self.asked:
            self.asked[key] = instruments_for(
                Episode(indication=plan.indication, site=plan.site), timepoint, sets=self.sets
            )
        return self.asked[key]

    def _patient_row(self, person: _Person, first: datetime) -> list[Any]:
        db = self.db
        # The chart opens when the first consultation is booked.
        created = first - timedelta(days=100)
        city, postal_code, area = person.place
        return [
            person.pk,
            person.uuid,
            f"{MRN_PREFIX}{self.seed}-{person.n:07d}",
            person.first_name,
            LAST_NAME,
            person.born,
            person.sex,
            f"{person.first_name.lower()}.{self.seed}.{person.n}@{EMAIL_DOMAIN}",
            f"({area}) 555-01{person.n % 100:02d}",
            "",
            city,
            "CA",
            postal_code,
            person.language,
            db.datetime(created),
            db.datetime(created),
        ]

    def _appointment_row(self, plan: _Plan, appointment: Appointment, booked: datetime) -> list[Any]:
        db = self.db
        visit = self.practice.visit
        ends = plan.start + visit.duration
        return [
            appointment.pk,
            db.uuid(appointment.uuid),
            plan.office_id,
            plan.physician.pk,
            plan.room_id,
            visit.pk,
            plan.person.pk,
            db.datetime(plan.start),
            db.datetime(ends),
            db.datetime(plan.start + visit.occupies),
            AppointmentStatus.COMPLETED,
            plan.indication,
            Appointment.Source.STAFF,
            db.datetime(booked),
            db.datetime(ends),
        ]

    def _record(
        self,
        plan: _Plan,
        episode: Episode,
        appointment: Appointment | None,
        record_id: int,
        injection_id: int,
        history: "_History",
    ) -> tuple[ProcedureRecord, Injection]:
        """The day's record as the staff's sections fill it, classified and signed as sign-off does.

        Every visit harvests bone marrow (sign-off asks for the harvest): BMAC and PRP, as the practice does.
        """
        rng = self.rng
        at = plan.start
        doctor = plan.physician.user_id
        tech = self.practice.technician.pk if self.practice.technician else None
        label = f"BMA-{at:%Y-%m%d}-{rng.randint(1, 99):02d}"
        kind, _w, device, kit, factor, white, red, blood_ml, prp_ml = rng.choices(PRP_KINDS, PRP_WEIGHTS)[0]
        activated = rng.random() < 1 / 7
        platelets = _clip(rng.gauss(245, 55), 140, 450)
        wbc = _clip(rng.gauss(6.5, 1.5), 3.5, 11)
        prp_volume = _step(rng.uniform(*prp_ml), 0.5)
        aspirate = rng.choice((30, 60, 60, 60, 90, 120))
        aspirate_tnc = _clip(rng.lognormvariate(math.log(14), 0.35), 4, 45)
        concentrate_volume = _step(rng.uniform(4, 8), 0.5)
        record = _fresh(
            self.templates[ProcedureRecord],
            id=record_id,
            uuid=self.uuid(),
            procedure_date=plan.day,
            consent_override_by_id=doctor,
            started_at=at,
            started_by_id=doctor,
            timeout_at=at + timedelta(minutes=5),
            timeout_by_id=doctor,
            blood_volume_ml=_dec(blood_ml),
            blood_anticoagulant_ml=_dec(blood_ml / 9),
            blood_drawn_at=at + timedelta(minutes=10),
            blood_by_id=tech,
            harvest_site=rng.choices(("posterior_iliac_crest", "anterior_iliac_crest"), (9, 1))[0],
            harvest_side=rng.choice(("left", "right")),
            needle=rng.choice(("trocar", "needle")),
            punctures=max(1, aspirate // 30),
            aspirate_volume_ml=_dec(aspirate),
            harvest_started_at=at + timedelta(minutes=20),
            harvest_ended_at=at + timedelta(minutes=40),
            harvest_sample_label=label,
            harvest_by_id=tech,
            device=device,
            kit=kit,
            kit_lot=f"LOT-{at:%y%m}",
            spins=SPINS[kind == "single-spin, leukocyte-poor"],
            processing_input_ml=_dec(aspirate),
            concentrate_volume_ml=_dec(concentrate_volume),
            prp_volume_ml=_dec(prp_volume),
            activation=Activation.CALCIUM_CHLORIDE if activated else Activation.NONE,
            added_agents=ACTIVATED_AGENTS if activated else AGENTS,
            processing_done_at=at + timedelta(minutes=65),
            processing_by_id=tech,
            baseline_platelets=_dec(round(platelets)),
            baseline_wbc=_dec(wbc),
            baseline_neutrophils=_dec(wbc * rng.uniform(0.5, 0.7)),
            baseline_rbc=_dec(_clip(rng.gauss(4.7, 0.4), 3.6, 5.8)),
            prp_platelets=_dec(round(platelets * rng.uniform(*factor))),
            prp_wbc=_dec(wbc * rng.uniform(*white)),
            prp_neutrophils=_dec(wbc * rng.uniform(*white) * (0.65 if white[0] > 1 else 0.15)),
            prp_rbc=_dec(rng.uniform(*red)),
            aspirate_tnc=_dec(aspirate_tnc),
            concentrate_tnc=_dec(aspirate_tnc * _clip(rng.lognormvariate(math.log(2.3), 0.3), 1.3, 6)),
            cfu_f=_dec(min(600.0, rng.lognormvariate(math.log(110), 0.5))),
            viability_pct=_dec(rng.uniform(92, 99)),
            counts_by_id=tech,
            rehabilitation_protocol=REHAB.get(plan.site, REHAB_DEFAULT),
            signed_at=at + timedelta(minutes=100),
            baseline_override_reason="" if history.baseline_answered else NO_BASELINE,
            updated_at=at + timedelta(minutes=100),
            updated_by_id=doctor,
        )
        record.episode = episode
        record.appointment = appointment
        record.signed_by = plan.physician
        if plan.site == "lumbar_spine":
            guidance = "fluoroscopy"
        elif plan.site == "hip":
            guidance = rng.choices(("fluoroscopy", "ultrasound"), (4, 6))[0]
        else:
            guidance = rng.choices(("ultrasound", "none"), (9, 1))[0]
        injection = _fresh(
            self.templates[Injection],
            id=injection_id,
            uuid=self.uuid(),
            record_id=record_id,
            target_structure=TARGETS.get((plan.indication, plan.site), JOINTS.get(plan.site, "injected structure")),
            site=plan.site,
            side=plan.side,
            guidance=guidance,
            concentrate_ml=_dec(min(concentrate_volume, _step(rng.uniform(3, 6), 0.5))),
            prp_ml=_dec(max(1.0, _step(prp_volume * rng.uniform(0.6, 1.0), 0.5))),
            activation_agent=Activation.CALCIUM_CHLORIDE if activated else "none",
            sample_label=label,
            injected_at=at + timedelta(minutes=80),
            recorded_by_id=doctor,
        )
        for name, value in product.stored_fields(product.classify(record, [injection])).items():
            setattr(record, name, value)
        record.signed_content = signing.record_content(record, [injection])
        record.signed_sha256 = signing.digest(record.signed_content)
        return record, injection

    def _adverse_event(self, plan: _Plan, episode_id: int, record: ProcedureRecord) -> list[Any] | None:
        rng = self.rng
        if rng.random() >= ADVERSE_EVENT:
            return None
        kind, _w, grades, onset, harvest, injection, product_, description, action = rng.choices(
            ADVERSE_KINDS, [k[1] for k in ADVERSE_KINDS]
        )[0]
        grade = rng.choice(grades)
        onset_date = plan.day + timedelta(days=rng.randint(*onset))
        reported = datetime.combine(onset_date + timedelta(days=rng.randint(0, 2)), time(11), tzinfo=self.zone)
        if reported >= self.cutoff:
            return None
        judged = reported + timedelta(days=rng.randint(1, 5), hours=5)
        doctor = plan.physician.user_id
        reporter = self.practice.assistant.pk if self.practice.assistant else doctor
        adjudicated = judged < self.cutoff
        recovered = onset_date < self.today - timedelta(days=30)
        db = self.db
        return [
            None,
            self.hex_id(),
            episode_id,
            record.pk,
            kind,
            "",
            description,
            onset_date,
            grade,
            grade >= 3,
            harvest if adjudicated else R.NOT_ASSESSED,
            injection if adjudicated else R.NOT_ASSESSED,
            product_ if adjudicated else R.NOT_ASSESSED,
            action,
            AdverseEvent.Outcome.RECOVERED if recovered else AdverseEvent.Outcome.RECOVERING,
            db.datetime(reported),
            reporter,
            db.datetime(judged) if adjudicated else None,
            doctor if adjudicated else None,
        ]

    def _conversion(self, plan: _Plan, episode_id: int, surgery: date) -> list[Any] | None:
        rng = self.rng
        recorded = datetime.combine(surgery + timedelta(days=rng.randint(2, 30)), time(14), tzinfo=self.zone)
        if recorded >= self.cutoff:
            return None  # the practice has not heard of it yet
        if plan.site == "hip":
            procedure = SurgeryConversion.Procedure.HIP_REPLACEMENT
        else:
            procedure = rng.choices(
                (SurgeryConversion.Procedure.KNEE_REPLACEMENT, SurgeryConversion.Procedure.ARTHROSCOPY), (8, 2)
            )[0]
        front_desk = self.practice.front_desk
        return [
            None,
            self.hex_id(),
            episode_id,
            surgery,
            procedure,
            "",
            SurgeryConversion.Source.STAFF,
            self.db.datetime(recorded),
            front_desk.pk if front_desk else None,
        ]

    def _follow_up_row(self, follow_up_id: int, episode_id: int, history: "_History", visit: "_Visit") -> list[Any]:
        window = visit.window
        baseline = window.timepoint == Timepoint.BASELINE
        created = history.opened if baseline else history.signed_at
        completed = visit.status == FollowUp.Status.COMPLETED
        return [
            follow_up_id,
            self.hex_id(),
            episode_id,
            str(window.timepoint),
            window.target,
            window.opens,
            window.closes,
            visit.status,
            visit.db_completed,
            False if completed and not baseline else None,
            schedule.VERSION,
            self.db.datetime(created),
        ]


# --- An episode's history ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Visit:
    """One follow-up: its window, what became of it and, when answered, when and how."""

    window: schedule.Window
    status: str
    mode: str = Response.Mode.ONLINE
    db_started: Any = None
    db_completed: Any = None


@dataclass(slots=True)
class _History:
    """How an episode went: the patient's wellness at each time point, the follow-ups answered, any surgery."""

    kind: str
    wellness: dict[str, float]
    surgery: date | None
    visits: list[_Visit]
    opened: datetime
    signed_at: datetime

    @property
    def baseline_answered(self) -> bool:
        return self.visits[0].status == FollowUp.Status.COMPLETED

    def level(self, code: str, timepoint: str) -> float:
        if code in TRANSITION:
            # Change since treatment: none or worse is the bottom box, 0.4 better the top ones.
            return _clip(0.12 + 2.0 * (self.wellness[timepoint] - self.wellness[Timepoint.BASELINE]))
        return self.wellness[timepoint]

    @classmethod
    def draw(
        cls, plan: _Plan, rng: random.Random, today: date, db: "_Db", *, opened: datetime, signed_at: datetime
    ) -> "_History":
        baseline = _clip(rng.gauss(0.36, 0.10), 0.08, 0.70)
        roll = rng.random()
        fade = 0.0
        if roll < 0.6:
            kind, gain, onset = "better", (1 - baseline) * rng.uniform(0.25, 0.6), rng.uniform(1.5, 4.0)
            if plan.indication == Indication.OSTEOARTHRITIS and rng.random() < 0.4:
                fade = rng.uniform(0.2, 0.45)  # the effect wears off in the second year
        elif roll < 0.9:
            kind, gain, onset = "same", rng.gauss(0, 0.03), 2.0
        else:
            kind, gain, onset = "worse", -rng.uniform(0.05, 0.18), rng.uniform(2.0, 8.0)
        wellness = {Timepoint.BASELINE.value: _clip(baseline + rng.gauss(0, 0.02))}
        for timepoint, months in MONTHS.items():
            effect = gain * (1 - math.exp(-months / onset))
            if months > 12:
                effect *= 1 - fade * (months - 12) / 12
            wellness[timepoint] = _clip(baseline + effect + rng.gauss(0, 0.035))
        surgery = None
        if (plan.indication, plan.site) in SURGICAL:
            chance, roll = CONVERSION_BY_24M[kind], rng.random()
            after = rng.uniform(3, 24) if roll < chance else rng.uniform(24, 36) if roll < chance * 1.3 else None
            if after is not None:
                surgery = plan.day + timedelta(days=round(after * 30.44))
        # Engagement: some patients answer everything, some little; those who got worse, less.
        engagement = rng.gauss(0, 0.9) - (0.4 if kind == "worse" else 0.0)
        history = cls(kind, wellness, surgery, [], opened, signed_at)
        zone = plan.start.tzinfo
        assert isinstance(zone, ZoneInfo)
        for window in _windows(plan.day):
            history.visits.append(_visit(window, plan.day, surgery, engagement, today, zone, rng, db))
        return history


@functools.lru_cache(maxsize=2048)
def _windows(procedure: date) -> tuple[schedule.Window, ...]:
    """The schedule's windows (a few episodes share each procedure day)."""
    return (schedule.baseline_window(procedure), *schedule.follow_up_windows(procedure))


def _visit(
    window: schedule.Window,
    procedure: date,
    surgery: date | None,
    engagement: float,
    today: date,
    zone: ZoneInfo,
    rng: random.Random,
    db: "_Db",
) -> _Visit:
    chance = 1 / (1 + math.exp(-(math.log(ANSWERED[window.timepoint] / (1 - ANSWERED[window.timepoint])) + engagement)))
    answers = rng.random() < chance
    mode = Response.Mode.ONLINE
    if window.timepoint == Timepoint.BASELINE:
        day = procedure - timedelta(days=rng.randint(1, 21))
        hour = rng.randint(8, 21)
    else:
        # After the invitation (day 0), either reminder (days 7 and 14), or a call from the list (day 17 on).
        wait = rng.choices(((0, 3), (7, 9), (14, 16), (17, 27)), (55, 20, 12, 13))[0]
        day = min(window.closes, window.opens + timedelta(days=rng.randint(*wait)))
        if wait[0] >= schedule.CALL_LIST_DAYS:
            mode, hour = Response.Mode.PHONE, rng.randint(9, 16)
        else:
            hour = rng.choice((8, 9, 10, 12, 13, 17, 18, 19, 19, 20, 20, 21, 21, 22))
    if answers and day < today and (surgery is None or day < surgery):
        completed = datetime.combine(day, time(hour, rng.randint(0, 59)), tzinfo=zone)
        started = completed - timedelta(minutes=rng.randint(3, 15))
        return _Visit(window, FollowUp.Status.COMPLETED, mode, db.datetime(started), db.datetime(completed))
    if window.closes < today:
        return _Visit(window, FollowUp.Status.MISSED)
    if window.opens <= today:
        return _Visit(window, FollowUp.Status.OPEN)
    return _Visit(window, FollowUp.Status.SCHEDULED)


class _Pool:
    """Answers per instrument at LEVELS + 1 levels of wellness, VARIANTS ways each, as stored JSON text."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(f"answers-{seed}")
        self.texts: dict[str, list[list[str]]] = {}

    def text(self, code: str, wellness: float, rng: random.Random) -> str:
        if code not in self.texts:
            self.texts[code] = [
                [json.dumps(answers_at(code, level / LEVELS, self.rng)) for _variant in range(VARIANTS)]
                for level in range(LEVELS + 1)
            ]
        return self.texts[code][round(wellness * LEVELS)][rng.randrange(VARIANTS)]


# --- Writing rows ------------------------------------------------------------------------------------------


class _Db:
    """Values as the database driver takes them (what the fields' own preparation gives)."""

    def __init__(self) -> None:
        self.native_uuid = connection.features.has_native_uuid_field
        self.datetime: Callable[[datetime], Any] = _same
        if connection.vendor == "sqlite":
            # As `adapt_datetimefield_value` writes an aware datetime, at a third of its cost.
            zone = connection.timezone
            self.datetime = lambda value: value.astimezone(zone).replace(tzinfo=None).isoformat(" ")

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.native_uuid else value.hex


class _Table:
    """One model's rows, written by executemany (PostgreSQL: COPY) with ids reserved beforehand.

    `columns` are the ones the builder gives, after the id, in order; every other field takes
    its default (so a field added later with a default needs nothing here). With no `columns`,
    rows come from model instances (`row_of`).
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str] | None) -> None:
        self.model = model
        self.name = model._meta.db_table
        concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
        given = list(columns) if columns is not None else [f.attname for f in concrete]
        known = {f.attname for f in concrete}
        if set(given) - known:
            raise ImproperlyConfigured(f"{model.__name__} has no field {sorted(set(given) - known)}")
        self.tail: list[Any] = []
        rest = [f for f in concrete if f.attname not in given]
        for model_field in rest:
            if model_field.unique or not (
                model_field.has_default() or model_field.null or model_field.empty_strings_allowed
            ):
                raise ImproperlyConfigured(f"make_registry gives no value for {model.__name__}.{model_field.name}")
            self.tail.append(_prepare(model_field, model_field.get_default()))
        self.columns = ["id", *given, *(f.attname for f in rest)]
        by_name = {f.attname: f for f in concrete}
        self.preparers = [(name, _preparer(by_name[name])) for name in given]

    def ids(self, n: int) -> list[int]:
        """`n` ids nobody else will take (PostgreSQL: from the sequence; SQLite: after the last, under our lock)."""
        if n == 0:
            return []
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [self.name, n]
                )
                return [row[0] for row in cursor.fetchall()]
            if connection.vendor != "sqlite":
                raise ImproperlyConfigured("make_registry writes to SQLite and PostgreSQL only")
            # The transaction is IMMEDIATE (settings): it holds the write lock, so no other writer takes ids meanwhile.
            table = connection.ops.quote_name(self.name)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            last = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [self.name])
            found = cursor.fetchone()
            start = max(last, found[0] if found else 0) + 1
            return list(range(start, start + n))

    def row_of(self, instance: models.Model) -> list[Any]:
        row = [instance.pk]
        for name, prepare in self.preparers:
            value = getattr(instance, name)
            row.append(value if prepare is None or value is None else prepare(value))
        return row

    def insert(self, cursor: Any, rows: list[list[Any]]) -> None:
        if not rows:
            return
        if rows[0][0] is None:
            for row, pk in zip(rows, self.ids(len(rows)), strict=True):
                row[0] = pk
        tail = self.tail
        table = connection.ops.quote_name(self.name)
        columns = ", ".join(connection.ops.quote_name(name) for name in self.columns)
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([*row, *tail])
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                [[*row, *tail] for row in rows],
            )


def _same(value: Any) -> Any:
    return value


def _preparer(model_field: models.Field) -> Callable[[Any], Any] | None:
    """How one field's Python value becomes the driver's (None: as it is)."""
    if isinstance(model_field, models.JSONField):
        return json.dumps
    if isinstance(model_field, models.DateTimeField):
        return _Db().datetime
    if isinstance(model_field, models.UUIDField) and not connection.features.has_native_uuid_field:
        return lambda value: value.hex
    return None


def _prepare(model_field: models.Field, value: Any) -> Any:
    prepare = _preparer(model_field)
    return value if prepare is None or value is None else prepare(value)


class _big_cache:
    """SQLite: a 256 MB page cache while building (indexes of a million rows do not fit the default 2 MB)."""

    def __enter__(self) -> None:
        self.before = None
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self.before = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size = -262144")

    def __exit__(self, *exc: object) -> None:
        if self.before is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(self.before)}")


_PATIENT = (
    "uuid", "mrn", "first_name", "last_name", "date_of_birth", "sex", "email", "phone", "street", "city", "state",
    "postal_code", "preferred_language", "created_at", "updated_at",
)  # fmt: skip
_EPISODE = ("uuid", "patient_id", "indication", "site", "side", "physician_id", "status", "opened_at", "updated_at")
_APPOINTMENT = (
    "uuid", "office_id", "provider_id", "room_id", "appointment_type_id", "patient_id", "starts_at", "ends_at",
    "blocks_until", "status", "area_of_concern", "source", "created_at", "updated_at",
)  # fmt: skip
_ADVERSE_EVENT = (
    "uuid", "episode_id", "procedure_id", "kind", "kind_other", "description", "onset_date", "grade", "serious",
    "related_to_harvest", "related_to_injection", "related_to_product", "action", "outcome", "reported_at",
    "reported_by_id", "adjudicated_at", "adjudicated_by_id",
)  # fmt: skip
_CONVERSION = (
    "uuid", "episode_id", "surgery_date", "procedure", "details", "source", "recorded_at", "recorded_by_id",
)  # fmt: skip
_FOLLOW_UP = (
    "uuid", "episode_id", "timepoint", "target_date", "opens_on", "closes_on", "status", "completed_at",
    "surgery_reported", "schedule_version", "created_at",
)  # fmt: skip
_RESPONSE = (
    "uuid", "follow_up_id", "instrument", "answers", "language", "mode", "status", "started_at", "submitted_at",
    "entered_by_id",
)  # fmt: skip


# --- Small helpers ----------------------------------------------------------------------------------------------


def _fresh(template: Any, **values: Any) -> Any:
    """A copy of `template` (a model instance) with `values` (by attribute name): a tenth of a new instance's cost."""
    instance = template.__class__.__new__(template.__class__)
    instance.__dict__.update(template.__dict__)
    instance.__dict__.update(values)
    instance._state = ModelState()
    return instance


def _clip(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(high, max(low, value))


def _dec(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _step(value: float, step: float) -> float:
    return round(value / step) * step


def _weekday(day: date, *, before: date) -> date:
    """The nearest weekday (Saturday to the Friday, Sunday to the Monday), and before `before`."""
    if day.weekday() == 5:
        day -= timedelta(days=1)
    elif day.weekday() == 6:
        day += timedelta(days=1)
    while day >= before or day.weekday() >= 5:
        day -= timedelta(days=1)
    return day

"""Reads of the procedures domain: a record with everything its page shows, its checks, adverse events, safety counts.

Plain functions; each states how many queries it asks, so the pages built on them ask a
fixed number whatever the number of rows.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Case, CharField, Count, Prefetch, Q, QuerySet, Value, When

from patients.consent import valid_consent
from patients.models import Allergy, ConsentSignature, Episode, Medication, Patient
from procedures import guardrails, product
from procedures.models import AdverseEvent, Injection, ProcedureAmendment, ProcedureRecord
from procedures.product import MiboLine, Product

# What every procedure page reads with the record, in one query (the injections and amendments in one more each).
RECORD_RELATED = (
    "episode__patient",
    "episode__physician",
    "episode__candidacy",
    "appointment__office",
    "consent__document",
    "consent_override_by",
    "started_by",
    "timeout_by",
    "blood_by",
    "harvest_by",
    "processing_by",
    "counts_by",
    "signed_by",
    "updated_by",
)


def records() -> QuerySet[ProcedureRecord]:
    """Procedure records with what their pages show: the record and its relations in one query, plus
    the injections (with who recorded them) and the amendments (with who made them) in one query each."""
    return ProcedureRecord.objects.select_related(*RECORD_RELATED).prefetch_related(
        Prefetch("injections", queryset=Injection.objects.select_related("recorded_by").order_by("injected_at", "pk")),
        Prefetch("amendments", queryset=ProcedureAmendment.objects.select_related("amended_by").order_by("pk")),
    )


def episodes() -> QuerySet[Episode]:
    return Episode.objects.select_related("patient", "physician", "candidacy")


def practice_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def record_zone(record: ProcedureRecord) -> ZoneInfo:
    """The zone of the office where the visit is (the practice's zone when no appointment is linked)."""
    if record.appointment is not None:
        return ZoneInfo(record.appointment.office.time_zone)
    return practice_zone()


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def guardrail_facts(record: ProcedureRecord, injections: Sequence[Injection]) -> guardrails.Facts:
    identifiers = record.timeout_identifiers if isinstance(record.timeout_identifiers, list) else []
    agents = record.added_agents if isinstance(record.added_agents, list) else []
    return guardrails.Facts(
        procedure_date=record.procedure_date,
        zone=record_zone(record),
        # The time-out counts once it is saved, with its identifiers.
        identifiers_checked=len(set(identifiers)) if record.timeout_at is not None else 0,
        harvest_started_at=record.harvest_started_at,
        harvest_ended_at=record.harvest_ended_at,
        harvest_label=record.harvest_sample_label,
        cultured_or_expanded=record.cultured_or_expanded,
        added_agents=[str(agent) for agent in agents],
        anticoagulants=[record.blood_anticoagulant, record.harvest_anticoagulant],
        activation=record.activation,
        injections=[
            guardrails.InjectionFacts(
                number=n,
                injected_at=injection.injected_at,
                sample_label=injection.sample_label,
                carrier=injection.carrier,
                activation_agent=injection.activation_agent,
            )
            for n, injection in enumerate(injections, 1)
        ],
    )


def record_check(record: ProcedureRecord, injections: Sequence[Injection]) -> guardrails.Check:
    return guardrails.check(guardrail_facts(record, injections))


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """The consent the record started on, and whether it still holds now (a withdrawal shows here)."""

    signature: ConsentSignature | None
    still_valid: bool
    override_reason: str


def consent_status(record: ProcedureRecord) -> ConsentStatus:
    """Asks the consent check (patients.consent.valid_consent): a few queries, whatever the record."""
    current = valid_consent(record.episode)
    signature = record.consent
    return ConsentStatus(
        signature=signature,
        still_valid=signature is not None and current is not None and current.pk == signature.pk,
        override_reason=record.consent_override_reason,
    )


@dataclass
class RecordView:
    """Everything the record page shows besides the forms."""

    record: ProcedureRecord
    patient: Patient
    injections: list[Injection]
    amendments: list[ProcedureAmendment]
    allergies: list[Allergy]
    flagged_medications: list[Medication]
    consent: ConsentStatus
    check: guardrails.Check
    product: Product
    mibo: list[MiboLine]
    adverse_events: list[AdverseEvent]
    zone: ZoneInfo
    elapsed: str = ""
    sign_off_problems: list[str] = field(default_factory=list)


def record_view(record: ProcedureRecord) -> RecordView:
    """The record page's reads: allergies, medications, the consent check and the adverse events (the record
    itself, its injections and amendments come from `records()`)."""
    from procedures.signing import sign_off_problems

    patient = record.episode.patient
    injections = list(record.injections.all())
    check = record_check(record, injections)
    return RecordView(
        record=record,
        patient=patient,
        injections=injections,
        amendments=list(record.amendments.all()),
        allergies=list(patient.allergies.filter(is_active=True).order_by("substance")),
        flagged_medications=[m for m in patient.medications.filter(is_active=True).order_by("name") if m.is_flagged],
        consent=consent_status(record),
        check=check,
        product=product.classify(record, injections),
        mibo=product.mibo_lines(record, injections),
        adverse_events=list(record.adverse_events.order_by("-onset_date", "pk")),
        zone=record_zone(record),
        elapsed=guardrails.elapsed_label(check.elapsed) if check.elapsed is not None else "",
        sign_off_problems=sign_off_problems(record, injections, check),
    )


def in_progress_record(episode: Episode) -> ProcedureRecord | None:
    return episode.procedures.filter(status=ProcedureRecord.Status.IN_PROGRESS).first()


def todays_appointments(episode: Episode, *, now: datetime) -> list[Any]:
    """The patient's appointments of today (practice zone), for the start page to link the record to one."""
    from scheduling.models import Appointment, AppointmentStatus

    zone = practice_zone()
    today = local_date(now, zone)
    start = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    return list(
        Appointment.objects.filter(
            patient=episode.patient,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("office", "appointment_type", "provider")
        .order_by("starts_at")
    )


# --- Adverse events ------------------------------------------------------------------------------


def adverse_events() -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.select_related(
        "episode__patient", "procedure", "reported_by", "adjudicated_by"
    ).order_by("-onset_date", "pk")


def adverse_events_for_episode(episode: Episode) -> list[AdverseEvent]:
    """The episode's adverse events, newest first: one query (for the episode page)."""
    return list(AdverseEvent.objects.filter(episode=episode).select_related("procedure").order_by("-onset_date", "pk"))


def adverse_events_for_patient(patient: Patient) -> list[AdverseEvent]:
    """Every adverse event in the patient's episodes, newest first: one query (for the chart)."""
    return list(
        AdverseEvent.objects.filter(episode__patient=patient)
        .select_related("episode", "procedure")
        .order_by("-onset_date", "pk")
    )


# --- The safety summary (de-identified) ----------------------------------------------------------

RELATED = "related"
NOT_RELATED = "not_related"
NOT_JUDGED = "not_judged"
GRADES = (1, 2, 3, 4, 5)


@dataclass
class KindRow:
    kind: str
    label: str
    by_grade: list[int]
    total: int


@dataclass
class SafetySummary:
    """Counts only: by kind and grade, serious or not, related or not; and the procedures they are out of."""

    rows: list[KindRow]
    grade_totals: list[int]
    total: int
    serious: int
    not_serious: int
    related: int
    not_related: int
    not_judged: int
    procedures: int
    procedures_with_events: int

    @property
    def per_100_procedures(self) -> float | None:
        return round(self.total * 100 / self.procedures, 1) if self.procedures else None


def _relatedness() -> Case:
    fields = ("related_to_harvest", "related_to_injection", "related_to_product")
    related = Q()
    pending = Q()
    for name in fields:
        related |= Q(**{f"{name}__in": list(AdverseEvent.RELATED)})
        pending |= Q(**{name: AdverseEvent.Relatedness.NOT_ASSESSED})
    return Case(
        When(related, then=Value(RELATED)),
        When(pending, then=Value(NOT_JUDGED)),
        default=Value(NOT_RELATED),
        output_field=CharField(),
    )


def safety_summary() -> SafetySummary:
    """Two queries whatever the number of events: the events grouped, and the signed procedures counted."""
    grouped = (
        AdverseEvent.objects.annotate(relatedness=_relatedness())
        .values("kind", "grade", "serious", "relatedness")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, list[int]] = {kind: [0] * len(GRADES) for kind in AdverseEvent.Kind.values}
    serious = not_serious = 0
    by_relatedness = {RELATED: 0, NOT_RELATED: 0, NOT_JUDGED: 0}
    for row in grouped:
        n = row["n"]
        counts[row["kind"]][row["grade"] - 1] += n
        if row["serious"]:
            serious += n
        else:
            not_serious += n
        by_relatedness[row["relatedness"]] += n
    signed = ProcedureRecord.objects.exclude(status=ProcedureRecord.Status.IN_PROGRESS).aggregate(
        procedures=Count("id", distinct=True),
        with_events=Count("id", filter=Q(adverse_events__isnull=False), distinct=True),
    )
    rows = [
        KindRow(kind=kind, label=str(label), by_grade=counts[kind], total=sum(counts[kind]))
        for kind, label in AdverseEvent.Kind.choices
    ]
    return SafetySummary(
        rows=rows,
        grade_totals=[sum(row.by_grade[i] for row in rows) for i in range(len(GRADES))],
        total=serious + not_serious,
        serious=serious,
        not_serious=not_serious,
        related=by_relatedness[RELATED],
        not_related=by_relatedness[NOT_RELATED],
        not_judged=by_relatedness[NOT_JUDGED],
        procedures=signed["procedures"],
        procedures_with_events=signed["with_events"],
    )

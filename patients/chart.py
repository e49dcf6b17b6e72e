"""Reads of the staff chart: everything the chart page shows about one patient, in a fixed number of queries.

`chart_read` gathers the chart (allergies, medications, history, each episode with its
consent, procedures and adverse events, appointments, intakes, possible duplicates)
whatever the number of episodes and records: each kind is one query, the episodes'
records are prefetched. `next_due` says what an episode waits for.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from patients import consent
from patients.models import (
    Allergy,
    ConsentSignature,
    Episode,
    Intake,
    MedicalHistory,
    Medication,
    Patient,
    Source,
)
from patients.queries import Duplicate, possible_duplicates
from procedures.models import AdverseEvent, ProcedureRecord
from scheduling.models import Appointment, AppointmentStatus

# How many past appointments the chart lists (the most recent); the rest are counted.
PAST_APPOINTMENTS_SHOWN = 10
UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


class ConsentKind(StrEnum):
    VALID = "valid"
    WITHDRAWN = "withdrawn"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ConsentState:
    """An episode's consent as the chart tells it: the signature that holds, or why there is none."""

    kind: ConsentKind
    signature: ConsentSignature | None = None


@dataclass(slots=True)
class EpisodePanel:
    episode: Episode
    consent: ConsentState
    procedures: list[ProcedureRecord]
    adverse_events: list[AdverseEvent]
    next_due: str


@dataclass(slots=True)
class Chart:
    patient: Patient
    age: int
    history: MedicalHistory | None
    allergies: list[Allergy]
    medications: list[Medication]
    episodes: list[EpisodePanel]
    past_appointments: list[Appointment]
    earlier_appointments: int
    next_appointment: Appointment | None
    intakes: list[Intake]
    duplicates: list[Duplicate]
    flagged: list[Medication] = field(default_factory=list)

    @property
    def active_allergies(self) -> list[Allergy]:
        return [allergy for allergy in self.allergies if allergy.is_active]

    @property
    def allergies_in_error(self) -> list[Allergy]:
        return [allergy for allergy in self.allergies if not allergy.is_active]

    @property
    def current_medications(self) -> list[Medication]:
        return [medication for medication in self.medications if medication.is_active]

    @property
    def stopped_medications(self) -> list[Medication]:
        return [medication for medication in self.medications if not medication.is_active]

    @property
    def to_confirm(self) -> int:
        """How many patient-reported entries wait for a clinician."""
        rows: list[Allergy | Medication] = [*self.allergies, *self.medications]
        pending = [row for row in rows if row.is_active and needs_confirming(row)]
        return len(pending) + int(self.history is not None and needs_confirming(self.history))


def age_on(born: date, today: date) -> int:
    """Whole years from `born` to `today` (a 29 February birthday turns a year older on 1 March)."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def needs_confirming(row: Allergy | Medication | MedicalHistory) -> bool:
    """What the patient reported waits for a clinician to confirm it."""
    return row.source == Source.PATIENT and row.confirmed_at is None


def next_due(episode: Episode) -> str:
    """What the episode waits for next, in a few words.

    Reads the episode's status (and, while consented, whether a procedure record is
    open); outcomes (a later issue) will say which follow-up is due.
    """
    status = Episode.Status(episode.status)
    if status == Episode.Status.CANDIDATE:
        return _("Consent to sign")
    if status == Episode.Status.CONSENTED:
        if any(record.status == ProcedureRecord.Status.IN_PROGRESS for record in episode.procedures.all()):
            return _("Procedure: to finish and sign off")
        return _("Procedure")
    if status == Episode.Status.TREATED:
        return _("Follow-ups")
    if status == Episode.Status.WITHDRAWN:
        return _("Nothing: consent was withdrawn")
    return _("Nothing: the episode is closed")


def consent_states(episodes: list[Episode]) -> dict[int, ConsentState]:
    """Each episode's consent, from its prefetched signatures (newest first): one query, for the current versions.

    Each signature's state is `patients.consent`'s own rule (valid: intact, not withdrawn,
    on the current version of its language); a test keeps this in agreement with
    `valid_consent`. Without a valid one, the newest signature withdrawn says "withdrawn".
    """
    signatures = {episode.pk: list(episode.consents.all()) for episode in episodes}
    versions = consent.current_versions() if any(signatures.values()) else {}
    states = {}
    for episode in episodes:
        rows = [
            consent.ConsentRow(signature=s, state=consent._state(s, versions), current_version=None)
            for s in signatures[episode.pk]
        ]
        holding = next((row for row in rows if row.is_valid), None)
        if holding is not None:
            states[episode.pk] = ConsentState(ConsentKind.VALID, holding.signature)
        elif rows and rows[0].state == consent.ConsentRow.WITHDRAWN:
            states[episode.pk] = ConsentState(ConsentKind.WITHDRAWN, rows[0].signature)
        else:
            states[episode.pk] = ConsentState(ConsentKind.NONE)
    return states


def history_of(patient: Patient) -> MedicalHistory | None:
    """The patient's medical history, or None before anyone recorded one."""
    try:
        return patient.medical_history
    except MedicalHistory.DoesNotExist:
        return None


def chart_patients() -> QuerySet[Patient]:
    """The queryset the chart page looks a patient up in: with the medical history and a merged chart's survivor."""
    return Patient.objects.select_related("medical_history__confirmed_by", "merged_into")


def episodes_of(patient: Patient) -> list[Episode]:
    """The patient's episodes, newest first, with their consents, procedures and adverse events: four queries."""
    return list(
        Episode.objects.filter(patient=patient)
        .select_related("physician")
        .prefetch_related(
            Prefetch(
                "consents", queryset=ConsentSignature.objects.select_related("document").order_by("-signed_at", "-pk")
            ),
            Prefetch("procedures", queryset=ProcedureRecord.objects.order_by("-procedure_date", "-started_at")),
            Prefetch("adverse_events", queryset=AdverseEvent.objects.order_by("-onset_date", "-pk")),
        )
        .order_by("-opened_at", "-pk")
    )


def chart_read(*, patient: Patient, now: datetime | None = None) -> Chart:
    """Everything the chart page shows about `patient` (looked up in `chart_patients()`)."""
    now = now or timezone.now()
    history = history_of(patient)
    allergies = list(patient.allergies.select_related("confirmed_by").order_by("-is_active", "substance", "pk"))
    medications = list(patient.medications.select_related("confirmed_by").order_by("-is_active", "name", "pk"))
    episodes = episodes_of(patient)
    consents = consent_states(episodes)
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("office", "provider", "appointment_type")
        .order_by("-starts_at", "-pk")
    )
    past = [appointment for appointment in appointments if appointment.starts_at < now]
    upcoming = [a for a in appointments if a.starts_at >= now and a.status in UPCOMING]
    return Chart(
        patient=patient,
        age=age_on(patient.date_of_birth, timezone.localdate(now)),
        history=history,
        allergies=allergies,
        medications=medications,
        # What matters most for bleeding first (anticoagulants, antiplatelets, NSAIDs), then by name.
        flagged=sorted(
            (medication for medication in medications if medication.is_active and medication.is_flagged),
            key=lambda medication: Medication.FLAGGED.index(Medication.DrugClass(medication.drug_class)),
        ),
        episodes=[
            EpisodePanel(
                episode=episode,
                consent=consents[episode.pk],
                procedures=list(episode.procedures.all()),
                adverse_events=list(episode.adverse_events.all()),
                next_due=next_due(episode),
            )
            for episode in episodes
        ],
        past_appointments=past[:PAST_APPOINTMENTS_SHOWN],
        earlier_appointments=max(0, len(past) - PAST_APPOINTMENTS_SHOWN),
        next_appointment=upcoming[-1] if upcoming else None,
        intakes=list(patient.intakes.order_by("-created_at", "-pk")),
        duplicates=possible_duplicates(patient) if not patient.is_merged else [],
    )

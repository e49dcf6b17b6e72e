"""Reads of the research export: the treated episodes of a selection, then their scores and adverse events.

An episode is exported from its treatment: its first signed procedure (the follow-up
schedule runs from that date; `outcomes.dashboard` counts the same one). Each read names
the columns it takes (`values()`), so what leaves the database is an allow-list: nothing
about a patient but what `interop.exports` maps, and no free text. A selection is an
indication and a range of treatment dates, never a patient.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from outcomes.models import Response, Score
from procedures.models import AdverseEvent, ProcedureRecord

SIGNED = (ProcedureRecord.Status.SIGNED, ProcedureRecord.Status.AMENDED)

# What every export reads of a treatment: the patient's date of birth only to compute an age.
TREATMENT_FIELDS = (
    "pk",
    "procedure_date",
    "paw_code",
    "cell_dose",
    "concentration_factor",
    "platelet_factor",
    "classification_version",
    "episode_id",
    "episode__patient_id",
    "episode__patient__date_of_birth",
    "episode__patient__sex",
    "episode__indication",
    "episode__site",
    "episode__side",
    "episode__physician__name",
    "appointment__office__name",
    "appointment__office__time_zone",
    "episode__surgery__surgery_date",
    "episode__surgery__procedure",
)
# What the identified export reads besides (the minimum necessary: no contact details, no address).
IDENTIFIER_FIELDS = (
    "episode__patient__mrn",
    "episode__patient__last_name",
    "episode__patient__first_name",
)
SCORE_FIELDS = (
    "episode_id",
    "timepoint",
    "instrument",
    "code",
    "value",
    "reason",
    "scoring_version",
    "response__submitted_at",
)
ADVERSE_EVENT_FIELDS = (
    "episode_id",
    "kind",
    "grade",
    "serious",
    "related_to_harvest",
    "related_to_injection",
    "related_to_product",
    "outcome",
    "onset_date",
)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which treated episodes an export holds: one indication (blank: all) treated within the dates (each optional)."""

    indication: str = ""
    procedure_from: date | None = None
    procedure_to: date | None = None


def treatments(selection: Selection) -> QuerySet[ProcedureRecord]:
    """The first signed procedure of each episode the selection holds, in the order they were recorded."""
    earlier = ProcedureRecord.objects.filter(episode=OuterRef("episode"), status__in=SIGNED).filter(
        Q(procedure_date__lt=OuterRef("procedure_date"))
        | Q(procedure_date=OuterRef("procedure_date"), pk__lt=OuterRef("pk"))
    )
    found = ProcedureRecord.objects.filter(status__in=SIGNED).exclude(Exists(earlier))
    if selection.indication:
        found = found.filter(episode__indication=selection.indication)
    if selection.procedure_from is not None:
        found = found.filter(procedure_date__gte=selection.procedure_from)
    if selection.procedure_to is not None:
        found = found.filter(procedure_date__lte=selection.procedure_to)
    return found.order_by("pk")


def treatment_rows(selection: Selection, *, identified: bool, chunk_size: int) -> Iterator[dict[str, Any]]:
    """`treatments` as dicts of the allowed columns, read from the database `chunk_size` rows at a time."""
    fields = TREATMENT_FIELDS + IDENTIFIER_FIELDS if identified else TREATMENT_FIELDS
    return treatments(selection).values(*fields).iterator(chunk_size=chunk_size)


def scores_of(episode_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The submitted scores of these episodes (one query), by episode, follow-up, instrument and score.

    Follow-ups on one target date (a test's, or a future schedule's) go by when they were answered,
    and the score's id settles the rest, so an export is the same file on every database.
    """
    return list(
        Score.objects.filter(episode_id__in=episode_ids, response__status=Response.Status.SUBMITTED)
        .order_by(
            "episode_id", "response__follow_up__target_date", "response__submitted_at", "instrument", "code", "pk"
        )
        .values(*SCORE_FIELDS)
    )


def adverse_events_of(episode_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The adverse events of these episodes (one query), by episode and onset."""
    return list(
        AdverseEvent.objects.filter(episode_id__in=episode_ids)
        .order_by("episode_id", "onset_date", "pk")
        .values(*ADVERSE_EVENT_FIELDS)
    )

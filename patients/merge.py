"""Merging a duplicate chart into the one that survives: every record moves, nothing is lost, the merge is recorded.

The same person sometimes gets two charts (booked again online with a new email, typed in
twice). Staff choose which chart survives; `patient_merge` moves to it everything that
points at the duplicate, found from the model graph (`Patient._meta.related_objects`),
so a later app's records move too without a change here. What does not move:

- the audit log: its rows are history and stay naming the chart they were about (the
  access report of the survivor lists the merged chart's rows too);
- the duplicate's history rows (django-simple-history): history, likewise;
- the duplicate chart itself: kept, pointing at the survivor (`merged_into`), never deleted;
- the duplicate's medical history when the survivor has one: the survivor keeps its own
  answers and takes the duplicate's only where its own are blank (when it takes any, the
  history is again patient-reported until a clinician confirms it, if the duplicate's was);
  the duplicate's row stays with the duplicate chart as it was.

Each moved row is saved on its own so that its history row names who merged and why (the
reason, as staff wrote it, is the change reason of every history row the merge writes).
One transaction: a refusal or a failure half-way leaves both charts as they were.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.models import MedicalHistory, Patient, Source

# Medical history answers a merge may fill in from the duplicate, with what counts as blank.
HISTORY_BLANKS: dict[str, Any] = {
    "diabetes": None,
    "smoking": MedicalHistory.Smoking.UNKNOWN,
    "cancer_history": None,
    "cancer_details": "",
    "bleeding_disorder": None,
    "prior_surgery_at_site": "",
    "notes": "",
}
# Records that stay where they are: the audit log is history.
STAYS = (AuditEvent,)
# The reason goes on every history row the merge writes (django-simple-history keeps 100 characters).
REASON_MAX = 100


class MergeRefused(ValidationError):
    """Two charts that cannot be merged as asked; the message says why and what to do."""


def patient_merge(*, survivor: Patient, duplicate: Patient, by: User, reason: str, request: Any = None) -> Patient:
    """Merge `duplicate` into `survivor` and return the survivor; raise `MergeRefused` if it cannot be done.

    Refused: a chart into itself, a chart already merged (either side), no reason given,
    and two charts holding appointments at overlapping times (one person cannot be in two
    visits at once, and PostgreSQL's exclusion constraint would refuse the move anyway):
    the message names the clash, so staff can cancel one first.
    """
    reason = reason.strip()
    if not reason:
        raise MergeRefused({"reason": _("Please say why these two charts are the same person.")}, code="reason")
    if len(reason) > REASON_MAX:
        raise MergeRefused(
            {"reason": _("Please keep the reason to %(n)s characters.") % {"n": REASON_MAX}}, code="reason_long"
        )
    if survivor.pk == duplicate.pk:
        raise MergeRefused(_("A chart cannot be merged into itself."), code="itself")
    try:
        with transaction.atomic():
            # Both rows locked in one order, then re-read: a merge made a moment ago is seen.
            locked = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])}
            survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
            for chart in (duplicate, survivor):
                if chart.merged_into_id is not None:
                    raise MergeRefused(
                        _("Chart %(mrn)s was already merged into another chart. Merge the surviving chart instead.")
                        % {"mrn": chart.mrn or chart.uuid},
                        code="merged",
                    )
            _refuse_clashing_appointments(survivor=survivor, duplicate=duplicate)
            _move_records(survivor=survivor, duplicate=duplicate, by=by, reason=reason)
            now = timezone.now()
            duplicate.merged_into, duplicate.updated_by, duplicate.updated_at = survivor, by, now
            _save(duplicate, by=by, reason=reason, fields=["merged_into", "updated_by", "updated_at"])
            survivor.updated_by, survivor.updated_at = by, now
            _save(survivor, by=by, reason=reason, fields=["updated_by", "updated_at"])
            for chart, other in ((survivor, duplicate), (duplicate, survivor)):
                audit_record(
                    actor=by,
                    action=AuditEvent.Action.CHANGE,
                    object_type="patient_merge",
                    object_ref=str(other.uuid),
                    patient=chart,
                    request=request,
                )
    except IntegrityError as error:
        # The database's last guard (PostgreSQL's patient exclusion constraint, or a unique field of
        # another app's record): said plainly, never a 500. The transaction has rolled back.
        diag = getattr(error.__cause__, "diag", None)
        raise MergeRefused(
            _("These charts cannot be merged: the database refused to move a record (%(rule)s). Nothing was changed.")
            % {"rule": getattr(diag, "constraint_name", None) or _("a uniqueness rule")},
            code="integrity",
        ) from error
    return survivor


def records_to_move(patient: Patient) -> list[tuple[str, int]]:
    """(kind of record, how many) of everything a merge would move from `patient`: what the confirmation page shows."""
    counts = []
    for relation in _moving_relations():
        count = relation.related_model._default_manager.filter(**{relation.field.name: patient}).count()
        if not count:
            continue
        meta = relation.related_model._meta
        if relation.related_model is Patient:
            counts.append((str(_("charts merged into it earlier")), count))
        else:
            counts.append((str(meta.verbose_name if count == 1 else meta.verbose_name_plural), count))
    return counts


def _moving_relations() -> list[Any]:
    """Every relation of another record to a patient, but the audit log's."""
    return [
        relation
        for relation in Patient._meta.related_objects
        if not issubclass(relation.related_model, STAYS)  # type: ignore[arg-type]
    ]


def _save(row: models.Model, *, by: User, reason: str, fields: list[str] | None = None) -> None:
    row._history_user = by  # type: ignore[attr-defined]
    row._change_reason = reason  # type: ignore[attr-defined]
    row.save(update_fields=fields)


def _refuse_clashing_appointments(*, survivor: Patient, duplicate: Patient) -> None:
    from scheduling import display
    from scheduling.models import ACTIVE_STATUSES, Appointment

    appointments = list(
        Appointment.objects.filter(patient__in=[survivor, duplicate], status__in=ACTIVE_STATUSES)
        .select_related("office")
        .order_by("starts_at", "pk")
    )
    kept = [a for a in appointments if a.patient_id == survivor.pk]
    moving = [a for a in appointments if a.patient_id == duplicate.pk]
    for one in kept:
        for other in moving:
            if one.starts_at < other.blocks_until and other.starts_at < one.blocks_until:
                first = min(one, other, key=lambda a: a.starts_at)
                raise MergeRefused(
                    _(
                        "Both charts have an appointment at the same time: %(day)s at %(time)s, %(office)s. "
                        "Cancel the one that is not needed, then merge."
                    )
                    % {
                        "day": display.long_day_label(first.starts_at, first.office),
                        "time": display.time_label(first.starts_at, first.office),
                        "office": first.office.name,
                    },
                    code="appointment_clash",
                )


def _move_records(*, survivor: Patient, duplicate: Patient, by: User, reason: str) -> None:
    """Point every record of the duplicate at the survivor (each saved, for its history row)."""
    for relation in _moving_relations():
        model = relation.related_model
        assert isinstance(model, type) and issubclass(model, models.Model)
        field = relation.field
        if relation.many_to_many:
            for row in model._default_manager.filter(**{field.name: duplicate}):
                manager = getattr(row, field.name)
                manager.remove(duplicate)
                manager.add(survivor)
            continue
        rows = list(model._default_manager.select_for_update().filter(**{field.name: duplicate}))
        if relation.one_to_one and rows:
            theirs = model._default_manager.filter(**{field.name: survivor}).first()
            if theirs is not None:
                if isinstance(theirs, MedicalHistory) and isinstance(rows[0], MedicalHistory):
                    _merge_history(survivor_history=theirs, duplicate_history=rows[0], by=by, reason=reason)
                    continue
                raise MergeRefused(
                    _("Both charts have a %(record)s, which a chart can have only one of.")
                    % {"record": model._meta.verbose_name},
                    code="one_to_one",
                )
        for row in rows:
            setattr(row, field.name, survivor)
            _save(row, by=by, reason=reason, fields=[field.name])


def _merge_history(
    *, survivor_history: MedicalHistory, duplicate_history: MedicalHistory, by: User, reason: str
) -> None:
    filled = []
    for name, blank in HISTORY_BLANKS.items():
        if getattr(survivor_history, name) == blank and getattr(duplicate_history, name) != blank:
            setattr(survivor_history, name, getattr(duplicate_history, name))
            filled.append(name)
    if not filled:
        return
    fields = [*filled, "updated_by", "updated_at"]
    survivor_history.updated_by = by
    if duplicate_history.source == Source.PATIENT and duplicate_history.confirmed_at is None:
        # What the patient said now stands in the survivor's history: a clinician should look again.
        survivor_history.source, survivor_history.confirmed_at, survivor_history.confirmed_by = (
            Source.PATIENT,
            None,
            None,
        )
        fields += ["source", "confirmed_at", "confirmed_by"]
    survivor_history.full_clean()
    _save(survivor_history, by=by, reason=reason, fields=fields)

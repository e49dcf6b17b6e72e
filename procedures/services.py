"""Writes of the procedures domain: start a record, save its sections, sign it off, amend it; adverse events.

Every function is keyword-only, runs in one transaction, calls `full_clean()`, leaves its
audit row inside that transaction and returns what it saved (history is kept by
django-simple-history, with `by` as its user). A refused write raises `ProcedureRefused`
(a ValidationError whose messages name the field they are about, or none) and leaves the
database and the audit log as they were; a role the policy does not allow raises
PermissionDenied.

A record is locked while a section is saved (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
immediate transactions serialise writers), re-read under the lock, and only the section's
own fields are written, so two people saving two sections at once both keep theirs.
Whenever a section is saved, the product's classification is recomputed from what the
record now holds (`procedures.product`) and stored with its version.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import Act, Record, can
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from outcomes.services import schedule_create
from patients.consent import valid_consent
from patients.models import Episode
from procedures import baseline, product, queries, signing
from procedures.models import AdverseEvent, Injection, ProcedureAmendment, ProcedureRecord
from scheduling.models import Appointment, AppointmentStatus

Status = ProcedureRecord.Status


class ProcedureRefused(ValidationError):
    """A write refused for a reason the person can act on; `message_dict` (or `messages`) says where."""

    def __init__(self, message: Any, *, record: ProcedureRecord | None = None) -> None:
        super().__init__(message)
        # The record the refusal is about, when there is one to go to (the one already in progress).
        self.record = record


# Each section's fields, and the fields that say who saved it and when.
SECTIONS: dict[str, tuple[str, ...]] = {
    "timeout": (
        "timeout_identifiers",
        "timeout_site_side_confirmed",
        "timeout_consent_confirmed",
        "timeout_allergies_reviewed",
        "timeout_anticoagulants_reviewed",
    ),
    "blood_draw": ("blood_volume_ml", "blood_anticoagulant", "blood_anticoagulant_ml", "blood_drawn_at"),
    "harvest": (
        "harvest_site",
        "harvest_side",
        "anaesthetic",
        "anaesthetic_ml",
        "needle",
        "needle_gauge",
        "punctures",
        "ml_per_draw",
        "aspirate_volume_ml",
        "harvest_anticoagulant",
        "harvest_started_at",
        "harvest_ended_at",
        "harvest_sample_label",
    ),
    "processing": (
        "device",
        "kit",
        "kit_lot",
        "spins",
        "processing_input_ml",
        "concentrate_volume_ml",
        "prp_volume_ml",
        "activation",
        "activation_detail",
        "cultured_or_expanded",
        "added_agents",
        "processing_done_at",
    ),
    "counts": (
        "baseline_platelets",
        "baseline_wbc",
        "baseline_neutrophils",
        "baseline_rbc",
        "prp_platelets",
        "prp_wbc",
        "prp_neutrophils",
        "prp_rbc",
        "aspirate_tnc",
        "concentrate_tnc",
        "cfu_f",
        "viability_pct",
    ),
    "rehab": ("rehabilitation_protocol",),
}
INJECTIONS = "injections"
SECTION_NAMES = (*SECTIONS, INJECTIONS)
STAMPS: dict[str, tuple[str, str | None]] = {
    "timeout": ("timeout_by", "timeout_at"),
    "blood_draw": ("blood_by", None),
    "harvest": ("harvest_by", None),
    "processing": ("processing_by", None),
    "counts": ("counts_by", None),
}
INJECTION_FIELDS = (
    "target_structure",
    "site",
    "side",
    "guidance",
    "concentrate_ml",
    "prp_ml",
    "carrier",
    "activation_agent",
    "sample_label",
    "injected_at",
)
AMENDABLE = frozenset(name for names in SECTIONS.values() for name in names)


def is_physician(user: Any) -> bool:
    """Physicians are the role the policy lets sign procedures off."""
    return can(user, Act.SIGN, Record.PROCEDURE)


def _require(user: Any, act: Act, record: Record) -> None:
    if not can(user, act, record):
        raise PermissionDenied


def _audit(record: ProcedureRecord, *, action: str, by: User, request: Any) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type=Record.PROCEDURE,
        object_ref=str(record.uuid),
        patient=record.episode.patient,
        request=request,
    )


def _lock(record: ProcedureRecord) -> ProcedureRecord:
    """The record re-read under a row lock, with what its rules read."""
    return (
        ProcedureRecord.objects.select_for_update(of=("self",))
        .select_related("episode__patient", "appointment__office", "signed_by")
        .get(pk=record.pk)
    )


def _injections(record: ProcedureRecord) -> list[Injection]:
    return list(record.injections.order_by("injected_at", "pk"))


def _check_volumes(record: ProcedureRecord, injections: list[Injection], *, section: str) -> None:
    """No more PRP or concentrate injected than the processing made (checked when both are known)."""
    prp_ml, concentrate_ml = product.injected_totals(injections)
    on_injection = section == INJECTIONS
    errors = {}
    if record.prp_volume_ml is not None and prp_ml > record.prp_volume_ml:
        errors["prp_ml" if on_injection else "prp_volume_ml"] = _(
            "The injections add up to %(injected)s mL of PRP, more than the %(made)s mL prepared."
        ) % {"injected": prp_ml, "made": record.prp_volume_ml}
    if record.concentrate_volume_ml is not None and concentrate_ml > record.concentrate_volume_ml:
        errors["concentrate_ml" if on_injection else "concentrate_volume_ml"] = _(
            "The injections add up to %(injected)s mL of concentrate, more than the %(made)s mL prepared."
        ) % {"injected": concentrate_ml, "made": record.concentrate_volume_ml}
    if errors:
        raise ProcedureRefused(errors)


def _classify(record: ProcedureRecord, injections: list[Injection]) -> None:
    for name, value in product.stored_fields(product.classify(record, injections)).items():
        setattr(record, name, value)


# --- Starting a record ---------------------------------------------------------------------------


def procedure_start(
    *,
    episode: Episode,
    by: User,
    appointment: Appointment | None = None,
    consent_override_reason: str = "",
    now: datetime,
    request: Any = None,
) -> ProcedureRecord:
    """Open the episode's procedure record for today's visit, or raise `ProcedureRefused`.

    It needs the episode's valid signed consent of the current version
    (`patients.consent.valid_consent`), or a physician's written reason to go ahead without
    one. One record per episode may be in progress at a time. The procedure date is the
    visit's date in its office's zone (the appointment's, else today's in the practice's zone).
    """
    _require(by, Act.CREATE, Record.PROCEDURE)
    reason = consent_override_reason.strip()
    with transaction.atomic():
        # The episode's row lock makes the "one in progress" check and the insert one step.
        episode = Episode.objects.select_for_update(of=("self",)).select_related("patient").get(pk=episode.pk)
        if episode.status in (Episode.Status.WITHDRAWN, Episode.Status.CLOSED):
            raise ProcedureRefused(_("This episode is closed or its consent was withdrawn: no procedure can start."))
        current = queries.in_progress_record(episode)
        if current is not None:
            raise ProcedureRefused(
                _("A procedure record for this episode is already in progress: continue that one."), record=current
            )
        consent = valid_consent(episode)
        if consent is None:
            if not reason:
                raise ProcedureRefused(
                    {
                        "consent_override_reason": _(
                            "This episode has no valid signed consent of the current version. "
                            "A physician may start anyway by writing the reason here."
                        )
                    }
                )
            if not is_physician(by):
                raise ProcedureRefused(
                    {"consent_override_reason": _("Only a physician can start without a valid consent.")}
                )
        zone = queries.practice_zone()
        moment = now
        if appointment is not None:
            if appointment.patient_id != episode.patient_id:
                raise ProcedureRefused({"appointment": _("That appointment is another patient's.")})
            if appointment.status == AppointmentStatus.CANCELLED:
                raise ProcedureRefused({"appointment": _("That appointment was cancelled.")})
            zone = ZoneInfo(appointment.office.time_zone)
            moment = appointment.starts_at
        record = ProcedureRecord(
            episode=episode,
            appointment=appointment,
            procedure_date=queries.local_date(moment, zone),
            consent=consent,
            consent_override_reason=reason if consent is None else "",
            consent_override_by=by if consent is None else None,
            started_at=now,
            started_by=by,
            updated_by=by,
        )
        _classify(record, [])
        record.full_clean()
        record._history_user = by  # type: ignore[attr-defined]
        record.save()
        _audit(record, action=AuditEvent.Action.CREATE, by=by, request=request)
    return record


# --- Sections ------------------------------------------------------------------------------------


def procedure_save_section(
    *,
    record: ProcedureRecord,
    section: str,
    data: Mapping[str, Any],
    by: User,
    now: datetime,
    request: Any = None,
) -> ProcedureRecord:
    """Save one section of an in-progress record (its form's cleaned data) and return the record as saved.

    `section` is one of `SECTIONS`, or "injections" with `data` {"action": "add", <the
    injection's fields>} or {"action": "remove", "injection": <its uuid>}. Who saved it (and,
    for the time-out, when) is stamped; the classification is recomputed and stored.
    """
    _require(by, Act.CHANGE, Record.PROCEDURE)
    if section not in SECTION_NAMES:
        raise ValueError(f"unknown section {section!r}")
    with transaction.atomic():
        locked = _lock(record)
        if locked.status != Status.IN_PROGRESS:
            raise ProcedureRefused(_("This record is signed: change it by an amendment, with a reason."))
        written: list[str] = []
        if section == INJECTIONS:
            _save_injection(locked, data=data, by=by)
        else:
            fields = SECTIONS[section]
            unknown = set(data) - set(fields)
            if unknown:
                raise ValueError(f"fields not in section {section}: {sorted(unknown)}")
            for name in fields:
                if name in data:
                    setattr(locked, name, data[name])
            written = [name for name in fields if name in data]
            by_field, at_field = STAMPS.get(section, (None, None))
            if by_field:
                setattr(locked, by_field, by)
                written.append(by_field)
            if at_field:
                setattr(locked, at_field, now)
                written.append(at_field)
        injections = _injections(locked)
        _check_volumes(locked, injections, section=section)
        _classify(locked, injections)
        locked.updated_by = by
        locked.full_clean()
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save(update_fields=[*written, *product.COMPUTED_FIELDS, "updated_by", "updated_at"])
        _audit(locked, action=AuditEvent.Action.CHANGE, by=by, request=request)
    return locked


def _save_injection(record: ProcedureRecord, *, data: Mapping[str, Any], by: User) -> None:
    action = data.get("action")
    if action == "remove":
        ref = data.get("injection")
        injection = record.injections.filter(uuid=ref).first() if ref is not None else None
        if injection is None:
            raise ProcedureRefused(_("That injection is not on this record."))
        injection._history_user = by  # type: ignore[attr-defined]
        injection.delete()
        return
    if action != "add":
        raise ValueError(f"unknown injection action {action!r}")
    values = {name: data[name] for name in INJECTION_FIELDS if name in data}
    injection = Injection(record=record, recorded_by=by, **values)
    injection.full_clean()
    injection._history_user = by  # type: ignore[attr-defined]
    injection.save()


# --- Sign-off ------------------------------------------------------------------------------------


def procedure_sign(
    *,
    record: ProcedureRecord,
    by: User,
    meaning: str,
    now: datetime,
    baseline_override_reason: str = "",
    request: Any = None,
) -> ProcedureRecord:
    """The physician's signature: refused while anything `signing.sign_off_problems` names stands.

    Binds the record's canonical content (with the signer, the moment and the meaning) to its
    SHA-256, keeps both, and marks the record signed.
    """
    _require(by, Act.SIGN, Record.PROCEDURE)
    provider = getattr(by, "provider", None)
    if provider is None:
        raise ProcedureRefused(_("Your sign-in is not linked to a clinician of the practice, so it cannot sign."))
    meaning = meaning.strip()
    with transaction.atomic():
        locked = _lock(record)
        injections = _injections(locked)
        problems = signing.sign_off_problems(
            locked,
            injections,
            queries.record_check(locked, injections),
            baseline_override_reason=baseline_override_reason,
        )
        if problems:
            raise ProcedureRefused(problems)
        if not meaning:
            raise ProcedureRefused({"meaning": _("Say what your signature means.")})
        locked.signed_at = now
        locked.signed_by = provider
        locked.signed_meaning = meaning
        locked.baseline_override_reason = baseline_override_reason.strip()
        locked.signed_content = signing.record_content(locked, injections)
        locked.signed_sha256 = signing.digest(locked.signed_content)
        locked.status = Status.SIGNED
        locked.updated_by = by
        locked.full_clean()
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save()
        _audit(locked, action=AuditEvent.Action.SIGN, by=by, request=request)
        _episode_treated(locked.episode, by=by)
        # The follow-ups count from the procedure's day: baseline fixed, 6 weeks to 24 months added.
        schedule_create(
            episode=locked.episode, procedure_date=locked.procedure_date, zone=baseline.zone_of_record(locked)
        )
    return locked


def _episode_treated(episode: Episode, *, by: User) -> None:
    """A signed procedure puts its episode in follow-up (its history names the signer); a closed one stays closed."""
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.status in (Episode.Status.CANDIDATE, Episode.Status.CONSENTED):
        episode.status = Episode.Status.TREATED
        episode._history_user = by  # type: ignore[attr-defined]
        episode.save(update_fields=["status"])


def procedure_amend(
    *,
    record: ProcedureRecord,
    changes: Mapping[str, Any],
    reason: str,
    by: User,
    request: Any = None,
    now: datetime | None = None,
) -> ProcedureAmendment:
    """Change a signed record, with a reason; the signed original stays as it was signed.

    `changes` maps record fields of the sections (`AMENDABLE`) or "injections.<uuid>.<field>"
    to their new values. The amendment records every path that changed in the content
    (computed fields included) before and after, and the hash of the content after it.
    """
    _require(by, Act.CHANGE, Record.PROCEDURE)
    reason = reason.strip()
    if not reason:
        raise ProcedureRefused({"reason": _("Give the reason for the amendment.")})
    with transaction.atomic():
        locked = _lock(record)
        if locked.status == Status.IN_PROGRESS:
            raise ProcedureRefused(_("This record is not signed yet: change its sections instead."))
        injections = _injections(locked)
        before = signing.record_content(locked, injections)
        by_ref = {str(injection.uuid): injection for injection in injections}
        changed_injections = set()
        for key, value in changes.items():
            if key.startswith(INJECTIONS + "."):
                _prefix, ref, name = key.split(".", 2)
                if ref not in by_ref or name not in INJECTION_FIELDS:
                    raise ValueError(f"cannot amend {key!r}")
                setattr(by_ref[ref], name, value)
                changed_injections.add(ref)
            elif key in AMENDABLE:
                setattr(locked, key, value)
            else:
                raise ValueError(f"cannot amend {key!r}")
        for ref in changed_injections:
            by_ref[ref].full_clean()
        _check_volumes(locked, injections, section=INJECTIONS if changed_injections else "processing")
        _classify(locked, injections)
        after = signing.record_content(locked, injections)
        paths = signing.changed_paths(before, after)
        if not paths:
            raise ProcedureRefused(_("Nothing was changed."))
        locked.status = Status.AMENDED
        locked.updated_by = by
        locked.full_clean()
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save()
        for ref in changed_injections:
            by_ref[ref]._history_user = by  # type: ignore[attr-defined]
            by_ref[ref].save()
        amendment = ProcedureAmendment(
            record=locked,
            reason=reason,
            changes=paths,
            content_sha256=signing.digest(after),
            amended_by=by,
            amended_at=now or timezone.now(),
        )
        amendment.full_clean()
        amendment.save()
        _audit(locked, action=AuditEvent.Action.CHANGE, by=by, request=request)
    return amendment


def procedure_verify(record: ProcedureRecord) -> signing.Verification:
    """Whether the record's signature and amendments still hold (three queries: record, injections, amendments)."""
    fresh = ProcedureRecord.objects.select_related("episode", "appointment", "consent", "signed_by").get(pk=record.pk)
    return signing.verify(fresh, _injections(fresh), list(fresh.amendments.order_by("pk")))


# --- Adverse events ------------------------------------------------------------------------------

REPORT_FIELDS = (
    "kind",
    "kind_other",
    "description",
    "onset_date",
    "grade",
    "serious",
    "action",
    "outcome",
    "procedure",
)


def adverse_event_report(
    *, episode: Episode, data: Mapping[str, Any], by: User, now: datetime, request: Any = None
) -> AdverseEvent:
    """Record an adverse event in the episode (its relatedness waits for a physician's judgement)."""
    _require(by, Act.CREATE, Record.ADVERSE_EVENT)
    unknown = set(data) - set(REPORT_FIELDS)
    if unknown:
        raise ValueError(f"not fields of a report: {sorted(unknown)}")
    values = dict(data)
    procedure = values.get("procedure")
    with transaction.atomic():
        if procedure is not None and procedure.episode_id != episode.pk:
            raise ProcedureRefused({"procedure": _("That procedure is another episode's.")})
        onset = values.get("onset_date")
        today = queries.local_date(now, queries.practice_zone())
        if onset is not None and onset > today:
            raise ProcedureRefused({"onset_date": _("The onset cannot be after today.")})
        if onset is not None and procedure is not None and onset < procedure.procedure_date:
            raise ProcedureRefused({"onset_date": _("The onset cannot be before the procedure it is linked to.")})
        event = AdverseEvent(episode=episode, reported_by=by, reported_at=now, **values)
        event.full_clean()
        event._history_user = by  # type: ignore[attr-defined]
        event.save()
        _audit_event(event, action=AuditEvent.Action.CREATE, by=by, request=request)
    return event


def adverse_event_adjudicate(
    *,
    event: AdverseEvent,
    related_to_harvest: str,
    related_to_injection: str,
    related_to_product: str,
    by: User,
    now: datetime,
    action: str | None = None,
    outcome: str | None = None,
    request: Any = None,
) -> AdverseEvent:
    """A physician's judgement of how the event relates to the harvest, the injection and the product."""
    _require(by, Act.CHANGE, Record.ADVERSE_EVENT)
    if not is_physician(by):
        raise PermissionDenied
    with transaction.atomic():
        locked = (
            AdverseEvent.objects.select_for_update(of=("self",)).select_related("episode__patient").get(pk=event.pk)
        )
        locked.related_to_harvest = related_to_harvest
        locked.related_to_injection = related_to_injection
        locked.related_to_product = related_to_product
        if action is not None:
            locked.action = action
        if outcome is not None:
            locked.outcome = outcome
        locked.adjudicated_at = now
        locked.adjudicated_by = by
        locked.full_clean()
        locked._history_user = by  # type: ignore[attr-defined]
        locked.save()
        _audit_event(locked, action=AuditEvent.Action.CHANGE, by=by, request=request)
    return locked


def _audit_event(event: AdverseEvent, *, action: str, by: User, request: Any) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type=Record.ADVERSE_EVENT,
        object_ref=str(event.uuid),
        patient=event.episode.patient,
        request=request,
    )

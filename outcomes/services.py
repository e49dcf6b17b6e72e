"""Writes of the outcomes app: the follow-up schedule, answers and their scores, calls, surgery.

The life of a follow-up:
- The **baseline** exists from the moment an episode awaits treatment (`baseline_open`,
  idempotent; the worker's pass opens one for every such episode). Its final window is
  known only when the procedure is signed: then `schedule_create` fixes it to the
  `schedule.BASELINE_DAYS` before the procedure, marks it answered or missed, and adds
  the five follow-ups after treatment, each with its window.
- The worker's pass (`follow_ups_advance`, in `outcomes.invitations`) opens each window,
  invites and reminds, and records a window that closed unanswered as missed.
- Answers are saved as the patient goes (`response_save`), one `Response` per
  instrument; `follow_up_submit` scores them (`outcomes.scoring`) and completes the
  follow-up, once every instrument the episode's set asks for is answered. A missed
  follow-up takes no answers, ever: a late answer would be counted at the wrong time.

Every write leaves its audit row in its own transaction, as `accounts.audit` says.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import Record
from accounts.audit import audit_record
from accounts.models import AuditEvent
from outcomes import instruments, schedule, scoring
from outcomes.instruments.base import InvalidAnswers
from outcomes.models import FollowUp, FollowUpCall, InstrumentSet, Response, SurgeryConversion, Timepoint
from patients.models import Episode, Indication

Status = FollowUp.Status
# An answer a patient may leave out on the survey, by instrument: the guide scores without it.
OPTIONAL_ITEMS: dict[str, frozenset[str]] = {"ODI": frozenset({"8"})}
# Items of which the patient answers exactly one, by instrument, as the form says (VISA-P: 8A, 8B or 8C).
ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {"VISA-P": (("8A", "8B", "8C"),)}
# Episodes whose baseline is still to come: waiting for their procedure.
AWAITING = (Episode.Status.CANDIDATE, Episode.Status.CONSENTED)


def _default_sets() -> list[tuple[str, str, str, bool, int]]:
    """(indication, site or "" for any, instrument, after treatment only, order): see migration 0003's docstring."""
    region = (
        ("osteoarthritis", "knee", "KOOS"),
        ("osteoarthritis", "hip", "HOOS"),
        ("osteoarthritis", "shoulder", "ASES"),
        ("osteoarthritis", "ankle_foot", "FAOS"),
        ("tendon_injury", "knee", "KOOS"),
        ("tendon_injury", "shoulder", "ASES"),
        ("tendon_injury", "ankle_foot", "FAOS"),
        ("tendon_injury", "hip", "HOOS"),
        ("tendon_injury", "hamstring", "LEFS"),
        ("rotator_cuff", "", "ASES"),
        ("back_pain", "", "ODI"),
        ("knee_ligament", "", "KOOS"),
        ("patellar_tendonitis", "", "VISA-P"),
        ("hamstring", "", "LEFS"),
        ("hand_knee_foot_pain", "knee", "KOOS"),
        ("hand_knee_foot_pain", "ankle_foot", "FAOS"),
        ("cartilage", "knee", "KOOS"),
        ("cartilage", "hip", "HOOS"),
        ("cartilage", "ankle_foot", "FAOS"),
    )
    rows = [(indication, site, code, False, 0) for indication, site, code in region]
    for indication in Indication.values:
        for order, (code, after_only) in enumerate((("NRS", False), ("SANE", False), ("PGIC", True)), start=1):
            rows.append((indication, "", code, after_only, order))
    return rows


DEFAULT_SETS = _default_sets()


class FollowUpClosed(ValidationError):
    """The follow-up takes no more answers: it was answered, or its window closed."""

    def __init__(self, follow_up: FollowUp, *, not_yet: bool = False, passed: bool = False) -> None:
        if not_yet:
            message = _("This questionnaire is not open yet. We will write to you when it is.")
        elif passed or follow_up.status == Status.MISSED:
            message = _("This questionnaire's time has passed, so it no longer takes answers.")
        else:
            message = _("This questionnaire has already been sent. Thank you.")
        super().__init__(message, code="closed")


def zone_of(episode: Episode) -> ZoneInfo:
    """The zone an episode's dates are local to: its procedure's office, else the practice's."""
    from procedures.models import ProcedureRecord

    record = (
        ProcedureRecord.objects.filter(episode=episode, appointment__isnull=False)
        .select_related("appointment__office")
        .order_by("-procedure_date")
        .first()
    )
    if record is not None and record.appointment is not None:
        return ZoneInfo(record.appointment.office.time_zone)
    return ZoneInfo(settings.TIME_ZONE)


def instruments_for(episode: Episode, timepoint: str, *, sets: Iterable[InstrumentSet] | None = None) -> list[str]:
    """The instrument codes the episode's set asks for at `timepoint`, in their order (region first).

    The sets are the staff's (`InstrumentSet`, in the admin); an indication with no row at
    all falls back to `DEFAULT_SETS`, the ones the practice starts with (migration 0003
    writes the same rows), so an emptied table never leaves an episode without questions.
    A list page passes `sets`, every row loaded once, instead of a query per episode.
    """
    if sets is None:
        found: Iterable[InstrumentSet] = InstrumentSet.objects.filter(indication=episode.indication)
    else:
        found = [r for r in sets if r.indication == episode.indication]
    rows = [(r.site, r.instrument, r.after_treatment_only, r.order) for r in found]
    if not rows:
        rows = [
            (site, code, after, order) for ind, site, code, after, order in DEFAULT_SETS if ind == episode.indication
        ]
    codes: list[str] = []
    for site, code, after_only, _order in sorted(rows, key=lambda r: (r[3], r[1])):
        if site not in ("", episode.site) or (after_only and timepoint == Timepoint.BASELINE):
            continue
        if code.upper() in instruments.INSTRUMENTS and code.upper() not in codes:
            codes.append(code.upper())
    return codes


def baseline_open(*, episode: Episode, now: datetime | None = None) -> FollowUp:
    """The episode's baseline follow-up, opened today if it has none (idempotent, safe with two workers).

    Until the procedure is signed its window runs from today for `schedule.PROVISIONAL_DAYS`;
    `schedule_create` then fixes it from the procedure date.
    """
    now = now or timezone.now()
    today = timezone.localdate(now, zone_of(episode))
    existing = FollowUp.objects.filter(episode=episode, timepoint=Timepoint.BASELINE).first()
    if existing is not None:
        return existing
    window = schedule.provisional_baseline_window(today)
    try:
        with transaction.atomic():
            return FollowUp.objects.create(
                episode=episode,
                timepoint=Timepoint.BASELINE,
                target_date=window.target,
                opens_on=window.opens,
                closes_on=window.closes,
                status=Status.OPEN,
                schedule_version=schedule.VERSION,
            )
    except IntegrityError:
        return FollowUp.objects.get(episode=episode, timepoint=Timepoint.BASELINE)


def baseline_answered(episode: Episode, procedure_date: date, *, zone: ZoneInfo | None = None) -> bool:
    """Whether the baseline was answered in full within the `BASELINE_DAYS` before `procedure_date`.

    Dates are local to `zone` (the procedure's office), found from the episode when not given.
    """
    follow_up = FollowUp.objects.filter(episode=episode, timepoint=Timepoint.BASELINE).first()
    if follow_up is None or follow_up.completed_at is None:
        return False
    answered_on = timezone.localdate(follow_up.completed_at, zone or zone_of(episode))
    return schedule.baseline_window(procedure_date).contains(answered_on)


def schedule_create(*, episode: Episode, procedure_date: date, zone: ZoneInfo | None = None) -> list[FollowUp]:
    """The follow-up schedule of a treated episode (in the caller's transaction: the procedure's sign-off).

    The baseline's window becomes the `BASELINE_DAYS` before the procedure: answered in
    it, it counts; otherwise it is recorded missed. The five follow-ups after treatment
    are added, each with its window. Called again, it adds nothing: follow-ups already
    made keep their windows (a signed record's date is not amended today; if it ever is,
    this is where the windows would move). The signature's own audit row covers this: it
    is one act.
    """
    made = []
    baseline = baseline_open(episode=episode)
    window = schedule.baseline_window(procedure_date)
    answered = baseline_answered(episode, procedure_date, zone=zone)
    with transaction.atomic():
        baseline = FollowUp.objects.select_for_update().get(pk=baseline.pk)
        # Fixed already when the whole window is the procedure's: a provisional baseline opened on the
        # procedure's own day has the same target date but runs for PROVISIONAL_DAYS.
        now_window = (baseline.target_date, baseline.opens_on, baseline.closes_on)
        fixed = now_window == (window.target, window.opens, window.closes)
        if not (baseline.schedule_version == schedule.VERSION and fixed):
            baseline.target_date, baseline.opens_on, baseline.closes_on = window.target, window.opens, window.closes
            baseline.status = Status.COMPLETED if answered else Status.MISSED
            baseline.save(update_fields=["target_date", "opens_on", "closes_on", "status"])
        for later in schedule.follow_up_windows(procedure_date):
            follow_up, created = FollowUp.objects.get_or_create(
                episode=episode,
                timepoint=later.timepoint,
                defaults={
                    "target_date": later.target,
                    "opens_on": later.opens,
                    "closes_on": later.closes,
                    "schedule_version": schedule.VERSION,
                },
            )
            if created:
                made.append(follow_up)
    return made


def takes_answers(follow_up: FollowUp, now: datetime | None = None) -> bool:
    """Whether the follow-up takes answers now (`_check_open`'s rule, as a yes or no for the pages)."""
    try:
        _check_open(follow_up, now or timezone.now())
    except FollowUpClosed:
        return False
    return True


def _check_open(follow_up: FollowUp, now: datetime) -> None:
    """Answers count only inside the window: not before it opens, not after it closes (even before the worker
    records the miss), and never once answered or missed."""
    if follow_up.status not in (Status.OPEN, Status.SCHEDULED):
        raise FollowUpClosed(follow_up)
    today = timezone.localdate(now, zone_of(follow_up.episode))
    if today < follow_up.opens_on:
        raise FollowUpClosed(follow_up, not_yet=True)
    if today > follow_up.closes_on:
        raise FollowUpClosed(follow_up, passed=True)


def response_save(
    *,
    follow_up: FollowUp,
    instrument: str,
    answers: Mapping[str, Any],
    language: str = "en",
    mode: str = Response.Mode.ONLINE,
    by: Any = None,
    request: Any = None,
    now: datetime | None = None,
) -> Response:
    """Merge `answers` (item code → answer code, or None) into the follow-up's response to `instrument`.

    Saved as the patient goes; nothing is scored until `follow_up_submit`. Raises
    `FollowUpClosed` for a follow-up that takes no more answers and `ValidationError`
    for an answer the instrument does not have (which a form never sends).
    """
    defined = instruments.get(instrument)
    try:
        defined.validate(answers)
    except InvalidAnswers as error:
        raise ValidationError(str(error), code="invalid") from error
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().select_related("episode__patient").get(pk=follow_up.pk)
        _check_open(locked, now or timezone.now())
        response, _created = Response.objects.get_or_create(
            follow_up=locked, instrument=defined.code, defaults={"language": language, "mode": mode}
        )
        response.answers = {**response.answers, **answers}
        response.language = language
        response.mode = mode
        staff = by if getattr(by, "is_authenticated", False) else None
        response.entered_by = staff
        response._history_user = staff  # type: ignore[attr-defined]
        response.save(update_fields=["answers", "language", "mode", "entered_by"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.OUTCOME,
            object_ref=str(response.uuid),
            patient=locked.episode.patient,
            request=request,
        )
    return response


def missing_items(follow_up: FollowUp, instrument: str) -> list[str]:
    """The items of `instrument` not yet answered in this follow-up (optional ones aside)."""
    defined = instruments.get(instrument)
    response = follow_up.responses.filter(instrument=defined.code).first()
    answers = response.answers if response is not None else {}
    return unanswered(defined.code, [item.code for item in defined.items], answers)


def unanswered(instrument: str, items: list[str], answers: Mapping[str, Any]) -> list[str]:
    """Which of `items` still need an answer: optional ones never; of a one-of group, all while none is answered."""
    optional = OPTIONAL_ITEMS.get(instrument, frozenset())
    grouped = {code: group for group in ONE_OF.get(instrument, ()) for code in group}
    missing = []
    for code in items:
        if code in optional or answers.get(code) is not None:
            continue
        group = grouped.get(code)
        if group is not None and any(answers.get(other) is not None for other in group):
            continue
        missing.append(code)
    return missing


def follow_up_submit(
    *,
    follow_up: FollowUp,
    now: datetime | None = None,
    by: Any = None,
    request: Any = None,
    surgery: Mapping[str, Any] | None = None,
) -> FollowUp:
    """Score every answered instrument and complete the follow-up; refused while an instrument is unanswered.

    `surgery` is the patient's answer to "surgery on this site since the treatment?":
    {"had_surgery": bool, "date": date, "procedure": code}; a yes records the conversion.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().select_related("episode__patient").get(pk=follow_up.pk)
        _check_open(locked, now)
        wanted = instruments_for(locked.episode, locked.timepoint)
        unanswered = [code for code in wanted if missing_items(locked, code)]
        if unanswered:
            raise ValidationError(
                _("Some questions are not answered yet: %(which)s.") % {"which": ", ".join(unanswered)},
                code="incomplete",
            )
        staff = by if getattr(by, "is_authenticated", False) else None
        for response in locked.responses.filter(instrument__in=wanted):
            response.status = Response.Status.SUBMITTED
            response.submitted_at = now
            response._history_user = staff  # type: ignore[attr-defined]
            response.save(update_fields=["status", "submitted_at"])
            scoring.response_scores(response, now=now)
        if surgery is not None and locked.timepoint != Timepoint.BASELINE:
            locked.surgery_reported = bool(surgery.get("had_surgery"))
            if locked.surgery_reported and not hasattr(locked.episode, "surgery"):
                SurgeryConversion.objects.create(
                    episode=locked.episode,
                    surgery_date=surgery["date"],
                    procedure=surgery.get("procedure") or SurgeryConversion.Procedure.OTHER,
                    source=SurgeryConversion.Source.STAFF if staff else SurgeryConversion.Source.PATIENT,
                    recorded_by=staff,
                )
        locked.status = Status.COMPLETED
        locked.completed_at = now
        locked.save(update_fields=["status", "completed_at", "surgery_reported"])
        audit_record(
            actor=staff,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.FOLLOW_UP,
            object_ref=str(locked.uuid),
            patient=locked.episode.patient,
            request=request,
        )
    return locked


def treated_on(follow_up: FollowUp) -> date | None:
    """The day of the episode's treatment (its baseline's target), for checking a reported surgery's date."""
    baseline = FollowUp.objects.filter(episode_id=follow_up.episode_id, timepoint=Timepoint.BASELINE).first()
    return baseline.target_date if baseline is not None else None


def call_record(*, follow_up: FollowUp, outcome: str, by: Any, now: datetime | None = None, request: Any = None) -> Any:
    """The front desk phoned the patient about `follow_up`: what came of it.

    Refused (`FollowUpClosed`) once the follow-up was answered or missed: a call then is about
    nothing the call list still asks for, and logging it would misstate the chase.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if locked.status in (Status.COMPLETED, Status.MISSED):
            raise FollowUpClosed(locked)
        call = FollowUpCall(follow_up=follow_up, outcome=outcome, called_at=now, called_by=by)
        call.full_clean()
        call.save()
        audit_record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.FOLLOW_UP,
            object_ref=str(follow_up.uuid),
            patient=follow_up.episode.patient,
            request=request,
        )
    return call


def surgery_record(
    *,
    episode: Episode,
    surgery_date: date,
    procedure: str,
    details: str = "",
    by: Any,
    request: Any = None,
) -> SurgeryConversion:
    """Staff record that the treated site went on to surgery (once per episode; a later one amends it).

    Refused for a date after today (the practice's local day): a planned operation is not a conversion.
    """
    if surgery_date > timezone.localdate(timezone.now(), zone_of(episode)):
        raise ValidationError({"surgery_date": _("The date of the operation cannot be in the future.")})
    with transaction.atomic():
        conversion = SurgeryConversion.objects.filter(episode=episode).select_for_update().first()
        if conversion is None:
            conversion = SurgeryConversion(episode=episode, source=SurgeryConversion.Source.STAFF)
        conversion.surgery_date = surgery_date
        conversion.procedure = procedure
        conversion.details = details
        conversion.recorded_by = by
        conversion.full_clean()
        conversion._history_user = by  # type: ignore[attr-defined]
        conversion.save()
        audit_record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.OUTCOME,
            object_ref=str(conversion.uuid),
            patient=episode.patient,
            request=request,
        )
    return conversion

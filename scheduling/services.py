"""Writes of the scheduling domain: book, cancel, reschedule and change the status of appointments.

Every function is keyword-only, runs in one transaction and returns the appointment
as saved. A refused request raises a `BookingError` subclass whose `message` can be
shown to the person as is. None of these send email: callers that want to (the
booking pages, the staff calendar) add their own `transaction.on_commit` hook.

How the no-double-booking guarantee holds under concurrency:

- SQLite: settings open every transaction with BEGIN IMMEDIATE, so the transaction
  these services open (the outermost one, when called from a view or a thread with no
  transaction of its own) takes the database's write lock first, then re-checks every
  overlap and writes. Writers queue on the lock (with a timeout) instead of racing.
- PostgreSQL: the provider rows (and the candidate rooms and the patient) are locked
  with SELECT ... FOR UPDATE in a fixed order, overlaps are re-checked, and the
  exclusion constraints of migration 0002 refuse whatever slips past; a violation is
  translated into the same typed error.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, Role, User
from accounts.services import audit_record
from patients.models import Patient
from scheduling.models import (
    ACTIVE_STATUSES,
    PATIENT_OVERLAP_CONSTRAINT,
    PROVIDER_OVERLAP_CONSTRAINT,
    ROOM_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingRules,
    Provider,
    Room,
    ScheduleException,
    WorkingHours,
)
from website.models import Office

Source = Appointment.Source


# --- Errors -------------------------------------------------------------------------------------


class BookingError(ValidationError):
    """A booking rule refused the request. `message` is written for the person who asked."""

    default_message: Any = _("This appointment cannot be booked.")
    default_code = "booking"

    def __init__(self, message: Any = None, **params: Any) -> None:
        text = message if message is not None else self.default_message
        super().__init__(text % params if params else text, code=self.default_code)


class InThePast(BookingError):
    default_message = _("That time has already passed. Please choose another time.")
    default_code = "in_the_past"


class TooSoon(BookingError):
    default_message = _(
        "Online bookings need at least %(hours)s hours' notice. Please choose a later time, or call the office."
    )
    default_code = "too_soon"


class TooFarAhead(BookingError):
    default_message = _("Times can be booked up to %(days)s days ahead. Please choose an earlier time.")
    default_code = "too_far_ahead"


class NotBookableOnline(BookingError):
    default_message = _("This kind of visit cannot be booked online. Please call the office.")
    default_code = "not_bookable_online"


class OutsideHours(BookingError):
    default_message = _("The provider does not see patients at this office at that time.")
    default_code = "outside_hours"


class Unavailable(BookingError):
    default_message = _("The provider is away or the office is closed at that time.")
    default_code = "unavailable"


class SlotTaken(BookingError):
    default_message = _("Sorry, that time was just taken. Please choose another time.")
    default_code = "slot_taken"


class NoRoomFree(BookingError):
    default_message = _("No procedure room is free at that time. Please choose another time.")
    default_code = "no_room_free"


class PatientBusy(BookingError):
    default_message = _("The patient already has an appointment at that time.")
    default_code = "patient_busy"


class OverrideNotAllowed(BookingError):
    default_message = _("Only a physician can book over another appointment, and only with a written reason.")
    default_code = "override_not_allowed"


class PastCutoff(BookingError):
    default_message = _(
        "Appointments can be cancelled or moved online up to %(hours)s hours before. Please call the office."
    )
    default_code = "past_cutoff"


class InvalidStatusChange(BookingError):
    default_message = _("A %(current)s appointment cannot be marked %(new)s.")
    default_code = "invalid_status_change"


# --- Shared rules (the free-time search in queries.py applies the same ones) ----------------------


def occupancy(*, starts_at: datetime, appointment_type: AppointmentType) -> tuple[datetime, datetime]:
    """(ends_at, blocks_until) of an appointment of this type starting at `starts_at`."""
    ends_at = starts_at + appointment_type.duration
    return ends_at, ends_at + timedelta(minutes=appointment_type.buffer_after_minutes)


def active_appointments() -> QuerySet[Appointment]:
    return Appointment.objects.filter(status__in=ACTIVE_STATUSES)


def exceptions_for(*, office_ids: Any, provider_ids: Any) -> Q:
    """The exceptions that make a provider of `provider_ids` unavailable at an office of `office_ids`.

    Their own time off, a closure of the office, or a closure of the whole practice.
    """
    return (
        Q(provider_id__in=provider_ids)
        | Q(provider__isnull=True, room__isnull=True, office_id__in=office_ids)
        | Q(provider__isnull=True, room__isnull=True, office__isnull=True)
    )


# --- Services -----------------------------------------------------------------------------------


def appointment_book(
    *,
    office: Office,
    provider: Provider,
    appointment_type: AppointmentType,
    starts_at: datetime,
    patient: Patient,
    source: str,
    by: User | None = None,
    area_of_concern: str = "",
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book `patient` with `provider` at `office` from `starts_at`, or raise a `BookingError`.

    `source` is `Appointment.Source.ONLINE` (the website: minimum notice, horizon and
    online-bookable types apply) or `STAFF` (may book inside the minimum notice, never in
    the past). A type that needs a room gets a free room of that kind at the office, in
    the same transaction: provider and room are reserved together or not at all.
    A physician (`by.role == PHYSICIAN`) may book over the provider's other appointments
    by giving `override_reason`; rooms and the patient still cannot overlap.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            _lock(provider_ids=[provider.pk], office=office, appointment_type=appointment_type, patient=patient)
            placement = _place(
                office=office,
                provider=provider,
                appointment_type=appointment_type,
                starts_at=starts_at,
                patient=patient,
                source=source,
                by=by,
                override_reason=override_reason,
                now=now,
            )
            appointment = Appointment(
                office=office,
                provider=provider,
                room=placement.room,
                appointment_type=appointment_type,
                patient=patient,
                starts_at=starts_at,
                ends_at=placement.ends_at,
                blocks_until=placement.blocks_until,
                area_of_concern=area_of_concern,
                source=source,
                override_reason=placement.override_reason,
                created_by=by,
                updated_by=by,
            )
            _full_clean(appointment)
            _save(appointment, by=by)
            audit_record(
                actor=by, action=AuditEvent.Action.CREATE, object_type="appointment", object_ref=str(appointment.uuid)
            )
    except IntegrityError as error:
        translated = _overlap_error(error)
        if translated is None:
            raise
        raise translated from error
    return appointment


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: datetime,
    enforce_cutoff: bool,
    by: User | None = None,
    provider: Provider | None = None,
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to `starts_at` (and to `provider`, if given) at the same office.

    The same rules as booking apply, with the appointment's own old time not counted
    against it. Without `by` the patient is moving it themselves (online rules: notice,
    horizon); with `by`, staff rules. `enforce_cutoff` refuses moves closer than the
    practice's cut-off to the current time (the patient's self-service links set it).
    `appointment` is updated in place and returned; on an error it is left as it was
    in the database.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    source = Source.STAFF if by is not None else Source.ONLINE
    try:
        with transaction.atomic():
            _lock_appointment(appointment)
            if appointment.status != AppointmentStatus.BOOKED:
                raise BookingError(_("Only a booked appointment can be moved."))
            if enforce_cutoff:
                _check_cutoff(appointment=appointment, rules=rules, now=now)
            new_provider = provider or appointment.provider
            _lock(
                provider_ids=sorted({appointment.provider_id, new_provider.pk}),
                office=appointment.office,
                appointment_type=appointment.appointment_type,
                patient=appointment.patient,
            )
            placement = _place(
                office=appointment.office,
                provider=new_provider,
                appointment_type=appointment.appointment_type,
                starts_at=starts_at,
                patient=appointment.patient,
                source=source,
                by=by,
                override_reason=override_reason,
                now=now,
                rules=rules,
                moving=appointment,
            )
            appointment.provider = new_provider
            appointment.room = placement.room
            appointment.starts_at = starts_at
            appointment.ends_at = placement.ends_at
            appointment.blocks_until = placement.blocks_until
            appointment.override_reason = placement.override_reason
            appointment.updated_by = by
            _full_clean(appointment)
            _save(appointment, by=by)
            audit_record(
                actor=by, action=AuditEvent.Action.CHANGE, object_type="appointment", object_ref=str(appointment.uuid)
            )
    except IntegrityError as error:
        appointment.refresh_from_db()
        translated = _overlap_error(error)
        if translated is None:
            raise
        raise translated from error
    except BookingError:
        appointment.refresh_from_db()
        raise
    return appointment


def appointment_cancel(
    *, appointment: Appointment, enforce_cutoff: bool, by: User | None = None, now: datetime | None = None
) -> Appointment:
    """Cancel a booked appointment, freeing its time. Cancelling a cancelled one changes nothing.

    `enforce_cutoff` refuses a cancellation closer than the practice's cut-off to the
    appointment (the patient's self-service links set it; staff usually do not).
    """
    now = now or timezone.now()
    with transaction.atomic():
        _lock_appointment(appointment)
        if appointment.status == AppointmentStatus.CANCELLED:
            return appointment
        if appointment.status != AppointmentStatus.BOOKED:
            raise InvalidStatusChange(
                current=appointment.get_status_display().lower(), new=AppointmentStatus.CANCELLED.label.lower()
            )
        if enforce_cutoff:
            _check_cutoff(appointment=appointment, rules=BookingRules.current(), now=now)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.updated_by = by
        _save(appointment, by=by, update_fields=["status", "cancelled_at", "updated_by", "updated_at"])
        audit_record(
            actor=by, action=AuditEvent.Action.CHANGE, object_type="appointment", object_ref=str(appointment.uuid)
        )
    return appointment


# Status changes staff make from the calendar. Cancelling goes through appointment_cancel;
# a cancelled or no-show appointment is booked again rather than revived, since its time
# may have been given away.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    AppointmentStatus.BOOKED: frozenset(
        {AppointmentStatus.CHECKED_IN, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.CHECKED_IN: frozenset({AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED}),
    AppointmentStatus.COMPLETED: frozenset({AppointmentStatus.CHECKED_IN}),
    AppointmentStatus.CANCELLED: frozenset(),
    AppointmentStatus.NO_SHOW: frozenset(),
}


def appointment_set_status(*, appointment: Appointment, status: str, by: User | None) -> Appointment:
    """Check in, mark completed or no-show (or undo a check-in or a completion), per `STATUS_TRANSITIONS`."""
    if status not in AppointmentStatus.values:
        raise BookingError(_("Unknown appointment status."))
    with transaction.atomic():
        _lock_appointment(appointment)
        if appointment.status == status:
            return appointment
        if status not in STATUS_TRANSITIONS[appointment.status]:
            raise InvalidStatusChange(
                current=appointment.get_status_display().lower(), new=AppointmentStatus(status).label.lower()
            )
        appointment.status = status
        appointment.updated_by = by
        _save(appointment, by=by, update_fields=["status", "updated_by", "updated_at"])
        audit_record(
            actor=by, action=AuditEvent.Action.CHANGE, object_type="appointment", object_ref=str(appointment.uuid)
        )
    return appointment


# --- Internals ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placement:
    ends_at: datetime
    blocks_until: datetime
    room: Room | None
    override_reason: str


def _lock(*, provider_ids: list[int], office: Office, appointment_type: AppointmentType, patient: Patient) -> None:
    """On PostgreSQL, serialise writers per provider, room and patient, always in this order.

    SQLite has no row locks; its IMMEDIATE transaction already holds the whole database.
    """
    if not connection.features.has_select_for_update:
        return
    list(Provider.objects.select_for_update().filter(pk__in=provider_ids).order_by("pk").values_list("pk"))
    if appointment_type.room_kind:
        list(
            Room.objects.select_for_update()
            .filter(office=office, kind=appointment_type.room_kind)
            .order_by("pk")
            .values_list("pk")
        )
    list(Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))


def _lock_appointment(appointment: Appointment) -> None:
    """Re-read the appointment inside the transaction (locking its row on PostgreSQL)."""
    appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())


def _place(
    *,
    office: Office,
    provider: Provider,
    appointment_type: AppointmentType,
    starts_at: datetime,
    patient: Patient,
    source: str,
    by: User | None,
    override_reason: str,
    now: datetime,
    rules: BookingRules | None = None,
    moving: Appointment | None = None,
) -> _Placement:
    """Check every rule for an appointment at `starts_at`; return where it fits or raise."""
    if timezone.is_naive(starts_at):
        raise BookingError(_("The time must include a time zone."))
    if starts_at.second or starts_at.microsecond:
        # Whole minutes keep every stored time exact for the free-time search.
        raise BookingError(_("Appointments start on a whole minute."))
    if source not in Source.values:
        raise BookingError(_("Unknown booking source."))
    override_reason = override_reason.strip()
    if override_reason and (by is None or by.role != Role.PHYSICIAN or source != Source.STAFF):
        raise OverrideNotAllowed()
    if starts_at <= now:
        raise InThePast()
    rules = rules or BookingRules.current()
    if source == Source.ONLINE:
        if not appointment_type.bookable_online:
            raise NotBookableOnline()
        if starts_at < now + rules.min_notice:
            raise TooSoon(hours=rules.min_notice_hours)
        if starts_at > now + rules.horizon:
            raise TooFarAhead(days=rules.horizon_days)
    if not (office.is_active and appointment_type.is_active):
        raise BookingError(_("This office or kind of visit is not taking bookings."))
    if not provider.is_active:
        raise Unavailable()
    ends_at, blocks_until = occupancy(starts_at=starts_at, appointment_type=appointment_type)
    if not _within_hours(provider=provider, office=office, starts_at=starts_at, ends_at=ends_at):
        raise OutsideHours()
    overlapping = Q(starts_at__lt=blocks_until, ends_at__gt=starts_at)
    if ScheduleException.objects.filter(
        overlapping, exceptions_for(office_ids=[office.pk], provider_ids=[provider.pk])
    ).exists():
        raise Unavailable()

    others = active_appointments().filter(starts_at__lt=blocks_until, blocks_until__gt=starts_at)
    if moving is not None:
        others = others.exclude(pk=moving.pk)
    kept_reason = ""
    if others.filter(provider=provider).exists():
        if not override_reason:
            raise SlotTaken()
        kept_reason = override_reason
    if others.filter(patient=patient).exists():
        raise PatientBusy()
    room = None
    if appointment_type.room_kind:
        room = _free_room(
            office=office,
            kind=appointment_type.room_kind,
            others=others,
            starts_at=starts_at,
            blocks_until=blocks_until,
        )
    return _Placement(ends_at=ends_at, blocks_until=blocks_until, room=room, override_reason=kept_reason)


def _within_hours(*, provider: Provider, office: Office, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether [starts_at, ends_at) lies inside one block of the provider's hours at the office that day."""
    zone = ZoneInfo(office.time_zone)
    local_day = starts_at.astimezone(zone).date()
    hours = WorkingHours.objects.filter(provider=provider, office=office, weekday=local_day.weekday())
    for block in hours:
        # Compared in UTC: aware datetimes sharing a tzinfo compare by wall clock, wrong across DST.
        opens = datetime.combine(local_day, block.starts, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(local_day, block.ends, tzinfo=zone).astimezone(UTC)
        if opens <= starts_at and ends_at <= closes:
            return True
    return False


def _free_room(
    *, office: Office, kind: str, others: QuerySet[Appointment], starts_at: datetime, blocks_until: datetime
) -> Room:
    rooms = list(Room.objects.filter(office=office, kind=kind, is_active=True).order_by("pk"))
    busy = set(others.filter(room__in=rooms).values_list("room_id", flat=True))
    busy |= set(
        ScheduleException.objects.filter(room__in=rooms, starts_at__lt=blocks_until, ends_at__gt=starts_at).values_list(
            "room_id", flat=True
        )
    )
    for room in rooms:
        if room.pk not in busy:
            return room
    raise NoRoomFree()


def _check_cutoff(*, appointment: Appointment, rules: BookingRules, now: datetime) -> None:
    if now > appointment.starts_at - rules.cancel_cutoff:
        raise PastCutoff(hours=rules.cancel_cutoff_hours)


def _full_clean(appointment: Appointment) -> None:
    # The related rows were loaded by the caller; re-fetching each to validate it adds
    # nothing but queries inside the write lock.
    appointment.full_clean(
        exclude=["office", "provider", "room", "appointment_type", "patient", "created_by", "updated_by"],
        validate_unique=False,
    )


def _save(appointment: Appointment, *, by: User | None, update_fields: list[str] | None = None) -> None:
    # django-simple-history records this user on the history row.
    appointment._history_user = by  # type: ignore[attr-defined]
    appointment.save(update_fields=update_fields)


def _overlap_error(error: IntegrityError) -> BookingError | None:
    """The typed error for a violation of one of the exclusion constraints, else None."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if name == PROVIDER_OVERLAP_CONSTRAINT:
        return SlotTaken()
    if name == ROOM_OVERLAP_CONSTRAINT:
        return NoRoomFree()
    if name == PATIENT_OVERLAP_CONSTRAINT:
        return PatientBusy()
    return None

"""Writes of the scheduling domain: book, move, cancel, change the status of appointments; call-back requests.

Every function is keyword-only, runs in one transaction and returns what it saved. A
refused request raises a `scheduling.rules.BookingError` subclass (or
`patients.services.PatientExists`) whose message can be shown to the person as is,
leaving the database, the audit log and the outbox as they were.

Whoever makes a change (the patient from the website or an emailed link, or the front
desk) the patient hears of it: the email is queued in the outbox inside the same
transaction (`scheduling.emails`), so nobody hears of a booking that rolled back and
none that committed goes unannounced. The worker sends it after the commit.

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
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import Act, Record, can
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.intake import intake_for_booking
from patients.models import Patient
from patients.services import PatientDetails, patient_for_booking
from scheduling import emails, reminders
from scheduling.models import (
    PATIENT_OVERLAP_CONSTRAINT,
    PROVIDER_OVERLAP_CONSTRAINT,
    ROOM_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingRules,
    CallbackRequest,
    Provider,
    Room,
    ScheduleException,
    WorkingHours,
)
from scheduling.rules import (
    DOUBLE_SUBMIT_WINDOW,
    BookingError,
    InThePast,
    InvalidStatusChange,
    NoRoomFree,
    NotBookableOnline,
    OutsideHours,
    OverrideNotAllowed,
    PatientBusy,
    SlotTaken,
    TooFarAhead,
    TooSoon,
    Unavailable,
    active_appointments,
    check_cutoff,
    exceptions_for,
    occupancy,
)
from website.models import Office

Source = Appointment.Source


def appointment_book(
    *,
    office: Office,
    provider: Provider,
    appointment_type: AppointmentType,
    starts_at: datetime,
    patient: Patient | PatientDetails,
    source: str,
    by: User | None = None,
    area_of_concern: str = "",
    override_reason: str = "",
    language: str = "",
    request: Any = None,
    now: datetime | None = None,
    notify: bool = True,
) -> Appointment:
    """Book `patient` with `provider` at `office` from `starts_at`, or raise a `BookingError`.

    `patient` is a chart on file, or the details typed on a form: from the website
    (`source` ONLINE) the person is matched to their chart by email, date of birth and
    last name, or a new chart is made; from the front desk (`STAFF`) a new chart is made
    unless one with the same name and date of birth exists (`PatientExists`).

    Online, the minimum notice, the horizon and the online-bookable types apply, and the
    same form sent twice within `DOUBLE_SUBMIT_WINDOW` of `now` returns the appointment it
    already booked (nothing new is written or sent). Staff may book inside the minimum
    notice, never in the past. A type that needs a room gets a free room of that kind at
    the office, in the same transaction: provider and room are reserved together or not
    at all. A role allowed to override (a physician) may book over the provider's other
    appointments by giving `override_reason`; rooms and the patient still cannot overlap.

    The patient is emailed in `language` (default: their own), if they gave an address
    (`notify=False` only for seeding a calendar with data, such as the demo's).
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            _lock(provider_ids=[provider.pk], office=office, appointment_type=appointment_type)
            if isinstance(patient, PatientDetails):
                if source == Source.ONLINE:
                    earlier = _booked_moments_ago(
                        details=patient, office=office, provider=provider, starts_at=starts_at, now=now
                    )
                    if earlier is not None:
                        return earlier
                patient = patient_for_booking(details=patient, by=by, request=request)
            _lock_patient(patient)
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
                created_at=now,
                created_by=by,
                updated_by=by,
            )
            _full_clean(appointment)
            _save(appointment, by=by)
            _audit(appointment, action=AuditEvent.Action.CREATE, by=by, request=request)
            # A new patient's consultation asks for the intake form; its link rides in the confirmation.
            intake_token = intake_for_booking(appointment=appointment, by=by, language=language)
            if notify:
                emails.queue(
                    appointment=appointment, kind=emails.Kind.BOOKED, language=language, intake_token=intake_token
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
    language: str = "",
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Move a booked appointment to `starts_at` (and to `provider`, if given) at the same office.

    The same rules as booking apply, with the appointment's own old time not counted
    against it. Without `by` the patient is moving it themselves (online rules: notice,
    horizon); with `by`, staff rules. `enforce_cutoff` refuses moves closer than the
    practice's cut-off to the current time (the patient's self-service links set it).
    When the time changes the patient is emailed the new time and new links, and the
    reminders of the old time are withdrawn; another provider at the same time changes
    nothing the patient was told, so it sends nothing. `appointment` is updated in place
    and returned; on an error it is left as it was in the database.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    source = Source.STAFF if by is not None else Source.ONLINE
    try:
        with transaction.atomic():
            # Read the time under the row lock, so a move made by someone else a moment ago counts as the old time.
            _lock_appointment(appointment)
            old_start = appointment.starts_at
            if appointment.status != AppointmentStatus.BOOKED:
                raise BookingError(_("Only a booked appointment can be moved."))
            if enforce_cutoff:
                check_cutoff(appointment=appointment, rules=rules, now=now)
            new_provider = provider or appointment.provider
            _lock(
                provider_ids=sorted({appointment.provider_id, new_provider.pk}),
                office=appointment.office,
                appointment_type=appointment.appointment_type,
            )
            _lock_patient(appointment.patient)
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
            _audit(appointment, action=AuditEvent.Action.CHANGE, by=by, request=request)
            if appointment.starts_at != old_start:
                reminders.withdraw(appointment)
                emails.queue(appointment=appointment, kind=emails.Kind.MOVED, language=language)
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
    *,
    appointment: Appointment,
    enforce_cutoff: bool,
    by: User | None = None,
    language: str = "",
    request: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel a booked appointment, freeing its time, and email the patient. Cancelling twice changes nothing.

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
            check_cutoff(appointment=appointment, rules=BookingRules.current(), now=now)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = now
        appointment.updated_by = by
        _save(appointment, by=by, update_fields=["status", "cancelled_at", "updated_by", "updated_at"])
        _audit(appointment, action=AuditEvent.Action.CHANGE, by=by, request=request)
        reminders.withdraw(appointment)
        emails.queue(appointment=appointment, kind=emails.Kind.CANCELLED, language=language)
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


def appointment_set_status(
    *, appointment: Appointment, status: str, by: User | None, request: Any = None
) -> Appointment:
    """Check in, mark completed or no-show (or undo a check-in or a completion), per `STATUS_TRANSITIONS`.

    These send nothing: the patient was there (or was not), and knows.
    """
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
        _audit(appointment, action=AuditEvent.Action.CHANGE, by=by, request=request)
    return appointment


def callback_request_create(
    *, office: Office, name: str, phone: str, email: str, preferred_times: str
) -> CallbackRequest:
    """Save a request from the website to be called back, for the front desk's list."""
    callback = CallbackRequest(office=office, name=name, phone=phone, email=email, preferred_times=preferred_times)
    callback.full_clean()
    callback.save()
    return callback


def callback_mark_done(
    *, callback: CallbackRequest, by: User, request: Any = None, now: datetime | None = None
) -> CallbackRequest:
    """Mark a call-back request handled, by whom and when. Marking it twice changes nothing."""
    with transaction.atomic():
        callback.refresh_from_db(from_queryset=CallbackRequest.objects.select_for_update())
        if callback.handled:
            return callback
        callback.handled = True
        callback.handled_at = now or timezone.now()
        callback.handled_by = by
        callback.save(update_fields=["handled", "handled_at", "handled_by"])
        audit_record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.CALLBACK,
            object_ref=str(callback.uuid),
            request=request,
        )
    return callback


# --- Internals ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Placement:
    ends_at: datetime
    blocks_until: datetime
    room: Room | None
    override_reason: str


def _booked_moments_ago(
    *, details: PatientDetails, office: Office, provider: Provider, starts_at: datetime, now: datetime
) -> Appointment | None:
    """The active appointment this person booked online at this slot moments ago (a form sent twice), if any."""
    found: QuerySet[Appointment] = active_appointments().filter(
        source=Source.ONLINE,
        created_at__gte=now - DOUBLE_SUBMIT_WINDOW,
        patient__email__iexact=details.email,
        patient__date_of_birth=details.date_of_birth,
        patient__last_name__iexact=details.last_name,
        office=office,
        provider=provider,
        starts_at=starts_at,
    )
    return found.select_related("office").first()


def _lock(*, provider_ids: list[int], office: Office, appointment_type: AppointmentType) -> None:
    """On PostgreSQL, serialise writers per provider and room (then `_lock_patient`), always in this order.

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


def _lock_patient(patient: Patient) -> None:
    if connection.features.has_select_for_update:
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
    if override_reason and (by is None or source != Source.STAFF or not can(by, Act.OVERRIDE, Record.APPOINTMENT)):
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


def _audit(appointment: Appointment, *, action: str, by: User | None, request: Any) -> None:
    audit_record(
        actor=by,
        action=action,
        object_type=Record.APPOINTMENT,
        object_ref=str(appointment.uuid),
        patient=appointment.patient,
        request=request,
    )


def _overlap_error(error: IntegrityError) -> BookingError | None:
    """The typed error for a violation of one of the exclusion constraints, else None."""
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    translated = {
        PROVIDER_OVERLAP_CONSTRAINT: SlotTaken,
        ROOM_OVERLAP_CONSTRAINT: NoRoomFree,
        PATIENT_OVERLAP_CONSTRAINT: PatientBusy,
    }.get(name)
    return translated() if translated is not None else None

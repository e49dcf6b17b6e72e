"""Writes of the staff calendar, around the core scheduling services.

The front desk books, moves, cancels and changes statuses through
`scheduling.services`, which apply the same rules as online booking (hours,
overlaps, rooms; staff may book inside the minimum notice, never in the past).
What this module adds: a booking for a patient typed in on the spot creates the
patient in the same transaction, so a refused booking leaves no patient behind;
the patient is emailed (in their own language, after commit) when staff book, move
or cancel their appointment, exactly as when they do it themselves online, since a
move makes the links in their earlier emails stop working; and marking a call-back
request done. Status changes (check-in, completed, no-show) send nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from patients.models import Patient
from scheduling import emails, services
from scheduling.models import Appointment, AppointmentType, CallbackRequest, Provider
from website.models import Office


@dataclass(frozen=True, slots=True)
class NewPatient:
    """A patient the front desk types in while booking."""

    first_name: str
    last_name: str
    date_of_birth: date
    phone: str
    email: str = ""
    language: str = Patient.Language.ENGLISH


class PatientExists(services.BookingError):
    default_message = _(
        "A patient with this name and date of birth is already on file. Find them above and choose them."
    )
    default_code = "patient_exists"


def appointment_book_by_staff(
    *,
    office: Office,
    provider: Provider,
    appointment_type: AppointmentType,
    starts_at: datetime,
    patient: Patient | NewPatient,
    by: User,
    area_of_concern: str = "",
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book from the staff calendar, creating a new patient first if one was typed in.

    One transaction: the patient and the appointment are saved together or not at all.
    Raises `services.BookingError` (including `PatientExists` for a typed-in patient
    already on file with the same name and date of birth).
    """
    with transaction.atomic():
        if isinstance(patient, NewPatient):
            patient = _patient_create(new=patient, by=by)
        appointment = services.appointment_book(
            office=office,
            provider=provider,
            appointment_type=appointment_type,
            starts_at=starts_at,
            patient=patient,
            source=Appointment.Source.STAFF,
            by=by,
            area_of_concern=area_of_concern,
            override_reason=override_reason,
            now=now,
        )
        _email_patient(appointment, emails.Kind.BOOKED)
    return appointment


def appointment_move_by_staff(
    *,
    appointment: Appointment,
    starts_at: datetime,
    provider: Provider,
    by: User,
    override_reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move from the staff calendar (no cut-off); the patient is emailed the new time and new links.

    A move that keeps the time (another provider only) changes nothing the patient was
    told, and their links still work, so it sends nothing. Raises `services.BookingError`,
    leaving the appointment and the outbox as they were.
    """
    with transaction.atomic():
        # Read the time under the row lock, so a move made by someone else a moment ago counts as the old time.
        appointment.refresh_from_db(from_queryset=Appointment.objects.select_for_update())
        old_start = appointment.starts_at
        services.appointment_reschedule(
            appointment=appointment,
            starts_at=starts_at,
            provider=provider,
            override_reason=override_reason,
            enforce_cutoff=False,
            by=by,
            now=now,
        )
        if appointment.starts_at != old_start:
            _email_patient(appointment, emails.Kind.MOVED)
    return appointment


def appointment_cancel_by_staff(*, appointment: Appointment, by: User, now: datetime | None = None) -> Appointment:
    """Cancel from the staff calendar (no cut-off); the patient is emailed. Cancelling twice sends one email."""
    now = now or timezone.now()
    with transaction.atomic():
        services.appointment_cancel(appointment=appointment, enforce_cutoff=False, by=by, now=now)
        # An appointment already cancelled is returned unchanged, with its earlier cancelled_at.
        if appointment.cancelled_at == now:
            _email_patient(appointment, emails.Kind.CANCELLED)
    return appointment


def _email_patient(appointment: Appointment, kind: emails.Kind) -> None:
    """Queue the email of `kind` for after commit, in the patient's language, if they gave an address."""
    patient = appointment.patient
    if not patient.email:
        return
    language = patient.preferred_language
    if language not in Patient.Language.values:
        language = Patient.Language.ENGLISH
    emails.send_on_commit(appointment=appointment, kind=kind, language=language)


def _patient_create(*, new: NewPatient, by: User) -> Patient:
    if Patient.objects.filter(
        first_name__iexact=new.first_name, last_name__iexact=new.last_name, date_of_birth=new.date_of_birth
    ).exists():
        raise PatientExists()
    patient = Patient(
        first_name=new.first_name,
        last_name=new.last_name,
        date_of_birth=new.date_of_birth,
        phone=new.phone,
        email=new.email,
        preferred_language=new.language,
    )
    patient.full_clean()
    # django-simple-history records this user on the history row.
    patient._history_user = by  # type: ignore[attr-defined]
    patient.save()
    audit_record(actor=by, action=AuditEvent.Action.CREATE, object_type="patient", object_ref=str(patient.uuid))
    return patient


def callback_mark_done(*, callback: CallbackRequest, by: User, now: datetime | None = None) -> CallbackRequest:
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
            actor=by, action=AuditEvent.Action.CHANGE, object_type="callback_request", object_ref=str(callback.uuid)
        )
    return callback

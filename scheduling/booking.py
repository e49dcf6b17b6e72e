"""Writes of the public booking pages, around the core scheduling services.

Each function runs in one transaction: the patient record, the appointment and the
email hook commit together or not at all, and email goes out only after commit.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from patients.models import Patient
from scheduling import emails, services
from scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentType, CallbackRequest, Provider
from website.models import Office

# A second submission of the same form is recognised only this soon after the first:
# later, knowing someone's name, email and birth date must not reveal their booking.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is booking, as typed on the form."""

    first_name: str
    last_name: str
    email: str
    phone: str
    date_of_birth: date


def patient_find_or_create(*, identity: Identity, language: str) -> Patient:
    """The patient with this email, date of birth and last name, or a new one.

    An existing record is used as it is: a public form never changes a chart's details.
    """
    patient = (
        Patient.objects.filter(
            email__iexact=identity.email,
            date_of_birth=identity.date_of_birth,
            last_name__iexact=identity.last_name,
        )
        .order_by("pk")
        .first()
    )
    if patient is not None:
        return patient
    patient = Patient(
        first_name=identity.first_name,
        last_name=identity.last_name,
        email=identity.email,
        phone=identity.phone,
        date_of_birth=identity.date_of_birth,
        preferred_language=language if language in Patient.Language.values else Patient.Language.ENGLISH,
    )
    patient.full_clean()
    patient.save()
    return patient


def appointment_booked_for(
    *, identity: Identity, office: Office, provider: Provider, starts_at: datetime
) -> Appointment | None:
    """The active appointment this person booked online at this slot moments ago (a form sent twice), if any."""
    found: QuerySet[Appointment] = Appointment.objects.filter(
        source=Appointment.Source.ONLINE,
        created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW,
        patient__email__iexact=identity.email,
        patient__date_of_birth=identity.date_of_birth,
        patient__last_name__iexact=identity.last_name,
        office=office,
        provider=provider,
        starts_at=starts_at,
        status__in=ACTIVE_STATUSES,
    ).select_related("office")
    return found.first()


def appointment_book_online(
    *,
    office: Office,
    provider: Provider,
    appointment_type: AppointmentType,
    starts_at: datetime,
    identity: Identity,
    area_of_concern: str,
    language: str,
    now: datetime | None = None,
) -> tuple[Appointment, bool]:
    """Book from the website; returns (appointment, created).

    A second submission of the same slot by the same person returns the appointment it
    already booked (created False, no second email). Raises `services.BookingError`.
    """
    with transaction.atomic():
        patient = patient_find_or_create(identity=identity, language=language)
        existing = appointment_booked_for(identity=identity, office=office, provider=provider, starts_at=starts_at)
        if existing is not None:
            return existing, False
        appointment = services.appointment_book(
            office=office,
            provider=provider,
            appointment_type=appointment_type,
            starts_at=starts_at,
            patient=patient,
            source=Appointment.Source.ONLINE,
            area_of_concern=area_of_concern,
            now=now,
        )
        emails.send_on_commit(appointment=appointment, kind=emails.Kind.BOOKED, language=language)
    return appointment, True


def appointment_reschedule_online(
    *,
    appointment: Appointment,
    provider: Provider,
    starts_at: datetime,
    language: str,
    now: datetime | None = None,
) -> Appointment:
    """Move an appointment from its self-service link (the cut-off applies); a new email carries new links."""
    with transaction.atomic():
        services.appointment_reschedule(
            appointment=appointment, starts_at=starts_at, provider=provider, enforce_cutoff=True, now=now
        )
        emails.send_on_commit(appointment=appointment, kind=emails.Kind.MOVED, language=language)
    return appointment


def appointment_cancel_online(*, appointment: Appointment, language: str, now: datetime | None = None) -> Appointment:
    """Cancel from the self-service link (the cut-off applies); a cancellation email follows."""
    now = now or timezone.now()
    with transaction.atomic():
        services.appointment_cancel(appointment=appointment, enforce_cutoff=True, now=now)
        # Cancelling twice (a double click) changes nothing the second time, and sends nothing.
        if appointment.cancelled_at == now:
            emails.send_on_commit(appointment=appointment, kind=emails.Kind.CANCELLED, language=language)
    return appointment


def callback_request_create(
    *, office: Office, name: str, phone: str, email: str, preferred_times: str
) -> CallbackRequest:
    """Save a request to be called back, for the front desk's list."""
    request = CallbackRequest(office=office, name=name, phone=phone, email=email, preferred_times=preferred_times)
    request.full_clean()
    request.save()
    return request

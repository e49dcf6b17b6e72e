"""The booking rules every part of scheduling applies: the refusals, what an appointment occupies, the cut-off.

The free-time search (`availability`) and the writes (`services`) read the same rules
from here, so every time the search offers can be booked unless someone takes it first.
A refusal is a `BookingError` subclass whose `message` is written for the person who
asked; views map each kind to where and how it is shown.
"""

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentType, BookingRules

# A second submission of the same booking form is recognised only this soon after the first:
# later, knowing someone's name, email and birth date must not reveal their booking.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


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


# --- Shared rules ---------------------------------------------------------------------------------


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


def past_cutoff(*, appointment: Appointment, now: datetime, rules: BookingRules | None = None) -> bool:
    """Whether it is too late to cancel or move `appointment` online (the practice's cut-off)."""
    rules = rules or BookingRules.current()
    return now > appointment.starts_at - rules.cancel_cutoff


def check_cutoff(*, appointment: Appointment, now: datetime, rules: BookingRules | None = None) -> None:
    rules = rules or BookingRules.current()
    if past_cutoff(appointment=appointment, now=now, rules=rules):
        raise PastCutoff(hours=rules.cancel_cutoff_hours)

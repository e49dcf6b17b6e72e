"""The .ics calendar file of an appointment (RFC 5545, written with `icalendar`).

It holds when and where, the office's phone and nothing about the patient or their care
(no name, no kind of visit): calendar files get synced to places the practice does not control.
"""

from datetime import UTC, datetime
from urllib.parse import urlparse

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from scheduling.models import Appointment, AppointmentStatus
from website.models import Practice


def site_host() -> str:
    return urlparse(settings.SITE_URL).hostname or "localhost"


def appointment_uid(appointment: Appointment) -> str:
    """The same UID every time, so a calendar updates the event instead of adding another."""
    return f"{appointment.uuid}@{site_host()}"


def appointment_summary(appointment: Appointment) -> str:
    practice = Practice.objects.first()
    name = practice.name if practice is not None else "RegenClinic"
    # The summary stays in English: calendars show it beside other events, and it names places.
    # It never names the kind of visit: "Procedure visit" on a shared calendar says something about care.
    return f"Appointment at {name} {appointment.office.name}"


def appointment_ics(appointment: Appointment, *, now: datetime | None = None) -> bytes:
    """One VEVENT in UTC; a cancelled appointment gives a cancelling file (METHOD:CANCEL)."""
    office = appointment.office
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", "-//RegenClinic//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", (now or timezone.now()).astimezone(UTC))
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    # Each move or cancellation is a new revision, so calendars replace the old event.
    event.add("sequence", appointment.history.count())
    event.add("summary", appointment_summary(appointment))
    event.add("location", ", ".join(office.address_lines))
    event.add("description", f"{office.name}: {office.phone}")
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return bytes(calendar.to_ical())

"""Emails to the patient about their appointment: booked, moved, cancelled.

Whoever makes the change (the patient online or the front desk) the patient hears of
it, after the transaction commits (`send_on_commit`), so nobody hears of a booking
that was rolled back. A subject or body carries only the date, the time, the office's
name, address and phone and the links: never the patient's name, the area of concern,
the date of birth or the kind of visit ("Procedure visit" says something about their
care), since email is not a private channel. It says "appointment", whatever the type.
"""

import logging
from enum import StrEnum
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from scheduling import display, tokens
from scheduling.ics import appointment_ics
from scheduling.models import Appointment
from website.models import Practice

logger = logging.getLogger(__name__)


class Kind(StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    REMINDER = "reminder"  # sent by scheduling.reminders, not on commit


def send_on_commit(*, appointment: Appointment, kind: Kind, language: str) -> None:
    """Send the email of `kind` once the current transaction commits."""
    transaction.on_commit(partial(send, appointment_id=appointment.pk, kind=kind, language=language))


def links(appointment: Appointment) -> dict[str, str]:
    """Absolute manage, cancel/reschedule and calendar links of the appointment, in the active language."""
    token = tokens.manage_token(appointment)
    return {
        "manage": settings.SITE_URL + reverse("scheduling:manage", kwargs={"token": token}),
        "reschedule": settings.SITE_URL + reverse("scheduling:reschedule", kwargs={"token": token}),
        "calendar": settings.SITE_URL + reverse("scheduling:calendar", kwargs={"token": token}),
        "book": settings.SITE_URL + reverse("scheduling:office", kwargs={"office_slug": appointment.office.slug}),
    }


def build(*, appointment: Appointment, kind: Kind, language: str) -> EmailMessage:
    """The message, in `language`, with the .ics attached (a cancelling one for a cancellation)."""
    office = appointment.office
    practice = Practice.objects.first()
    with translation.override(language), timezone.override(ZoneInfo(office.time_zone)):
        context = {
            "kind": kind.value,
            "practice_name": practice.name if practice is not None else "RegenClinic",
            "office": office,
            "day": display.long_day_label(appointment.starts_at, office),
            "time": display.time_label(appointment.starts_at, office),
            "links": links(appointment),
            # A visit that cannot be booked online (a procedure) cannot be moved online either.
            "can_reschedule": appointment.appointment_type.bookable_online,
        }
        subjects = {
            Kind.BOOKED: _("Your appointment is booked: %(day)s at %(time)s"),
            Kind.MOVED: _("Your appointment was moved: %(day)s at %(time)s"),
            Kind.CANCELLED: _("Your appointment on %(day)s at %(time)s is cancelled"),
            Kind.REMINDER: _("Reminder: your appointment on %(day)s at %(time)s"),
        }
        subject = subjects[kind] % {"day": context["day"], "time": context["time"]}
        template = "reminder" if kind == Kind.REMINDER else "appointment"
        body = render_to_string(f"scheduling/email/{template}.txt", context)
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[appointment.patient.email]
    )
    message.attach("regenclinic-appointment.ics", appointment_ics(appointment), "text/calendar")
    return message


def send(*, appointment_id: int, kind: Kind, language: str) -> bool:
    """Send now. A failure is logged (by public id only) and does not undo the booking."""
    appointment = Appointment.objects.select_related("office", "patient", "appointment_type").get(pk=appointment_id)
    if not appointment.patient.email:
        return False
    try:
        build(appointment=appointment, kind=kind, language=language).send()
    except Exception:
        logger.exception("Could not send the %s email for appointment %s.", kind.value, appointment.uuid)
        return False
    return True

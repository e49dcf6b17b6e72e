"""Emails to the patient about their appointment: booked, moved, cancelled, reminded.

Whoever makes the change (the patient online or the front desk) the patient hears of
it: `queue` puts the email in the outbox inside the change's transaction, and the
worker sends it after the commit, so nobody hears of a booking that was rolled back
and none that committed is lost when the mail server is down. A subject or body
carries only the date, the time, the office's name, address and phone and the links:
never the patient's name, the area of concern, the date of birth or the kind of visit
("Procedure visit" says something about their care), since email is not a
private channel. It says "appointment", whatever the type.
"""

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from outbox.models import Email
from outbox.services import email_queue
from patients.models import Patient
from scheduling import display, tokens
from scheduling.ics import appointment_ics
from scheduling.models import Appointment
from website.models import Practice


class Kind(StrEnum):
    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"
    REMINDER = "reminder"  # queued by scheduling.reminders when due

    @property
    def outbox_kind(self) -> str:
        return f"appointment.{self.value}"


def queue(
    *,
    appointment: Appointment,
    kind: Kind,
    language: str = "",
    not_after: datetime | None = None,
    intake_token: str | None = None,
) -> Email | None:
    """Put the email of `kind` in the outbox (in the current transaction), if the patient gave an address.

    In `language`, or the patient's own when empty. `intake_token`: the token of the
    intake link to carry (the booking confirmation's, `patients.intake.intake_for_booking`).
    """
    patient = appointment.patient
    if not patient.email:
        return None
    language = language or patient.preferred_language
    if language not in Patient.Language.values:
        language = Patient.Language.ENGLISH
    return email_queue(
        message=build(appointment=appointment, kind=kind, language=language, intake_token=intake_token),
        kind=kind.outbox_kind,
        reference=appointment.uuid,
        not_after=not_after,
    )


def links(appointment: Appointment, *, intake_token: str | None = None) -> dict[str, str]:
    """Absolute manage, cancel/reschedule and calendar links of the appointment, in the active language.

    With `intake_token`, also the intake link it opens ("intake"): the token is made by the
    booking's transaction and exists nowhere else, so it is handed in rather than looked up.
    """
    token = tokens.manage_token(appointment)
    found = {
        "manage": settings.SITE_URL + reverse("scheduling:manage", kwargs={"token": token}),
        "reschedule": settings.SITE_URL + reverse("scheduling:reschedule", kwargs={"token": token}),
        "calendar": settings.SITE_URL + reverse("scheduling:calendar", kwargs={"token": token}),
        "book": settings.SITE_URL + reverse("scheduling:office", kwargs={"office_slug": appointment.office.slug}),
    }
    if intake_token:
        found["intake"] = settings.SITE_URL + reverse("patients:intake_start", kwargs={"token": intake_token})
    return found


def build(*, appointment: Appointment, kind: Kind, language: str, intake_token: str | None = None) -> EmailMessage:
    """The message, in `language`, with the .ics attached (a cancelling one for a cancellation).

    `intake_token`: the booking confirmation also asks for the form before the visit, by its link.
    """
    office = appointment.office
    practice = Practice.objects.first()
    with translation.override(language), timezone.override(ZoneInfo(office.time_zone)):
        context = {
            "kind": kind.value,
            "practice_name": practice.name if practice is not None else "RegenClinic",
            "office": office,
            "day": display.long_day_label(appointment.starts_at, office),
            "time": display.time_label(appointment.starts_at, office),
            "links": links(appointment, intake_token=intake_token),
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

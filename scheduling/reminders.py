"""Reminder emails before appointments, each queued exactly once however many workers run.

`reminders_queue_due` is the job: the worker (`manage.py run_worker`) calls it every
pass and `manage.py send_reminders` runs it once. Every booked appointment whose
patient has an email address gets one reminder per offset in the practice's
`BookingRules.reminder_hours`, due that long before the appointment. Exactly once:

1. Claim: insert a `Reminder` row, and queue its email in the outbox, in one
   transaction. The unique constraint on (appointment, offset, start) makes a second
   worker's insert fail, and it moves on; a moved appointment gets fresh rows.
2. The outbox sends it (after commit, retried with back-off, once), but never after
   the grace window closes or the appointment begins (`not_after`): a reminder that
   could not go out in time is recorded expired rather than sent at a misleading moment.
3. Cancelling or moving the appointment withdraws the reminders still waiting.

A reminder whose time passed longer ago than the grace window when it is claimed (a
2-day reminder for a booking made 1 day ahead, a worker that was stopped for hours) is
recorded SKIPPED instead. The message is the `REMINDER` email of scheduling/emails.py:
date, time, the office and the links, nothing about the person.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic

from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox.services import emails_withdraw
from scheduling import emails
from scheduling.models import Appointment, AppointmentStatus, BookingRules, Reminder

Status = Reminder.Status


@dataclass
class ReminderPass:
    """What one run of `reminders_queue_due` did (reminders another worker claimed are not counted)."""

    queued: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"{self.queued} queued, {self.skipped} skipped"

    def counts(self) -> dict[str, int]:
        return {"queued": self.queued, "skipped": self.skipped}


def reminders_queue_due(*, now: datetime | None = None) -> ReminderPass:
    """Queue every reminder due at `now` that no worker has claimed yet."""
    # In UTC: adding hours to a local time adds wall-clock hours, wrong across a clock change.
    now = (now or timezone.now()).astimezone(UTC)
    rules = BookingRules.current()
    result = ReminderPass()
    started = monotonic()
    for appointment, offset in _due(now=now, rules=rules):
        # The moment of each claim, not of the pass: a long pass must not look stuck.
        claimed_at = now + timedelta(seconds=monotonic() - started)
        status = _claim(appointment=appointment, offset=offset, now=now, claimed_at=claimed_at, rules=rules)
        if status == Status.QUEUED:
            result.queued += 1
        elif status == Status.SKIPPED:
            result.skipped += 1
    return result


def withdraw(appointment: Appointment) -> int:
    """Withdraw the reminders of `appointment` still waiting in the outbox (it was cancelled or moved)."""
    return emails_withdraw(reference=appointment.uuid, kinds=(emails.Kind.REMINDER.outbox_kind,))


def _due(*, now: datetime, rules: BookingRules) -> Iterator[tuple[Appointment, timedelta]]:
    """(appointment, offset) pairs whose time has come and that have no reminder row yet, soonest first."""
    offsets = rules.reminder_offsets
    if not offsets:
        return
    appointments = (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__gt=now, starts_at__lte=now + offsets[0])
        .exclude(patient__email="")
        .select_related("office", "patient", "appointment_type")
        .order_by("starts_at", "pk")
    )
    claimed = set(
        Reminder.objects.filter(appointment__in=appointments.values("pk")).values_list(
            "appointment_id", "offset_minutes", "starts_at"
        )
    )
    for appointment in appointments:
        for offset in offsets:
            if appointment.starts_at - offset > now:
                continue
            if (appointment.pk, _minutes(offset), appointment.starts_at) not in claimed:
                yield appointment, offset


def _claim(
    *, appointment: Appointment, offset: timedelta, now: datetime, claimed_at: datetime, rules: BookingRules
) -> str:
    """Insert the reminder's row and queue its email (or record it skipped when late); "" if another worker did."""
    due_at = appointment.starts_at - offset
    # Sent up to the grace window after its time, and never once the appointment has begun.
    not_after = min(due_at + rules.reminder_grace, appointment.starts_at)
    late = now > not_after or now >= appointment.starts_at
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                appointment=appointment,
                offset_minutes=_minutes(offset),
                starts_at=appointment.starts_at,
                due_at=due_at,
                status=Status.SKIPPED if late else Status.QUEUED,
                skip_reason=Reminder.SkipReason.TOO_LATE if late else "",
                claimed_at=claimed_at,
            )
            if not late:
                reminder.email = emails.queue(appointment=appointment, kind=emails.Kind.REMINDER, not_after=not_after)
                reminder.save(update_fields=["email"])
    except IntegrityError:
        return ""
    return reminder.status


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds()) // 60

"""Reminder emails before appointments, each sent exactly once however many workers run.

`reminders_send_due` is the job: the worker (`manage.py run_worker`) calls it every
pass and `manage.py send_reminders` runs it once. Every booked appointment whose
patient has an email address gets one reminder per offset in the practice's
`BookingRules.reminder_hours`, due that long before the appointment. Exactly once:

1. Claim: insert a `Reminder` row in its own transaction. The unique constraint on
   (appointment, offset, start) makes a second worker's insert fail, and it moves on.
2. Send after the commit, reading the appointment again first: one cancelled or moved
   in the meantime is recorded skipped, not reminded of.
3. Record SENT, or FAILED with the kind of error and a time to try again. A retry
   claims the row with a conditional update (FAILED to SENDING) that one worker wins.

A worker stopped between 1 and 3 (killed, the machine down) leaves its row SENDING.
After STUCK_AFTER the next pass records it SKIPPED (`stopped`) for staff to see,
never sends it again: the email may have gone out, and once is the promise.

A reminder whose time passed longer ago than the grace window (a 2-day reminder for a
booking made 1 day ahead, a worker that was stopped for hours) is recorded SKIPPED
rather than sent at a misleading moment, and nothing is sent once the appointment has
begun. The message is the `REMINDER` email of scheduling/emails.py: date, time, the
office and the links, nothing about the person.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from scheduling import emails
from scheduling.models import Appointment, AppointmentStatus, BookingRules, Reminder

logger = logging.getLogger(__name__)

Status = Reminder.Status

# A failed send is tried again after 2, 4, 8, 16 minutes, then every 30, until its window closes.
RETRY_FIRST = timedelta(minutes=2)
RETRY_LONGEST = timedelta(minutes=30)
# Far longer than a send can take (EMAIL_TIMEOUT bounds each step of one).
STUCK_AFTER = timedelta(minutes=10)


@dataclass
class ReminderPass:
    """What one run of `reminders_send_due` did (reminders another worker handled are not counted)."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.failed} failed, {self.skipped} skipped"

    def add(self, status: str) -> None:
        if status == Status.SENT:
            self.sent += 1
        elif status == Status.FAILED:
            self.failed += 1
        elif status == Status.SKIPPED:
            self.skipped += 1


def reminders_send_due(*, now: datetime | None = None) -> ReminderPass:
    """Send every reminder due at `now` that no worker has claimed, and retry failed ones whose turn came."""
    # In UTC: adding hours to a local time adds wall-clock hours, wrong across a clock change.
    now = (now or timezone.now()).astimezone(UTC)
    rules = BookingRules.current()
    result = ReminderPass()
    started = monotonic()

    def claim_time() -> datetime:
        # The moment of a claim, not of the pass: a long pass must not look stuck to another worker.
        return now + timedelta(seconds=monotonic() - started)

    for stuck in Reminder.objects.filter(status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER).order_by("pk"):
        if _settle(stuck, status=Status.SKIPPED, skip_reason=Reminder.SkipReason.STOPPED):
            result.add(Status.SKIPPED)
            logger.warning(
                "Reminder %s was claimed by a worker that stopped before recording it; marked stopped, not sent again.",
                stuck.pk,
            )
    for appointment, offset in _due(now=now, rules=rules):
        due_at = appointment.starts_at - offset
        late = _too_late(due_at=due_at, starts_at=appointment.starts_at, now=now, rules=rules)
        reminder = _claim(appointment=appointment, offset=offset, due_at=due_at, now=claim_time(), late=late)
        if reminder is None:
            continue  # another worker claimed it first
        # One at a time: claim, send, record. A worker that dies leaves at most one row unsettled.
        result.add(Status.SKIPPED if late else _send(reminder, now=now))
    for reminder in Reminder.objects.filter(status=Status.FAILED, next_attempt_at__lte=now).order_by("pk"):
        result.add(_retry(reminder, now=now, rules=rules, claimed_at=claim_time()))
    return result


def _due(*, now: datetime, rules: BookingRules) -> Iterator[tuple[Appointment, timedelta]]:
    """(appointment, offset) pairs whose time has come and that have no reminder row yet, soonest first."""
    offsets = rules.reminder_offsets
    if not offsets:
        return
    appointments = (
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, starts_at__gt=now, starts_at__lte=now + offsets[0])
        .exclude(patient__email="")
        .select_related("office", "patient")
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


def _too_late(*, due_at: datetime, starts_at: datetime, now: datetime, rules: BookingRules) -> bool:
    return now > due_at + rules.reminder_grace or now >= starts_at


def _claim(
    *, appointment: Appointment, offset: timedelta, due_at: datetime, now: datetime, late: bool
) -> Reminder | None:
    """Insert the reminder's row (SENDING, or SKIPPED when late); None if another worker's row is there."""
    try:
        with transaction.atomic():
            return Reminder.objects.create(
                appointment=appointment,
                offset_minutes=_minutes(offset),
                starts_at=appointment.starts_at,
                due_at=due_at,
                status=Status.SKIPPED if late else Status.SENDING,
                skip_reason=Reminder.SkipReason.TOO_LATE if late else "",
                claimed_at=now,
            )
    except IntegrityError:
        return None


def _retry(reminder: Reminder, *, now: datetime, rules: BookingRules, claimed_at: datetime) -> str:
    """Claim a failed reminder again and send it, or skip it once its window has closed. Returns the outcome."""
    if _too_late(due_at=reminder.due_at, starts_at=reminder.starts_at, now=now, rules=rules):
        won = _settle(reminder, expected=Status.FAILED, status=Status.SKIPPED, skip_reason=Reminder.SkipReason.TOO_LATE)
        return Status.SKIPPED if won else ""
    if not _settle(reminder, expected=Status.FAILED, status=Status.SENDING, claimed_at=claimed_at):
        return ""  # another worker is retrying it
    return _send(reminder, now=now)


def _send(reminder: Reminder, *, now: datetime) -> str:
    """Send a claimed (SENDING) reminder and record how it went. Returns the outcome."""
    appointment = Appointment.objects.select_related("office", "patient", "appointment_type").get(
        pk=reminder.appointment_id
    )
    if (
        appointment.status != AppointmentStatus.BOOKED
        or appointment.starts_at != reminder.starts_at
        or not appointment.patient.email
    ):
        _settle(reminder, status=Status.SKIPPED, skip_reason=Reminder.SkipReason.CHANGED)
        return Status.SKIPPED
    attempts = reminder.attempts + 1
    try:
        emails.build(
            appointment=appointment, kind=emails.Kind.REMINDER, language=appointment.patient.preferred_language
        ).send()
    except Exception as error:
        # The error's text may carry the address; the row and the log keep its kind only.
        _settle(
            reminder,
            status=Status.FAILED,
            attempts=attempts,
            last_error=type(error).__name__[:100],
            next_attempt_at=now + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_LONGEST),
        )
        logger.warning("Reminder %s could not be sent (%s); it will be retried.", reminder.pk, type(error).__name__)
        return Status.FAILED
    _settle(reminder, status=Status.SENT, attempts=attempts, sent_at=now, last_error="", next_attempt_at=None)
    return Status.SENT


def _settle(reminder: Reminder, *, expected: str = Status.SENDING, **changes: Any) -> bool:
    """Move the row from `expected` to `changes` if nobody else has; True if this call did."""
    return Reminder.objects.filter(pk=reminder.pk, status=expected).update(**changes) == 1


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds()) // 60

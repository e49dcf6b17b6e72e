"""Writes of the outbox: queue an email, deliver it once, retry with back-off, give up visibly.

`email_queue` stores the whole message and enqueues its delivery as a task
(django-tasks, database backend) in the caller's transaction: a change that rolls back
leaves neither, a change that commits always has both. The worker (`manage.py
run_worker`) runs the task after the commit.

Exactly once, however many workers run: a delivery first claims the row with a
conditional update (QUEUED or FAILED to SENDING), which one worker wins; the database
backend also hands each task to one worker only (SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL, the write lock on SQLite). A worker that stops mid-send leaves the row
SENDING; `emails_sweep` records it INTERRUPTED after STUCK_AFTER and never resends it
(at most once beats twice), so staff can see it and send it again by hand.
"""

import base64
import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from outbox.models import Email

logger = logging.getLogger(__name__)

Status = Email.Status

# A failed send is tried again after 2, 4, 8, 16 minutes, then every 30, eight attempts in all (about 2 hours).
RETRY_FIRST = timedelta(minutes=2)
RETRY_LONGEST = timedelta(minutes=30)
MAX_ATTEMPTS = 8
# Far longer than a send can take (EMAIL_TIMEOUT bounds each step of one).
STUCK_AFTER = timedelta(minutes=10)
# The sweep delivers what its own task should have delivered by now (a task row lost, a task that crashed).
SWEEP_AFTER = timedelta(minutes=5)
PENDING = (Status.QUEUED, Status.FAILED)


def email_queue(*, message: EmailMessage, kind: str, reference: Any = "", not_after: datetime | None = None) -> Email:
    """Store `message` (one recipient) and enqueue its delivery, both in the current transaction."""
    from outbox.tasks import deliver_email

    if len(message.to) != 1 or message.cc or message.bcc:
        raise ValueError("An outbox email has exactly one recipient.")
    email = Email(
        kind=kind,
        reference=str(reference),
        to=message.to[0],
        subject=str(message.subject),
        body=str(message.body),
        attachments=[_attachment(part) for part in message.attachments],
        not_after=not_after,
    )
    email.full_clean()
    with transaction.atomic():
        email.save()
        deliver_email.enqueue(email.pk)
    return email


def email_deliver(*, email_id: int, now: datetime | None = None) -> str:
    """Send one queued (or due-for-retry) email and record the outcome; "" if it was not this call's to send."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimed = (
        Email.objects.filter(due, pk=email_id, status__in=PENDING).update(status=Status.SENDING, claimed_at=now) == 1
    )
    if not claimed:
        return ""
    email = Email.objects.get(pk=email_id)
    if email.not_after is not None and now > email.not_after:
        _settle(email, status=Status.EXPIRED)
        return Status.EXPIRED
    attempts = email.attempts + 1
    try:
        _message(email).send()
    except Exception as error:
        # The error's text may carry the address; the row and the log keep its kind only.
        kind = type(error).__name__[:100]
        if attempts >= MAX_ATTEMPTS:
            _settle(email, status=Status.GAVE_UP, attempts=attempts, last_error=kind, next_attempt_at=None)
            logger.error("Email %s could not be sent after %s attempts (%s); given up.", email.uuid, attempts, kind)
            return Status.GAVE_UP
        retry_at = now + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_LONGEST)
        with transaction.atomic():
            _settle(email, status=Status.FAILED, attempts=attempts, last_error=kind, next_attempt_at=retry_at)
            _enqueue(email, run_after=retry_at)
        logger.warning("Email %s could not be sent (%s); it will be retried.", email.uuid, kind)
        return Status.FAILED
    _settle(email, status=Status.SENT, attempts=attempts, sent_at=now, last_error="", next_attempt_at=None)
    return Status.SENT


def emails_withdraw(*, reference: Any, kinds: tuple[str, ...]) -> int:
    """Withdraw the still-pending emails of `kinds` about `reference` (reminders of a cancelled appointment)."""
    return Email.objects.filter(reference=str(reference), kind__in=kinds, status__in=PENDING).update(
        status=Status.WITHDRAWN, next_attempt_at=None
    )


def email_send_again(*, email: Email, by: User) -> Email:
    """Staff send again an email that gave up or was interrupted; recorded in the audit log."""
    with transaction.atomic():
        changed = Email.objects.filter(pk=email.pk, status__in=(Status.GAVE_UP, Status.INTERRUPTED)).update(
            status=Status.QUEUED, attempts=0, next_attempt_at=None, last_error=""
        )
        if changed:
            _enqueue(email)
            audit_record(actor=by, action=AuditEvent.Action.CHANGE, object_type="email", object_ref=str(email.uuid))
    email.refresh_from_db()
    return email


def emails_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The worker's safety net: record stuck sends as interrupted, deliver pending ones whose task went missing."""
    now = now or timezone.now()
    interrupted = emails_mark_interrupted(now=now)
    delivered = emails_deliver_due(now=now, older_than=SWEEP_AFTER)
    return {"interrupted": interrupted, "delivered late": sum(1 for status in delivered if status)}


def emails_mark_interrupted(*, now: datetime) -> int:
    """Record INTERRUPTED the sends a worker claimed more than STUCK_AFTER ago and never settled."""
    interrupted = 0
    for email in Email.objects.filter(status=Status.SENDING, claimed_at__lt=now - STUCK_AFTER).order_by("pk"):
        if _settle(email, status=Status.INTERRUPTED):
            interrupted += 1
            logger.warning(
                "Email %s was claimed by a worker that stopped before recording it; not sent again.", email.uuid
            )
    return interrupted


def emails_deliver_due(
    *, now: datetime, older_than: timedelta = timedelta(0), kinds: tuple[str, ...] = ()
) -> list[str]:
    """Deliver every pending email (of `kinds`, if given) due `older_than` ago; returns their outcomes.

    Due: queued by then, or due a retry by then.
    """
    due = Email.objects.filter(
        Q(status=Status.QUEUED, created_at__lte=now - older_than)
        | Q(status=Status.FAILED, next_attempt_at__lte=now - older_than)
    ).order_by("pk")
    if kinds:
        due = due.filter(kind__in=kinds)
    return [email_deliver(email_id=pk, now=now) for pk in list(due.values_list("pk", flat=True))]


def _enqueue(email: Email, *, run_after: datetime | None = None) -> None:
    from outbox.tasks import deliver_email

    (deliver_email.using(run_after=run_after) if run_after else deliver_email).enqueue(email.pk)


def _settle(email: Email, **changes: Any) -> bool:
    """Move the row from SENDING to `changes` if nobody else has; True if this call did."""
    return Email.objects.filter(pk=email.pk, status=Status.SENDING).update(**changes) == 1


def _attachment(part: Any) -> dict[str, str]:
    filename, content, mimetype = part
    raw = content.encode() if isinstance(content, str) else bytes(content)
    return {
        "filename": filename,
        "mimetype": mimetype or "application/octet-stream",
        "content": base64.b64encode(raw).decode(),
    }


def _message(email: Email) -> EmailMessage:
    from django.conf import settings

    message = EmailMessage(
        subject=email.subject, body=email.body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.to]
    )
    for part in email.attachments:
        message.attach(part["filename"], base64.b64decode(part["content"]), part["mimetype"])
    return message

"""The outbox: every email the practice sends, written in the transaction that causes it."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Email(models.Model):
    """One email, stored whole when it is queued and sent by the worker after commit.

    Its life: QUEUED → SENDING → SENT; a failed attempt makes it FAILED with a time to try
    again (back-off), and after `outbox.services.MAX_ATTEMPTS` it GAVE_UP, for staff to
    see. An email whose moment has passed (`not_after`, e.g. a reminder once the
    appointment has begun) EXPIRED instead of going out late; one no longer wanted (the
    appointment it reminds of was cancelled) was WITHDRAWN. A worker that stopped while
    sending leaves SENDING; after a while it is recorded INTERRUPTED and never sent
    again automatically: it may have gone out, and once is the promise.

    Subjects and bodies carry no health information (each app's email builder sees to
    it); `last_error` keeps the kind of error only, never its text, which may name the
    recipient.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will be retried")
        GAVE_UP = "gave_up", _("Failed, given up")
        EXPIRED = "expired", _("Too late to send")
        WITHDRAWN = "withdrawn", _("No longer needed")
        INTERRUPTED = "interrupted", _("Interrupted while sending")

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    kind = models.CharField(max_length=40, help_text="What it is, e.g. 'appointment.booked'.")
    reference = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The public id of the record it is about."
    )
    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    attachments = models.JSONField(default=list, blank=True, help_text="[{filename, mimetype, content (base64)}]")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=100, blank=True, help_text="The kind of the last sending error.")
    not_after = models.DateTimeField(null=True, blank=True, help_text="Not sent after this moment.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.uuid} ({self.get_status_display()})"

"""What an identified export leaves beside its audit row: why the names left the system.

The audit log (`accounts.audit`) says who exported what and when, and carries no free
text; an identified export (names, record numbers, dates) also needs the written reason
the administrator gave (HIPAA's minimum necessary), kept here with the selection asked
for and the public id of the one audit row the export wrote. A de-identified export
leaves its audit row only.
"""

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from patients.models import Indication


class IdentifiedExport(models.Model):
    """One identified research CSV: the selection, who asked, why, and its audit row (by the row's public id).

    Rows are only ever added. `audit_uuid` is `AuditEvent.uuid` rather than a foreign key,
    so no constraint of another table ever holds rows of the append-only log.
    """

    # Long enough to say what the data is for and who approved it ("IRB 2031-14, knee registry").
    REASON_MIN_LENGTH = 10

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    indication = models.CharField(max_length=30, choices=Indication.choices, blank=True, help_text="Blank: all.")
    procedure_from = models.DateField(null=True, blank=True)
    procedure_to = models.DateField(null=True, blank=True)
    reason = models.TextField(help_text="As the administrator wrote it.")
    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    exported_at = models.DateTimeField()
    audit_uuid = models.UUIDField(unique=True, help_text="The public id of the export's audit row.")

    class Meta:
        ordering = ["-exported_at"]

    def __str__(self) -> str:
        return f"Identified export {self.uuid}"

    def clean(self) -> None:
        if len((self.reason or "").strip()) < self.REASON_MIN_LENGTH:
            raise ValidationError(
                {"reason": f"Write why the identified data is needed, in at least {self.REASON_MIN_LENGTH} characters."}
            )


class BulkExport(models.Model):
    """One FHIR bulk export of the whole practice: who asked, how far the worker got, what it wrote.

    The worker writes NDJSON files (one per resource type, `interop.fhir.bulk_export`) under
    `VAR_DIR / directory` (`exports/<uuid>`). They hold identified health information: only
    the administrator who asked sees the export's page and takes its files. `error` is the
    kind of error only (its text could quote a patient's record).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        # The worker stopped mid-export (no progress for `interop.bulk.STALE`): its files were removed.
        INTERRUPTED = "interrupted", "Interrupted"
        # Done, and its files removed after `settings.BULK_EXPORT_KEEP_DAYS`.
        EXPIRED = "expired", "Files removed"

    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0, help_text="Patients written so far.")
    total = models.PositiveIntegerField(default=0, help_text="Patients to write (0 until the worker has counted).")
    counts = models.JSONField(default=dict, blank=True, help_text="Resources written, by type, once done.")
    directory = models.CharField(max_length=100, help_text="The files' folder, under VAR_DIR.")
    started_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the worker last wrote how far it got (at least every second)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=100, blank=True, help_text="The kind of error, never its text.")

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="interop_bulk_done_within_total"
            )
        ]

    def __str__(self) -> str:
        return f"FHIR bulk export {self.uuid}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.directory:
            self.directory = f"exports/{self.uuid}"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("interop:bulk", kwargs={"uuid": self.uuid})

    @property
    def path(self) -> Path:
        return Path(settings.VAR_DIR) / self.directory

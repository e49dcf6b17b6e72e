"""The practice's FHIR bulk export as a job: queued from its page, run by the worker, taken file by file.

`bulk_start` stores the export and enqueues its task (django-tasks, database backend) in
one transaction; the worker (`manage.py run_worker`) runs `bulk_run`, which claims the row
with a conditional update (queued to running: one worker wins, a task run twice writes
nothing twice), writes the export's one audit row, and then `interop.fhir.bulk_export`
into `VAR_DIR/exports/<uuid>/`. How far it got is written as it goes (`Progress`), each
write a statement of its own, so the page reads it while the export runs.

A failed export keeps the kind of error only, never its text (a mapping error can quote
a patient's record), and its files are removed: half an export is no use, and it is
identified health information.

`bulk_sweep`, a job of the worker, cleans up what is left behind: an export whose worker
was killed mid-way (no progress for `STALE`) is marked interrupted and its half-written
files removed; a finished export's files are removed `settings.BULK_EXPORT_KEEP_DAYS`
after it finished (the export's row, and each file's audit row, stay).
"""

import logging
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_concerns
from accounts.models import User
from interop import fhir, services
from interop.models import BulkExport
from patients.models import Patient

logger = logging.getLogger("interop.bulk")

Status = BulkExport.Status
# How often the page learns of progress: every hundredth of the patients, and at least every second.
STEPS = 100
SECONDS = 1.0
# A running export that has written no progress for this long has lost its worker.
STALE = timedelta(minutes=10)


def bulk_start(*, by: User, now: datetime | None = None) -> BulkExport:
    """Store a bulk export of the whole practice asked for by `by`, and enqueue its task, in one transaction."""
    from interop.tasks import bulk_export_run

    export = BulkExport(requested_by=by, requested_at=now or timezone.now())
    export.directory = f"exports/{export.uuid}"
    export.full_clean()
    with transaction.atomic():
        export.save()
        bulk_export_run.enqueue(export.pk)
    return export


def bulk_run(*, export_id: int, now: Callable[[], datetime] = timezone.now) -> str:
    """Write the export `export_id` if it is still queued; its final status, or "" if it was not this call's."""
    with transaction.atomic():
        claimed = BulkExport.objects.filter(pk=export_id, status=Status.QUEUED).update(
            status=Status.RUNNING, started_at=now(), progressed_at=now()
        )
        if not claimed:
            return ""
        export = BulkExport.objects.select_related("requested_by").get(pk=export_id)
        # Before the first byte is written, in the claim's transaction: an export under way is recorded.
        event = services.bulk_export_log(export=export, by=export.requested_by)
        # Every patient's record leaves: each sees the export in their access report.
        audit_concerns(event, Patient.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    progress = Progress(export.pk)
    try:
        counts = fhir.bulk_export(export.path, progress=progress)
    except Exception as error:
        shutil.rmtree(export.path, ignore_errors=True)
        progress.flush()
        BulkExport.objects.filter(pk=export.pk).update(
            status=Status.FAILED, error=type(error).__name__, finished_at=now()
        )
        logger.error("FHIR bulk export %s failed (%s).", export.uuid, type(error).__name__)
        return Status.FAILED
    BulkExport.objects.filter(pk=export.pk).update(
        status=Status.DONE, done=progress.done, total=progress.total, counts=counts, finished_at=now()
    )
    logger.info("FHIR bulk export %s done: %d patients.", export.uuid, progress.total)
    return Status.DONE


class Progress:
    """`bulk_export`'s progress callback: writes done/total to the row every hundredth of the patients or second."""

    def __init__(self, export_id: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.export_id = export_id
        self.clock = clock
        self.done = self.total = 0
        self.written = 0
        self.written_at = clock()

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        at = self.clock()
        step = max(1, total // STEPS)
        if done == total or done - self.written >= step or at - self.written_at >= SECONDS:
            self._write(at)

    def flush(self) -> None:
        """Write what has not been written yet (when the export stops short)."""
        if self.done != self.written:
            self._write(self.clock())

    def _write(self, at: float) -> None:
        BulkExport.objects.filter(pk=self.export_id).update(
            done=self.done, total=self.total, progressed_at=timezone.now()
        )
        self.written, self.written_at = self.done, at


def bulk_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Mark exports whose worker stopped as interrupted, remove old exports' files; the counts of each.

    Each row changes by a conditional update (still running and stale, still done and old),
    so two workers sweeping at once change it once; its files go after the row has changed.
    """
    now = now or timezone.now()
    found = {"interrupted": 0, "expired": 0}
    stale = BulkExport.objects.filter(status=Status.RUNNING, progressed_at__lt=now - STALE)
    kept_until = now - timedelta(days=settings.BULK_EXPORT_KEEP_DAYS)
    old = BulkExport.objects.filter(status=Status.DONE, finished_at__lt=kept_until)
    for kind, selected, status in (("interrupted", stale, Status.INTERRUPTED), ("expired", old, Status.EXPIRED)):
        for export in list(selected):
            changes = {"status": status} | ({"finished_at": now} if status == Status.INTERRUPTED else {})
            if selected.filter(pk=export.pk).update(**changes):
                shutil.rmtree(export.path, ignore_errors=True)
                found[kind] += 1
                logger.info("FHIR bulk export %s: %s.", export.uuid, kind)
    return found


def bulk_file(export: BulkExport, resource_type: str) -> Path | None:
    """The NDJSON file of `resource_type` a finished export wrote, or None (not finished, no such type)."""
    if export.status != Status.DONE or resource_type not in export.counts:
        return None
    path = export.path / f"{resource_type}.ndjson"
    return path if path.is_file() else None

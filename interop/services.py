"""The one write of an export: its audit row, and for an identified export the reason beside it.

Written before the first byte of the file leaves, in one transaction: a download that
breaks off halfway has still been recorded, and a reason that cannot be saved stops the
export before it starts.
"""

from datetime import datetime

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.access import Record
from accounts.audit import audit_concerns, audit_record
from accounts.models import AuditEvent, User
from interop.models import BulkExport, IdentifiedExport
from interop.queries import Selection, treatments

DEIDENTIFIED, IDENTIFIED = "deidentified", "identified"
# The role of a row written from the command line (`manage.py export_fhir`): no user, an operator.
COMMAND_LINE = "command line"


def logged(ref: str, *, by: User | None, request: HttpRequest | None = None) -> AuditEvent:
    """The one audit row of every export: action export, kind research_export, `ref` naming what left.

    `by` is None only for the command line, whose row says so in its role.
    """
    return audit_record(
        actor=by,
        action=AuditEvent.Action.EXPORT,
        object_type=Record.RESEARCH_EXPORT,
        object_ref=ref,
        request=request,
        role=COMMAND_LINE if by is None else None,
    )


def export_ref(selection: Selection, *, identified: bool) -> str:
    """What the audit row names: "csv:<kind>:<indication or all>", then the treatment dates if any were given.

    At most 59 characters (the longest indication and both dates), within the log's 64.
    """
    kind = IDENTIFIED if identified else DEIDENTIFIED
    ref = f"csv:{kind}:{selection.indication or 'all'}"
    if selection.procedure_from is not None or selection.procedure_to is not None:
        start = selection.procedure_from.isoformat() if selection.procedure_from else ""
        end = selection.procedure_to.isoformat() if selection.procedure_to else ""
        ref += f":{start}..{end}"
    return ref


def export_log(
    *,
    selection: Selection,
    by: User,
    identified: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Record one export of `selection` by `by`: exactly one audit row, and an identified one's reason with it.

    An identified export without a reason of `IdentifiedExport.REASON_MIN_LENGTH` characters
    raises ValidationError and records nothing.
    """
    kept = None
    if identified:
        kept = IdentifiedExport(
            indication=selection.indication,
            procedure_from=selection.procedure_from,
            procedure_to=selection.procedure_to,
            reason=reason.strip(),
            exported_by=by,
            exported_at=now or timezone.now(),
        )
        kept.full_clean(exclude=["audit_uuid"])
    with transaction.atomic():
        event = logged(export_ref(selection, identified=identified), by=by, request=request)
        if kept is not None:
            kept.audit_uuid = event.uuid
            kept.save()
            # The patients it names see it in their access reports (HIPAA's accounting of disclosures).
            audit_concerns(event, treatments(selection).values_list("episode__patient_id", flat=True))
    return event


def bulk_export_log(
    *, export: BulkExport, by: User, resource_type: str = "", request: HttpRequest | None = None
) -> AuditEvent:
    """One export row for a FHIR bulk export: "fhir:bulk:<uuid>" as the worker starts writing its files,
    "fhir:bulk:<uuid>:<Type>" for each file taken.

    The id is the UUID's 32 hex digits: with the longest type (QuestionnaireResponse) the
    reference is then exactly the log's 64 characters.
    """
    ref = f"fhir:bulk:{export.uuid.hex}" + (f":{resource_type}" if resource_type else "")
    return logged(ref, by=by, request=request)

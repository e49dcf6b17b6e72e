"""The audit log's one writer. Every read, change, export, signature or refusal goes through `audit_record`."""

from typing import Any

from django.http import HttpRequest

from accounts.models import AuditEvent, Role, User


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_ref: str = "",
    patient: Any = None,
    outcome: str = AuditEvent.Outcome.ALLOWED,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Add one audit row, in the caller's transaction (so a rolled-back change leaves none).

    `object_ref` is a public id, never the content; `patient` the patient the record
    concerns (a Patient), if any. `actor` is the staff user, or None for the public (a
    patient using a link, a visitor booking).
    """
    user = actor if isinstance(actor, User) else None
    role = ""
    if user is not None:
        role = Role.ADMIN if user.is_superuser else user.role
    return AuditEvent.objects.create(
        actor=user,
        role=role,
        action=action,
        object_type=object_type,
        object_ref=str(object_ref)[:64],
        patient=patient,
        outcome=outcome,
        ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
    )

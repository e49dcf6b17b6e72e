"""Writes of the accounts domain."""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from accounts.models import AuditEvent, User


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    object_type: str,
    object_ref: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Add one audit row. Callers pass a public id, never the content itself."""
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) else None,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        ip_address=ip,
    )

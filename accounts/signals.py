"""Sign-ins, successful or not, go to the audit log."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.audit import audit_record
from accounts.models import AuditEvent, User


@receiver(user_logged_in)
def _audit_sign_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    audit_record(
        actor=user, action=AuditEvent.Action.SIGN_IN, object_type="user", object_ref=str(user.pk), request=request
    )


@receiver(user_login_failed)
def _audit_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    audit_record(actor=None, action=AuditEvent.Action.SIGN_IN_FAILED, object_type="user", request=request)

"""Sign-ins, successful or not, and lockouts for too many failures (django-axes) go to the audit log."""

from typing import Any

from axes.signals import user_locked_out
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


@receiver(user_locked_out)
def _audit_lockout(sender: Any, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any) -> None:
    """One row per refusal for too many failures: the account it names (if it is one), from where."""
    user = User.objects.filter(username=username).first() if username else None
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOCKED_OUT,
        object_type="user",
        object_ref=str(user.pk) if user is not None else "",
        request=request,
    )

"""Writes of the website domain: inquiries from Get In Touch, and the front desk's handling of them."""

import hashlib
import hmac
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.access import Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from outbox.services import email_queue
from website.models import Inquiry, Office, Practice


class InquiryRateLimited(Exception):
    """Too many messages from one address in the last hour."""


class UnknownStatus(ValidationError):
    def __init__(self, status: str) -> None:
        super().__init__(f"Unknown inquiry status {status!r}", code="unknown_status")


def client_key(ip_address: str | None) -> str:
    """A keyed hash of an IP address: enough to count messages, useless to anyone else."""
    digest = hmac.new(settings.SECRET_KEY.encode(), (ip_address or "").encode(), hashlib.sha256)
    return digest.hexdigest()


def inquiry_submit(
    *,
    name: str,
    email: str,
    phone: str,
    preferred_office: Office | None,
    message: str,
    language: str,
    ip_address: str | None,
    sent_despite_medical_notice: bool = False,
    urgent: bool = False,
) -> Inquiry:
    """Save an inquiry and queue the practice's notice (a link, never the message) in the same transaction."""
    key = client_key(ip_address)
    since = timezone.now() - timedelta(hours=1)
    with transaction.atomic():
        # Lock the practice row so that two processes cannot both count four and
        # both insert: the limit holds across workers (SQLite serialises anyway).
        practice = Practice.objects.select_for_update().first()
        recent = Inquiry.objects.filter(Q(email__iexact=email) | Q(client_key=key), created_at__gte=since).count()
        if recent >= settings.CONTACT_MAX_PER_HOUR:
            raise InquiryRateLimited
        inquiry = Inquiry(
            name=name,
            email=email,
            phone=phone,
            preferred_office=preferred_office,
            message=message,
            language=language,
            client_key=key,
            sent_despite_medical_notice=sent_despite_medical_notice,
            urgent=urgent,
        )
        inquiry.full_clean()
        inquiry.save()
        if practice is not None and practice.notification_email:
            email_queue(
                message=_notice(inquiry, to=practice.notification_email), kind="inquiry.new", reference=inquiry.uuid
            )
    return inquiry


def _notice(inquiry: Inquiry, *, to: str) -> EmailMessage:
    """The practice's notice of a new inquiry: a link to the inbox. Neither the message nor its urgency is in it."""
    link = settings.SITE_URL + reverse("website:inquiry_detail", kwargs={"uuid": inquiry.uuid})
    body = (
        "A new message arrived through the website's Get In Touch form.\n\n"
        f"Read and answer it in the inbox (sign-in required):\n{link}\n\n"
        "The message itself is not included in this email.\n"
    )
    return EmailMessage(subject="New website inquiry", body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])


def inquiry_set_status(*, inquiry: Inquiry, status: str, by: User, request: object = None) -> Inquiry:
    """Mark an inquiry new, answered or archived; the change and its audit row commit together."""
    if status not in Inquiry.Status.values:
        raise UnknownStatus(status)
    with transaction.atomic():
        inquiry.status = status
        inquiry.status_changed_at = timezone.now()
        inquiry.status_changed_by = by
        inquiry.save(update_fields=["status", "status_changed_at", "status_changed_by"])
        audit_record(
            actor=by,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.INQUIRY,
            object_ref=str(inquiry.uuid),
            request=request,  # type: ignore[arg-type]
        )
    return inquiry

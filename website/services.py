"""Writes of the website domain."""

import hashlib
import hmac
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from website.models import Inquiry, Office, Practice

logger = logging.getLogger(__name__)


class InquiryRateLimited(Exception):
    """Too many messages from one address in the last hour."""


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
) -> Inquiry:
    """Save an inquiry first, then tell the practice (after commit, without the message)."""
    key = client_key(ip_address)
    since = timezone.now() - timedelta(hours=1)
    with transaction.atomic():
        # Lock the practice row so that two processes cannot both count four and
        # both insert: the limit holds across workers (SQLite serialises anyway).
        list(Practice.objects.select_for_update().values_list("pk"))
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
        )
        inquiry.full_clean()
        inquiry.save()
        transaction.on_commit(lambda: inquiry_notify(inquiry=inquiry))
    return inquiry


def inquiry_notify(*, inquiry: Inquiry) -> bool:
    """Email the practice that an inquiry arrived. The body holds a link, never the message.

    A failed send loses nothing: the inquiry is already saved and stays
    un-notified, so `manage.py notify_inquiries` can try again.
    """
    practice = Practice.objects.first()
    if practice is None or not practice.notification_email:
        return False
    link = settings.SITE_URL + reverse("website:inquiry_detail", kwargs={"uuid": inquiry.uuid})
    body = (
        "A new message arrived through the website's Get In Touch form.\n\n"
        f"Read and answer it in the inbox (sign-in required):\n{link}\n\n"
        "The message itself is not included in this email.\n"
    )
    try:
        send_mail(
            subject="New website inquiry",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[practice.notification_email],
        )
    except Exception:
        logger.exception("Could not send the new-inquiry notice for inquiry %s; it will be retried.", inquiry.uuid)
        return False
    Inquiry.objects.filter(pk=inquiry.pk).update(notified_at=timezone.now())
    return True


def inquiries_notify_pending() -> tuple[int, int]:
    """Retry notices for inquiries whose email failed. Returns (sent, failed)."""
    sent = failed = 0
    for inquiry in Inquiry.objects.filter(notified_at__isnull=True).order_by("created_at"):
        if inquiry_notify(inquiry=inquiry):
            sent += 1
        else:
            failed += 1
    return sent, failed


def inquiry_set_status(*, inquiry: Inquiry, status: str, by: User) -> Inquiry:
    if status not in Inquiry.Status.values:
        raise ValueError(f"Unknown inquiry status {status!r}")
    inquiry.status = status
    inquiry.status_changed_at = timezone.now()
    inquiry.status_changed_by = by
    inquiry.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    return inquiry

"""Random, expiring, single-use links for patients, and the short session each one is swapped for.

The one module for links that open health information (intake, consent, questionnaires).
A link's token is 192 random bits (`secrets.token_urlsafe(24)`), sent in an email and
never stored: the database keeps its SHA-256. The first visit uses the link up (a
conditional update, so two visits at once cannot both win) and puts a patient session
for that purpose and that target in the visitor's cookie session, for `SESSION_MINUTES`;
the page the visitor then lands on reads `current()`. A second visit with the same
token is `LinkGone` (410), as is an expired or revoked one; an unknown token is
`LinkUnknown` (404). A HEAD request uses nothing up (`LinkProbe`, a 404 too). The URL
carries the token only: nothing about health.

The first visit leaves one audit row ("view", in the role "patient"); a refused one (used,
expired, revoked) one "denied" row naming the patient, as an attempt at their record.
Pages a patient reaches through the session audit with `actor=None`: `audit_record` then
records the role "patient" by itself, when the session is that patient's.

The booking pages' cancel/reschedule links are different (signed, reusable, no health
information behind them): `scheduling.tokens`.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.audit import PATIENT_ROLE, audit_record
from accounts.models import AuditEvent, PatientLink

TOKEN_BYTES = 24  # 192 bits
SESSION_MINUTES = 60
SESSION_KEY = "patient_links"
# How long a link stays valid when nothing else is said, by purpose.
VALID_FOR = {
    PatientLink.Purpose.INTAKE: timedelta(days=14),
    PatientLink.Purpose.CONSENT: timedelta(days=7),
    PatientLink.Purpose.QUESTIONNAIRE: timedelta(days=30),
}


class LinkUnknown(Exception):
    """No link has this token (a typo, a guess): 404."""


class LinkProbe(LinkUnknown):
    """A HEAD request (a mail scanner checking the link): it must not use the link up. A 404 where not handled."""


class LinkGone(Exception):
    """The link was used, has expired or was replaced by a newer one: 410, with a way forward."""

    def __init__(self, link: PatientLink, reason: str) -> None:
        super().__init__(reason)
        self.link = link
        self.reason = reason  # "used", "expired" or "revoked"


@dataclass(frozen=True, slots=True)
class PatientSession:
    """What the visitor's patient session opens: one target of one purpose for one patient."""

    link_id: int
    patient_id: int
    purpose: str
    target: str
    until: datetime


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_issue(
    *, purpose: str, patient: Any, target: Any, by: Any = None, valid_for: timedelta | None = None
) -> tuple[PatientLink, str]:
    """A new link and its token (to put in the email). Earlier unused links for the same target are revoked."""
    now = timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        PatientLink.objects.filter(
            purpose=purpose, target=str(target), used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = PatientLink.objects.create(
            purpose=purpose,
            patient=patient,
            target=str(target),
            token_sha256=digest(token),
            created_by=by if getattr(by, "is_authenticated", False) else None,
            expires_at=now + (valid_for or VALID_FOR[PatientLink.Purpose(purpose)]),
        )
    return link, token


def link_open(request: HttpRequest, token: str, *, purpose: str) -> PatientSession:
    """Use up the link `token` names and start the visitor's patient session for it; raise if it cannot be.

    A HEAD request never uses a link (`LinkProbe`): mail scanners probe the links in an
    email before the patient opens them. The rule lives here, so every page that opens a
    link (intake, consent, questionnaires) has it, whatever methods the view allows.
    """
    if request.method == "HEAD":
        raise LinkProbe
    now = timezone.now()
    link = PatientLink.objects.filter(token_sha256=digest(token), purpose=purpose).select_related("patient").first()
    if link is None:
        raise LinkUnknown
    if link.revoked_at is not None:
        raise _refused(request, link, "revoked")
    if link.used_at is not None:
        raise _refused(request, link, "used")
    if link.expires_at <= now:
        raise _refused(request, link, "expired")
    with transaction.atomic():
        won = PatientLink.objects.filter(pk=link.pk, used_at__isnull=True, revoked_at__isnull=True).update(used_at=now)
        if won:
            audit_record(
                actor=None,
                role=PATIENT_ROLE,
                action=AuditEvent.Action.VIEW,
                object_type=f"{purpose}_link",
                object_ref=str(link.uuid),
                patient=link.patient,
                request=request,
            )
    if not won:
        raise _refused(request, link, "used")
    until = now + timedelta(minutes=SESSION_MINUTES)
    opened = dict(request.session.get(SESSION_KEY, {}))
    opened[purpose] = {"link": link.pk, "patient": link.patient_id, "target": link.target, "until": until.timestamp()}
    request.session[SESSION_KEY] = opened
    # A new session id once the link is used: whoever saw the cookie before cannot ride on it.
    request.session.cycle_key()
    return PatientSession(link_id=link.pk, patient_id=link.patient_id, purpose=purpose, target=link.target, until=until)


def _refused(request: HttpRequest, link: PatientLink, reason: str) -> LinkGone:
    """A used, expired or replaced link opened again: a refused attempt at the patient's record, audited."""
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        object_type=f"{link.purpose}_link",
        object_ref=str(link.uuid),
        patient=link.patient,
        outcome=AuditEvent.Outcome.DENIED,
        request=request,
    )
    return LinkGone(link, reason)


def current(request: HttpRequest, *, purpose: str, target: Any = None) -> PatientSession | None:
    """The visitor's patient session for `purpose` (and `target`, if given), if it has not run out."""
    found = request.session.get(SESSION_KEY, {}).get(purpose)
    if not found or found["until"] <= timezone.now().timestamp():
        return None
    if target is not None and found["target"] != str(target):
        return None
    return PatientSession(
        link_id=found["link"],
        patient_id=found["patient"],
        purpose=purpose,
        target=found["target"],
        until=datetime.fromtimestamp(found["until"], tz=timezone.get_current_timezone()),
    )


def open_sessions(request: HttpRequest) -> list[PatientSession]:
    """Every patient session the visitor has open and not run out, whatever its purpose."""
    opened = request.session.get(SESSION_KEY, {})
    return [found for purpose in opened if (found := current(request, purpose=purpose)) is not None]


def end(request: HttpRequest, *, purpose: str) -> None:
    """End the patient session for `purpose` (the patient finished, or signed out)."""
    opened = dict(request.session.get(SESSION_KEY, {}))
    if opened.pop(purpose, None) is not None:
        request.session[SESSION_KEY] = opened

"""The worker's pass over follow-ups: open windows, invite, remind twice, hand over to the call list, record misses.

`follow_ups_advance` runs on every pass of the worker `make run` starts (the job
`outcomes_invitations`). It is idempotent, and each email goes out exactly once with two
workers: an `Invitation` row, unique per follow-up and kind, is the claim, inserted in
the same transaction that queues the email in the outbox; the worker that loses the
insert sends nothing.

On the window's opening day the patient is invited at `schedule.INVITATION_TIME` (9:00,
the practice's local time), reminded on days 7 and 14 if still unanswered, and from day
`schedule.CALL_LIST_DAYS` appears on the front desk's call list (at once, when there is
no email address). A worker that was down for a while sends only the latest message
due, and records the ones it skipped. A window that closes unanswered is recorded missed.

The email holds a single-use link (`accounts.links`, purpose questionnaire, target the
follow-up's public id) and the office's phone: nothing about health.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts import links
from accounts.models import PatientLink
from outbox.services import email_queue
from outcomes import schedule
from outcomes.models import FollowUp, Invitation, Timepoint
from outcomes.services import AWAITING, baseline_open
from patients.models import Episode, Patient

OUTBOX_KIND = "questionnaire_invitation"
PURPOSE = PatientLink.Purpose.QUESTIONNAIRE
Kind = Invitation.Kind
# Days after the window opens on which each message is due.
DUE_ON = (
    (Kind.INVITATION, 0),
    (Kind.REMINDER_1, schedule.REMINDER_DAYS[0]),
    (Kind.REMINDER_2, schedule.REMINDER_DAYS[1]),
)
Status = FollowUp.Status


@dataclass
class Pass:
    """What one pass did, for the worker's one-line summary."""

    baselines: int = 0
    opened: int = 0
    missed: int = 0
    sent: int = 0
    skipped: int = 0
    lost_race: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "baselines": self.baselines,
            "opened": self.opened,
            "missed": self.missed,
            "sent": self.sent,
            "skipped": self.skipped,
        }


def follow_ups_advance(*, now: datetime | None = None) -> Pass:
    """One pass (see the module): baselines, openings, misses, then the invitations and reminders due."""
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    today = timezone.localdate(now, zone)
    done = Pass()
    awaiting = Episode.objects.filter(status__in=AWAITING, opened_at__lte=now)
    for episode in awaiting.exclude(follow_ups__timepoint=Timepoint.BASELINE):
        baseline_open(episode=episode, now=now)
        done.baselines += 1
    # Closed unanswered: missed for good (a late answer would count at the wrong time).
    done.missed = FollowUp.objects.filter(status__in=[Status.SCHEDULED, Status.OPEN], closes_on__lt=today).update(
        status=Status.MISSED
    )
    done.opened = FollowUp.objects.filter(status=Status.SCHEDULED, opens_on__lte=today).update(status=Status.OPEN)
    if now < schedule.invitation_moment(today, zone):
        return done
    for follow_up in _waiting(today):
        _invite(follow_up, today=today, now=now, done=done)
    return done


def _waiting(today: date) -> QuerySet[FollowUp]:
    """Open follow-ups whose latest message is not yet claimed (the baseline only while its episode awaits)."""
    return (
        FollowUp.objects.filter(status=Status.OPEN, opens_on__lte=today, closes_on__gte=today)
        .exclude(timepoint=Timepoint.BASELINE, episode__status__in=[Episode.Status.CLOSED, Episode.Status.WITHDRAWN])
        .exclude(invitations__kind=Kind.REMINDER_2)
        .select_related("episode__patient")
        .prefetch_related("invitations")
    )


def due_kind(follow_up: FollowUp, today: date) -> str | None:
    """The latest message due today for `follow_up` (None before its window opens)."""
    days = (today - follow_up.opens_on).days
    due = [kind for kind, after in DUE_ON if days >= after]
    return due[-1] if due else None


def _invite(follow_up: FollowUp, *, today: date, now: datetime, done: Pass) -> None:
    kind = due_kind(follow_up, today)
    claimed = {invitation.kind for invitation in follow_up.invitations.all()}
    if kind is None or kind in claimed:
        return
    order: list[str] = [k for k, _after in DUE_ON]
    if any(order.index(k) > order.index(kind) for k in claimed):
        return
    patient = follow_up.episode.patient
    skipped = sent = 0
    try:
        with transaction.atomic():
            # Messages the worker did not get to in time are recorded, not sent late.
            for earlier in order[: order.index(kind)]:
                if earlier not in claimed:
                    Invitation.objects.create(
                        follow_up=follow_up,
                        kind=earlier,
                        status=Invitation.Status.SKIPPED,
                        skip_reason="A later message was due when the worker ran.",
                        claimed_at=now,
                    )
                    skipped += 1
            if not patient.email:
                Invitation.objects.create(
                    follow_up=follow_up,
                    kind=kind,
                    status=Invitation.Status.SKIPPED,
                    skip_reason="No email address: on the call list.",
                    claimed_at=now,
                )
                skipped += 1
            else:
                link, token = links.link_issue(
                    purpose=PURPOSE, patient=patient, target=follow_up.uuid, valid_for=_valid_for(follow_up, now)
                )
                email = email_queue(
                    message=_message(follow_up, patient, token=token), kind=OUTBOX_KIND, reference=follow_up.uuid
                )
                Invitation.objects.create(
                    follow_up=follow_up,
                    kind=kind,
                    status=Invitation.Status.QUEUED,
                    email=email,
                    link=link,
                    claimed_at=now,
                )
                sent += 1
    except IntegrityError:
        # Another worker claimed it first: it sends, this one does not (and nothing of this one's stays).
        done.lost_race += 1
        return
    done.skipped += skipped
    done.sent += sent


def link_resend(*, follow_up: FollowUp, now: datetime, request: Any = None, language: str = "") -> None:
    """A fresh link to an open follow-up, emailed to the address on file (the patient asked, on the 410 page)."""
    from accounts.access import Record
    from accounts.audit import audit_record
    from accounts.models import AuditEvent

    patient = follow_up.episode.patient
    with transaction.atomic():
        _link, token = links.link_issue(
            purpose=PURPOSE, patient=patient, target=follow_up.uuid, valid_for=_valid_for(follow_up, now)
        )
        email_queue(
            message=_message(follow_up, patient, token=token, language=language),
            kind=OUTBOX_KIND,
            reference=follow_up.uuid,
        )
        audit_record(
            actor=None,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.FOLLOW_UP,
            object_ref=str(follow_up.uuid),
            patient=patient,
            request=request,
        )


def _valid_for(follow_up: FollowUp, now: datetime) -> timedelta:
    """Until the window closes (the end of its last local day), and never longer than a questionnaire link lasts."""
    zone = timezone.get_default_timezone()
    end = datetime.combine(follow_up.closes_on + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return max(timedelta(hours=1), min(links.VALID_FOR[PURPOSE], end - now))


def survey_url(token: str, *, language: str) -> str:
    """The absolute address of a questionnaire link's token, in `language` (Spanish under /es/)."""
    with translation.override(language):
        return settings.SITE_URL + reverse("outcomes:survey_start", kwargs={"token": token})


def _message(follow_up: FollowUp, patient: Patient, *, token: str, language: str = "") -> EmailMessage:
    """The invitation or reminder: the link, how long it works, the offices' phones. Nothing about health."""
    from website.models import Office, Practice

    language = language or patient.preferred_language
    if language not in ("en", "es"):
        language = "en"
    practice = Practice.objects.first()
    with translation.override(language):
        context: dict[str, Any] = {
            "url": survey_url(token, language=language),
            "closes_on": follow_up.closes_on,
            "offices": list(Office.objects.filter(is_active=True)),
            "practice_name": practice.name if practice is not None else "RegenClinic",
        }
        subject = gettext("A short questionnaire from %(practice)s") % {"practice": context["practice_name"]}
        body = render_to_string("outcomes/email/invitation.txt", context)
    return EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[patient.email])


def call_list(*, today: date) -> QuerySet[FollowUp]:
    """Follow-ups the front desk should phone about: open, unanswered, and past the reminders (or no email)."""
    from django.db.models import Q

    return (
        FollowUp.objects.filter(status=Status.OPEN, closes_on__gte=today, opens_on__lte=today)
        .filter(
            Q(opens_on__lte=today - timedelta(days=schedule.CALL_LIST_DAYS))
            | Q(episode__patient__email="")
            | Q(invitations__skip_reason__startswith="No email")
        )
        .exclude(calls__outcome="declined")
        .exclude(timepoint=Timepoint.BASELINE, episode__status__in=[Episode.Status.CLOSED, Episode.Status.WITHDRAWN])
        .select_related("episode__patient", "episode__physician")
        .distinct()
        .order_by("closes_on", "pk")
    )

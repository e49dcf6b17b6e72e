"""Break-glass: a clinician states why they need one patient's records beyond their role, and gets 60 minutes.

`break_glass_grant` records the grant (and its own audit row, outcome "breakglass");
the policy (`accounts.access.get_for_user`) then allows the reads `BREAK_GLASS_RECORDS`
names for that patient until `expires_at`, each with its own "breakglass" row.
`break_glass_report` is what the practice manager reads: every grant, who asked, for
which chart, why, and each record opened under it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import Act, Record, can
from accounts.audit import audit_record
from accounts.models import AuditEvent, BreakGlassGrant, User

REASON_MAX_LENGTH = 500


def break_glass_grant(
    *, by: User, patient: Any, reason: str, request: HttpRequest | None = None, now: datetime | None = None
) -> BreakGlassGrant:
    """Open `patient`'s records to `by` for `BREAK_GLASS_MINUTES`, for the `reason` they give (required)."""
    if not can(by, Act.CREATE, Record.BREAK_GLASS):
        raise ValidationError(_("Your role cannot break the glass."), code="role")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": _("Say why you need this patient's records: the practice manager reads every reason.")},
            code="required",
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason under %(max)s characters.") % {"max": REASON_MAX_LENGTH}}, code="max_length"
        )
    moment = now or timezone.now()
    grant = BreakGlassGrant(
        user=by,
        patient=patient,
        reason=reason,
        granted_at=moment,
        expires_at=moment + timedelta(minutes=settings.BREAK_GLASS_MINUTES),
    )
    grant.full_clean()
    with transaction.atomic():
        grant.save()
        audit_record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            object_type=Record.BREAK_GLASS,
            object_ref=str(grant.uuid),
            patient=patient,
            outcome=AuditEvent.Outcome.BREAK_GLASS,
            request=request,
        )
    return grant


@dataclass(frozen=True, slots=True)
class GrantReport:
    """One grant and the audit rows of what was opened under it, oldest first."""

    grant: BreakGlassGrant
    accesses: list[AuditEvent]


def break_glass_report(*, limit: int = 200) -> list[GrantReport]:
    """The latest `limit` grants, newest first, each with the reads made under it: two queries."""
    grants = list(BreakGlassGrant.objects.select_related("user", "patient").order_by("-granted_at", "-id")[:limit])
    if not grants:
        return []
    rows = AuditEvent.objects.filter(
        outcome=AuditEvent.Outcome.BREAK_GLASS,
        action=AuditEvent.Action.VIEW,
        actor__in={grant.user_id for grant in grants},
        patient__in={grant.patient_id for grant in grants},
        at__gte=min(grant.granted_at for grant in grants),
    ).order_by("at", "id")
    found: dict[int, list[AuditEvent]] = {grant.pk: [] for grant in grants}
    for row in rows:
        for grant in grants:
            if (
                row.actor_id == grant.user_id
                and row.patient_id == grant.patient_id
                and grant.granted_at <= row.at < grant.expires_at
            ):
                found[grant.pk].append(row)
                break
    return [GrantReport(grant=grant, accesses=found[grant.pk]) for grant in grants]

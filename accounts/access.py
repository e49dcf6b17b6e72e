"""Who may do what to which kind of record, and the one way a view, form or admin page reaches a record.

`POLICY` is the whole rule: for each role, the kinds of record (`Record`) it may act on
and how (`Act`). Views, templates (through the staff bar's `staff_links`), forms and the
admin all ask `can()`; none keeps its own list of roles.

`get_for_user` is the only way a staff page reaches a patient-scoped record by its
public id: it checks the policy, looks the record up, and leaves the audit row. A record
outside the person's role, or one that does not exist, is the same 404, so a miss never
confirms that something exists. A read leaves its "view" row here; a change is recorded
by the service that makes it, inside its transaction (`accounts.audit.audit_record`),
so a refused or rolled-back change leaves no "change" row. A refused attempt leaves a
"denied" row naming what was asked for.
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, BreakGlassGrant, Role, User

M = TypeVar("M", bound=Model)


class Act(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CHANGE = "change"
    # Book over another appointment with a written reason.
    OVERRIDE = "override"
    # Sign a procedure record off (physicians), or witness a consent.
    SIGN = "sign"
    # Merge a duplicate chart into another.
    MERGE = "merge"
    EXPORT = "export"


class Record(StrEnum):
    """The kinds of record the policy speaks of; `object_type` in the audit log."""

    INQUIRY = "inquiry"
    APPOINTMENT = "appointment"
    CALLBACK = "callback_request"
    PATIENT = "patient"
    EMAIL = "email"
    REMINDER = "reminder"
    INTAKE = "intake"
    EPISODE = "episode"
    CONSENT = "consent"
    CONSENT_DOCUMENT = "consent_document"
    PROCEDURE = "procedure"
    ADVERSE_EVENT = "adverse_event"
    # Who opened a patient's records (HIPAA's accounting of disclosures).
    ACCESS_REPORT = "access_report"
    # Counts without names (adverse events by kind, severity, relatedness): de-identified.
    SAFETY_SUMMARY = "safety_summary"
    # An episode's follow-up schedule, its invitations and the front desk's calls about it.
    FOLLOW_UP = "follow_up"
    # Questionnaire answers and their scores, the episode's timeline, a conversion to surgery.
    OUTCOME = "outcome"
    # The outcomes dashboard: counts, means and shares of an indication's episodes, no one named.
    OUTCOMES_DASHBOARD = "outcomes_dashboard"
    # "Our results" on the public site: drafts from the data, and the versions a physician published.
    PUBLIC_RESULTS = "public_results"
    # The research CSV (`interop`): EXPORT is the de-identified one; OVERRIDE, past the
    # de-identification with a written reason, the identified one.
    RESEARCH_EXPORT = "research_export"
    # A clinician's stated reason to read one patient's records beyond their role (`accounts.break_glass`):
    # CREATE asks for one; VIEW reads every grant and what was opened under it (the practice manager).
    BREAK_GLASS = "break_glass"


V, C, N, OVER, SIGN, MERGE = Act.VIEW, Act.CHANGE, Act.CREATE, Act.OVERRIDE, Act.SIGN, Act.MERGE


def _rules(*groups: dict[str, set[Act]], **acts: set[Act]) -> dict[Record, frozenset[Act]]:
    """Groups of grants, then single grants; a later grant for the same record replaces an earlier one."""
    merged: dict[str, set[Act]] = {}
    for group in (*groups, acts):
        merged.update(group)
    return {Record[name]: frozenset(granted) for name, granted in merged.items()}


# The calendar's people: appointments, call-back requests and the patients they are for.
_CALENDAR = {"APPOINTMENT": {V, C, N}, "CALLBACK": {V, C}, "PATIENT": {V, C, N, MERGE}}
# The front office: the website's inquiries, and the emails and reminders the practice sent.
_OFFICE = {"INQUIRY": {V, C}, "EMAIL": {V, C}, "REMINDER": {V}}
# The clinical record, as physicians and physician assistants keep it.
_CLINICAL = {
    "INTAKE": {V, C},
    "EPISODE": {V, C, N},
    "CONSENT": {V, C, N, SIGN},
    "PROCEDURE": {V, C, N},
    "ADVERSE_EVENT": {V, C, N},
    "ACCESS_REPORT": {V, Act.EXPORT},
    "SAFETY_SUMMARY": {V},
    "FOLLOW_UP": {V, C},
    "OUTCOME": {V, C, N},
    "RESEARCH_EXPORT": {Act.EXPORT},
    "OUTCOMES_DASHBOARD": {V},
    "PUBLIC_RESULTS": {V},
    "BREAK_GLASS": {N},
}

# Managers and researchers see de-identified data only: no record that names a patient.
POLICY: dict[str, dict[Record, frozenset[Act]]] = {
    Role.FRONT_DESK: _rules(
        _CALENDAR,
        _OFFICE,
        INTAKE={V, C},
        EPISODE={V},
        CONSENT={V, C},
        ACCESS_REPORT={V, Act.EXPORT},
        # The call list: phone the patients who did not answer, and type in what they say.
        FOLLOW_UP={V, C},
        OUTCOME={N},
    ),
    Role.PHYSICIAN: _rules(
        _CALENDAR,
        _CLINICAL,
        APPOINTMENT={V, C, N, OVER},
        PROCEDURE={V, C, N, SIGN},
        CONSENT_DOCUMENT={V, C, N},
        # A physician reviews and publishes each version of "Our results".
        PUBLIC_RESULTS={V, C},
    ),
    Role.PHYSICIAN_ASSISTANT: _rules(_CALENDAR, _CLINICAL),
    # The technician records harvest, processing and counts, and checks who the patient is at the time-out.
    Role.TECHNICIAN: _rules(PATIENT={V}, EPISODE={V}, PROCEDURE={V, C}, BREAK_GLASS={N}),
    # The manager reads every break-glass grant (who, which chart, why, what was opened): oversight,
    # not the records themselves.
    Role.MANAGER: _rules(
        SAFETY_SUMMARY={V},
        OUTCOMES_DASHBOARD={V},
        PUBLIC_RESULTS={V},
        RESEARCH_EXPORT={Act.EXPORT},
        BREAK_GLASS={V},
    ),
    Role.RESEARCHER: _rules(
        SAFETY_SUMMARY={V}, OUTCOMES_DASHBOARD={V}, PUBLIC_RESULTS={V}, RESEARCH_EXPORT={Act.EXPORT}
    ),
    Role.ADMIN: _rules(
        _CALENDAR,
        _OFFICE,
        INTAKE={V},
        EPISODE={V},
        CONSENT={V},
        CONSENT_DOCUMENT={V, C, N},
        PROCEDURE={V},
        ADVERSE_EVENT={V},
        ACCESS_REPORT={V, Act.EXPORT},
        SAFETY_SUMMARY={V},
        FOLLOW_UP={V},
        OUTCOME={V},
        OUTCOMES_DASHBOARD={V},
        PUBLIC_RESULTS={V},
        RESEARCH_EXPORT={Act.EXPORT, OVER},
        BREAK_GLASS={V},
    ),
}

# Break-glass: what a grant can open. A clinical role (the roles that may CREATE a grant) may read,
# for the one patient of an open grant, the kinds of record below that its role does not already
# read: the technician, who reads charts, episodes and procedure records, can then read that
# patient's intake answers, consents, adverse events, follow-ups and outcomes (say, a reaction
# reported in the intake, in the middle of a harvest). Only reads: a grant never lets anyone
# change, sign or export what their role may not.
BREAK_GLASS_RECORDS = frozenset(
    {
        Record.PATIENT,
        Record.INTAKE,
        Record.EPISODE,
        Record.CONSENT,
        Record.PROCEDURE,
        Record.ADVERSE_EVENT,
        Record.FOLLOW_UP,
        Record.OUTCOME,
    }
)


def role_of(user: Any) -> str:
    """The role a person acts in: a superuser acts as an administrator; anyone not signed in has none."""
    if not getattr(user, "is_authenticated", False):
        return ""
    if user.is_superuser:
        return Role.ADMIN
    return str(getattr(user, "role", ""))


def can(user: Any, act: Act, record: Record) -> bool:
    """Whether `user` may `act` on records of kind `record`. Inactive and anonymous users may do nothing."""
    if not getattr(user, "is_active", False):
        return False
    return act in POLICY.get(role_of(user), {}).get(record, frozenset())


def break_glass_opens(user: Any, act: Act, record: Record) -> bool:
    """Whether an open break-glass grant would let `user` `act` on `record` where their role alone does not."""
    return (
        act == Act.VIEW
        and record in BREAK_GLASS_RECORDS
        and can(user, Act.CREATE, Record.BREAK_GLASS)
        and not can(user, act, record)
    )


def break_glass_offered(user: Any) -> bool:
    """Whether a break-glass grant would open anything to `user` (a clinical role that does not read it all)."""
    return any(break_glass_opens(user, Act.VIEW, record) for record in BREAK_GLASS_RECORDS)


def break_glass_open(user: Any, patient: Any, *, now: datetime | None = None) -> BreakGlassGrant | None:
    """The user's grant open at `now` for `patient` (the latest), or None."""
    if patient is None or not getattr(user, "pk", None):
        return None
    moment = now or timezone.now()
    grants = BreakGlassGrant.objects.filter(user=user, patient=patient, granted_at__lte=moment, expires_at__gt=moment)
    return grants.order_by("-expires_at").first()


def require(request: HttpRequest, act: Act, record: Record, *, hide: bool = False) -> User:
    """The signed-in user if the policy allows; otherwise 403 (a list page) or 404 when `hide`."""
    user = request.user
    if isinstance(user, User) and can(user, act, record):
        return user
    audit_record(
        actor=user, action=_action(act), object_type=str(record), outcome=AuditEvent.Outcome.DENIED, request=request
    )
    if hide:
        raise Http404
    raise PermissionDenied


def _action(act: Act) -> str:
    """The audit action a refused or allowed act is recorded as (a merge or an override changes records)."""
    actions = {
        Act.VIEW: AuditEvent.Action.VIEW,
        Act.CREATE: AuditEvent.Action.CREATE,
        Act.EXPORT: AuditEvent.Action.EXPORT,
        Act.SIGN: AuditEvent.Action.SIGN,
    }
    return actions.get(act, AuditEvent.Action.CHANGE)


def get_for_user(
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    record: Record,
    act: Act,
    patient_of: Callable[[M], Any] | None = None,
    **lookup: Any,
) -> M:
    """The one record `lookup` names, if the user's role allows `act` on `record`; else 404.

    Leaves one audit row: "view" for a read, "denied" for a refusal (naming what was
    asked for). For a change, the service that makes it writes the row in its own
    transaction. `patient_of` names the patient a record concerns, for the audit row.

    A read the role alone does not allow is allowed under the user's open break-glass
    grant for the record's patient (`break_glass_opens`, `break_glass_open`; it needs
    `patient_of`), and its row's outcome is "breakglass". Without one it is refused like
    any other: the same "denied" row and 404, whether or not the record exists.
    """
    ref = str(next(iter(lookup.values()), ""))[:64]
    user = request.user
    allowed = isinstance(user, User) and can(user, act, record)
    glass = not allowed and patient_of is not None and break_glass_opens(user, act, record)
    found = queryset.filter(**lookup).first() if (allowed or glass) and _valid(lookup) else None
    patient = patient_of(found) if patient_of and found is not None else None
    if glass and (found is None or break_glass_open(user, patient) is None):
        glass, found = False, None
    if not (allowed or glass):
        audit_record(
            actor=user,
            action=_action(act),
            object_type=str(record),
            object_ref=ref,
            outcome=AuditEvent.Outcome.DENIED,
            request=request,
        )
        raise Http404
    if found is None:
        raise Http404
    if act == Act.VIEW:
        audit_record(
            actor=user,
            action=AuditEvent.Action.VIEW,
            object_type=str(record),
            object_ref=str(getattr(found, "uuid", ref)),
            patient=patient,
            outcome=AuditEvent.Outcome.BREAK_GLASS if glass else AuditEvent.Outcome.ALLOWED,
            request=request,
        )
    return found


def audit_list(request: HttpRequest, *, record: Record, ref: str) -> None:
    """One row for a page listing several records: `ref` names the selection (ids only, never a person)."""
    audit_record(
        actor=request.user, action=AuditEvent.Action.VIEW, object_type=str(record), object_ref=ref, request=request
    )


def refuse_unless_within(request: HttpRequest, value: Any, *, within: Any, record: Record, act: Act) -> None:
    """An id sent in a form's body must name one of `within` (the page's own records), else 404.

    A view offers a choice of records (this record's injections, this episode's procedures,
    today's visits of this patient); an id outside them is another patient's, another
    episode's, or nobody's, and is answered alike: one "denied" row naming the id asked
    for, and a 404, as `get_for_user` answers an id in the URL. An empty or malformed value
    is not an id: the form says what is wrong with it.
    """
    import uuid

    if value in (None, ""):
        return
    try:
        asked = uuid.UUID(str(value))
    except ValueError:
        return
    if any(getattr(found, "uuid", None) == asked for found in within):
        return
    audit_record(
        actor=request.user,
        action=_action(act),
        object_type=str(record),
        object_ref=str(asked),
        outcome=AuditEvent.Outcome.DENIED,
        request=request,
    )
    raise Http404


def _valid(lookup: dict[str, Any]) -> bool:
    """A malformed public id (not a UUID) is a miss, not a database error."""
    import uuid

    for key, value in lookup.items():
        if key.endswith("uuid") and not isinstance(value, uuid.UUID):
            try:
                uuid.UUID(str(value))
            except ValueError:
                return False
    return True


def staff_links(request: Any) -> dict[str, Any]:
    """Context processor: what the signed-in person's staff bar offers, read from the policy."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "staff_can": {
            "inbox": can(user, Act.VIEW, Record.INQUIRY),
            "calendar": can(user, Act.VIEW, Record.APPOINTMENT),
            "patients": can(user, Act.VIEW, Record.PATIENT),
            "safety": can(user, Act.VIEW, Record.SAFETY_SUMMARY),
            "consent_documents": can(user, Act.VIEW, Record.CONSENT_DOCUMENT),
            "follow_ups": can(user, Act.VIEW, Record.FOLLOW_UP),
            "exports": can(user, Act.EXPORT, Record.RESEARCH_EXPORT),
            # The episode page's link to its outcomes timeline.
            "outcomes": can(user, Act.VIEW, Record.OUTCOME),
            "dashboard": can(user, Act.VIEW, Record.OUTCOMES_DASHBOARD),
            "results": can(user, Act.VIEW, Record.PUBLIC_RESULTS),
            "admin": user.is_staff and role_of(user) == Role.ADMIN,
            "break_glass": can(user, Act.VIEW, Record.BREAK_GLASS),
        }
    }

"""The audit log: its one writer, its hash chain and the check of it, and a patient's access report.

Every read, change, export, signature or refusal of health information goes through
`audit_record`, inside the transaction of what it records (a rolled-back change leaves
no row). A row names who (actor and role), what (action on a kind of record, by public
id), whose (the patient), when (UTC), from where (IP) and the outcome; it holds no
health information itself.

The log is append-only and hash-chained. Each row has its place (`seq`, 1, 2, 3...),
the hash of the row before it (`prev_hash`, 64 zeros for the first) and its own hash
(`row_hash`): SHA-256 over a canonical, versioned serialisation of its content and
`prev_hash` (`chain_hash`). Changing, removing or slipping in a row breaks the chain
from that row on, and `audit_verify` (`manage.py verify_audit`) names the first
broken row. The database refuses UPDATE and DELETE on the table (a trigger on
PostgreSQL and on SQLite: migration 0004).

Writers are serialised so the chain never forks: reading the head and inserting the
next row happen in one transaction, under a lock held until the caller's transaction
commits. On PostgreSQL that is a transaction-level advisory lock; on SQLite the
IMMEDIATE transactions the settings ask for already hold the database's one write lock.
"""

import hashlib
import ipaddress
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, AuditPatient, Role, User

# The serialisation's version goes into every hash: a later format gets a new name, and old
# rows are still checked with the one they were written with.
CHAIN_VERSION = "audit-v1"
GENESIS = "0" * 64
# The role recorded for a patient acting through their own link (staff roles are `Role`).
PATIENT_ROLE = "patient"
# The key of the PostgreSQL advisory lock that serialises writers of the log ("RCAUDIT1").
CHAIN_LOCK = 0x5243415544495431
# Called by the SQLite triggers of migration 0004: they refuse UPDATE and DELETE unless it returns 1.
SQLITE_GUARD_FUNCTION = "regenclinic_audit_unlocked"


# --- Writing -------------------------------------------------------------------------------------


def audit_record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_ref: str = "",
    patient: Any = None,
    outcome: str = AuditEvent.Outcome.ALLOWED,
    request: HttpRequest | None = None,
    role: str | None = None,
) -> AuditEvent:
    """Add one audit row, in the caller's transaction (so a rolled-back change leaves none), chained to the last.

    `object_ref` is a public id, never the content; `patient` the patient the record
    concerns (a Patient), if any. `actor` is the staff user, or None for the public.
    `role` is the role the actor acted in; left out, it is the staff user's role, or
    "patient" when there is no staff user and the request carries an open link session
    (`accounts.links`) of the very patient the row names; otherwise empty (the website,
    e.g. an online booking).
    """
    user = actor if isinstance(actor, User) else None
    event = AuditEvent(
        actor=user,
        role=_role(user, request, patient) if role is None else role,
        action=action,
        object_type=object_type,
        object_ref=str(object_ref)[:64],
        patient=patient,
        outcome=outcome,
        ip_address=canonical_ip(request.META.get("REMOTE_ADDR")) if request is not None else None,
    )
    using = router.db_for_write(AuditEvent)
    # One transaction for the read of the head and the insert, even when the caller has none (then
    # it is this block's own, and the lock ends with it). No savepoint inside the caller's: a row
    # that cannot be written dooms the change it records.
    with transaction.atomic(using=using, savepoint=False):
        last = _chain_head(connections[using])
        event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
        # Taken under the lock, so `at` follows `seq` (as far as the clock does).
        event.at = timezone.now()
        event.row_hash = chain_hash(
            seq=event.seq,
            at=event.at,
            actor_id=event.actor_id,
            role=event.role,
            action=event.action,
            object_type=event.object_type,
            object_ref=event.object_ref,
            patient_uuid=patient.uuid if patient is not None else None,
            outcome=event.outcome,
            ip_address=event.ip_address,
            uuid=event.uuid,
            prev_hash=event.prev_hash,
        )
        # raw: insert `at` as hashed (auto_now_add would stamp a new moment on the way in).
        event.save_base(raw=True, force_insert=True, using=using)
    return event


def _role(user: User | None, request: HttpRequest | None, patient: Any) -> str:
    if user is not None:
        return str(Role.ADMIN if user.is_superuser else user.role)
    if request is not None and patient is not None and hasattr(request, "session"):
        from accounts import links  # links writes through this module

        if any(opened.patient_id == patient.pk for opened in links.open_sessions(request)):
            return PATIENT_ROLE
    return ""


def _chain_head(connection: BaseDatabaseWrapper) -> tuple[int, str] | None:
    """Hold the chain until the current transaction ends, then read its last row: (seq, row_hash), or None.

    One writer at a time gets here: on PostgreSQL the advisory lock waits for the holder's
    commit (the SELECT after it, a new statement, sees that commit); on SQLite the
    transaction began with BEGIN IMMEDIATE and holds the database's write lock. Plain SQL:
    this runs for every audit row, and the ORM would build the same query each time.
    """
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        cursor.execute(f"SELECT seq, row_hash FROM {table} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else None


def canonical_ip(value: Any) -> str | None:
    """An IP address as one spelling (what the hash covers and what is stored); None for none or nonsense."""
    if not value:
        return None
    try:
        return ipaddress.ip_address(str(value)).compressed
    except ValueError:
        return None


def chain_hash(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    role: str,
    action: str,
    object_type: str,
    object_ref: str,
    patient_uuid: Any,
    outcome: str,
    ip_address: str | None,
    uuid: Any,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of one row's content and the hash of the row before it, serialised as `CHAIN_VERSION`.

    The serialisation is a JSON array in a fixed order (no key order to agree on),
    times in UTC to the microsecond, ids as strings, absent values as null.
    """
    content = [
        CHAIN_VERSION,
        seq,
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor_id,
        str(role),
        str(action),
        str(object_type),
        str(object_ref),
        str(patient_uuid) if patient_uuid is not None else None,
        str(outcome),
        canonical_ip(ip_address),
        str(uuid),
        prev_hash,
    ]
    serialised = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(serialised.encode()).hexdigest()


# --- Checking the chain --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What `audit_verify` found: the rows it checked, and the first broken one (if any) and why."""

    rows: int
    broken_at: str = ""  # "seq 17", or "id 42" for a row outside the chain
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem


ALTERED = "content altered: its hash does not match what it holds"
MISSING = "a row is missing before it (expected seq {expected})"
OUT_OF_ORDER = "out of order: its prev_hash is not the hash of the row before it (inserted, or that row rewritten)"
OUTSIDE = "outside the chain (no seq): added around the audit log's writer"


def audit_verify(*, chunk_size: int = 2000, using: str = "default") -> ChainCheck:
    """Recompute the chain in `seq` order, reading rows in chunks (fixed memory), and say where it first breaks."""
    checked = 0
    expected_seq, expected_prev = 1, GENESIS
    for row in _chain_rows(chunk_size=chunk_size, using=using):
        seq, prev_hash, row_hash = row["seq"], row["prev_hash"], row["row_hash"]
        if seq != expected_seq:
            return ChainCheck(rows=checked, broken_at=f"seq {seq}", problem=MISSING.format(expected=expected_seq))
        if prev_hash != expected_prev:
            return ChainCheck(rows=checked, broken_at=f"seq {seq}", problem=OUT_OF_ORDER)
        if chain_hash(**{key: value for key, value in row.items() if key != "row_hash"}) != row_hash:
            return ChainCheck(rows=checked, broken_at=f"seq {seq}", problem=ALTERED)
        checked += 1
        expected_seq, expected_prev = seq + 1, row_hash
    outside = AuditEvent.objects.using(using).filter(seq__isnull=True).order_by("id").values_list("id", flat=True)
    first_outside = outside.first()
    if first_outside is not None:
        return ChainCheck(rows=checked, broken_at=f"id {first_outside}", problem=OUTSIDE)
    return ChainCheck(rows=checked)


# What `chain_hash` reads from each row, and the column it comes from.
_CHAIN_COLUMNS = {
    "seq": "seq",
    "at": "at",
    "actor_id": "actor_id",
    "role": "role",
    "action": "action",
    "object_type": "object_type",
    "object_ref": "object_ref",
    "patient_uuid": "patient__uuid",
    "outcome": "outcome",
    "ip_address": "ip_address",
    "uuid": "uuid",
    "prev_hash": "prev_hash",
    "row_hash": "row_hash",
}


def _chain_rows(*, chunk_size: int, using: str) -> Iterator[dict[str, Any]]:
    rows = AuditEvent.objects.using(using).filter(seq__isnull=False).order_by("seq")
    for values in rows.values_list(*_CHAIN_COLUMNS.values()).iterator(chunk_size):
        yield dict(zip(_CHAIN_COLUMNS, values, strict=True))


# --- The database's guard on SQLite --------------------------------------------------------------

_unlocked = threading.local()


@receiver(connection_created)
def _register_sqlite_guard(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Give each SQLite connection the function its append-only triggers ask (a connection without it is refused)."""
    if connection.vendor == "sqlite":
        alias = connection.alias
        connection.connection.create_function(
            SQLITE_GUARD_FUNCTION, 0, lambda: int(alias in getattr(_unlocked, "aliases", ())), deterministic=False
        )


@contextmanager
def sqlite_guard_lifted(using: str = "default") -> Iterator[None]:
    """Let this thread's SQLite connection UPDATE or DELETE audit rows for the block: `flush` and tests only.

    On PostgreSQL this does nothing (there `flush` is a TRUNCATE, which the row triggers
    do not see, and tests lift the guard with `session_replication_role`).
    """
    aliases: set[str] = getattr(_unlocked, "aliases", set())
    _unlocked.aliases = aliases | {using}
    try:
        yield
    finally:
        _unlocked.aliases = aliases


# --- The patient's access report -----------------------------------------------------------------

ACTION_LABELS: dict[str, Any] = {
    AuditEvent.Action.VIEW: _("Viewed"),
    AuditEvent.Action.CREATE: _("Created"),
    AuditEvent.Action.CHANGE: _("Changed"),
    AuditEvent.Action.DELETE: _("Deleted"),
    AuditEvent.Action.EXPORT: _("Exported"),
    AuditEvent.Action.SIGN: _("Signed"),
}
# The kinds of record (`accounts.access.Record` and the links' own), as a sentence names them.
RECORD_LABELS: dict[str, Any] = {
    "patient": _("the patient's chart"),
    "appointment": _("an appointment"),
    "callback_request": _("a call-back request"),
    "intake": _("the intake"),
    "episode": _("a treatment episode"),
    "consent": _("a consent"),
    "consent_document": _("a consent document"),
    "procedure": _("a procedure record"),
    "adverse_event": _("an adverse event"),
    "access_report": _("this access report"),
    "email": _("an email"),
    "reminder": _("a reminder"),
    "intake_link": _("the intake link"),
    "consent_link": _("the consent link"),
    "questionnaire_link": _("a questionnaire link"),
    "research_export": _("a research export that names them"),
    "break_glass": _("a break-glass grant"),
}
OUTCOME_LABELS: dict[str, Any] = {
    AuditEvent.Outcome.ALLOWED: _("Allowed"),
    AuditEvent.Outcome.DENIED: _("Refused"),
    AuditEvent.Outcome.BREAK_GLASS: _("Allowed by break-glass"),
}


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One line of a patient's access report: when, who (and in what role), what, and whether it was allowed."""

    at: datetime
    who: str
    role: str
    action: str
    record: str
    record_ref: str
    outcome: str
    refused: bool


def audit_concerns(event: AuditEvent, patient_ids: Iterable[int], *, batch: int = 1000) -> int:
    """Put `event` in the access report of each patient of `patient_ids` (a row that concerns several); how many.

    Call it in the event's transaction: a rolled-back export leaves neither.
    """
    unique = sorted(set(patient_ids))
    AuditPatient.objects.bulk_create(
        [AuditPatient(event_uuid=event.uuid, patient_id=pk) for pk in unique], batch_size=batch
    )
    return len(unique)


def access_report(*, patient: Any) -> list[AccessEntry]:
    """Who opened `patient`'s records, when and how, oldest first (HIPAA's accounting of disclosures): one query."""
    return [_entry(event) for event in access_report_rows(patient=patient)]


def access_report_rows(*, patient: Any) -> QuerySet[AuditEvent]:
    """Every audit row that names `patient` (or a duplicate chart merged into theirs), oldest first.

    A row names them when it concerns them (`patient`), when it is an attempt at their
    chart itself by its public id (a refused attempt names no patient otherwise), or when
    it concerns several patients and they are among them (`audit_concerns`).
    """
    among = AuditPatient.objects.filter(Q(patient=patient) | Q(patient__merged_into=patient)).values("event_uuid")
    return (
        AuditEvent.objects.filter(
            Q(patient=patient)
            | Q(patient__merged_into=patient)
            | Q(object_type="patient", object_ref=str(patient.uuid), patient__isnull=True)
            | Q(uuid__in=among)
        )
        .select_related("actor")
        .order_by("at", "id")
    )


def _entry(event: AuditEvent) -> AccessEntry:
    if event.actor is not None:
        who = str(event.actor)
        role = str(Role(event.role).label) if event.role in Role.values else event.role
    elif event.role == PATIENT_ROLE:
        who, role = str(_("The patient, from their link")), str(_("Patient"))
    elif event.object_type.endswith("_link"):
        who, role = str(_("Someone with the patient's link")), ""
    else:
        who, role = str(_("The website")), ""
    return AccessEntry(
        at=event.at,
        who=who,
        role=role,
        action=str(ACTION_LABELS.get(event.action, event.get_action_display())),
        record=str(RECORD_LABELS.get(event.object_type, event.object_type.replace("_", " "))),
        record_ref=event.object_ref,
        outcome=str(OUTCOME_LABELS.get(event.outcome, event.outcome)),
        refused=event.outcome == AuditEvent.Outcome.DENIED,
    )

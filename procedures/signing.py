"""Sign-off: what a physician signs (the record's canonical content and its SHA-256), and the check of it.

`record_content` is every field of the record and of its injections as plain JSON values
(decimals and floats as their exact strings, times in UTC ISO 8601, related records by their
public uuid, staff by id), plus who signed, when and what the signature means. The canonical
serialisation (`canonical_json`) sorts keys and has no spaces, so the same content always
gives the same bytes and the same hash on SQLite and PostgreSQL (whose `jsonb` reorders
keys). The signed content is kept as signed (`signed_content`), with its hash
(`signed_sha256`).

A later change is an amendment: the fields it changed (before and after, by their path in
the content, e.g. "record.prp_platelets" or "injections.<uuid>.prp_ml"), why, and the hash
of the content after it. `verify` replays it all: the signed content still matches its hash
(a one-byte change to either fails), each amendment starts from what was there and ends on
its own hash, and the record as it stands is the signed content with the amendments
applied, in order. Anything else changed the record outside sign-off and amendment.
"""

import copy
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db.models import Model
from django.utils.translation import gettext as _

from procedures import guardrails
from procedures.baseline import baseline_check
from procedures.models import Injection, ProcedureAmendment, ProcedureRecord

CONTENT_VERSION = "procedure-content-v1"
# Not part of what is signed: the signature itself, the workflow state and the bookkeeping.
NOT_CONTENT = frozenset(
    {
        "id",
        "status",
        "signed_at",
        "signed_by",
        "signed_meaning",
        "signed_content",
        "signed_sha256",
        "baseline_override_reason",
        "updated_at",
        "updated_by",
    }
)
NOT_INJECTION_CONTENT = frozenset({"id", "record", "uuid"})
# Related records named by their public uuid; staff (users) by their id.
BY_UUID = frozenset({"episode", "appointment", "consent"})


def plain(value: Any) -> Any:
    """A value as the JSON the content holds: exact strings for numbers with decimals, UTC ISO for times."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    raise TypeError(f"cannot put a {type(value).__name__} in signed content")


def _fields(instance: Model, exclude: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model_field in instance._meta.concrete_fields:
        if model_field.name in exclude:
            continue
        if model_field.is_relation and model_field.name in BY_UUID:
            related = getattr(instance, model_field.name)
            out[model_field.name] = str(related.uuid) if related is not None else None
        else:
            out[model_field.name] = plain(getattr(instance, model_field.attname))
    return out


def record_content(record: ProcedureRecord, injections: Sequence[Injection]) -> dict[str, Any]:
    """The record's canonical content (see the module docstring)."""
    signer = record.signed_by
    return {
        "version": CONTENT_VERSION,
        "record": _fields(record, NOT_CONTENT),
        "injections": {str(i.uuid): _fields(i, NOT_INJECTION_CONTENT) for i in injections},
        "signature": {
            "signed_by": str(signer.uuid) if signer is not None else None,
            "signer": signer.name if signer is not None else None,
            "signed_at": plain(record.signed_at),
            "meaning": record.signed_meaning,
            "baseline_override_reason": record.baseline_override_reason,
        },
    }


def canonical_json(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(content: Any) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


# --- Amendments ----------------------------------------------------------------------------------


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """What differs between two contents, as {path: [before, after]} over the record and its injections."""
    changes: dict[str, list[Any]] = {}
    for name in sorted(set(before["record"]) | set(after["record"])):
        old, new = before["record"].get(name), after["record"].get(name)
        if old != new:
            changes[f"record.{name}"] = [old, new]
    for ref in sorted(set(before["injections"]) | set(after["injections"])):
        old_i, new_i = before["injections"].get(ref, {}), after["injections"].get(ref, {})
        for name in sorted(set(old_i) | set(new_i)):
            if old_i.get(name) != new_i.get(name):
                changes[f"injections.{ref}.{name}"] = [old_i.get(name), new_i.get(name)]
    return changes


def _apply(content: dict[str, Any], path: str, before: Any, after: Any) -> bool:
    """Set `path` to `after` if it holds `before` now; False (and nothing set) if it does not."""
    part, _sep, rest = path.partition(".")
    if part == "record":
        holder = content["record"]
        name = rest
    elif part == "injections":
        ref, _sep, name = rest.partition(".")
        holder = content["injections"].setdefault(ref, {})
    else:
        return False
    if holder.get(name) != before:
        return False
    holder[name] = after
    return True


@dataclass(frozen=True, slots=True)
class Verification:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    record: ProcedureRecord, injections: Sequence[Injection], amendments: Sequence[ProcedureAmendment]
) -> Verification:
    """Whether the signature still holds for the record as it stands (see the module docstring)."""
    if record.signed_content is None or not record.signed_sha256:
        return Verification([_("This record has not been signed.")])
    problems = []
    if digest(record.signed_content) != record.signed_sha256:
        problems.append(_("The signed content no longer matches its hash: it was changed after signing."))
    replay = copy.deepcopy(record.signed_content)
    for n, amendment in enumerate(amendments, 1):
        changes = amendment.changes if isinstance(amendment.changes, dict) else {}
        for path, pair in sorted(changes.items()):
            if not (isinstance(pair, list) and len(pair) == 2) or not _apply(replay, path, pair[0], pair[1]):
                problems.append(_("Amendment %(n)d does not start from what the record held before it.") % {"n": n})
                break
        if digest(replay) != amendment.content_sha256:
            problems.append(_("Amendment %(n)d does not match its hash.") % {"n": n})
    if canonical_json(record_content(record, injections)) != canonical_json(replay):
        problems.append(
            _("The record differs from what was signed and amended: it was changed outside sign-off and amendment.")
        )
    return Verification(problems)


# --- What sign-off asks ---------------------------------------------------------------------------


def sign_off_problems(
    record: ProcedureRecord,
    injections: Sequence[Injection],
    check: guardrails.Check,
    *,
    baseline_override_reason: str = "",
) -> list[str]:
    """Every reason the record cannot be signed now, as plain sentences; empty when it can."""
    problems = []
    if record.status != ProcedureRecord.Status.IN_PROGRESS:
        problems.append(_("This record is already signed; change it by an amendment."))
    if record.timeout_at is None:
        problems.append(_("The time-out has not been done."))
    if not injections:
        problems.append(_("No injection is recorded."))
    problems += [finding.message for finding in check.findings if finding.code != "injection" or injections]
    baseline = baseline_check(record)
    if baseline is not None and not baseline_override_reason.strip():
        problems.append(baseline)
    return problems

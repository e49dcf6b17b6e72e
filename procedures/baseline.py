"""The hook sign-off asks before a procedure may be signed: is the patient's baseline on file?

Issue 8 (outcomes) will require "a baseline is required before the procedure can be signed,
or a reason is recorded". `baseline_check` is where that rule goes: it returns None when the
record may be signed, or a plain sentence saying what is missing (shown on the sign-off page
next to the reason field). A physician may still sign by recording a reason, which is kept in
`ProcedureRecord.baseline_override_reason` and bound into the signed content.

Until the outcomes app fills it, no baseline is asked for.
"""

from procedures.models import ProcedureRecord


def baseline_check(record: ProcedureRecord) -> str | None:
    """None if the record may be signed as far as the baseline goes; else what is missing (see the module)."""
    return None

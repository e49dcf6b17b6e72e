"""The hook sign-off asks before a procedure may be signed: is the patient's baseline on file?

A baseline is required before the procedure can be signed, or a reason is recorded:
`baseline_check` returns None when the record may be signed, or a plain sentence saying
what is missing (shown on the sign-off page next to the reason field). A physician may
still sign by recording a reason, kept in `ProcedureRecord.baseline_override_reason` and
bound into the signed content. The rule itself (answered in full, within the 30 days
before the procedure) is the outcomes app's: `outcomes.services.baseline_answered`.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from outcomes import schedule
from outcomes.services import baseline_answered
from procedures.models import ProcedureRecord


def zone_of_record(record: ProcedureRecord) -> ZoneInfo:
    """The zone of the record's office (its visit), else the practice's."""
    if record.appointment_id is not None and record.appointment is not None:
        return ZoneInfo(record.appointment.office.time_zone)
    return ZoneInfo(settings.TIME_ZONE)


def baseline_check(record: ProcedureRecord) -> str | None:
    """None if the record may be signed as far as the baseline goes; else what is missing (see the module)."""
    if baseline_answered(record.episode, record.procedure_date, zone=zone_of_record(record)):
        return None
    return _(
        "The patient has not answered the baseline questionnaires in the %(days)d days before this procedure. "
        "Have them answer now (the front desk can enter the answers), or record why the procedure goes ahead "
        "without them."
    ) % {"days": schedule.BASELINE_DAYS}

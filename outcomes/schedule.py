"""The follow-up schedule of a treated episode, as pure date arithmetic (no database).

Time points count from the procedure date: 6 weeks, then 3, 6, 12 and 24 calendar
months (31 January + 1 month is 28 or 29 February, never 3 March). Each has a window
around its target date within which an answer counts for it; the baseline is answered
before treatment, within `BASELINE_DAYS` of the procedure. Dates are the office's local
dates, so daylight saving never moves a follow-up; the moments emails go out are local
times of those dates (`invitation_moment`), turned into aware datetimes in the office's
zone, so 9:00 stays 9:00 across a clock change.

`VERSION` is stored on every follow-up: change it whenever a time point or a window changes.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from outcomes.models import Timepoint

VERSION = "2026-12.1"
BASELINE_DAYS = 30
# A baseline opened before the procedure is booked stays open this long; signing the procedure fixes it.
PROVISIONAL_DAYS = 180
INVITATION_TIME = time(9, 0)
# After the window opens: the invitation on day 0, reminders on days 7 and 14, the call list from day 17.
REMINDER_DAYS = (7, 14)
CALL_LIST_DAYS = 17


@dataclass(frozen=True, slots=True)
class Window:
    timepoint: str
    target: date
    opens: date
    closes: date

    def contains(self, day: date) -> bool:
        return self.opens <= day <= self.closes


# (time point, offset from the procedure, half-width of the window)
_PLAN: tuple[tuple[str, relativedelta, relativedelta], ...] = (
    (Timepoint.WEEK_6, relativedelta(weeks=6), relativedelta(weeks=2)),
    (Timepoint.MONTH_3, relativedelta(months=3), relativedelta(weeks=2)),
    (Timepoint.MONTH_6, relativedelta(months=6), relativedelta(months=1)),
    (Timepoint.MONTH_12, relativedelta(months=12), relativedelta(months=1)),
    (Timepoint.MONTH_24, relativedelta(months=24), relativedelta(months=2)),
)


def baseline_window(procedure_date: date) -> Window:
    """Before treatment: from BASELINE_DAYS before the procedure up to its day."""
    return Window(
        timepoint=Timepoint.BASELINE,
        target=procedure_date,
        opens=procedure_date - timedelta(days=BASELINE_DAYS),
        closes=procedure_date,
    )


def provisional_baseline_window(today: date) -> Window:
    """A baseline opened while the procedure date is unknown: open from today, until the procedure fixes it."""
    return Window(
        timepoint=Timepoint.BASELINE, target=today, opens=today, closes=today + timedelta(days=PROVISIONAL_DAYS)
    )


def follow_up_windows(procedure_date: date) -> list[Window]:
    """The windows after treatment, in time order. Neighbouring windows never overlap."""
    windows = []
    for timepoint, offset, half in _PLAN:
        target = procedure_date + offset
        windows.append(Window(timepoint=timepoint, target=target, opens=target - half, closes=target + half))
    return windows


def invitation_moment(day: date, zone: ZoneInfo, at: time = INVITATION_TIME) -> datetime:
    """`at` o'clock on the local date `day` in `zone`, as an aware datetime."""
    return datetime.combine(day, at, tzinfo=zone)


def reminder_days(window: Window) -> list[date]:
    """The dates the two reminders go out, if still inside the window."""
    return [
        window.opens + timedelta(days=n) for n in REMINDER_DAYS if window.opens + timedelta(days=n) <= window.closes
    ]

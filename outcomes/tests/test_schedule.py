"""The follow-up schedule: targets by calendar months, windows, and times that survive daylight saving."""

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from outcomes.schedule import baseline_window, follow_up_windows, invitation_moment, reminder_days

LA = ZoneInfo("America/Los_Angeles")


def as_table(procedure: date) -> list[tuple[str, str, str, str]]:
    return [
        (w.timepoint, w.opens.isoformat(), w.target.isoformat(), w.closes.isoformat())
        for w in follow_up_windows(procedure)
    ]


def test_a_procedure_mid_month_gets_every_time_point_with_its_window() -> None:
    assert as_table(date(2027, 3, 10)) == [
        ("6w", "2027-04-07", "2027-04-21", "2027-05-05"),
        ("3m", "2027-05-27", "2027-06-10", "2027-06-24"),
        ("6m", "2027-08-10", "2027-09-10", "2027-10-10"),
        ("12m", "2028-02-10", "2028-03-10", "2028-04-10"),
        ("24m", "2029-01-10", "2029-03-10", "2029-05-10"),
    ]


@pytest.mark.parametrize(
    ("procedure", "three_months", "six_months", "twelve_months"),
    [
        # 31 January: April has 30 days, July 31; 2028 is a leap year.
        (date(2027, 1, 31), "2027-04-30", "2027-07-31", "2028-01-31"),
        # 31 August + 6 months is the end of February: 28 in 2027, 29 in 2028.
        (date(2026, 8, 31), "2026-11-30", "2027-02-28", "2027-08-31"),
        (date(2027, 8, 31), "2027-11-30", "2028-02-29", "2028-08-31"),
        # 29 February + 12 months is 28 February.
        (date(2028, 2, 29), "2028-05-29", "2028-08-29", "2029-02-28"),
    ],
)
def test_months_are_calendar_months_clamped_to_the_month_end(
    procedure: date, three_months: str, six_months: str, twelve_months: str
) -> None:
    targets = {w.timepoint: w.target.isoformat() for w in follow_up_windows(procedure)}
    assert (targets["3m"], targets["6m"], targets["12m"]) == (three_months, six_months, twelve_months)


def test_windows_never_overlap_and_each_contains_its_target() -> None:
    for day in (date(2027, 1, 31), date(2027, 2, 28), date(2027, 12, 31), date(2028, 2, 29)):
        windows = follow_up_windows(day)
        assert all(w.contains(w.target) for w in windows)
        assert all(earlier.closes < later.opens for earlier, later in itertools.pairwise(windows))


def test_the_baseline_is_the_thirty_days_up_to_the_procedure() -> None:
    window = baseline_window(date(2027, 3, 10))
    assert (window.timepoint, window.opens, window.target, window.closes) == (
        "baseline", date(2027, 2, 8), date(2027, 3, 10), date(2027, 3, 10),
    )  # fmt: skip
    assert (
        window.contains(date(2027, 2, 7)),
        window.contains(date(2027, 2, 8)),
        window.contains(date(2027, 3, 11)),
    ) == (
        False,
        True,
        False,
    )


def test_invitations_go_out_at_nine_local_time_on_both_sides_of_a_clock_change() -> None:
    # Clocks go forward on 14 March 2027 and back on 7 November 2027 in Los Angeles.
    assert invitation_moment(date(2027, 3, 13), LA).astimezone(UTC) == datetime(2027, 3, 13, 17, tzinfo=UTC)
    assert invitation_moment(date(2027, 3, 15), LA).astimezone(UTC) == datetime(2027, 3, 15, 16, tzinfo=UTC)
    assert invitation_moment(date(2027, 11, 8), LA).astimezone(UTC) == datetime(2027, 11, 8, 17, tzinfo=UTC)


def test_reminders_come_a_week_and_two_weeks_after_the_window_opens() -> None:
    six_weeks = follow_up_windows(date(2027, 3, 10))[0]
    assert reminder_days(six_weeks) == [date(2027, 4, 14), date(2027, 4, 21)]

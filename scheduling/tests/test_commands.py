"""The demo schedule command."""

import io
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from scheduling.management.commands.load_demo_schedule import demo_holidays
from scheduling.models import AppointmentType, BookingRules, Provider, Room, WorkingHours

LA_ZONE = ZoneInfo("America/Los_Angeles")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def test_the_demo_schedule_needs_the_demo_practice(db: Any) -> None:
    with pytest.raises(CommandError):
        run("load_demo_schedule")


def test_the_demo_schedule_is_built_once_and_linked_to_dr_lees_login(practice: Any) -> None:
    first = run("load_demo_schedule")
    call_command("load_demo_practice", stdout=io.StringIO())  # now with the staff logins
    second = run("load_demo_schedule")
    assert first == (
        "load_demo_schedule: 2 provider(s), 9 block(s) of hours, 2 room(s), 4 appointment type(s), "
        f"1 set of booking rules, {len(coming_holidays())} holiday(s) added"
    )
    assert second == (
        "load_demo_schedule: 0 provider(s), 0 block(s) of hours, 0 room(s), 0 appointment type(s), "
        "0 set of booking rules, 0 holiday(s) added"
    )
    lee = Provider.objects.get(name="Dr. Dana Lee")
    assert lee.user == User.objects.get(username="drlee")
    assert sorted(lee.working_hours.values_list("weekday", "office__slug")) == [
        (0, "los-angeles"),
        (1, "encino"),
        (2, "los-angeles"),
        (3, "encino"),
        (4, "los-angeles"),
    ]
    assert (Provider.objects.count(), Room.objects.count(), WorkingHours.objects.count()) == (2, 2, 9)
    assert list(AppointmentType.objects.values_list("slug", "duration_minutes", "buffer_after_minutes")) == [
        ("new-patient-consultation", 45, 15),
        ("procedure-visit", 150, 30),
        ("follow-up", 20, 0),
        ("prp-visit", 45, 0),
    ]
    rules = BookingRules.objects.get()
    assert (rules.min_notice_hours, rules.horizon_days, rules.cancel_cutoff_hours, rules.slot_step_minutes) == (
        24,
        90,
        24,
        15,
    )


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (
            2026,
            ["2026-01-01", "2026-05-25", "2026-07-03", "2026-09-07", "2026-11-26", "2026-11-27", "2026-12-25"],
        ),
        (
            2027,
            ["2027-01-01", "2027-05-31", "2027-07-05", "2027-09-06", "2027-11-25", "2027-11-26", "2027-12-24"],
        ),
    ],
)
def test_the_demo_holidays_fall_on_the_days_they_are_observed(year: int, expected: list[str]) -> None:
    assert [day.isoformat() for day, _name in demo_holidays(year)] == expected


# The US holidays as observed (a Saturday one on the Friday, a Sunday one on the Monday), worked out by
# hand from a calendar, independently of `demo_holidays`: New Year's Day, Memorial Day, Independence Day,
# Labor Day, Thanksgiving and the day after, Christmas Day.
OBSERVED = [
    "2026-01-01",
    "2026-05-25",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-11-27",
    "2026-12-25",
    "2027-01-01",
    "2027-05-31",
    "2027-07-05",
    "2027-09-06",
    "2027-11-25",
    "2027-11-26",
    "2027-12-24",
    "2027-12-31",
    "2028-05-29",
    "2028-07-04",
    "2028-09-04",
    "2028-11-23",
    "2028-11-24",
    "2028-12-25",
    "2029-01-01",
    "2029-05-28",
    "2029-07-04",
    "2029-09-03",
    "2029-11-22",
    "2029-11-23",
    "2029-12-25",
    "2030-01-01",
    "2030-05-27",
    "2030-07-04",
    "2030-09-02",
    "2030-11-28",
    "2030-11-29",
    "2030-12-25",
    "2031-01-01",
]


def coming_holidays() -> list[date]:
    today = timezone.localdate(timezone=LA_ZONE)
    assert today.year <= 2029, "extend OBSERVED by hand for the years after 2030"
    days = [date.fromisoformat(day) for day in OBSERVED]
    return [day for day in days if today <= day < today + timedelta(days=365)]


def test_the_demo_closes_the_whole_practice_on_the_holidays_of_the_coming_year(practice: Any) -> None:
    from scheduling.models import ScheduleException

    run("load_demo_schedule")
    holidays = ScheduleException.objects.filter(kind=ScheduleException.Kind.HOLIDAY).order_by("starts_at")
    assert [h.starts_at.astimezone(LA_ZONE).date() for h in holidays] == coming_holidays()
    assert {(h.office, h.provider, h.room, h.ends_at - h.starts_at) for h in holidays} == {
        (None, None, None, timedelta(days=1))
    }

"""The demo schedule command."""

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from scheduling.models import AppointmentType, BookingRules, Provider, Room, WorkingHours


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
        "1 set of booking rules added"
    )
    assert second == (
        "load_demo_schedule: 0 provider(s), 0 block(s) of hours, 0 room(s), 0 appointment type(s), "
        "0 set of booking rules added"
    )
    lee = Provider.objects.get(name="Dr. Dana Lee (example)")
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

"""A small schedule to test against: two providers over two offices, rooms, visit types, patients.

Every test passes `now=NOW` explicitly, so the calendar below never drifts into the past.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from accounts.models import User
from patients.models import Patient
from scheduling.models import AppointmentType, BookingRules, Provider, Room, RoomKind, WorkingHours
from website.models import Office, Weekday

LA_ZONE = ZoneInfo("America/Los_Angeles")
# Monday 3 March 2031, 7:00 in Los Angeles. Clocks go forward on Sunday 9 March 2031
# and back on Sunday 2 November 2031.
NOW = datetime(2031, 3, 3, 7, 0, tzinfo=LA_ZONE)
MONDAY = date(2031, 3, 3)
TUESDAY = date(2031, 3, 4)
NEXT_MONDAY = date(2031, 3, 10)


def local(day: date, hhmm: str) -> datetime:
    """An aware datetime at wall-clock `hhmm` in Los Angeles on `day`."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LA_ZONE)


def hhmm(moment: datetime) -> str:
    return f"{moment.astimezone(LA_ZONE):%H:%M}"


@dataclass
class Schedule:
    la: Office
    encino: Office
    doctor: Provider  # bob's provider row: LA Mon/Wed/Fri, Encino Tue/Thu, 9:00-17:00
    pa: Provider  # LA Tue/Thu, Encino Mon/Wed, 9:00-17:00
    la_room: Room
    encino_room: Room
    consult: AppointmentType  # 45 min + 15 buffer, online
    procedure: AppointmentType  # 150 min + 30 buffer, procedure room, staff only
    follow_up: AppointmentType  # 20 min, staff only
    rules: BookingRules
    rosa: Patient
    luis: Patient


def make_patient(n: int) -> Patient:
    return Patient.objects.create(
        first_name=f"Patient{n}", last_name="Example", date_of_birth=date(1960, 1, 1), email=f"p{n}@example.com"
    )


@pytest.fixture
def schedule(practice: Any, bob: User) -> Schedule:
    la = Office.objects.get(slug="los-angeles")
    encino = Office.objects.get(slug="encino")
    doctor = Provider.objects.create(user=bob, name="Dr. Bob Example", kind=Provider.Kind.PHYSICIAN)
    pa = Provider.objects.create(name="Pat Kim, PA-C", kind=Provider.Kind.PHYSICIAN_ASSISTANT)
    week = {
        doctor: [
            (la, Weekday.MONDAY),
            (encino, Weekday.TUESDAY),
            (la, Weekday.WEDNESDAY),
            (encino, Weekday.THURSDAY),
            (la, Weekday.FRIDAY),
        ],
        pa: [(encino, Weekday.MONDAY), (la, Weekday.TUESDAY), (encino, Weekday.WEDNESDAY), (la, Weekday.THURSDAY)],
    }
    for provider, days in week.items():
        for office, weekday in days:
            WorkingHours.objects.create(
                provider=provider, office=office, weekday=weekday, starts=time(9), ends=time(17)
            )
    return Schedule(
        la=la,
        encino=encino,
        doctor=doctor,
        pa=pa,
        la_room=Room.objects.create(office=la, name="Procedure room", kind=RoomKind.PROCEDURE),
        encino_room=Room.objects.create(office=encino, name="Procedure room", kind=RoomKind.PROCEDURE),
        consult=AppointmentType.objects.create(
            name="Consultation", slug="consult", duration_minutes=45, buffer_after_minutes=15, bookable_online=True
        ),
        procedure=AppointmentType.objects.create(
            name="Procedure visit",
            slug="procedure",
            duration_minutes=150,
            buffer_after_minutes=30,
            room_kind=RoomKind.PROCEDURE,
        ),
        follow_up=AppointmentType.objects.create(name="Follow-up", slug="follow-up", duration_minutes=20),
        rules=BookingRules.objects.create(
            practice=practice, min_notice_hours=24, horizon_days=90, cancel_cutoff_hours=24, slot_step_minutes=15
        ),
        rosa=make_patient(1),
        luis=make_patient(2),
    )

"""Two hundred people, one slot, through the real HTTP path on a live server: one booking, 199 clear answers.

Each visitor is a thread with its own connection and CSRF cookie (a GET of the form first),
then all send the confirm form at once. The live server handles each connection in its
own thread with its own database connection; here at most races.SERVER_THREADS run at
once, like a production server's worker pool (PostgreSQL allows 100 connections), and the
rest wait in the server's queue, still all in flight together.

Run on PostgreSQL too:
DATABASE_URL=postgres://postgres@127.0.0.1:5432/regenclinic CONN_MAX_AGE=0 pytest scheduling/tests/test_booking_race.py
"""

import os
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.utils import timezone

from conftest import together
from patients.models import Patient
from scheduling import availability, tokens
from scheduling.models import Appointment, AppointmentType, Provider
from scheduling.tests.races import (
    assert_no_database_errors,
    form_token,
    open_to_all,
    outcome_counts,
    race,
    request,
)
from website.models import Office

pytestmark = pytest.mark.django_db(transaction=True)

VISITORS = 200
TAKEN = "Sorry, that time was just taken. Here are the nearest free times:"


@pytest.fixture
def server(live_server: Any, practice: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return open_to_all(live_server, monkeypatch, backlog=VISITORS)


def free_slot(office: Office, days_ahead: int) -> availability.Slot:
    today = timezone.localdate()
    consult = AppointmentType.objects.get(slug="new-patient-consultation")
    [day] = availability.next_free_days(
        office=office, appointment_type=consult, days=1, start_date=today + timedelta(days=days_ahead)
    )
    return day.slots[0]


def test_two_hundred_people_confirming_one_slot_at_once_get_one_appointment(
    server: str, caplog: Any, capfd: Any
) -> None:
    office = Office.objects.get(slug="los-angeles")
    slot = free_slot(office, days_ahead=7)
    consult = AppointmentType.objects.get(slug="new-patient-consultation")
    signed = tokens.slot_sign(slot=slot, appointment_type_id=consult.pk)
    path = "/book/los-angeles/details/"
    barrier = together(VISITORS)

    def visitor(n: int) -> Callable[[], tuple[int, str]]:
        def attempt() -> tuple[int, str]:
            cookie, csrf = form_token(server, f"{path}?{urlencode({'slot': signed})}")
            body = urlencode(
                {
                    "csrfmiddlewaretoken": csrf,
                    "slot": signed,
                    "first_name": f"Racer{n}",
                    "last_name": "Example",
                    "phone": "(818) 555-0199",
                    "email": f"racer{n}@example.com",
                    "date_of_birth": "1960-01-01",
                    "area_of_concern": "other",
                }
            )
            barrier.wait()
            status, page, _ = request(server, "POST", path, body=body, cookie=cookie)
            return status, page

        return attempt

    results = race([visitor(n) for n in range(VISITORS)])
    assert outcome_counts(results, taken=TAKEN) == Counter({"302 booked": 1, "409 just taken": VISITORS - 1})
    assert Appointment.objects.filter(starts_at=slot.starts_at).count() == 1
    assert Appointment.objects.count() == 1
    # Nothing half-written: only the winner's patient record exists.
    assert Patient.objects.count() == 1
    assert_no_database_errors(results, caplog, capfd)


def test_two_hundred_patients_moving_into_one_slot_at_once_move_one(server: str, caplog: Any, capfd: Any) -> None:
    office = Office.objects.get(slug="los-angeles")
    consult = AppointmentType.objects.get(slug="new-patient-consultation")
    target = free_slot(office, days_ahead=7)
    provider = Provider.objects.get(pk=target.provider_id)
    signed = tokens.slot_sign(slot=target, appointment_type_id=consult.pk)
    # Two hundred booked patients, stacked (as set-up) on later days, far from the target.
    later = free_slot(office, days_ahead=21).starts_at
    appointments = []
    for n in range(VISITORS):
        starts_at = later + timedelta(days=n // 20, minutes=(n % 20) * 5)
        patient = Patient.objects.create(
            first_name=f"Mover{n}", last_name="Example", date_of_birth=date(1960, 1, 1), email=f"m{n}@example.com"
        )
        appointments.append(
            Appointment.objects.create(
                office=office,
                provider=provider,
                appointment_type=consult,
                patient=patient,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                blocks_until=starts_at + timedelta(minutes=60),
                source=Appointment.Source.ONLINE,
                override_reason="test set-up",
            )
        )
    barrier = together(VISITORS)

    def mover(appointment: Appointment) -> Callable[[], tuple[int, str]]:
        path = f"/book/manage/{tokens.manage_token(appointment)}/reschedule/"

        def attempt() -> tuple[int, str]:
            cookie, csrf = form_token(server, path)
            body = urlencode({"csrfmiddlewaretoken": csrf, "slot": signed})
            barrier.wait()
            status, page, _ = request(server, "POST", path, body=body, cookie=cookie)
            return status, page

        return attempt

    results = race([mover(appointment) for appointment in appointments])
    assert outcome_counts(results, taken=TAKEN) == Counter({"302 booked": 1, "409 just taken": VISITORS - 1})
    assert Appointment.objects.filter(starts_at=target.starts_at).count() == 1
    assert Appointment.objects.count() == VISITORS
    assert_no_database_errors(results, caplog, capfd)

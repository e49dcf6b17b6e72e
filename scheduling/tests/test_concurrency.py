"""Many people at once: one slot, one winner, a clear answer for everyone else, on SQLite and PostgreSQL.

Each thread has its own database connection, as each web worker would; the services'
transaction is the outermost one in each thread, as it is in a view.
"""

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connections

from conftest import run_threads, together
from scheduling import rules, services
from scheduling.models import Appointment, Provider, WorkingHours
from scheduling.tests.conftest import NOW, Schedule, local, make_patient

THREADS = 60
WEDNESDAY = date(2031, 3, 5)


def race(attempts: Sequence[Callable[..., Any]]) -> Counter[str]:
    """Run every attempt at once, each in its own thread; count how each ended."""
    barrier = together(len(attempts))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def attempt(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            call()
            result = "booked"
        except rules.BookingError as error:
            result = type(error).__name__
        except Exception as error:  # any other error fails the test, with its text
            result = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    run_threads([partial(attempt, call) for call in attempts])
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("source", [Appointment.Source.ONLINE, Appointment.Source.STAFF])
def test_sixty_people_booking_one_slot_at_once_get_one_appointment(schedule: Schedule, source: str) -> None:
    patients = [make_patient(100 + n) for n in range(THREADS)]
    attempts = [
        lambda patient=patient: services.appointment_book(
            office=schedule.la,
            provider=schedule.doctor,
            appointment_type=schedule.consult,
            starts_at=local(WEDNESDAY, "10:00"),
            patient=patient,
            source=source,
            now=NOW,
        )
        for patient in patients
    ]
    assert race(attempts) == Counter({"booked": 1, "SlotTaken": THREADS - 1})
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_sixty_appointments_moving_into_one_slot_at_once_move_one(schedule: Schedule) -> None:
    # Sixty patients booked (on top of each other, as set-up) on Wednesday afternoon and
    # Friday, all asking at once to move to Wednesday 10:00.
    appointments = []
    for n in range(THREADS):
        starts_at = local(WEDNESDAY if n < 30 else date(2031, 3, 7), "11:00") + timedelta(minutes=(n % 30) * 10)
        appointments.append(
            Appointment.objects.create(
                office=schedule.la,
                provider=schedule.doctor,
                appointment_type=schedule.consult,
                patient=make_patient(200 + n),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=45),
                blocks_until=starts_at + timedelta(minutes=60),
                source=Appointment.Source.ONLINE,
                override_reason="test set-up",
            )
        )
    attempts = [
        lambda appointment=appointment: services.appointment_reschedule(
            appointment=appointment, starts_at=local(WEDNESDAY, "10:00"), enforce_cutoff=True, now=NOW
        )
        for appointment in appointments
    ]
    assert race(attempts) == Counter({"booked": 1, "SlotTaken": THREADS - 1})
    assert Appointment.objects.filter(starts_at=local(WEDNESDAY, "10:00")).count() == 1


@pytest.mark.django_db(transaction=True)
def test_procedures_racing_for_the_only_room_get_it_once(schedule: Schedule) -> None:
    # Sixty providers in Los Angeles on Wednesdays, one procedure room.
    providers = [Provider.objects.create(name=f"Dr. Race {n}") for n in range(THREADS)]
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=provider, office=schedule.la, weekday=2, starts=local(WEDNESDAY, "09:00").time(),
                     ends=local(WEDNESDAY, "17:00").time())
        for provider in providers
    )  # fmt: skip
    patients = [make_patient(300 + n) for n in range(THREADS)]
    attempts = [
        lambda provider=provider, patient=patient: services.appointment_book(
            office=schedule.la,
            provider=provider,
            appointment_type=schedule.procedure,
            starts_at=local(WEDNESDAY, "09:00"),
            patient=patient,
            source=Appointment.Source.STAFF,
            now=NOW,
        )
        for provider, patient in zip(providers, patients, strict=True)
    ]
    assert race(attempts) == Counter({"booked": 1, "NoRoomFree": THREADS - 1})
    assert list(Appointment.objects.values_list("room", flat=True)) == [schedule.la_room.pk]

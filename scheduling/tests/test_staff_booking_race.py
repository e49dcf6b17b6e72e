"""Two hundred front-desk bookings of one slot at once, through the real HTTP path on a live server.

Each booking is a thread with its own connection and its own signed-in session (made up
front, as `force_login` would), which first GETs the new-appointment form for its CSRF
cookie and token; then all send the form at once, each for a different new patient.
Exactly one appointment is made, every other person gets the "just taken" answer (409),
nothing half-written stays behind (only the winner's patient exists), no server error,
no "database is locked". The live server runs at most races.SERVER_THREADS requests at once,
like a production worker pool; the rest wait in its queue, all in flight together.

Run on PostgreSQL too:
DATABASE_URL=postgres://postgres@127.0.0.1:5432/regenclinic CONN_MAX_AGE=0 \
    pytest scheduling/tests/test_staff_booking_race.py
"""

import os
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role, User
from accounts.testing import signed_in_session
from conftest import together
from patients.models import Patient
from scheduling import availability, display
from scheduling.models import Appointment, AppointmentType, Provider
from scheduling.tests.races import assert_no_database_errors, form_token, open_to_all, outcome_counts, race, request
from website.models import Office

pytestmark = pytest.mark.django_db(transaction=True)

DESKS = 200
TAKEN = "Sorry, that time was just taken. Please choose another time."
PATH = "/staff/calendar/new/"


@pytest.fixture
def server(live_server: Any, practice: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return open_to_all(live_server, monkeypatch, backlog=DESKS)


def signed_in_cookies(user: User, count: int) -> list[str]:
    """`count` separate sessions of `user`, as the sign-in pages would leave them."""
    return [f"{settings.SESSION_COOKIE_NAME}={signed_in_session(user)}" for _ in range(count)]


def test_two_hundred_front_desk_bookings_of_one_slot_at_once_make_one_appointment(
    server: str, caplog: Any, capfd: Any
) -> None:
    alice = User.objects.create_user("alice", password="alice-password-1", role=Role.FRONT_DESK, is_staff=True)
    office = Office.objects.get(slug="los-angeles")
    consult = AppointmentType.objects.get(slug="new-patient-consultation")
    [day] = availability.next_free_days(
        office=office,
        appointment_type=consult,
        days=1,
        start_date=timezone.localdate() + timedelta(days=7),
        source=Appointment.Source.STAFF,
    )
    slot = day.slots[0]
    provider = Provider.objects.get(pk=slot.provider_id)
    starts = display.local(slot.starts_at, office)
    cookies = signed_in_cookies(alice, DESKS)
    barrier = together(DESKS)

    def desk(n: int) -> Callable[[], tuple[int, str]]:
        def attempt() -> tuple[int, str]:
            csrf_cookie, csrf = form_token(server, PATH, cookie=cookies[n])
            body = urlencode(
                {
                    "csrfmiddlewaretoken": csrf,
                    "action": "book",
                    "patient": "new",
                    "first_name": f"Racer{n}",
                    "last_name": "Example",
                    "date_of_birth": (date(1950, 1, 1) + timedelta(days=n)).isoformat(),
                    "phone": "(818) 555-0199",
                    "language": "en",
                    "appointment_type": consult.slug,
                    "office": office.slug,
                    "provider": str(provider.uuid),
                    "date": starts.date().isoformat(),
                    "time": f"{starts:%H:%M}",
                }
            )
            barrier.wait()
            status, page, _ = request(server, "POST", PATH, body=body, cookie=f"{cookies[n]}; {csrf_cookie}")
            return status, page

        return attempt

    results = race([desk(n) for n in range(DESKS)])
    assert outcome_counts(results, taken=TAKEN) == Counter({"302 booked": 1, "409 just taken": DESKS - 1})
    appointment = Appointment.objects.select_related("patient").get()
    assert (appointment.starts_at, appointment.provider, appointment.created_by) == (slot.starts_at, provider, alice)
    # Nothing half-written: only the winner's new patient exists.
    assert list(Patient.objects.all()) == [appointment.patient]
    assert_no_database_errors(results, caplog, capfd)

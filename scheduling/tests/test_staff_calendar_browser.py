"""The front desk in real Chromium: sign in, open the week, move an appointment, see it at its new place.

axe-core checks the day and week views (and the appointment page); screenshots land in
artifacts/screenshots/ at 360 px and 1280 px.
"""

from datetime import date
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from accounts.models import User
from accounts.testing import second_step
from conftest import screenshot
from scheduling.models import Appointment
from scheduling.tests.conftest import Schedule, hhmm, local
from scheduling.tests.test_staff_calendar import book

DASH = "\N{EN DASH}"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WEDNESDAY = date(2031, 3, 5)
FRIDAY = date(2031, 3, 7)


def axe_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


def sign_in(page: Any, site: str, path: str) -> None:
    page.goto(site + path)
    assert page.url == f"{site}/accounts/sign-in/?next={path}"
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("main button[type=submit]")
    second_step(page, User.objects.get(username="alice"))
    assert page.url == site + path


def test_alice_moves_an_appointment_in_the_week_view(
    page: Any, live_server: Any, schedule: Schedule, alice: User
) -> None:
    site = str(live_server.url)
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    book(schedule, local(WEDNESDAY, "11:00"), appointment_type=schedule.procedure, patient=schedule.luis)
    sign_in(page, site, "/staff/calendar/")

    # Open the week of 5 March 2031 with the filter, as a person would.
    page.fill("#cal-date", "2031-03-05")
    page.select_option("#cal-view", "week")
    page.click(".cal-filter button[type=submit]")
    assert page.locator("h1").inner_text() == "Los Angeles\nWeek of Monday, March 3, 2031"
    card = page.locator(f"#appt-{appointment.uuid}")
    assert card.locator(".appt-time").inner_text() == f"10 a.m. {DASH} 10:45 a.m."
    assert page.locator("#cal-2031-03-05").locator(f"#appt-{appointment.uuid}").count() == 1
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"staff-calendar-week-en-{width}")

    # Move it to Friday at 2 p.m. from its page.
    card.locator("a.appt-link").click()
    assert page.locator("h1").inner_text() == "Patient1 Example"
    assert axe_violations(page) == []
    page.fill("#id_date", "2031-03-07")
    page.fill("#id_time", "14:00")
    page.click("text=Move the appointment")
    assert page.locator(".flash").inner_text() == "Moved. New time: Friday, March 7, 2031 at 2 p.m."
    friday = page.locator("#cal-2031-03-07")
    assert friday.locator(f"#appt-{appointment.uuid} .appt-time").inner_text() == f"2 p.m. {DASH} 2:45 p.m."
    assert page.locator("#cal-2031-03-05").locator(f"#appt-{appointment.uuid}").count() == 0
    appointment.refresh_from_db()
    assert (appointment.starts_at.date(), hhmm(appointment.starts_at)) == (FRIDAY, "14:00")

    # The day view of Wednesday: the procedure is still there, the moved one is gone.
    page.get_by_role("link", name="Day", exact=True).click()
    page.fill("#cal-date", "2031-03-05")
    page.click(".cal-filter button[type=submit]")
    assert page.locator(".appt-time").all_inner_texts() == [f"11 a.m. {DASH} 1:30 p.m."]
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"staff-calendar-day-en-{width}")
    assert Appointment.objects.count() == 2


def test_a_refused_booking_keeps_what_was_typed_and_passes_axe(
    page: Any, live_server: Any, schedule: Schedule, alice: User
) -> None:
    site = str(live_server.url)
    book(schedule, local(WEDNESDAY, "10:00"))
    sign_in(page, site, "/staff/calendar/new/")
    page.check("#id_patient_0")
    page.fill("#id_first_name", "Nora")
    page.fill("#id_last_name", "Example")
    page.fill("#id_date_of_birth", "1959-04-12")
    page.fill("#id_phone", "(818) 555-0123")
    page.fill("#id_date", "2031-03-05")
    page.fill("#id_time", "10:15")
    page.click("text=Book the appointment")
    assert (
        page.locator("#form-errors")
        .inner_text()
        .startswith("Sorry, that time was just taken. Please choose another time.")
    )
    assert page.input_value("#id_first_name") == "Nora"
    assert page.input_value("#id_time") == "10:15"
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"staff-calendar-new-taken-en-{width}")
    # One of the nearest free times fills in the time; booking it works.
    page.locator("#alternatives button").first.click()
    assert page.input_value("#id_time") == "09:00"
    page.click("text=Book the appointment")
    assert page.locator(".flash-success").inner_text() == "Appointment booked."
    assert page.locator(".flash-warning").inner_text() == (
        "This patient has no email address on file, so nobody told them: please call them."
    )
    assert Appointment.objects.count() == 2

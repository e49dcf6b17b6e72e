"""A patient books a consultation in Chromium, gets the email with its calendar file, and cancels from the link."""

import os
import re
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from icalendar import Calendar

from conftest import screenshot
from scheduling.models import Appointment, AppointmentStatus
from tests.test_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any, practice: Any, settings: Any) -> str:
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    settings.SITE_URL = str(live_server.url)
    mail.outbox = []
    return str(live_server.url)


def fill_details(page: Any) -> None:
    page.fill("#id_first_name", "Rosa")
    page.fill("#id_last_name", "Example")
    page.fill("#id_phone", "(818) 555-0199")
    page.fill("#id_email", "rosa@example.com")
    page.fill("#id_date_of_birth", "1958-03-14")
    page.check('input[name="area_of_concern"][value="osteoarthritis"]')


def test_a_patient_books_gets_the_calendar_file_and_cancels_from_the_email(page: Any, site: str) -> None:
    page.goto(site + "/book/")
    assert axe_violations(page) == []
    page.click("text=See free times in Los Angeles")
    assert page.url == site + "/book/los-angeles/"
    assert axe_violations(page) == []
    first = page.locator(".day").first
    day = first.locator("h2 .label").inner_text()
    time_label = first.locator("button").first.evaluate("button => button.lastChild.textContent")
    first.locator("button").first.click()
    assert page.locator("h1").inner_text() == "Your details"

    # Sent empty first: each field says what is missing, and the chosen time stays.
    page.click("text=Book this consultation")
    assert page.locator("#id_first_name_error").inner_text() == "Please tell us your first name."
    assert page.locator("#id_area_of_concern_error").inner_text() == "Please choose one."
    assert axe_violations(page) == []
    fill_details(page)
    page.click("text=Book this consultation")

    assert page.locator("h1").inner_text() == "Your consultation is booked"
    summary = page.locator(".summary").inner_text()
    assert day in summary
    assert time_label in summary
    assert axe_violations(page) == []
    appointment = Appointment.objects.select_related("patient").get()
    assert appointment.patient.first_name == "Rosa"
    assert appointment.area_of_concern == "osteoarthritis"

    # The calendar file from the page parses back to the booked time.
    ics = page.request.get(site + page.locator("text=Add to my calendar (.ics)").get_attribute("href"))
    assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
    [event] = Calendar.from_ical(ics.body()).walk("VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at
    assert event.decoded("dtend") == appointment.ends_at

    # The email: the same time in its attachment, no health information in the body.
    [email] = mail.outbox
    assert email.to == ["rosa@example.com"]
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == ("regenclinic-appointment.ics", "text/calendar")
    [attached] = Calendar.from_ical(content).walk("VEVENT")
    assert attached.decoded("dtstart") == appointment.starts_at
    for private in ("Rosa", "1958", "knee", "osteoarthritis", "Osteoarthritis"):
        assert private not in email.body
        assert private not in email.subject
        assert private not in str(attached.get("summary")) + str(attached.get("description", ""))

    # Cancel from the email's link, in the same browser, no login.
    manage = re.search(r"(http://\S+/book/manage/\S+/)\s", str(email.body))
    assert manage is not None
    page.goto(manage.group(1))
    assert page.locator("h1").inner_text() == "Your appointment"
    assert axe_violations(page) == []
    page.click("text=Yes, cancel this appointment")
    assert page.locator("h1").inner_text() == "This appointment is cancelled"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert len(mail.outbox) == 2
    [cancelled] = Calendar.from_ical(mail.outbox[1].attachments[0][1]).walk("VEVENT")
    assert str(cancelled["status"]) == "CANCELLED"

    # The freed time is offered again.
    page.goto(site + "/book/los-angeles/")
    again = page.locator(".day").first
    assert again.locator("h2 .label").inner_text() == day
    assert again.locator("button").first.evaluate("button => button.lastChild.textContent") == time_label


def test_a_person_asks_for_a_call_back_in_spanish(page: Any, site: str) -> None:
    from scheduling.models import CallbackRequest

    page.goto(site + "/es/book/encino/")
    page.click("text=Pedir que le llamemos")
    assert axe_violations(page) == []
    page.fill("#id_name", "Luis Example")
    page.fill("#id_phone", "818-555-0123")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Gracias, le llamaremos"
    request = CallbackRequest.objects.get()
    assert (request.name, request.phone, request.office.slug) == ("Luis Example", "818-555-0123", "encino")


@pytest.mark.parametrize("prefix", ["", "/es"])
@pytest.mark.parametrize("width", [360, 1280])
def test_screenshots_of_the_booking_pages(page: Any, site: str, prefix: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    lang = prefix.strip("/") or "en"
    page.goto(site + prefix + "/book/")
    screenshot(page, f"book-start-{lang}-{width}")
    page.goto(site + prefix + "/book/los-angeles/")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"book-times-{lang}-{width}")
    page.locator(".day button").first.click()
    fill_details(page)
    page.fill("#id_first_name", "")
    page.click("button.button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, f"book-details-error-{lang}-{width}")
    page.fill("#id_first_name", "Rosa")
    page.click("button.button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"book-booked-{lang}-{width}")

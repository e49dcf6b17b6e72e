"""A patient books a consultation in Chromium, gets the email with its calendar file, and cancels from the link."""

import os
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from icalendar import Calendar

from conftest import screenshot
from outbox.worker import run_ready_tasks
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
    page.fill("#id_date_of_birth", "03/14/1958")
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

    assert page.locator("h1").inner_text() == "Your appointment is booked"
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

    # The email: the same time in its attachment, no health information in the body. The worker sends it.
    run_ready_tasks()
    [email] = mail.outbox
    assert email.to == ["rosa@example.com"]
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == ("regenclinic-appointment.ics", "text/calendar")
    [attached] = Calendar.from_ical(content).walk("VEVENT")
    assert attached.decoded("dtstart") == appointment.starts_at
    assert str(attached["summary"]) == "Appointment at RegenClinic Los Angeles"
    for private in ("Rosa", "1958", "knee", "osteoarthritis", "Osteoarthritis", "Consultation", "consultation"):
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
    run_ready_tasks()
    assert len(mail.outbox) == 2
    [cancelled] = Calendar.from_ical(mail.outbox[1].attachments[0][1]).walk("VEVENT")
    assert str(cancelled["status"]) == "CANCELLED"

    # The freed time is offered again.
    page.goto(site + "/book/los-angeles/")
    again = page.locator(".day").first
    assert again.locator("h2 .label").inner_text() == day
    assert again.locator("button").first.evaluate("button => button.lastChild.textContent") == time_label


def test_a_procedure_visit_booked_by_the_front_desk_is_cancelled_but_not_moved_from_its_link(
    page: Any, site: str, alice: Any
) -> None:
    from django.utils import timezone

    from patients.models import Patient
    from scheduling import availability, services
    from scheduling.models import AppointmentType, Provider
    from website.models import Office

    office = Office.objects.get(slug="los-angeles")
    procedure = AppointmentType.objects.get(slug="procedure-visit")
    [slot] = availability.nearest_free_slots(
        office=office,
        appointment_type=procedure,
        around=timezone.now() + timedelta(days=5),
        n=1,
        source=Appointment.Source.STAFF,
    )
    patient = Patient.objects.create(
        first_name="Rosa", last_name="Example", date_of_birth=date(1958, 3, 14), email="rosa@example.com"
    )
    services.appointment_book(
        office=office,
        provider=Provider.objects.get(pk=slot.provider_id),
        appointment_type=procedure,
        starts_at=slot.starts_at,
        patient=patient,
        source=Appointment.Source.STAFF,
        by=alice,
    )
    run_ready_tasks()
    [email] = mail.outbox
    assert "/reschedule/" not in email.body
    call = "To change this appointment, please call the office at (310) 555-0100."
    manage = re.search(r"(http://\S+/book/manage/\S+/)\s", str(email.body))
    assert manage is not None
    page.goto(manage.group(1))
    assert page.locator("h1").inner_text() == "Your appointment"
    assert page.get_by_text(call).is_visible()
    assert page.locator("text=Choose another time").count() == 0
    assert page.locator("text=Add to my calendar (.ics)").is_visible()
    assert axe_violations(page) == []
    screenshot(page, "manage-procedure-visit")

    # The reschedule address, typed in or from an old bookmark: a clear answer, no times.
    page.goto(manage.group(1) + "reschedule/")
    assert page.locator(".notice").inner_text() == call
    assert page.locator(".day").count() == 0
    assert axe_violations(page) == []
    screenshot(page, "reschedule-procedure-visit")

    page.goto(manage.group(1))
    page.click("text=Yes, cancel this appointment")
    assert page.locator("h1").inner_text() == "This appointment is cancelled"
    assert page.get_by_text("To book another time, please call the office at (310) 555-0100.").is_visible()
    run_ready_tasks()
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject.endswith(" is cancelled")


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
    # The page again with its error: wait for it, or the width is read from no document (seen under load).
    with page.expect_navigation():
        page.click("button.button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert axe_violations(page) == []
    screenshot(page, f"book-details-error-{lang}-{width}")
    page.fill("#id_first_name", "Rosa")
    page.click("button.button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"book-booked-{lang}-{width}")

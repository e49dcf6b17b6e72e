"""The intake in real Chromium on a phone: open the emailed link, fill two steps, leave, come back, finish.

The way back follows the rule in patients.intake: in the same browser within the hour,
the same emailed link (or /intake/) resumes at once; after the browser is closed, the
"finish later" email's fresh link does. axe-core checks every step; screenshots land in
artifacts/screenshots/ at 360 px and 1280 px (and 390 px, the phone of the test), in
English and Spanish (the Spanish ones need artifacts/po/intake.po merged).
"""

import re
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.core import mail

from accounts.models import User
from accounts.testing import second_step
from conftest import screenshot
from outbox.worker import run_ready_tasks
from patients import intake as intakes
from patients.models import Intake, Medication, Patient
from scheduling import services
from scheduling.models import Appointment
from scheduling.tests.conftest import NOW, Schedule, local
from tests.test_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WEDNESDAY = date(2031, 3, 5)


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    settings.SITE_URL = str(live_server.url)
    mail.outbox = []
    return str(live_server.url)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-sized browser of its own (its own cookies: closing it is closing the browser)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def booked_link(schedule: Schedule, site: str, *, language: str = "en") -> str:
    """Book Rosa's consultation as the front desk does; the intake link from the email the worker sends."""
    Patient.objects.filter(pk=schedule.rosa.pk).update(preferred_language=language)
    schedule.rosa.refresh_from_db()
    services.appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(WEDNESDAY, "10:00"),
        patient=schedule.rosa,
        source=Appointment.Source.STAFF,
        now=NOW,
    )
    run_ready_tasks()
    return newest_link(site)


def newest_link(site: str) -> str:
    found = re.findall(rf"{re.escape(site)}(?:/es)?/intake/[A-Za-z0-9_-]{{32}}/", str(mail.outbox[-1].body))
    assert len(found) == 1, mail.outbox[-1].body
    return str(found[0])


def save_and_continue(page: Any) -> None:
    page.locator(".intake-actions button[value=next]").click()


def step_label(page: Any) -> str:
    return str(page.locator(".intake-progress label").inner_text())


def checked(page: Any, name: str) -> None:
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], name


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_patient_fills_the_intake_on_a_phone_leaves_comes_back_and_finishes(
    phone: Any, site: str, schedule: Schedule
) -> None:
    link = booked_link(schedule, site)
    page = phone.new_page()
    page.goto(link)
    assert page.url == f"{site}/intake/"
    assert step_label(page) == "Step 1 of 8"
    assert page.locator("h1").inner_text() == "What brings you in"
    checked(page, "step 1")
    screenshot(page, "intake-step-1-en-390")

    # Sent empty first: each question says what it needs, next to it.
    save_and_continue(page)
    assert page.locator("#areas_error").inner_text() == "Please add at least one area that bothers you."
    assert page.locator("#id_pain_now_error").inner_text() == "Please choose a number from 0 to 10."
    checked(page, "step 1 with messages")
    screenshot(page, "intake-step-1-errors-en-390")
    page.select_option("#id_areas-0-site", "knee")
    page.select_option("#id_areas-0-side", "right")
    page.select_option("#id_areas-0-duration", "1_2_years")
    page.locator("label[for=id_pain_now_6]").click()
    save_and_continue(page)

    assert step_label(page) == "Step 2 of 8"
    checked(page, "step 2")
    page.locator("label[for=id_tried_0]").click()
    page.locator("label[for=id_tried_1]").click()
    save_and_continue(page)
    assert step_label(page) == "Step 3 of 8"

    # She ticks MRI and leaves (another site, the tab closed): what she ticked is kept.
    page.locator("label[for=id_kinds_1]").click()
    page.goto(site + "/")
    intake = Intake.objects.get()
    wait_for(lambda: Intake.objects.get(pk=intake.pk).answers.get("imaging", {}).get("kinds") == ["mri"])
    page.close()

    # Back from the same email, in the same browser: straight to where she left off.
    page = phone.new_page()
    page.goto(link)
    assert page.url == f"{site}/intake/"
    assert step_label(page) == "Step 3 of 8"
    assert page.locator("#id_kinds_1").is_checked()
    page.locator("label[for=id_when_0]").click()
    save_and_continue(page)
    checked(page, "step 4")
    page.locator("label[for=id_goals_0]").click()
    # Asks for a link to finish later, then closes the browser.
    page.locator("button[value=later]").click()
    assert page.locator("h1").inner_text() == "Check your email"
    checked(page, "finish later")
    screenshot(page, "intake-later-en-390")
    phone.close()

    # The next day, on a fresh browser, from the new email: at step 5, what she gave is all there.
    run_ready_tasks()
    again = newest_link(site)
    assert again != link
    tomorrow = phone.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = tomorrow.new_page()
    page.goto(link)
    assert page.locator("h1").inner_text() == "This link was already used"
    checked(page, "410")
    screenshot(page, "intake-link-used-en-390")
    page.goto(again)
    assert step_label(page) == "Step 5 of 8"
    page.fill("#id_medications-0-name", "Eliquis")
    page.fill("#id_medications-0-dose", "5 mg twice a day")
    checked(page, "step 5")
    screenshot(page, "intake-step-5-en-390")
    save_and_continue(page)
    page.locator("#id_none").check()
    save_and_continue(page)
    assert step_label(page) == "Step 7 of 8"
    for n, answer in enumerate(["no", "no", "no", "no", "yes", "no", "no"]):
        name = [name for name, _label, _field in intakes.SCREENING][n]
        page.locator(f"label[for=id_{name}_{['yes', 'no', 'unsure'].index(answer)}]").click()
    checked(page, "step 7")
    save_and_continue(page)
    assert step_label(page) == "Step 8 of 8"
    assert "Knee, Right, 1 to 2 years" in page.locator("main").inner_text()
    checked(page, "review")
    screenshot(page, "intake-review-en-390")
    page.click("text=Send my answers")
    assert page.url == f"{site}/intake/done/"
    assert page.locator("h1").inner_text() == "Thank you"
    checked(page, "thank you")
    screenshot(page, "intake-done-en-390")
    tomorrow.close()

    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert list(Medication.objects.values_list("name", "drug_class", "source")) == [
        ("Eliquis", "anticoagulant", "patient")
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_step_at_360_and_1280_passes_axe_and_fits(
    browser: Any, site: str, schedule: Schedule, language: str
) -> None:
    """Every step, as a screenshot in both widths; the Spanish run needs artifacts/po/intake.po merged."""
    link = booked_link(schedule, site, language=language)
    prefix = "/es" if language == "es" else ""
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(link)
    assert page.url == f"{site}{prefix}/intake/"
    expected = {"en": ("Step 1 of 8", "What brings you in"), "es": ("Paso 1 de 8", "El motivo de su visita")}
    assert (step_label(page), page.locator("h1").inner_text()) == expected[language]
    for key in intakes.SECTION_KEYS:
        page.goto(f"{site}{prefix}/intake/{key}/")
        for width in (360, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            checked(page, f"{key} at {width}")
            screenshot(page, f"intake-{key}-{language}-{width}")
    page.goto(f"{site}{prefix}/intake/concerns/")
    save_and_continue(page)
    messages = {"en": "Please choose a number from 0 to 10.", "es": "Por favor, elija un número del 0 al 10."}
    assert page.locator("#id_pain_now_error").inner_text() == messages[language]
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        checked(page, f"messages at {width}")
        screenshot(page, f"intake-concerns-errors-{language}-{width}")
    context.close()
    # The 410 page, in a browser that never had the session.
    other = browser.new_context(viewport={"width": 360, "height": 800})
    page = other.new_page()
    page.goto(link)
    used = {"en": "This link was already used", "es": "Este enlace ya se usó"}
    assert page.locator("h1").inner_text() == used[language]
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        checked(page, f"410 at {width}")
        screenshot(page, f"intake-link-used-{language}-{width}")
    other.close()


def test_the_staff_review_passes_axe_at_360_and_1280(page: Any, site: str, schedule: Schedule, bob: User) -> None:
    from patients.tests.test_intake import fill

    booked_link(schedule, site)
    intake = intakes.intake_submit(intake=fill(Intake.objects.get()))
    path = f"/staff/patients/intakes/{intake.uuid}/"
    page.goto(site + path)
    page.fill("#id_username", "bob")
    page.fill("#id_password", "bob-password-1")
    page.click("main button[type=submit]")
    second_step(page, User.objects.get(username="bob"))
    assert page.url == site + path
    assert page.locator("h1").inner_text() == "Intake form of Patient1 Example"
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        checked(page, f"staff review at {width}")
        screenshot(page, f"intake-staff-review-en-{width}")
    page.click("text=Confirm what the patient reported")
    assert page.locator(".flash").inner_text() == "Confirmed. What the patient reported is now marked as reviewed."
    checked(page, "confirmed")

"""A follow-up questionnaire in real Chromium on a phone: from the emailed link to the patient's own chart.

The worker's pass sends the 6-week invitation at 9:00 on the window's opening day; the
patient opens it on a phone, answers two KOOS pages, leaves, comes back with the same
link in the same browser (within the hour: where she left off), finishes, and sees her
progress. axe-core checks every page; screenshots land in artifacts/screenshots/ at 390 px
(the phone), 360 px and 1280 px, in English and Spanish.
"""

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from conftest import screenshot
from outbox.worker import run_ready_tasks
from outcomes import instruments, services
from outcomes import survey as surveys
from outcomes.invitations import follow_ups_advance
from outcomes.models import FollowUp, Response, Timepoint
from outcomes.tests import factories
from patients.models import Patient
from tests.test_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LA = ZoneInfo("America/Los_Angeles")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    settings.SITE_URL = str(live_server.url)
    mail.outbox = []
    return str(live_server.url)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


def invited(site: str, *, language: str = "en") -> tuple[FollowUp, str]:
    """A knee episode treated six weeks ago (baseline answered); the worker's 9:00 pass emails the invitation."""
    today = date.today()
    procedure = today - timedelta(weeks=6) + timedelta(weeks=2)  # the 6-week window opens today
    episode = factories.episode(status="treated")
    Patient.objects.filter(pk=episode.patient_id).update(preferred_language=language)
    factories.baseline_answered(
        episode,
        at=datetime.combine(procedure - timedelta(days=3), datetime.min.time(), tzinfo=LA) + timedelta(hours=10),
    )
    services.schedule_create(episode=episode, procedure_date=procedure, zone=LA)
    follow_up = episode.follow_ups.get(timepoint=Timepoint.WEEK_6)
    assert follow_up.opens_on == today
    # KOOS's pages (one per section of the form), NRS, SANE, PGIC, and the question about surgery.
    asked = ["KOOS", "NRS", "SANE", "PGIC"]
    assert len(surveys.screens(follow_up)) == sum(len(instruments.get(code).sections) for code in asked) + 1
    follow_ups_advance(now=datetime.combine(today, datetime.min.time(), tzinfo=LA) + timedelta(hours=9, minutes=5))
    run_ready_tasks()
    found = re.findall(rf"{re.escape(site)}(?:/es)?/questionnaire/[A-Za-z0-9_-]{{32}}/", str(mail.outbox[-1].body))
    assert len(found) == 1, mail.outbox[-1].body
    return follow_up, str(found[0])


def checked(page: Any, name: str) -> None:
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], name


def answer_screen(page: Any, screen: surveys.Screen, pick: int = 1) -> None:
    """Tick one box per question (the `pick`-th, or the scale's low end) and go on."""
    for item in screen.items():
        index = pick if item.options else 0
        page.locator(f"label[for=id_{item.code}_{index}]").click()
    page.locator(".intake-actions button[value=next]").click()


def page_label(page: Any) -> str:
    return str(page.locator(".intake-progress label").inner_text())


def test_a_patient_answers_the_6_week_koos_on_a_phone_leaves_comes_back_and_sees_her_chart(
    phone: Any, site: str
) -> None:
    follow_up, link = invited(site)
    assert "knee" not in mail.outbox[-1].body.lower() and "koos" not in mail.outbox[-1].body.lower()
    screens = surveys.screens(follow_up)
    page = phone.new_page()
    page.goto(link)
    assert page.url == f"{site}/questionnaire/step/1/"
    assert page_label(page) == f"Page 1 of {len(screens)}"
    checked(page, "page 1")
    screenshot(page, "survey-koos-1-en-390")
    # Sent empty: each question says so, next to it.
    page.locator(".intake-actions button[value=next]").click()
    first = screens[0].items()[0].code
    assert page.locator(f"#id_{first}_error").inner_text() == "Please choose one answer for this question."
    checked(page, "page 1 with messages")
    screenshot(page, "survey-koos-1-errors-en-390")
    answer_screen(page, screens[0])
    assert page_label(page) == f"Page 2 of {len(screens)}"
    answer_screen(page, screens[1])
    # She leaves halfway: page 3 is next.
    page.close()

    page = phone.new_page()
    page.goto(link)
    assert page.url == f"{site}/questionnaire/step/3/"
    for screen in screens[2:-1]:
        checked(page, f"page {screen.number}")
        answer_screen(page, screen)
    assert page.locator("h1").inner_text() == "Any operation since?"
    checked(page, "surgery")
    page.locator("label[for=id_had_surgery_0]").click()
    page.locator(".intake-actions button[value=next]").click()
    assert page.url == f"{site}/questionnaire/done/"
    assert page.locator("h1").inner_text() == "Thank you"
    assert page.locator("svg.score-chart").count() >= 6
    checked(page, "thank you")
    screenshot(page, "survey-done-en-390")

    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.COMPLETED
    assert Response.objects.filter(follow_up=follow_up, status=Response.Status.SUBMITTED).count() == 4


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_pages_at_360_and_1280_pass_axe_and_fit(browser: Any, site: str, language: str) -> None:
    """At 360 px every page is looked at (not answered); at 1280 px, from a second link, answered to the end."""
    follow_up, link = invited(site, language=language)
    prefix = "/es" if language == "es" else ""
    screens = surveys.screens(follow_up)
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    page.goto(link)
    for screen in screens:
        page.goto(f"{site}{prefix}/questionnaire/step/{screen.number}/")
        checked(page, f"{language} 360 page {screen.number}")
        screenshot(page, f"survey-{language}-360-page-{screen.number}")
    context.close()

    # A second browser with the used link: the 410 page, which sends a fresh link by email.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(link)
    checked(page, f"{language} 1280 link used")
    screenshot(page, f"survey-{language}-1280-link-used")
    page.locator("form.intake-send button").click()
    checked(page, f"{language} 1280 sent")
    run_ready_tasks()
    again = re.findall(rf"{re.escape(site)}(?:/es)?/questionnaire/[A-Za-z0-9_-]{{32}}/", str(mail.outbox[-1].body))
    assert len(again) == 1 and again[0] != link
    page.goto(again[0])
    for screen in screens[:-1]:
        checked(page, f"{language} 1280 page {screen.number}")
        screenshot(page, f"survey-{language}-1280-page-{screen.number}")
        answer_screen(page, screen, pick=0)
    page.locator("label[for=id_had_surgery_0]").click()
    page.locator(".intake-actions button[value=next]").click()
    assert page.url == f"{site}{prefix}/questionnaire/done/"
    checked(page, f"{language} 1280 done")
    screenshot(page, f"survey-{language}-1280-done")
    context.close()

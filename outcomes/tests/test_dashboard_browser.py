"""The outcomes dashboard and "Our results" in real Chromium, with axe-core on every page.

The practice manager opens the dashboard, filters by office and reads the Kaplan-Meier
chart and its table; a physician publishes an "Our results" version; a visitor reads it
in Spanish. Screenshots land in artifacts/screenshots/ at 360 px and 1280 px.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from accounts.models import Role, User
from accounts.testing import second_step
from conftest import screenshot
from outcomes.models import SurgeryConversion
from outcomes.tests.factories import treated
from tests.test_browser import axe_violations
from website.models import Office

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-password-for-tests"


@pytest.fixture
def site(live_server: Any, practice: Any) -> str:
    """24 back-pain episodes treated two years ago: 14 in Los Angeles, 10 in Encino, two converted to surgery."""
    los_angeles, encino = Office.objects.get(slug="los-angeles"), Office.objects.get(slug="encino")
    on = date.today() - timedelta(days=800)
    for index in range(24):
        built = treated(
            on=on,
            office=los_angeles if index < 14 else encino,
            nrs={"baseline": 8, "6w": 4 if index % 2 else 7, "12m": 3 if index % 3 else 6},
        )
        if index in (3, 17):
            SurgeryConversion.objects.create(
                episode=built.episode,
                surgery_date=on + timedelta(days=200),
                procedure=SurgeryConversion.Procedure.SPINE_SURGERY,
                source=SurgeryConversion.Source.STAFF,
            )
    for name, role in (("manager", Role.MANAGER), ("drlee", Role.PHYSICIAN)):
        User.objects.create_user(name, password=PASSWORD, role=role, is_staff=True)
    return str(live_server.url)


@pytest.fixture
def narrow(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    yield context.new_page()
    context.close()


def sign_in(page: Any, site: str, username: str, path: str) -> None:
    page.goto(site + path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    second_step(page, User.objects.get(username=username))
    assert page.url == site + path


def fits(page: Any) -> None:
    assert axe_violations(page) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], page.url


def test_the_manager_filters_by_office_and_reads_surgery_free_survival(page: Any, narrow: Any, site: str) -> None:
    sign_in(page, site, "manager", "/staff/outcomes/dashboard/")
    page.select_option("#id_indication", "back_pain")
    page.click("button:has-text('Show')")
    assert page.locator("#treated").inner_text() == "24 episodes"
    page.select_option("#id_office", label="Encino")
    page.click("button:has-text('Show')")
    assert page.locator("#treated").inner_text() == "10 episodes"
    assert "office=" in page.url
    chart = page.locator("svg.dash-chart[aria-labelledby='survival-title survival-desc']")
    assert chart.locator("title").text_content() == "Surgery-free survival"
    assert "10 treated patients" in chart.locator("desc").text_content()
    at_risk = page.locator("#at-risk")
    assert at_risk.locator("caption").inner_text() == "Numbers at risk (10 treated, 1 surgery)"
    assert at_risk.locator("tbody tr").first.inner_text().split("\t")[:2] == ["At risk", "10"]
    fits(page)
    screenshot(page, "outcomes-dashboard-en-1280")
    page.click("#a11y-toggle")
    page.click('[data-a11y="contrast"]')
    assert axe_violations(page) == []
    screenshot(page, "outcomes-dashboard-contrast-en-1280")
    sign_in(narrow, site, "manager", "/staff/outcomes/dashboard/?indication=back_pain")
    fits(narrow)
    screenshot(narrow, "outcomes-dashboard-en-360")


def test_a_physician_publishes_and_a_visitor_reads_it_in_spanish(page: Any, narrow: Any, site: str) -> None:
    sign_in(page, site, "drlee", "/staff/results/")
    fits(page)
    section = page.locator("#results-back_pain")
    assert "Nothing published yet" in section.inner_text()
    section.locator("button:has-text('Publish this version')").click()
    assert page.locator(".flash").inner_text() == "Published: Back pain from worn discs or facet joints."
    assert "By drlee on" in page.locator("#results-back_pain").inner_text()
    screenshot(page, "results-staff-en-1280")
    for target, width in ((page, 1280), (narrow, 360)):
        target.context.clear_cookies()
        target.goto(site + "/es/results/")
        assert target.locator("h1").inner_text() == "Nuestros resultados"
        condition = target.locator("#results-back_pain")
        assert "Pacientes tratados" in condition.inner_text()
        assert "24" in condition.locator(".results-facts").inner_text()
        fits(target)
        # The table itself never scrolls sideways: on a phone each row is a card, each cell
        # under its column's name.
        tables = condition.locator(".table-scroll")
        assert tables.count() == 1
        assert tables.evaluate("el => el.scrollWidth <= el.clientWidth")
        answered = condition.locator("td[data-label]").first
        shown = answered.evaluate("td => getComputedStyle(td, '::before').content")
        assert shown == ('"Respondieron el cuestionario: "' if width == 360 else "none")
        screenshot(target, f"results-es-{width}")

"""What a visitor does, in real Chromium: read, adjust the page, use the form, switch language.

Screenshots land in artifacts/screenshots/ at 360 px and 1280 px, English and Spanish.
"""

import gzip
import os
import time
from typing import Any
from urllib.parse import urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from accounts.testing import second_step
from conftest import screenshot
from outbox.worker import run_ready_tasks
from website.models import Inquiry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLIC_PATHS = [
    "/",
    "/stem-cell-therapy/",
    "/prp/",
    "/offices/los-angeles/",
    "/offices/encino/",
    "/contact/",
    "/book/",
    "/book/los-angeles/",
    "/book/encino/",
]
# Sums the layout shifts the page has had since it started loading (buffered), as Lighthouse's CLS does.
LAYOUT_SHIFT = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 250);
})"""


@pytest.fixture
def site(live_server: Any, practice: Any, settings: Any) -> str:
    settings.CONTACT_MIN_FILL_SECONDS = 1
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return str(live_server.url)


def wait_until(page: Any, expression: str, timeout: float = 5.0) -> None:
    """Poll a JavaScript expression (wait_for_function needs eval, which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(50)


def axe_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


@pytest.mark.parametrize("prefix", ["", "/es"])
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_axe_finds_nothing_on_a_public_page(page: Any, site: str, prefix: str, path: str) -> None:
    page.goto(site + prefix + path)
    assert axe_violations(page) == []
    # And with high contrast on.
    page.click("#a11y-toggle")
    page.click('[data-a11y="contrast"]')
    page.click("#a11y-toggle")
    assert page.evaluate("document.documentElement.classList.contains('a11y-contrast')") is True
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_a_public_page_loads_nothing_from_another_origin_and_stays_small(page: Any, site: str, path: str) -> None:
    origin = urlparse(site).netloc
    seen: list[tuple[str, int]] = []

    def record(response: Any) -> None:
        body = response.body() if response.status == 200 else b""
        seen.append((response.url, len(gzip.compress(body))))

    page.on("response", record)
    page.on("requestfailed", lambda request: seen.append((request.url, 0)))
    page.goto(site + path)
    page.wait_for_load_state("networkidle")
    # The readable font is fetched only when chosen: count it too, as the worst case.
    page.click("#a11y-toggle")
    page.click('[data-a11y="font"]')
    page.wait_for_load_state("networkidle")
    foreign = [url for url, _ in seen if urlparse(url).netloc not in (origin, "")]
    assert foreign == []
    total = sum(size for _, size in seen)
    assert total < 60 * 1024, f"{total} bytes compressed: {seen}"


def test_a_visitor_reads_the_therapy_page_and_every_section_is_there(page: Any, site: str) -> None:
    page.goto(site + "/stem-cell-therapy/")
    headings = page.locator("main h2").all_inner_texts()
    for expected in ("Conditions we treat", "Who is a good candidate", "How the therapy is performed", "Risks"):
        assert any(expected.lower() in h.lower() for h in headings), headings
    assert page.locator("#conditions ~ ul").first.locator("li").count() == 9
    assert page.locator("#how-it-works ~ ol").first.locator("li").count() == 6
    image = page.locator("figure img")
    assert image.get_attribute("alt").startswith("Six steps")
    assert page.evaluate("document.querySelector('figure img').naturalWidth") > 0
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"stem-cell-therapy-en-{width}")


def test_every_toolbar_control_takes_effect_and_persists(page: Any, site: str) -> None:
    page.goto(site + "/")
    root_font = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    assert page.evaluate(root_font) == 16
    toggle = page.locator("#a11y-toggle")
    is_open = "document.getElementById('a11y').open"
    assert page.evaluate(is_open) is False
    # Keyboard: focus the toggle, open with Enter; focus moves into the panel.
    toggle.focus()
    page.keyboard.press("Enter")
    assert page.evaluate(is_open) is True
    # "Smaller" is disabled at the smallest size, so focus lands on "Larger".
    wait_until(page, "document.activeElement.dataset.a11y === 'larger'")
    assert page.locator('[data-a11y="smaller"]').is_disabled()
    for _ in range(4):
        page.click('[data-a11y="larger"]')
    assert page.evaluate(root_font) == 32
    assert page.locator("#a11y-size").inner_text() == "200%"
    assert page.locator('[data-a11y="larger"]').is_disabled()
    page.click('[data-a11y="smaller"]')
    assert page.evaluate(root_font) == 28
    for name, check in (
        ("contrast", "getComputedStyle(document.body).backgroundColor === 'rgb(0, 0, 0)'"),
        ("underline", "getComputedStyle(document.querySelector('.main-nav a')).textDecorationLine === 'underline'"),
        ("font", "getComputedStyle(document.body).fontFamily.startsWith('\"Atkinson Hyperlegible\"')"),
        ("motion", "getComputedStyle(document.documentElement).scrollBehavior === 'auto'"),
    ):
        button = page.locator(f'[data-a11y="{name}"]')
        assert button.get_attribute("aria-pressed") == "false"
        assert page.evaluate(check) is False
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        assert page.evaluate(check) is True, name
    page.keyboard.press("Escape")
    assert page.evaluate(is_open) is False
    assert page.evaluate("document.activeElement.id") == "a11y-toggle"
    # A click elsewhere closes it too.
    toggle.click()
    page.click("h1")
    assert page.evaluate(is_open) is False
    screenshot(page, "toolbar-all-on-en-1280")

    # Another page remembers every choice, without any cookie.
    page.goto(site + "/es/prp/")
    assert page.evaluate(root_font) == 28
    assert page.evaluate("[...document.documentElement.classList].sort().join(' ')") == (
        "a11y-contrast a11y-font a11y-motion a11y-underline js"
    )
    assert page.context.cookies() == [] or all(c["name"] != "rc-a11y" for c in page.context.cookies())
    page.click("#a11y-toggle")
    assert page.locator('[data-a11y="contrast"]').get_attribute("aria-pressed") == "true"
    page.click('[data-a11y="reset"]')
    assert page.evaluate(root_font) == 16
    assert page.evaluate("document.documentElement.className") == "js"
    page.reload()
    assert page.evaluate("document.documentElement.className") == "js"


@pytest.mark.parametrize("width", [360, 1280])
def test_nothing_moves_after_the_first_paint(page: Any, site: str, width: int) -> None:
    """CLS 0 on every public page: the toolbar is drawn by the server, not revealed by script."""
    page.set_viewport_size({"width": width, "height": 800})
    shifts = {}
    for prefix in ("", "/es"):
        for path in PUBLIC_PATHS:
            page.goto(site + prefix + path, wait_until="load")
            shifts[prefix + path] = page.evaluate(LAYOUT_SHIFT)
    assert shifts == {url: 0 for url in shifts}


@pytest.mark.parametrize("width", [360, 1280])
def test_the_header_is_laid_out_the_same_with_and_without_script(browser: Any, site: str, width: int) -> None:
    """What the script could move, measured where it cannot have run yet: the same boxes either way."""
    seen = []
    for javascript in (False, True):
        context = browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=javascript)
        page = context.new_page()
        page.goto(site + "/es/book/los-angeles/", wait_until="load")
        seen.append(
            [page.locator(s).bounding_box() for s in (".brand", ".lang-switch", "#a11y-toggle", ".main-nav", "h1")]
        )
        if not javascript:
            page.click("#a11y-toggle")
            assert page.locator(".a11y-nojs").is_visible()
            assert page.locator('[data-a11y="contrast"]').is_hidden()
        context.close()
    assert seen[0] == seen[1]


def test_the_booking_page_draws_one_element_per_time(page: Any, site: str) -> None:
    page.goto(site + "/book/encino/")
    times = page.locator(".slots button").count()
    assert times > 100
    assert page.evaluate("document.querySelectorAll('.slots *').length") == times
    assert page.evaluate("document.querySelectorAll('*').length") - times < 200
    # Each time keeps its day in its accessible description, and is one tap to the details step.
    first = page.locator(".slots button").first
    described_by = first.get_attribute("aria-describedby")
    assert page.locator(f"#{described_by}").inner_text() == page.locator(".day .label").first.inner_text()
    first.click()
    assert page.locator("h1").inner_text() == "Your details"


def test_spanish_booking_shows_12_hour_times_and_the_date_hint(page: Any, site: str) -> None:
    page.goto(site + "/es/book/los-angeles/")
    labels = page.locator(".slots button").all_text_contents()
    assert labels and all(label.endswith(("\u00a0a.\u00a0m.", "\u00a0p.\u00a0m.")) for label in labels), labels
    page.locator(".slots button").first.click()
    assert page.locator('label[for="id_date_of_birth"]').inner_text() == "Fecha de nacimiento (mes/día/año) *"
    assert page.locator(".summary .when").inner_text().endswith(labels[0])


def test_scroll_to_top_appears_after_scrolling_and_returns_to_the_top(page: Any, site: str) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(site + "/stem-cell-therapy/")
    button = page.locator("#to-top")
    assert button.is_hidden()
    page.mouse.wheel(0, 3000)
    wait_until(page, "window.scrollY > 1000")
    button.wait_for(state="visible")
    button.click()
    wait_until(page, "window.scrollY === 0")
    button.wait_for(state="hidden")


def test_the_skip_link_moves_focus_to_the_content(page: Any, site: str) -> None:
    page.goto(site + "/contact/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_visitor_sends_the_form_wrong_then_right(page: Any, site: str) -> None:
    page.goto(site + "/contact/")
    page.fill("#id_name", "Rosa Díaz")
    page.fill("#id_email", "rosa-at-example")
    page.fill("#id_message", "Is there parking at the Encino office?")
    time.sleep(1.1)
    page.click("button[type=submit]")
    assert page.locator("#id_email_error").inner_text() == (
        "Please check the email address: it should look like name@example.com."
    )
    assert page.input_value("#id_name") == "Rosa Díaz"
    assert page.input_value("#id_message") == "Is there parking at the Encino office?"
    screenshot(page, "contact-error-en-1280")
    page.fill("#id_email", "rosa@example.com")
    page.select_option("#id_preferred_office", label="Encino")
    time.sleep(1.1)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Thank you, your message was sent"
    inquiry = Inquiry.objects.select_related("preferred_office").get()
    assert (inquiry.email, str(inquiry.preferred_office)) == ("rosa@example.com", "Encino")
    run_ready_tasks()  # the worker sends the practice's notice
    assert len(mail.outbox) == 1 and "parking" not in mail.outbox[0].body


def test_a_medical_message_gets_the_notice_and_can_still_be_sent(page: Any, site: str) -> None:
    page.goto(site + "/es/contact/")
    page.fill("#id_name", "Jorge")
    page.fill("#id_email", "jorge@example.com")
    page.fill("#id_message", "Me duele mucho la rodilla derecha desde hace meses y tomo ibuprofeno.")
    time.sleep(1.1)
    page.click("button[type=submit]")
    assert page.locator("#form-errors").is_visible()
    assert Inquiry.objects.count() == 0
    page.set_viewport_size({"width": 360, "height": 800})
    screenshot(page, "contact-medical-es-360")
    assert page.locator("#id_confirm_non_medical").count() == 1
    page.check("#id_confirm_non_medical")
    time.sleep(1.1)
    page.click("button[type=submit]")
    assert page.url.endswith("/es/contact/thanks/")
    assert Inquiry.objects.get().sent_despite_medical_notice is True


def test_a_visitor_switches_language_and_stays_on_the_same_page(page: Any, site: str) -> None:
    page.goto(site + "/stem-cell-therapy/")
    assert page.get_attribute("html", "lang") == "en"
    page.click('.lang-switch a[hreflang="es"]')
    assert page.url == site + "/es/stem-cell-therapy/"
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("h1").inner_text() == "Terapia con células madre"
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"stem-cell-therapy-es-{width}")
    page.click('.lang-switch a[hreflang="en"]')
    assert page.url == site + "/stem-cell-therapy/"


@pytest.mark.parametrize("prefix", ["", "/es"])
@pytest.mark.parametrize("width", [360, 1280])
def test_screenshots_of_every_public_page(page: Any, site: str, prefix: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    lang = prefix.strip("/") or "en"
    for path in PUBLIC_PATHS:
        page.goto(site + prefix + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        name = path.strip("/").replace("/", "-") or "home"
        screenshot(page, f"{name}-{lang}-{width}")


def test_the_front_desk_reads_an_inquiry_and_marks_it_answered(page: Any, site: str) -> None:
    from accounts.models import Role

    User.objects.create_user("fran", password="fran-password-1", role=Role.FRONT_DESK, is_staff=True)
    Inquiry.objects.create(name="Rosa Díaz", email="rosa@example.com", message="Is there parking?", client_key="k")
    page.goto(site + "/staff/inquiries/")
    assert page.url == site + "/accounts/sign-in/?next=/staff/inquiries/"
    page.fill("#id_username", "fran")
    page.fill("#id_password", "fran-password-1")
    page.click("button[type=submit]")
    second_step(page, User.objects.get(username="fran"))
    assert page.url == site + "/staff/inquiries/"
    assert axe_violations(page) == []
    screenshot(page, "staff-inbox-en-1280")
    page.click("text=Rosa Díaz >> xpath=ancestor::tr//a")
    assert page.locator("h1").inner_text() == "Inquiry from Rosa Díaz"
    assert axe_violations(page) == []
    page.click("button[value=answered]")
    assert page.locator(".flash").inner_text() == "Marked as answered."
    assert page.locator("tbody").inner_text() == "No inquiries here."
    page.get_by_role("link", name="Answered", exact=True).click()
    assert "Rosa Díaz" in page.locator("tbody").inner_text()

"""The strict CSP holds in real Chromium where inline code is most likely: the admin and the signature pads.

Chromium reports each refused script, style or eval on the console ("Refused to ...
because it violates the following Content Security Policy directive") and as a
`securitypolicyviolation` event; a page passes when neither has anything to say.
"""

from typing import Any

import pytest

from accounts import links
from accounts.models import Role, User
from patients.models import Episode
from patients.tests.episode_fixtures import documents, episode
from patients.tests.test_consent_browser import SIGNED, draw_signature, signed_in
from scheduling.tests.conftest import schedule
from tests.test_browser import wait_until

__all__ = ["documents", "episode", "schedule"]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs; records what the policy refused.
LISTEN = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  e => window.__violations.push(e.violatedDirective + " " + e.blockedURI));"""


def watch(page: Any) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None)
    page.add_init_script(LISTEN)
    return seen


def violations(page: Any, console: list[str]) -> list[str]:
    return console + list(page.evaluate("window.__violations"))


def test_the_admin_runs_under_the_policy(page: Any, live_server: Any, practice: Any) -> None:
    admin = User.objects.create_superuser("root", password="root-password-1", role=Role.ADMIN)
    console = watch(page)
    site = str(live_server.url)
    page.goto(site + "/admin/login/")
    assert violations(page, console) == []
    signed_in(page, live_server, admin)
    for path in ("/admin/", f"/admin/accounts/user/{admin.pk}/change/", "/admin/accounts/user/add/"):
        page.goto(site + path)
        assert page.locator("#content h1, #content h2").first.is_visible(), path
        assert violations(page, console) == [], path
    # The admin's own scripts ran (the changelist's action bar, the inline calendar's shortcuts).
    page.goto(site + "/admin/accounts/user/")
    assert page.locator("#changelist-form .actions select").count() == 1
    assert violations(page, console) == []


def test_the_signature_pads_draw_under_the_policy(page: Any, live_server: Any, episode: Episode, bob: User) -> None:
    console = watch(page)
    site = signed_in(page, live_server, bob)
    page.goto(site + f"/staff/patients/episodes/{episode.uuid}/consent/sign/")
    wait_until(page, "!document.querySelector('[data-signature-pad]').hidden")
    draw_signature(page)
    assert violations(page, console) == []

    patient = page.context.browser.new_context()
    patient_page = patient.new_page()
    patient_console = watch(patient_page)
    _link, token = links.link_issue(purpose="consent", patient=episode.patient, target=episode.uuid)
    patient_page.goto(site + f"/consent/{token}/")
    wait_until(patient_page, "!document.querySelector('[data-signature-pad]').hidden")
    draw_signature(patient_page)
    assert patient_page.evaluate(SIGNED)
    assert violations(patient_page, patient_console) == []
    patient.close()


def test_the_watch_sees_an_inline_script_the_policy_refuses(page: Any, live_server: Any, practice: Any) -> None:
    """The control: the check above can fail."""
    console = watch(page)
    page.goto(str(live_server.url) + "/admin/login/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
        document.body.append(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in seen for seen in violations(page, console))

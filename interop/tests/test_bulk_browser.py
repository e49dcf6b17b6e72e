"""The FHIR bulk export in real Chromium, with axe-core: an administrator starts it and watches the bar fill.

The worker is the real one, run in the test's thread while the page polls its status
from the live server (`interop/js/bulk_export.js`).
"""

from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from accounts.testing import second_step
from conftest import screenshot
from interop.tests.conftest import Canary
from outbox.worker import run_ready_tasks
from patients.models import Patient
from tests.test_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server: Any, canary: Canary, settings: Any, tmp_path: Path) -> str:
    settings.VAR_DIR = tmp_path
    return str(live_server.url)


def test_the_administrator_starts_the_export_and_sees_the_bar_reach_the_end(page: Any, site: str) -> None:
    patients = Patient.objects.filter(merged_into__isnull=True).count()
    page.goto(site + "/staff/exports/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ada-password-1")
    page.click("button[type=submit]")
    second_step(page, User.objects.get(username="ada"))
    page.click("button:has-text('Start the FHIR bulk export')")
    assert page.locator("#bulk-status").inner_text() == "Queued"
    assert page.locator("#bulk-count").inner_text() == "Waiting for the worker"
    assert axe_violations(page) == [], page.url

    run_ready_tasks()

    page.wait_for_function(
        "n => { const bar = document.getElementById('bulk-progress'); return bar.max === n && bar.value === n; }",
        arg=patients,
    )
    assert page.locator("#bulk-status").inner_text() == "Done"
    assert page.locator("#bulk-count").inner_text() == f"{patients} of {patients} patients. The files are ready."
    assert axe_violations(page) == [], page.url
    screenshot(page, "fhir-bulk-export-done")
    page.click("#bulk-refresh")
    assert page.locator("a[download]").first.inner_text() == "AdverseEvent.ndjson"
    assert axe_violations(page) == [], page.url

"""A whole procedure day in real Chromium on a tablet (1024 x 768): start, fill, classify, sign, print.

The physician starts the record for an episode with a valid consent and does the time-out;
the technician records the blood draw, harvest, processing and counts; the physician adds
the injection and the rehabilitation, sees the product classified, MIBO complete and no
breach, signs, and downloads the PDF. A second day's label mismatch is flagged and its
sign-off refused. axe-core checks every page; screenshots land in artifacts/screenshots/.
"""

import io
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import User
from accounts.testing import sign_in
from conftest import screenshot
from outcomes.models import FollowUp, Timepoint
from procedures import services
from procedures.models import ProcedureRecord
from procedures.tests.conftest import COUNTS, HARVEST, PROCESSING, TIMEOUT, Clinic
from tests.test_browser import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}
LA = ZoneInfo("America/Los_Angeles")
BETA = "\N{GREEK SMALL LETTER BETA}"


def today() -> date:
    return timezone.now().astimezone(LA).date()


def when(hhmm: str) -> str:
    """A datetime-local value today, as a person types it on the tablet."""
    return f"{today().isoformat()}T{hhmm}"


@pytest.fixture
def signed_in(browser: Any, live_server: Any) -> Iterator[Any]:
    """A tablet-sized page signed in as `user` (the session a sign-in would make)."""
    contexts = []

    def open_as(user: User) -> Any:
        client = Client()
        sign_in(client, user)
        context = browser.new_context(viewport=TABLET)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": str(live_server.url),
                }
            ]
        )
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


def save(page: Any, section: str, title: str) -> None:
    page.locator(f"#{section}").get_by_role("button", name=f"Save: {title}").click()
    assert page.locator(".flash").inner_text() == f"{title} saved."


def fill_fields(page: Any, prefix: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = page.locator(f"#id_{prefix}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


# The elements that stick out on the right, to say what made a page scroll sideways.
WIDER = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1)
  .filter(e => !(e.parentElement && e.parentElement.closest('.table-scroll')))
  .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def widths(page: Any, name: str) -> None:
    """Screenshots at the tablet, a phone and a desktop width, and no sideways scrolling on any."""
    for width, height in ((1024, 768), (360, 780), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, (name, width, page.evaluate(WIDER, width))
        screenshot(page, f"{name}-{width}")
    page.set_viewport_size(TABLET)


def test_a_whole_procedure_record_is_filled_signed_and_printed_on_a_tablet(
    live_server: Any, clinic: Clinic, signed_in: Any
) -> None:
    site = str(live_server.url)
    doctor, tech = signed_in(clinic.doctor), signed_in(clinic.tech)
    # This record is made today, not on the fixture's day: Rosa answered her baseline yesterday.
    FollowUp.objects.filter(episode=clinic.episode, timepoint=Timepoint.BASELINE).update(
        completed_at=timezone.now() - timedelta(days=1)
    )

    # The physician starts the record from the episode: the consent is valid.
    doctor.goto(f"{site}/staff/procedures/start/{clinic.episode.uuid}/")
    assert "valid" in doctor.locator("main dl").inner_text()
    assert axe_violations(doctor) == []
    doctor.get_by_role("button", name="Start the record").click()
    record = ProcedureRecord.objects.get()
    assert doctor.url == site + record.get_absolute_url()
    assert doctor.locator("#patient-name").inner_text() == "Patient1 Example"
    assert axe_violations(doctor) == []
    widths(doctor, "procedure-record-new")

    # The time-out, by the physician.
    doctor.check("#id_timeout-timeout_identifiers_0")
    doctor.check("#id_timeout-timeout_identifiers_1")
    for name in ("site_side_confirmed", "consent_confirmed", "allergies_reviewed", "anticoagulants_reviewed"):
        doctor.check(f"#id_timeout-timeout_{name}")
    save(doctor, "timeout", "Time-out")

    # The technician: blood draw, harvest, processing, counts.
    tech.goto(site + record.get_absolute_url())
    fill_fields(
        tech,
        "blood_draw",
        {
            "blood_volume_ml": "13.5",
            "blood_anticoagulant": "acd_a",
            "blood_anticoagulant_ml": "1.5",
            "blood_drawn_at": when("09:05"),
        },
    )
    save(tech, "blood_draw", "Blood draw for PRP")
    harvest = {name: str(value) for name, value in HARVEST.items() if not name.endswith("_at")}
    fill_fields(tech, "harvest", {**harvest, "harvest_started_at": when("09:15"), "harvest_ended_at": when("09:35")})
    save(tech, "harvest", "Bone-marrow harvest")
    processing = {
        "device": "Centrifuge X",
        "kit": "BMAC kit",
        "kit_lot": "LOT-42",
        "spin1_g": "1500",
        "spin1_minutes": "10",
        "spin2_g": "3000",
        "spin2_minutes": "5",
        "processing_input_ml": "60",
        "concentrate_volume_ml": "6",
        "prp_volume_ml": "4",
        "activation": "none",
        "processing_done_at": when("10:00"),
    }
    fill_fields(tech, "processing", processing)
    for agent in PROCESSING["added_agents"]:
        tech.locator(f"#processing input[name='processing-added_agents'][value='{agent}']").check()
    save(tech, "processing", "Processing")
    fill_fields(tech, "counts", {name: str(value) for name, value in COUNTS.items()})
    save(tech, "counts", "Counts")
    assert tech.locator("#paw-code").inner_text() == f"P2-B{BETA}"
    assert axe_violations(tech) == []

    # The physician: the injection at the bedside, then the rehabilitation.
    doctor.reload()
    fill_fields(
        doctor,
        "injection",
        {
            "target_structure": "medial compartment",
            "guidance": "ultrasound",
            "concentrate_ml": "4",
            "prp_ml": "4",
            "sample_label": HARVEST["harvest_sample_label"],
            "injected_at": when("10:10"),
        },
    )
    doctor.get_by_role("button", name="Add the injection").click()
    assert doctor.locator(".flash").inner_text() == "Injection added."
    doctor.fill("#id_rehab-rehabilitation_protocol", "Crutches 48 hours, then walking; physio from week 2.")
    save(doctor, "rehab", "Rehabilitation")

    # Computed, never typed: PAW, DEPA, the cell dose; MIBO complete; no breach.
    assert doctor.locator("#paw-code").inner_text() == f"P2-B{BETA}"
    assert "Dose: 1.43 billion platelets injected, grade C" in doctor.locator("#depa").inner_text()
    assert doctor.locator("#cell-dose").inner_text() == "100 million nucleated cells injected (4.00 mL)"
    assert doctor.locator("#concentration-factor").inner_text() == "2\N{MULTIPLICATION SIGN}"
    mibo = doctor.locator(".mibo-line")
    assert [re.sub(r"\s+", " ", mibo.nth(n).inner_text()).split(" Not recordable")[0] for n in range(2)] == [
        "MIBO (PRP): complete",
        "MIBO (BMAC): complete",
    ]
    assert "no breach found" in doctor.locator(".proc-checks").inner_text()
    assert doctor.locator(".elapsed").inner_text() == "Harvest to first injection: 35 min"
    assert axe_violations(doctor) == []
    widths(doctor, "procedure-record-filled")

    # Sign-off by the physician.
    doctor.get_by_role("link", name="Go to sign-off").click()
    assert "Every section needed is filled" in doctor.locator(".ok-box").inner_text()
    assert axe_violations(doctor) == []
    widths(doctor, "procedure-sign-off")
    doctor.get_by_role("button", name="Sign the record").click()
    assert doctor.locator(".flash").inner_text() == "Signed. The record is now closed; later changes are amendments."
    record.refresh_from_db()
    assert (record.status, services.procedure_verify(record).ok) == ("signed", True)
    assert doctor.locator("#signature code.hash").inner_text() == record.signed_sha256
    assert axe_violations(doctor) == []
    widths(doctor, "procedure-record-signed")

    # The PDF.
    with doctor.expect_download() as download:
        doctor.get_by_role("link", name="Download the PDF").click()
    content = open(download.value.path(), "rb").read()  # noqa: SIM115
    reader = PdfReader(io.BytesIO(content))
    text = re.sub(r"\s+", " ", "\n".join(p.extract_text() for p in reader.pages))
    assert len(reader.pages) <= 2
    assert f"P2-B{BETA}" in text
    assert record.signed_sha256 in text.replace(" ", "")

    # Verify page.
    doctor.get_by_role("link", name="Verify the signature").click()
    assert doctor.locator("#verify-result").inner_text().startswith("The signature holds")
    assert axe_violations(doctor) == []


def test_a_label_mismatch_is_flagged_and_sign_off_refused(live_server: Any, clinic: Clinic, signed_in: Any) -> None:
    site = str(live_server.url)
    now = timezone.now()
    record = services.procedure_start(episode=clinic.episode, by=clinic.doctor, now=now)
    moment = {key: value for key, value in HARVEST.items()}
    day = record.procedure_date
    moment["harvest_started_at"] = datetime.combine(day, time(9, 15), tzinfo=LA)
    moment["harvest_ended_at"] = datetime.combine(day, time(9, 35), tzinfo=LA)
    for section, data in (("timeout", TIMEOUT), ("harvest", moment), ("counts", COUNTS)):
        services.procedure_save_section(record=record, section=section, data=data, by=clinic.doctor, now=now)
    doctor = signed_in(clinic.doctor)
    doctor.goto(site + record.get_absolute_url())
    fill_fields(
        doctor,
        "injection",
        {
            "target_structure": "medial compartment",
            "guidance": "ultrasound",
            "prp_ml": "3",
            "sample_label": "BMA-2031-0305-07",
            "injected_at": f"{day.isoformat()}T10:10",
        },
    )
    doctor.get_by_role("button", name="Add the injection").click()
    breach = doctor.locator("#breaches")
    assert breach.locator(".breaches-title").inner_text() == "Same-day rule breached: this record cannot be signed."
    assert breach.locator("li").all_inner_texts() == [
        "The sample label at injection 1 (BMA-2031-0305-07) does not match the label recorded at the harvest "
        "(BMA-2031-0305-01)."
    ]
    assert axe_violations(doctor) == []
    widths(doctor, "procedure-record-label-mismatch")

    doctor.get_by_role("link", name="Go to sign-off").click()
    assert "does not match the label" in doctor.locator("#sign-off-problems").inner_text()
    doctor.get_by_role("button", name="Sign the record").click()
    errors = doctor.locator(".form-errors li").all_inner_texts()
    assert (
        "The sample label at injection 1 (BMA-2031-0305-07) does not match the label recorded at the harvest "
        "(BMA-2031-0305-01)." in errors
    )
    assert axe_violations(doctor) == []
    screenshot(doctor, "procedure-sign-off-refused-1024")
    record.refresh_from_db()
    assert record.status == "in_progress"

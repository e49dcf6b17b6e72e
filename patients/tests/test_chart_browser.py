"""The chart in real Chromium: alice finds a patient by phone, opens the chart, confirms a reported allergy;
bob reads it on a tablet. axe-core checks every page; screenshots at 360 and 1280 px (and a 1024 x 768 tablet)
land in artifacts/screenshots/."""

from datetime import date
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from accounts.models import User
from accounts.testing import second_step
from conftest import screenshot
from patients.models import Allergy, Episode, Indication, MedicalHistory, Medication, Patient, Source
from patients.tests.test_chart import adverse_event, appointment, document, make_episode, procedure, sign, with_mrn
from procedures.models import AdverseEvent, ProcedureRecord
from scheduling.models import AppointmentStatus
from scheduling.tests.conftest import Schedule, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in results.response["violations"]]


def sign_in(page: Any, site: str, path: str, who: str) -> None:
    page.goto(site + path)
    page.fill("#id_username", who)
    page.fill("#id_password", f"{who}-password-1")
    page.click("main button[type=submit]")
    second_step(page, User.objects.get(username=who))
    assert page.url == site + path


def fits(page: Any, width: int) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= width)


def a_full_chart(s: Schedule) -> Patient:
    rosa = with_mrn(s.rosa)
    Patient.objects.filter(pk=rosa.pk).update(
        first_name="Rosa",
        last_name="García López",
        phone="(310) 555-0100",
        sex=Patient.Sex.FEMALE,
        preferred_language="es",
        street="8631 W 3rd St",
        city="Los Angeles",
        state="CA",
        postal_code="90048",
    )
    rosa.refresh_from_db()
    Allergy.objects.create(patient=rosa, substance="Penicillin", reaction="Hives", source=Source.PATIENT)
    Allergy.objects.create(patient=rosa, substance="Latex")
    for name, dose, kind, source in [
        ("Eliquis", "5 mg twice a day", Medication.DrugClass.ANTICOAGULANT, Source.PATIENT),
        ("Baby aspirin", "81 mg daily", Medication.DrugClass.ANTIPLATELET, Source.CLINICIAN),
        ("Metformin", "500 mg twice a day", Medication.DrugClass.OTHER, Source.CLINICIAN),
    ]:
        Medication.objects.create(patient=rosa, name=name, dose=dose, drug_class=kind, source=source)
    MedicalHistory.objects.create(
        patient=rosa, diabetes=True, smoking="former", cancer_history=False, prior_surgery_at_site="Arthroscopy 2019",
        source=Source.PATIENT,
    )  # fmt: skip
    treated = make_episode(s, rosa, 0, status=Episode.Status.TREATED)
    sign(treated, document())
    procedure(treated, 0, status=ProcedureRecord.Status.SIGNED, paw_code="P3-x-Bβ")
    adverse_event(treated, 0, kind=AdverseEvent.Kind.HARVEST_SITE_PAIN, grade=1)
    make_episode(s, rosa, 1, status=Episode.Status.CANDIDATE, site="shoulder", indication=Indication.ROTATOR_CUFF)
    appointment(s, rosa, local(date(2025, 11, 4), "10:00"), status=AppointmentStatus.COMPLETED)
    appointment(s, rosa, local(date(2031, 3, 5), "14:30"))
    # Booked again online with a new email: a possible duplicate.
    with_mrn(Patient.objects.create(first_name="Rosa", last_name="Garcia", date_of_birth=rosa.date_of_birth,
                                    phone="310-555-0100", email="rosa.new@example.com"))  # fmt: skip
    return rosa


def test_alice_finds_a_patient_by_phone_and_confirms_a_reported_allergy(
    page: Any, live_server: Any, schedule: Schedule, alice: User
) -> None:
    site = str(live_server.url)
    rosa = a_full_chart(schedule)
    sign_in(page, site, "/staff/patients/", "alice")
    assert page.locator("h1").inner_text() == "Find a patient"
    assert axe_violations(page) == []
    page.fill("#id_phone", "310 555 0100")
    page.click("main button[type=submit]")
    assert page.url == site + "/staff/patients/"  # the terms went in the body
    assert page.locator("#results-heading").inner_text() == "2 charts found"
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"patients-search-en-{width}")

    page.get_by_role("link", name="García López, Rosa").click()
    assert page.url == site + rosa.get_absolute_url()
    assert page.locator("h1").inner_text() == "Rosa García López"
    # Each line's parts are flex items (they wrap on a phone): read as words, as a screen reader does.
    assert [" ".join(line.split()) for line in page.locator("#glance li").all_inner_texts()] == [
        "Allergies: Latex, Penicillin",
        "Flagged: Anticoagulant Eliquis (5 mg twice a day)",
        "Flagged: Antiplatelet Baby aspirin (81 mg daily)",
        "3 patient-reported entries to confirm",
    ]
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"patients-chart-en-{width}")

    page.get_by_role("button", name="Confirm Penicillin").click()
    assert page.locator(".flash").inner_text() == "Allergy confirmed."
    assert page.get_by_role("button", name="Confirm Penicillin").count() == 0
    assert axe_violations(page) == []


def test_bob_reads_the_chart_on_a_tablet_and_adds_a_medication_classified_for_him(
    page: Any, live_server: Any, schedule: Schedule, bob: User
) -> None:
    site = str(live_server.url)
    rosa = a_full_chart(schedule)
    page.set_viewport_size({"width": 1024, "height": 768})
    sign_in(page, site, rosa.get_absolute_url(), "bob")
    assert fits(page, 1024)
    assert axe_violations(page) == []
    screenshot(page, "patients-chart-en-tablet-1024")
    page.get_by_role("link", name="Add a medication").click()
    page.fill("#id_name", "Advil")
    page.fill("#id_dose", "")
    page.click("main button[type=submit]")
    assert page.locator(".flash").inner_text() == "Medication added."
    advil = page.locator("#medications .entry", has_text="Advil")
    assert advil.locator(".drug-flag").inner_text() == "Flagged: NSAID"
    # An error is shown next to its field, and what was typed stays.
    page.goto(site + rosa.get_absolute_url() + "edit/")
    page.fill("#id_phone", "12")
    page.fill("#id_city", "Encino")
    page.click("main button[type=submit]")
    assert page.locator("#id_phone_error").inner_text() == "Please check the phone number, for example 818-555-0199."
    assert page.input_value("#id_city") == "Encino"
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"patients-chart-edit-error-en-{width}")


def test_the_merge_page_side_by_side(page: Any, live_server: Any, schedule: Schedule, alice: User) -> None:
    site = str(live_server.url)
    rosa = a_full_chart(schedule)
    sign_in(page, site, rosa.get_absolute_url(), "alice")
    page.locator("#duplicates a").first.click()
    assert page.locator("h1").inner_text() == "Merge two charts"
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"patients-merge-en-{width}")
    page.check(f"input[value='{rosa.uuid}']")
    page.fill("#id_reason", "Booked again online with a new email")
    page.click("main form button[type=submit]")
    assert page.url == site + rosa.get_absolute_url()
    assert page.locator(".flash").inner_text().startswith("Merged. Chart RC")
    assert Patient.objects.filter(merged_into=rosa).count() == 1

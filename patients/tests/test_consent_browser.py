"""Consent and candidacy in real Chromium: a physician assesses, the patient signs on a tablet in the office by
drawing with the mouse, the consent verifies and its PDF downloads; a Spanish-speaking patient signs from the link.

axe-core checks every page; screenshots land in artifacts/screenshots/ (tablet 1024x768, 360 and 1280 px, English
and Spanish). The Spanish page texts need artifacts/po/consent.po merged into the catalogue.
"""

import io
from typing import Any

import pytest
from django.test import Client
from pypdf import PdfReader

from accounts import links
from accounts.models import User
from accounts.testing import sign_in
from conftest import screenshot
from patients.models import CandidacyAssessment, ConsentSignature, Episode
from patients.tests.episode_fixtures import documents, episode
from scheduling.tests.conftest import Schedule
from tests.test_browser import axe_violations, wait_until

__all__ = ["documents", "episode"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}
SIGNED = "document.getElementById('id_signature_png').value.startsWith('data:image/png;base64,')"


def signed_in(page: Any, live_server: Any, user: User) -> str:
    """Sign `user` in by their session cookie (the sign-in page has its own tests) and return the site's URL."""
    client = Client()
    sign_in(client, user)
    site = str(live_server.url)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site}])
    return site


def draw_signature(page: Any) -> None:
    """Sign in the box with the mouse, as a person with a mouse would: three strokes."""
    canvas = page.locator("canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for start, end in (((0.1, 0.7), (0.3, 0.25)), ((0.3, 0.25), (0.45, 0.75)), ((0.45, 0.75), (0.8, 0.3))):
        page.mouse.move(x + w * start[0], y + h * start[1])
        page.mouse.down()
        page.mouse.move(x + w * end[0], y + h * end[1], steps=12)
        page.mouse.up()
    wait_until(page, SIGNED)


def fits(page: Any, width: int) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= width)


def test_a_physician_assesses_a_knee_and_the_episode_opens(
    page: Any, live_server: Any, schedule: Schedule, documents: Any, bob: User
) -> None:
    site = signed_in(page, live_server, bob)
    page.goto(f"{site}/staff/patients/{schedule.rosa.uuid}/assessments/new/")
    assert page.locator("h1").inner_text() == "Candidacy assessment"
    assert axe_violations(page) == []
    page.get_by_label("Osteoarthritis").check()
    page.get_by_role("button", name="Continue").click()
    page.select_option("#id_site", "knee")
    page.select_option("#id_side", "right")
    page.select_option("#id_kl_grade", "4")
    page.get_by_label("Physical therapy").check()
    page.get_by_label("Candidate", exact=True).check()
    page.fill("#id_reason", "Severe on X-ray but wants to try before a replacement; discussed.")
    page.get_by_role("button", name="Check the suggestions").click()
    suggestions = page.locator(".suggestion-list li").all_inner_texts()
    assert suggestions == ["Caution Kellgren-Lawrence grade 4 is beyond \u201cmild to moderate\u201d osteoarthritis."]
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"assessment-check-en-{width}")
    page.get_by_role("button", name="Save the assessment").click()
    assert page.locator("h1").inner_text() == "Right knee: Osteoarthritis"
    assert CandidacyAssessment.objects.get().suggestions[0]["code"] == "kl_4"
    assert axe_violations(page) == []
    screenshot(page, "episode-new-en-1280")


def test_the_patient_signs_on_a_tablet_in_the_office_and_the_consent_verifies(
    page: Any, live_server: Any, episode: Episode, bob: User
) -> None:
    site = signed_in(page, live_server, bob)
    page.set_viewport_size(TABLET)
    page.goto(site + episode.get_absolute_url())
    assert page.locator("h1").inner_text() == "Right knee: Osteoarthritis"
    assert axe_violations(page) == []
    screenshot(page, "episode-before-consent-en-1024")

    page.get_by_role("link", name="Sign the consent in the office").click()
    assert page.locator("h1").inner_text() == "Consent for treatment"
    assert page.locator(".consent-meaning p").inner_text() == (
        "I consent to the bone-marrow concentrate procedure described above for my right knee (Osteoarthritis)."
    )
    # The pad shows once its script has run (without it the page offers the typed signature only).
    wait_until(page, "!document.querySelector('[data-signature-pad]').hidden")
    assert axe_violations(page) == []
    assert fits(page, 1024)
    screenshot(page, "consent-sign-office-en-1024")

    page.fill("#id_printed_name", "Patient1 Example")
    draw_signature(page)
    assert page.locator("[data-status]").inner_text() == "Your signature is drawn. You can clear it and sign again."
    screenshot(page, "consent-sign-office-signed-en-1024")
    # Clear, and draw again: the clear button empties the field.
    page.get_by_role("button", name="Clear the signature").click()
    assert page.evaluate(SIGNED) is False
    draw_signature(page)
    page.get_by_role("button", name="Sign the consent").click()

    assert page.locator(".flash").inner_text() == (
        "Consent signed. The signed copy (PDF) is archived with its fingerprint."
    )
    assert page.locator(".record-list .state").first.inner_text() == "Valid"
    signature = ConsentSignature.objects.get()
    assert (signature.method, signature.printed_name) == ("in_office", "Patient1 Example")
    assert axe_violations(page) == []
    screenshot(page, "episode-consented-en-1024")

    page.get_by_role("link", name="Verify").click()
    assert page.locator(".verify-result h2").inner_text() == "Valid"
    assert axe_violations(page) == []
    screenshot(page, "consent-verify-en-1024")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"consent-{signature.uuid}.pdf"
    with open(download.path(), "rb") as pdf:
        content = pdf.read()
    assert content == bytes(signature.pdf)
    found = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "Patient1 Example" in found and signature.text_sha256 in found

    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(site + f"/staff/patients/episodes/{episode.uuid}/consent/sign/?language=es")
        assert fits(page, width)
        screenshot(page, f"consent-sign-office-es-{width}")


def test_without_a_pointer_the_patient_signs_by_typing_their_name(
    page: Any, live_server: Any, episode: Episode, bob: User
) -> None:
    site = signed_in(page, live_server, bob)
    page.set_viewport_size(TABLET)
    page.goto(site + f"/staff/patients/episodes/{episode.uuid}/consent/sign/")
    page.fill("#id_printed_name", "Patient1 Example")
    page.get_by_label("I am signing by typing my name").check()
    page.get_by_role("button", name="Sign the consent").click()
    assert page.locator(".record-list .state").first.inner_text() == "Valid"
    assert ConsentSignature.objects.get().signature_png == "typed"


def test_a_spanish_speaking_patient_signs_from_the_link_on_a_phone(
    page: Any, live_server: Any, episode: Episode
) -> None:
    """The page chrome in Spanish needs artifacts/po/consent.po merged; the consent's text is the Spanish document."""
    episode.patient.preferred_language = "es"
    episode.patient.save()
    _link, token = links.link_issue(purpose="consent", patient=episode.patient, target=episode.uuid)
    site = str(live_server.url)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{site}/es/consent/{token}/")
    assert page.url == f"{site}/es/consent/"
    assert page.locator(".consent-title").inner_text() == (
        "Consentimiento para el tratamiento con concentrado de su propia médula ósea"
    )
    assert page.locator("h1").inner_text() == "Su formulario de consentimiento"
    assert axe_violations(page) == []
    assert fits(page, 360)
    screenshot(page, "consent-remote-es-360")
    page.set_viewport_size(TABLET)
    screenshot(page, "consent-remote-es-1024")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "consent-remote-es-1280")

    page.set_viewport_size({"width": 360, "height": 800})
    page.reload()
    page.fill("#id_printed_name", "Patient1 Example")
    draw_signature(page)
    page.get_by_role("button", name="Firmar el consentimiento").click()
    assert page.url == f"{site}/es/consent/done/"
    assert page.locator("h1").inner_text() == "Gracias"
    assert axe_violations(page) == []
    screenshot(page, "consent-remote-done-es-360")
    signature = ConsentSignature.objects.get()
    assert (signature.method, signature.document.language) == ("remote", "es")
    # The link worked once.
    second = page.context.new_page()
    response = second.goto(f"{site}/es/consent/{token}/")
    assert response is not None and response.status == 410


def test_the_english_link_page_on_a_phone(page: Any, live_server: Any, episode: Episode) -> None:
    _link, token = links.link_issue(purpose="consent", patient=episode.patient, target=episode.uuid)
    site = str(live_server.url)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{site}/consent/{token}/")
    assert page.locator("h1").inner_text() == "Your consent form"
    assert axe_violations(page) == []
    assert fits(page, 360)
    screenshot(page, "consent-remote-en-360")


def test_the_documents_page_is_accessible(page: Any, live_server: Any, documents: Any, bob: User) -> None:
    site = signed_in(page, live_server, bob)
    page.goto(site + "/staff/patients/consent-documents/")
    assert page.locator("h1").inner_text() == "Consent documents"
    assert axe_violations(page) == []
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert fits(page, width)
        screenshot(page, f"consent-documents-en-{width}")

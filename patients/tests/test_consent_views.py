"""E-consent's pages: signing in the office, the link and the patient's pages, verify, the PDF, withdrawal, documents.

Spanish page texts (marked) need the translations of artifacts/po/consent.po merged into
the catalogue; the consent's own Spanish text comes from the document and needs nothing.
"""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from accounts import links
from accounts.models import AuditEvent, PatientLink, User
from outbox.models import Email
from patients import consent
from patients.models import ConsentDocument, ConsentSignature, Episode
from patients.tests.episode_fixtures import (
    audit_lock_queries,
    audit_rows,
    client_for,
    documents,
    episode,
    manager,
    open_episode,
    pat,
    png,
    text,
)
from scheduling.tests.conftest import Schedule

__all__ = ["documents", "episode", "manager", "pat"]

pytestmark = pytest.mark.django_db

NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def sign_url(episode: Episode) -> str:
    return f"/staff/patients/episodes/{episode.uuid}/consent/sign/"


def shown(response: Any) -> dict[str, str]:
    """The hidden fields the signing page carries: the document it showed and the hash of its text."""
    return {"document": str(response.context["document"].uuid), "shown_sha256": response.context["text"].sha256}


def signing(response: Any, **changes: str) -> dict[str, str]:
    data = {**shown(response), "printed_name": "Patient1 Example", "signature_png": png()}
    data.update(changes)
    return data


def sign_in_office(episode: Episode, bob: User) -> ConsentSignature:
    document = consent.current_document("en")
    assert document is not None
    return consent.consent_sign(
        episode=episode,
        document=document,
        printed_name="Patient1 Example",
        signature_png=png(),
        method="in_office",
        by=bob,
    )


def new_rows(before: int) -> list[tuple[Any, ...]]:
    return audit_rows()[before:]


# --- Signing in the office -----------------------------------------------------------------------


def test_the_tablet_page_shows_the_exact_text_to_sign_and_leaves_one_audit_row(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    before = len(audit_rows())
    response = client.get(sign_url(episode))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    page = response.content.decode()
    expected = consent.consent_text(episode=episode, document=consent.current_document("en"))  # type: ignore[arg-type]
    assert expected.html in page
    assert f'name="shown_sha256" value="{expected.sha256}"' in page
    assert "for my right knee (Osteoarthritis)." in text(response)
    assert "/static/patients/js/signature-pad." in page and "<canvas" in page
    assert new_rows(before) == [
        ("bob", "physician", "view", "episode", str(episode.uuid), episode.patient_id, "allowed")
    ]


def test_the_tablet_page_opens_in_the_patients_language_and_switches(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    spanish = client.get(sign_url(episode) + "?language=es")
    assert spanish.context["document"].language == "es"
    assert "Consentimiento para el tratamiento con concentrado de su propia médula ósea" in text(spanish)
    episode.patient.preferred_language = "es"
    episode.patient.save()
    assert client.get(sign_url(episode)).context["document"].language == "es"
    assert client.get(sign_url(episode) + "?language=xx").context["document"].language == "es"


def test_signing_in_the_office_archives_the_signature_and_goes_back_to_the_episode(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    form = client.get(sign_url(episode))
    before = len(audit_rows())
    response = client.post(sign_url(episode), signing(form))
    signature = ConsentSignature.objects.get()
    assert (response.status_code, response["Location"]) == (302, episode.get_absolute_url())
    assert (signature.method, signature.recorded_by, signature.text_sha256) == (
        "in_office",
        bob,
        shown(form)["shown_sha256"],
    )
    assert new_rows(before) == [
        ("bob", "physician", "sign", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]
    page = client.get(episode.get_absolute_url())
    assert "Consent signed. The signed copy (PDF) is archived with its fingerprint." in text(page)
    assert "Valid consent signed on" in text(page)


def test_typing_the_name_with_the_box_ticked_signs_without_a_drawing(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    form = client.get(sign_url(episode))
    response = client.post(sign_url(episode), signing(form, signature_png="", typed="on"))
    assert response.status_code == 302
    assert consent.is_typed(ConsentSignature.objects.get()) is True


def test_no_signature_is_a_message_next_to_it_and_the_name_is_kept(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    form = client.get(sign_url(episode))
    before = len(audit_rows())
    response = client.post(sign_url(episode), signing(form, signature_png="", printed_name="Rosa Example"))
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="signature-error"><li>Please sign in the box, or tick \u201cI am signing by typing '
        "my name\u201d.</li></ul>"
    ) in page
    assert 'value="Rosa Example"' in page
    assert ConsentSignature.objects.count() == 0
    assert [row[2:4] for row in new_rows(before)] == [("view", "episode")]


def test_a_blank_drawing_is_refused_and_kept_to_be_cleared(episode: Episode, bob: User) -> None:
    client = client_for(bob)
    blank = png(ink=False)
    response = client.post(sign_url(episode), signing(client.get(sign_url(episode)), signature_png=blank))
    assert "The signature box is empty." in text(response)
    assert f'value="{blank}"' in response.content.decode()


def test_a_version_published_while_the_page_was_open_is_shown_to_be_read_and_signed_again(
    episode: Episode, bob: User
) -> None:
    client = client_for(bob)
    form = client.get(sign_url(episode))
    new = consent.document_publish(
        language="en", title="Consent, v2", body="## New\n\nA new text.", include_regulatory_notice=True,
        requires_witness=False, by=bob,
    )  # fmt: skip
    drawing = png()
    response = client.post(sign_url(episode), signing(form, printed_name="Rosa Example", signature_png=drawing))
    page = response.content.decode()
    assert response.status_code == 200
    assert ConsentSignature.objects.count() == 0
    assert response.context["document"] == new
    assert "A new text." in page
    assert (
        "The consent text changed while it was open (a new version was published). Please read it and sign again."
        in text(response)
    )
    assert 'value="Rosa Example"' in page
    assert drawing not in page  # the drawing was made on the old text
    signed = client.post(sign_url(episode), signing(response))
    assert signed.status_code == 302
    assert ConsentSignature.objects.get().document == new


@pytest.mark.parametrize(
    "changes",
    [
        {"document": "not-a-uuid"},
        {"document": "00000000-0000-0000-0000-000000000000"},
        {"shown_sha256": "0" * 64},
        {"shown_sha256": "x" * 500},
        {"signature_png": "data:image/png;base64,????"},
        {"printed_name": "x" * 500},
    ],
)
def test_a_forged_or_broken_form_never_signs_and_never_500s(
    episode: Episode, bob: User, changes: dict[str, str]
) -> None:
    client = client_for(bob)
    response = client.post(sign_url(episode), signing(client.get(sign_url(episode)), **changes))
    expected = 404 if "document" in changes else 200
    assert response.status_code == expected
    assert ConsentSignature.objects.count() == 0


def test_a_witness_is_asked_for_where_the_document_needs_one_and_the_physician_may_be_it(
    episode: Episode, bob: User
) -> None:
    consent.document_publish(
        language="en", title="Witnessed", body="Text.", include_regulatory_notice=True, requires_witness=True, by=bob
    )
    client = client_for(bob)
    form = client.get(sign_url(episode))
    assert "I, bob, am the witness" in text(form)
    missing = client.post(sign_url(episode), signing(form))
    assert "This consent needs a witness: please give the witness's full name." in text(missing)
    response = client.post(sign_url(episode), signing(form, witness_name="Dr. Bob Example", witness_is_me="on"))
    assert response.status_code == 302
    signature = ConsentSignature.objects.get()
    assert (signature.witness_name, signature.witness) == ("Dr. Bob Example", bob)


@pytest.mark.parametrize("who", ["alice", "charlie", "maria"])
def test_only_clinicians_may_take_a_signature_in_the_office(
    episode: Episode, alice: User, charlie: User, manager: User, who: str
) -> None:
    client = client_for({"alice": alice, "charlie": charlie, "maria": manager}[who])
    assert client.get(sign_url(episode)).status_code == 404
    assert client.post(sign_url(episode), {"printed_name": "x"}).status_code == 404
    assert ConsentSignature.objects.count() == 0


def test_a_physician_assistant_may_take_a_signature(episode: Episode, pat: User) -> None:
    assert client_for(pat).get(sign_url(episode)).status_code == 200


def test_an_unknown_episode_is_a_404(documents: Any, bob: User) -> None:
    client = client_for(bob)
    assert client.get("/staff/patients/episodes/00000000-0000-0000-0000-000000000000/consent/sign/").status_code == 404


# --- The link and the patient's pages -------------------------------------------------------------


def link_for(episode: Episode, *, patient: Any = None) -> str:
    _link, token = links.link_issue(purpose="consent", patient=patient or episode.patient, target=episode.uuid)
    return f"/consent/{token}/"


def test_a_mail_scanners_head_request_does_not_use_the_consent_link_up(episode: Episode) -> None:
    from accounts.models import PatientLink

    path = link_for(episode)
    assert Client().head(path).status_code == 405
    assert PatientLink.objects.get(purpose="consent").used_at is None
    assert Client().get(path).status_code == 302


def test_the_front_desk_emails_a_link_and_comes_back_to_the_episode(
    episode: Episode, alice: User, outbox_capture: Any
) -> None:
    client = client_for(alice)
    with outbox_capture() as queued:
        response = client.post(f"/staff/patients/episodes/{episode.uuid}/consent/link/")
    assert (response.status_code, response["Location"]) == (302, episode.get_absolute_url())
    assert [q.email.kind for q in queued] == ["consent.link"]
    assert "A link to read and sign the consent was emailed to the patient." in text(
        client.get(episode.get_absolute_url())
    )
    assert client.get(f"/staff/patients/episodes/{episode.uuid}/consent/link/").status_code == 405


def test_a_link_that_cannot_be_sent_says_why(episode: Episode, alice: User) -> None:
    episode.patient.email = ""
    episode.patient.save()
    client = client_for(alice)
    response = client.post(f"/staff/patients/episodes/{episode.uuid}/consent/link/", follow=True)
    assert "This patient has no email address on file: sign the consent in the office instead." in text(response)
    assert Email.objects.count() == 0


def test_a_technician_cannot_send_a_link(episode: Episode, charlie: User) -> None:
    response = client_for(charlie).post(f"/staff/patients/episodes/{episode.uuid}/consent/link/")
    assert response.status_code == 404
    assert PatientLink.objects.count() == 0


def test_the_emailed_link_opens_the_signing_page_once(episode: Episode) -> None:
    url = link_for(episode)
    patient = Client()
    opened = patient.get(url)
    assert (opened.status_code, opened["Location"]) == (302, "/consent/")
    page = patient.get("/consent/")
    assert page.status_code == 200
    assert page["Cache-Control"] == NO_STORE
    assert "for my right knee (Osteoarthritis)." in text(page)
    assert "Staff" not in text(page)
    assert Client().get(url).status_code == 410
    assert patient.get(url).status_code == 410


def test_an_unknown_token_is_a_404_and_an_expired_one_a_410(episode: Episode) -> None:
    assert Client().get("/consent/not-a-real-token-at-all-1234567/").status_code == 404
    _link, token = links.link_issue(
        purpose="consent", patient=episode.patient, target=episode.uuid, valid_for=timedelta(seconds=-1)
    )
    response = Client().get(f"/consent/{token}/")
    assert response.status_code == 410
    assert "This link has expired." in text(response)


def test_an_intake_link_does_not_open_a_consent(episode: Episode) -> None:
    _link, token = links.link_issue(purpose="intake", patient=episode.patient, target=episode.uuid)
    assert Client().get(f"/consent/{token}/").status_code == 404


def test_the_patient_signs_from_the_link_and_the_audit_says_patient(episode: Episode) -> None:
    patient = Client()
    patient.get(link_for(episode))
    form = patient.get("/consent/")
    before = len(audit_rows())
    response = patient.post("/consent/", signing(form))
    signature = ConsentSignature.objects.get()
    assert (response.status_code, response["Location"]) == (302, "/consent/done/")
    assert (signature.method, signature.recorded_by) == ("remote", None)
    assert new_rows(before) == [
        (None, "patient", "sign", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]
    done = patient.get("/consent/done/")
    assert "Your consent is signed and saved." in text(done)
    copy = patient.get("/consent/copy.pdf")
    assert (copy.status_code, copy["Content-Type"]) == (200, "application/pdf")
    assert bytes(copy.content) == bytes(signature.pdf)
    assert audit_rows()[-1] == (
        None,
        "patient",
        "export",
        "consent",
        str(signature.uuid),
        episode.patient_id,
        "allowed",
    )
    # Signed: the page says so instead of asking again.
    assert "You have already signed this consent form." in text(patient.get("/consent/"))
    closed = patient.post("/consent/done/")
    assert closed.status_code == 200
    assert patient.get("/consent/").status_code == 404
    assert patient.get("/consent/copy.pdf").status_code == 404


def test_each_patient_page_leaves_one_audit_row_as_the_patient(episode: Episode) -> None:
    patient = Client()
    before = len(audit_rows())
    patient.get(link_for(episode))
    patient.get("/consent/")
    rows = new_rows(before)
    assert [row[:4] for row in rows] == [
        (None, "patient", "view", "consent_link"),
        (None, "patient", "view", "consent"),
    ]
    assert rows[1][4:6] == (str(episode.uuid), episode.patient_id)


def test_a_token_of_patient_a_never_opens_patient_bs_episode(schedule: Schedule, episode: Episode) -> None:
    other = open_episode(schedule, schedule.luis)
    # A link naming B's episode but issued to A (a forged or corrupted row): the session is A's, the episode B's.
    patient = Client()
    patient.get(link_for(other, patient=episode.patient))
    assert patient.get("/consent/").status_code == 404
    assert patient.post("/consent/", {"printed_name": "x"}).status_code == 404
    # A's own session reaches A's episode only; B's staff pages want a sign-in.
    own = Client()
    own.get(link_for(episode))
    assert own.get("/consent/").context["episode"] == episode
    assert own.get(sign_url(other)).status_code == 302
    assert own.get(f"/staff/patients/episodes/{other.uuid}/").status_code == 302
    assert ConsentSignature.objects.count() == 0


def test_the_consent_pages_without_a_session_say_to_open_the_link(documents: Any) -> None:
    for url in ("/consent/", "/consent/done/", "/consent/copy.pdf"):
        response = Client().get(url)
        assert response.status_code == 404
        assert "Please open the link from your email" in text(response)
        assert "for 60 minutes" in text(response)


def test_a_spanish_speaking_patient_lands_on_the_spanish_page(episode: Episode) -> None:
    episode.patient.preferred_language = "es"
    episode.patient.save()
    patient = Client()
    opened = patient.get(link_for(episode))
    assert opened["Location"] == "/es/consent/"
    page = patient.get("/es/consent/")
    assert page.context["document"].language == "es"
    assert "Consentimiento para el tratamiento con concentrado de su propia médula ósea" in text(page)
    assert "LA LEY DE CALIFORNIA EXIGE QUE SE LE ENTREGUE ESTE AVISO." in text(page)


def test_the_spanish_page_speaks_spanish(episode: Episode) -> None:
    """Needs the merge of artifacts/po/consent.po."""
    patient = Client()
    patient.get(link_for(episode))
    page = text(patient.get("/es/consent/"))
    assert "Su formulario de consentimiento" in page
    assert "Firmar el consentimiento" in page
    assert (
        "Doy mi consentimiento para el procedimiento con concentrado de médula ósea descrito arriba, para mi "
        "rodilla, lado derecho (Osteoartritis)."
    ) in page


def test_the_remote_page_refuses_a_document_that_needs_a_witness(episode: Episode, bob: User) -> None:
    patient = Client()
    patient.get(link_for(episode))
    form = patient.get("/consent/")
    consent.document_publish(
        language="en", title="Witnessed", body="Text.", include_regulatory_notice=True, requires_witness=True, by=bob
    )
    response = patient.post("/consent/", signing(form))
    assert response.status_code == 200
    assert "This consent form must be signed in the office, with a witness." in text(response)
    assert 'name="printed_name"' not in response.content.decode()
    assert ConsentSignature.objects.count() == 0


# --- Verify, PDF, withdraw -----------------------------------------------------------------------


def test_the_verify_page_says_valid_and_leaves_one_audit_row(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    client = client_for(bob)
    before = len(audit_rows())
    response = client.get(f"/staff/patients/consents/{signature.uuid}/verify/")
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    shown_text = text(response)
    assert "Valid The text and the PDF match the fingerprints taken at signing" in shown_text
    assert signature.text_sha256 in shown_text and signature.pdf_sha256 in shown_text
    assert new_rows(before) == [
        ("bob", "physician", "view", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]


def test_the_verify_page_shows_exactly_what_differs(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    ConsentSignature.objects.filter(pk=signature.pk).update(pdf=bytes(signature.pdf)[:-1])
    response = client_for(bob).get(f"/staff/patients/consents/{signature.uuid}/verify/")
    shown_text = text(response)
    assert "Not valid: what differs" in shown_text
    assert "The archived PDF does not match its SHA-256" in shown_text
    assert "Altered: does not match its hashes" in shown_text


def test_the_pdf_downloads_as_an_attachment_not_kept_by_the_browser_and_audited(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    client = client_for(bob)
    before = len(audit_rows())
    response = client.get(f"/staff/patients/consents/{signature.uuid}/pdf/")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="consent-{signature.uuid}.pdf"'
    assert response["Cache-Control"] == NO_STORE
    found = PdfReader(io.BytesIO(response.content)).pages[-1].extract_text()
    assert "Patient1 Example" in found and signature.text_sha256 in found
    assert new_rows(before) == [
        ("bob", "physician", "view", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]


@pytest.mark.parametrize("page", ["verify", "pdf", "withdraw"])
def test_a_consent_outside_the_role_or_unknown_is_a_404(
    episode: Episode, bob: User, charlie: User, manager: User, page: str
) -> None:
    signature = sign_in_office(episode, bob)
    url = f"/staff/patients/consents/{signature.uuid}/{page}/"
    assert client_for(manager).get(url).status_code == 404
    assert client_for(bob).get(f"/staff/patients/consents/{episode.uuid}/{page}/").status_code == 404
    if page == "withdraw":
        assert client_for(charlie).get(url).status_code == 404


def test_the_front_desk_records_a_withdrawal_and_the_consent_stays(episode: Episode, bob: User, alice: User) -> None:
    signature = sign_in_office(episode, bob)
    client = client_for(alice)
    url = f"/staff/patients/consents/{signature.uuid}/withdraw/"
    before = len(audit_rows())
    form = client.get(url)
    assert form.status_code == 200
    assert [row[2:4] for row in new_rows(before)] == [("view", "consent")]
    before = len(audit_rows())
    response = client.post(url, {"reason": "Phoned on Monday: she wants to wait."})
    assert (response.status_code, response["Location"]) == (302, episode.get_absolute_url())
    signature.refresh_from_db()
    episode.refresh_from_db()
    assert (signature.withdrawn_reason, episode.status) == ("Phoned on Monday: she wants to wait.", "withdrawn")
    assert new_rows(before) == [
        ("alice", "front_desk", "change", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]
    assert "Withdrawn" in text(client.get(episode.get_absolute_url()))


def test_a_withdrawal_without_a_reason_is_a_message_next_to_the_field(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    response = client_for(bob).post(f"/staff/patients/consents/{signature.uuid}/withdraw/", {"reason": "  "})
    assert response.status_code == 200
    assert (
        '<ul class="errorlist" id="id_reason_error"><li>Please write why, or what the patient said.</li></ul>'
        in response.content.decode()
    )
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


# --- The documents -------------------------------------------------------------------------------


def test_a_physician_publishes_a_new_version_from_the_current_text(documents: Any, bob: User) -> None:
    client = client_for(bob)
    page = client.get("/staff/patients/consent-documents/?language=es")
    assert page.status_code == 200
    assert page.context["form"].initial["title"] == documents["es"].title
    response = client.post(
        "/staff/patients/consent-documents/",
        {"language": "es", "title": "Nuevo", "body": "## Texto\n\nNuevo texto.", "include_regulatory_notice": "on"},
    )
    assert response.status_code == 302
    assert [(d.language, d.version) for d in ConsentDocument.objects.order_by("language", "version")] == [
        ("en", 1),
        ("es", 1),
        ("es", 2),
    ]
    assert "Version 2 (Spanish) is published." in text(client.get("/staff/patients/consent-documents/"))


def test_a_document_with_nothing_in_it_is_refused_next_to_the_fields(documents: Any, bob: User) -> None:
    response = client_for(bob).post("/staff/patients/consent-documents/", {"language": "xx", "title": "", "body": ""})
    assert response.status_code == 200
    page = response.content.decode()
    for field in ("language", "title", "body"):
        assert f'id="id_{field}_error"' in page
    assert ConsentDocument.objects.count() == 2


def test_the_front_desk_and_the_technician_cannot_open_the_documents(
    documents: Any, alice: User, charlie: User
) -> None:
    assert client_for(alice).get("/staff/patients/consent-documents/").status_code == 403
    assert client_for(charlie).post("/staff/patients/consent-documents/", {"language": "en"}).status_code == 403
    assert ConsentDocument.objects.count() == 2


@pytest.mark.parametrize("versions", [1, 3])
def test_the_documents_page_asks_a_fixed_number_of_queries(schedule: Schedule, bob: User, versions: int) -> None:
    for n in range(versions):
        consent.document_publish(
            language="en", title=f"v{n}", body="Text.", include_regulatory_notice=True, requires_witness=False, by=bob
        )
    client = client_for(bob)
    client.get("/staff/patients/consent-documents/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/staff/patients/consent-documents/")
    assert len(response.context["documents"]) == versions
    # session, user, authenticator, current text (the form), documents, audit row (head, insert; the lock on
    # PostgreSQL), latest versions
    assert len(queries) == 8 + audit_lock_queries(), "\n".join(q["sql"][:100] for q in queries)


def test_the_documents_list_leaves_one_audit_row(documents: Any, bob: User) -> None:
    client = client_for(bob)
    before = len(audit_rows())
    client.get("/staff/patients/consent-documents/")
    assert new_rows(before) == [("bob", "physician", "view", "consent_document", "list:2", None, "allowed")]


def test_the_signature_moment_is_shown_in_the_office_zone(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    # 22:30 UTC on 4 March 2031 is 2:30 p.m. in Los Angeles.
    ConsentSignature.objects.filter(pk=signature.pk).update(signed_at=datetime(2031, 3, 4, 22, 30, tzinfo=UTC))
    response = client_for(bob).get(f"/staff/patients/consents/{signature.uuid}/verify/")
    assert "Signed Tuesday, March 4, 2031, 2:30 p.m." in text(response)


def test_nothing_about_health_is_in_any_consent_url(episode: Episode, bob: User) -> None:
    signature = sign_in_office(episode, bob)
    client = client_for(bob)
    page = client.get(episode.get_absolute_url()).content.decode()
    import re

    hrefs = re.findall(r'(?:href|action)="(/[^"]*)"', page)
    assert [h for h in hrefs if re.search(r"knee|osteo|marrow|Patient1|Example", h, re.I)] == []
    assert f"/staff/patients/consents/{signature.uuid}/verify/" in hrefs
    assert AuditEvent.objects.filter(object_ref__icontains="knee").count() == 0

"""E-consent's services: documents and versions, the text signed, signing, the PDF, verification, withdrawal, links.

The pages are in test_consent_views.py, the browser in test_consent_browser.py.
"""

import io
import os
from datetime import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from accounts.models import AuditEvent, PatientLink, User
from outbox.models import Email
from patients import consent
from patients.models import ConsentDocument, ConsentSignature, Episode
from patients.tests.episode_fixtures import audit_rows, documents, episode, open_episode, png
from scheduling.tests.conftest import LA_ZONE, Schedule
from website.models import Practice

__all__ = ["documents", "episode"]

pytestmark = pytest.mark.django_db

SIGNED_AT = datetime(2031, 3, 4, 14, 30, tzinfo=LA_ZONE)


def sign(episode: Episode, document: ConsentDocument, **changes: Any) -> ConsentSignature:
    arguments: dict[str, Any] = {
        "episode": episode,
        "document": document,
        "printed_name": "Patient1 Example",
        "signature_png": png(),
        "method": ConsentSignature.Method.IN_OFFICE,
        "by": episode.physician.user,
        "now": SIGNED_AT,
    }
    arguments.update(changes)
    return consent.consent_sign(**arguments)


def pdf_text(signature: ConsentSignature) -> str:
    reader = PdfReader(io.BytesIO(bytes(signature.pdf)))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- Documents -----------------------------------------------------------------------------------


def test_the_demo_documents_are_version_1_in_english_and_spanish_and_loading_twice_changes_nothing(
    documents: dict[str, ConsentDocument],
) -> None:
    rows = lambda: list(ConsentDocument.objects.order_by("language").values_list("language", "version", "title"))  # noqa: E731
    assert rows() == [
        ("en", 1, "Consent to treatment with your own bone-marrow concentrate"),
        ("es", 1, "Consentimiento para el tratamiento con concentrado de su propia médula ósea"),
    ]
    out = io.StringIO()
    call_command("load_consent_documents", stdout=out)
    assert out.getvalue() == "load_consent_documents: en v1 kept, es v1 kept\n"
    assert len(rows()) == 2


def test_the_demo_text_covers_the_procedure_its_risks_and_the_alternatives(
    documents: dict[str, ConsentDocument],
) -> None:
    body = documents["en"].body
    for words in (
        "back of your hip bone",
        "local anaesthetic",
        "centrifuge",
        "same day",
        "Discomfort",
        "Bleeding",
        "Infection",
        "Nerve",
        "No guaranteed result",
        "Results vary",
        "physical therapy",
        "medicines",
        "other injections",
        "surgery",
    ):
        assert words in body, words
    assert "## Riesgos" in documents["es"].body


def test_publishing_makes_version_n_plus_1_and_leaves_the_published_one_as_it_was(
    documents: dict[str, ConsentDocument], bob: User
) -> None:
    first = documents["en"]
    new = consent.document_publish(
        language="en", title="Consent, second edition", body="## New\n\nText.", include_regulatory_notice=False,
        requires_witness=True, by=bob,
    )  # fmt: skip
    first.refresh_from_db()
    assert (new.version, new.title, new.requires_witness, new.published_by) == (2, "Consent, second edition", True, bob)
    assert (first.version, first.title) == (1, "Consent to treatment with your own bone-marrow concentrate")
    assert consent.current_document("en") == new
    assert consent.current_document("es") == documents["es"]
    assert audit_rows(object_type="consent_document", actor=bob) == [
        ("bob", "physician", "create", "consent_document", str(new.uuid), None, "allowed")
    ]


def test_a_document_without_a_title_is_refused_and_nothing_is_published(
    documents: dict[str, ConsentDocument], bob: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        consent.document_publish(
            language="es", title="  ", body="Texto", include_regulatory_notice=True, requires_witness=False, by=bob
        )
    assert list(refused.value.message_dict) == ["title"]
    assert ConsentDocument.objects.filter(language="es").count() == 1


# --- The text signed -----------------------------------------------------------------------------


def test_the_text_is_the_document_the_notice_the_meaning_and_the_reference(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    text = consent.consent_text(episode=episode, document=documents["en"])
    parts = consent.text_parts(text.html)
    assert list(parts) == ["document", "notice", "meaning", "reference"]
    assert "<h2>Risks</h2>" in parts["document"]
    assert "THIS NOTICE MUST BE PROVIDED TO YOU UNDER CALIFORNIA LAW." in parts["notice"]
    assert text.meaning == (
        "I consent to the bone-marrow concentrate procedure described above for my right knee (Osteoarthritis)."
    )
    assert parts["reference"] == (
        '<p class="consent-ref" data-part="reference">'
        f"Consent form version 1 (English), treatment episode {episode.uuid}.</p>\n"
    )
    assert text.sha256 == consent.sha256(text.html)


def test_the_notice_is_left_out_when_the_practice_turns_it_off_or_the_document_does_not_include_it(
    episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    Practice.objects.update(regulatory_notice_enabled=False)
    assert list(consent.text_parts(consent.consent_text(episode=episode, document=documents["en"]).html)) == [
        "document",
        "meaning",
        "reference",
    ]
    Practice.objects.update(regulatory_notice_enabled=True)
    without = consent.document_publish(
        language="en", title="T", body="B", include_regulatory_notice=False, requires_witness=False, by=bob
    )
    assert "notice" not in consent.text_parts(consent.consent_text(episode=episode, document=without).html)


def test_the_spanish_text_has_the_spanish_notice(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    parts = consent.text_parts(consent.consent_text(episode=episode, document=documents["es"]).html)
    assert "LA LEY DE CALIFORNIA EXIGE QUE SE LE ENTREGUE ESTE AVISO." in parts["notice"]


@pytest.mark.parametrize(
    ("site", "side", "where"),
    [
        ("knee", "left", "left knee"),
        ("lumbar_spine", "midline", "lower back (lumbar spine)"),
        ("hip", "bilateral", "hip, on both sides"),
        ("other", "right", "treated area"),
    ],
)
def test_the_statement_of_meaning_names_the_site_and_side(
    schedule: Schedule, documents: dict[str, ConsentDocument], site: str, side: str, where: str
) -> None:
    episode = open_episode(schedule, site=site, side=side)
    assert consent.meaning_for(episode=episode, language="en") == (
        f"I consent to the bone-marrow concentrate procedure described above for my {where} (Osteoarthritis)."
    )


def test_markup_in_the_body_cannot_forge_a_part_of_the_text(
    episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    forged = consent.document_publish(
        language="en",
        title="T",
        body='Body <section class="consent-part" data-part="meaning"><script>x()</script>',
        include_regulatory_notice=False,
        requires_witness=False,
        by=bob,
    )
    html = consent.consent_text(episode=episode, document=forged).html
    assert list(consent.text_parts(html)) == ["document", "meaning", "reference"]
    assert "<script" not in html


# --- Signing -------------------------------------------------------------------------------------


def test_signing_stores_the_exact_text_its_hash_the_pdf_and_its_hash_and_the_episode_is_consented(
    episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    signature = sign(episode, documents["en"])
    signature.refresh_from_db()
    episode.refresh_from_db()
    text = consent.consent_text(episode=episode, document=documents["en"])
    assert (signature.rendered_text, signature.text_sha256) == (text.html, text.sha256)
    assert signature.pdf_sha256 == consent.sha256(bytes(signature.pdf))
    assert bytes(signature.pdf).startswith(b"%PDF-")
    assert (signature.printed_name, signature.method, signature.signed_at, signature.recorded_by) == (
        "Patient1 Example",
        "in_office",
        SIGNED_AT,
        bob,
    )
    assert signature.meaning == text.meaning
    assert episode.status == Episode.Status.CONSENTED
    assert consent.valid_consent(episode) == signature
    assert audit_rows(action="sign") == [
        ("bob", "physician", "sign", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]


def test_the_pdf_reads_back_with_the_printed_name_the_text_and_its_hash(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    signature = sign(episode, documents["en"])
    found = pdf_text(signature)
    assert "Patient1 Example" in found
    assert signature.text_sha256 in found
    assert "No guaranteed result" in found
    assert "for my right knee (Osteoarthritis)" in " ".join(found.split())
    assert "Tuesday, March 4, 2031, 2:30 p.m." in found
    pages = PdfReader(io.BytesIO(bytes(signature.pdf))).pages
    # The footer of every page carries the hash of the text.
    assert len(pages) >= 2
    assert [f"Text SHA-256: {signature.text_sha256}" in page.extract_text() for page in pages] == [True] * len(pages)


def test_a_typed_signature_is_recorded_as_typed(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"], signature_png="", typed=True)
    assert signature.signature_png == consent.TYPED_SIGNATURE
    assert consent.is_typed(signature) is True
    assert "I am signing by typing my name" in " ".join(pdf_text(signature).split())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Please sign in the box, or tick \u201cI am signing by typing my name\u201d."),
        (
            png(ink=False),
            "The signature box is empty. Please sign in it, or tick \u201cI am signing by typing my name\u201d.",
        ),
        ("data:image/png;base64,bm90IGEgcG5n", "This signature could not be read. Please clear it and sign again."),
        ("data:image/png;base64,%%%", "This signature could not be read. Please clear it and sign again."),
        (png(width=20, height=10), "This signature could not be read. Please clear it and sign again."),
        (
            "data:image/png;base64," + "A" * 500_000,
            "This signature image is too large. Please clear it and sign again.",
        ),
    ],
    ids=["missing", "blank", "not-png", "not-base64", "tiny", "huge"],
)
def test_a_signature_that_is_not_a_real_drawn_png_is_refused(
    episode: Episode, documents: dict[str, ConsentDocument], value: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        sign(episode, documents["en"], signature_png=value)
    assert refused.value.message_dict == {"signature_png": [message]}
    assert ConsentSignature.objects.count() == 0
    assert AuditEvent.objects.filter(action="sign").count() == 0


def test_a_jpeg_is_not_a_png(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    import base64

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 200), "black").save(buffer, format="JPEG")
    with pytest.raises(ValidationError) as refused:
        sign(episode, documents["en"], signature_png=base64.b64encode(buffer.getvalue()).decode())
    assert refused.value.message_dict == {
        "signature_png": ["This signature could not be read. Please clear it and sign again."]
    }


def test_a_name_is_needed(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    with pytest.raises(ValidationError) as refused:
        sign(episode, documents["en"], printed_name="   ")
    assert refused.value.message_dict == {"printed_name": ["Please print your full name."]}


def test_an_older_version_is_refused_so_a_signature_never_moves_to_new_text(
    episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    new = consent.document_publish(
        language="en", title="New", body="New text.", include_regulatory_notice=True, requires_witness=False, by=bob
    )
    with pytest.raises(consent.ConsentOutdated) as refused:
        sign(episode, documents["en"])
    assert refused.value.document == new
    assert refused.value.messages == [
        "The consent text changed while it was open (a new version was published). Please read it and sign again."
    ]
    assert ConsentSignature.objects.count() == 0
    episode.refresh_from_db()
    assert episode.status == Episode.Status.CANDIDATE


def test_a_text_changed_since_the_page_showed_it_is_refused(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    shown = consent.consent_text(episode=episode, document=documents["en"]).sha256
    Practice.objects.update(regulatory_notice_en="A changed notice.")
    with pytest.raises(consent.ConsentOutdated):
        sign(episode, documents["en"], shown_sha256=shown)
    assert ConsentSignature.objects.count() == 0


def test_the_hash_the_page_showed_signs_when_nothing_changed(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    shown = consent.consent_text(episode=episode, document=documents["es"]).sha256
    signature = sign(episode, documents["es"], shown_sha256=shown)
    assert signature.text_sha256 == shown


def test_a_second_signature_of_the_same_version_is_refused(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    sign(episode, documents["en"])
    with pytest.raises(ValidationError) as refused:
        sign(episode, documents["en"])
    assert refused.value.messages == ["This consent is already signed. Nothing more to do."]
    assert ConsentSignature.objects.count() == 1


def test_a_witness_is_needed_where_the_document_asks_and_a_remote_signature_is_refused(
    episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    witnessed = consent.document_publish(
        language="en", title="T", body="B", include_regulatory_notice=True, requires_witness=True, by=bob
    )
    with pytest.raises(ValidationError) as refused:
        sign(episode, witnessed)
    assert refused.value.message_dict == {
        "witness_name": ["This consent needs a witness: please give the witness's full name."]
    }
    with pytest.raises(ValidationError) as remote:
        sign(episode, witnessed, method=ConsentSignature.Method.REMOTE, by=None, witness_name="Ana Witness")
    assert remote.value.messages == ["This consent needs a witness: it can only be signed in the office."]
    signature = sign(episode, witnessed, witness_name=" Dr.  Bob Example ", witness=bob)
    assert (signature.witness_name, signature.witness) == ("Dr. Bob Example", bob)
    assert "Dr. Bob Example" in pdf_text(signature)


def test_a_closed_episode_cannot_be_consented(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    Episode.objects.filter(pk=episode.pk).update(status=Episode.Status.CLOSED)
    episode.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        sign(episode, documents["en"])
    assert refused.value.messages == [
        "This treatment was closed, so this consent form can no longer be signed. Please call the office."
    ]


# --- Verification --------------------------------------------------------------------------------


def test_a_clean_signature_verifies(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"])
    assert consent.consent_verify(signature) == consent.Verification(valid=True, problems=[])


def _one_byte_changed(value: str, at: int) -> str:
    return value[:at] + ("X" if value[at] != "X" else "Y") + value[at + 1 :]


def test_a_one_byte_change_to_the_stored_text_fails(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"])
    at = signature.rendered_text.index("No guaranteed result")
    ConsentSignature.objects.filter(pk=signature.pk).update(
        rendered_text=_one_byte_changed(signature.rendered_text, at)
    )
    signature.refresh_from_db()
    changed = consent.sha256(signature.rendered_text)
    offset = at - signature.rendered_text.index('<section class="consent-part" data-part="document">')
    assert consent.consent_verify(signature).problems == [
        f"The signed text does not match its SHA-256 (stored {signature.text_sha256[:12]}, computed {changed[:12]}): "
        "it was changed.",
        "Consent document version 1 (en) no longer gives the text that was signed (first difference at character "
        f"{offset} of its part): its title or body changed after signing.",
    ]
    assert consent.valid_consent(episode) is None


def test_a_one_byte_change_to_the_meaning_in_the_stored_text_fails(
    episode: Episode, documents: dict[str, ConsentDocument]
) -> None:
    signature = sign(episode, documents["en"])
    changed = signature.rendered_text.replace("right knee", "left knee")
    ConsentSignature.objects.filter(pk=signature.pk).update(rendered_text=changed, text_sha256=consent.sha256(changed))
    signature.refresh_from_db()
    # Even with the hash recomputed to match, the statement no longer is the one recorded with the signature.
    assert consent.consent_verify(signature).problems == [
        "The statement of what the signature means differs from the one recorded with it."
    ]


def test_a_one_byte_change_to_the_pdf_fails(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"])
    pdf = bytearray(bytes(signature.pdf))
    pdf[len(pdf) // 2] ^= 0x01
    ConsentSignature.objects.filter(pk=signature.pk).update(pdf=bytes(pdf))
    signature.refresh_from_db()
    assert consent.consent_verify(signature).problems == [
        f"The archived PDF does not match its SHA-256 (stored {signature.pdf_sha256[:12]}, "
        f"computed {consent.sha256(bytes(pdf))[:12]}): it was changed."
    ]
    assert consent.valid_consent(episode) is None


def test_a_one_byte_change_to_the_documents_body_fails(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"])
    body = documents["en"].body
    at = body.index("Bleeding")
    ConsentDocument.objects.filter(pk=documents["en"].pk).update(body=_one_byte_changed(body, at))
    signature = ConsentSignature.objects.select_related("document", "episode").get(pk=signature.pk)
    problems = consent.consent_verify(signature).problems
    assert len(problems) == 1
    assert problems[0].startswith(
        "Consent document version 1 (en) no longer gives the text that was signed (first difference at character "
    )
    assert problems[0].endswith("of its part): its title or body changed after signing.")


def test_a_text_taken_apart_is_reported_as_such(episode: Episode, documents: dict[str, ConsentDocument]) -> None:
    signature = sign(episode, documents["en"])
    ConsentSignature.objects.filter(pk=signature.pk).update(rendered_text="Another text.")
    signature.refresh_from_db()
    assert consent.consent_verify(signature).problems[1:] == [
        "The signed text is not made of the parts a consent has (document, meaning, reference)."
    ]


def test_verify_consent_checks_all_and_exits_1_naming_the_broken_one(
    schedule: Schedule, documents: dict[str, ConsentDocument]
) -> None:
    good = sign(open_episode(schedule), documents["en"])
    bad = sign(open_episode(schedule, schedule.luis), documents["es"])
    ConsentSignature.objects.filter(pk=bad.pk).update(pdf=bytes(bad.pdf) + b" ")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_consent", stdout=out, stderr=err)
    assert exit_.value.code == 1
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"verify_consent: {bad.uuid}: The archived PDF does not match its SHA-256")
    assert lines[1:] == ["verify_consent: 2 checked, 1 with problems"]
    out = io.StringIO()
    call_command("verify_consent", str(good.uuid), stdout=out)
    assert out.getvalue() == "verify_consent: OK, 1 consents\n"


def test_verify_consent_names_an_unknown_id(documents: dict[str, ConsentDocument]) -> None:
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "verify_consent", "00000000-0000-0000-0000-000000000000", "nonsense", stderr=err, stdout=io.StringIO()
        )
    assert err.getvalue().splitlines() == [
        "verify_consent: nonsense: not a consent id",
        "verify_consent: 00000000-0000-0000-0000-000000000000: no such consent",
        "verify_consent: 0 checked, 2 with problems",
    ]


# --- States, withdrawal --------------------------------------------------------------------------


def test_a_consent_on_an_older_version_no_longer_counts(
    schedule: Schedule, episode: Episode, documents: dict[str, ConsentDocument], bob: User
) -> None:
    signature = sign(episode, documents["en"])
    consent.document_publish(
        language="en", title="v2", body="Text.", include_regulatory_notice=True, requires_witness=False, by=bob
    )
    assert [(row.signature, row.state) for row in consent.consent_rows(episode=episode)] == [
        (signature, "older_version")
    ]
    assert consent.valid_consent(episode) is None
    # A Spanish version published later does not make an English signature older.
    other = open_episode(schedule, episode.patient)
    spanish = sign(other, documents["es"])
    consent.document_publish(
        language="en", title="v3", body="Text.", include_regulatory_notice=True, requires_witness=False, by=bob
    )
    assert consent.valid_consent(other) == spanish


def test_withdrawal_is_recorded_never_a_deletion(
    episode: Episode, documents: dict[str, ConsentDocument], alice: User
) -> None:
    signature = sign(episode, documents["en"])
    withdrawn = consent.consent_withdraw(signature=signature, reason="Phoned: changed her mind.", by=alice)
    episode.refresh_from_db()
    assert ConsentSignature.objects.filter(pk=signature.pk).exists()
    assert (withdrawn.withdrawn_reason, withdrawn.withdrawn_recorded_by, withdrawn.is_withdrawn) == (
        "Phoned: changed her mind.",
        alice,
        True,
    )
    assert episode.status == Episode.Status.WITHDRAWN
    assert consent.valid_consent(episode) is None
    assert [row.state for row in consent.consent_rows(episode=episode)] == ["withdrawn"]
    assert consent.consent_verify(withdrawn).valid is True
    assert audit_rows(action="change", object_type="consent") == [
        ("alice", "front_desk", "change", "consent", str(signature.uuid), episode.patient_id, "allowed")
    ]
    with pytest.raises(ValidationError) as again:
        consent.consent_withdraw(signature=withdrawn, reason="Again", by=alice)
    assert again.value.messages == ["This consent was already withdrawn."]


def test_a_withdrawal_needs_a_reason(episode: Episode, documents: dict[str, ConsentDocument], alice: User) -> None:
    signature = sign(episode, documents["en"])
    with pytest.raises(ValidationError) as refused:
        consent.consent_withdraw(signature=signature, reason=" ", by=alice)
    assert refused.value.message_dict == {"reason": ["Please write why, or what the patient said."]}
    signature.refresh_from_db()
    assert signature.withdrawn_at is None


def test_signing_again_after_a_withdrawal_consents_the_episode_again(
    episode: Episode, documents: dict[str, ConsentDocument], alice: User
) -> None:
    first = sign(episode, documents["en"])
    consent.consent_withdraw(signature=first, reason="Changed her mind.", by=alice)
    second = sign(episode, documents["en"])
    episode.refresh_from_db()
    assert episode.status == Episode.Status.CONSENTED
    assert consent.valid_consent(episode) == second


def test_the_consent_rows_take_two_queries_whatever_their_number(
    schedule: Schedule, episode: Episode, documents: dict[str, ConsentDocument], alice: User
) -> None:
    for _ in range(3):
        consent.consent_withdraw(signature=sign(episode, documents["en"]), reason="r", by=alice)
    with CaptureQueriesContext(connection) as queries:
        rows = consent.consent_rows(episode=episode)
    assert (len(rows), len(queries)) == (3, 2)


# --- The link ------------------------------------------------------------------------------------


def test_the_link_email_carries_the_link_and_nothing_about_the_treatment(
    episode: Episode, documents: dict[str, ConsentDocument], alice: User, outbox_capture: Any
) -> None:
    with outbox_capture() as queued:
        link = consent.consent_link_send(episode=episode, by=alice)
    assert [q.email.kind for q in queued] == ["consent.link"]
    email = queued[0].email
    assert (email.to, email.reference, email.subject) == (
        "p1@example.com",
        str(link.uuid),
        "A form to read and sign before your visit",
    )
    assert "/consent/" in email.body
    for word in ("knee", "Knee", "osteoarthritis", "Osteoarthritis", "marrow", "stem", "Patient1", "Example"):
        assert word not in email.body.replace("example.com", ""), word
    assert (link.purpose, link.target, link.patient) == ("consent", str(episode.uuid), episode.patient)
    assert audit_rows(object_type="consent_link") == [
        ("alice", "front_desk", "create", "consent_link", str(link.uuid), episode.patient_id, "allowed")
    ]


def test_the_link_is_in_the_patients_language(
    episode: Episode, documents: dict[str, ConsentDocument], alice: User, outbox_capture: Any
) -> None:
    episode.patient.preferred_language = "es"
    episode.patient.save()
    with outbox_capture() as queued:
        consent.consent_link_send(episode=episode, by=alice)
    assert "/es/consent/" in queued[0].email.body


@pytest.mark.parametrize("problem", ["no_email", "witness", "signed"])
def test_a_link_is_refused_when_it_could_not_be_used(
    episode: Episode, documents: dict[str, ConsentDocument], alice: User, bob: User, problem: str
) -> None:
    expected = {
        "no_email": "This patient has no email address on file: sign the consent in the office instead.",
        "witness": "This consent needs a witness: it can only be signed in the office.",
        "signed": "This consent is already signed. Nothing more to do.",
    }[problem]
    if problem == "no_email":
        episode.patient.email = ""
        episode.patient.save()
    elif problem == "witness":
        consent.document_publish(
            language="en", title="T", body="B", include_regulatory_notice=True, requires_witness=True, by=bob
        )
    else:
        sign(episode, documents["en"])
    with pytest.raises(ValidationError) as refused:
        consent.consent_link_send(episode=episode, by=alice)
    assert refused.value.messages == [expected]
    assert (PatientLink.objects.count(), Email.objects.count()) == (0, 0)


def test_demo_content_files_are_both_there() -> None:
    from patients.management.commands.load_consent_documents import CONTENT

    assert sorted(os.listdir(CONTENT)) == ["consent.en.md", "consent.es.md"]

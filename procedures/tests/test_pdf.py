"""The signed record as a PDF: what it says, read back with pypdf; who may download it; the audit row."""

import io
import re

import pytest
from django.test import Client
from pypdf import PdfReader

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from procedures import pdf, services
from procedures.models import ProcedureRecord
from procedures.tests.conftest import Clinic, fill, signed, start

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), re.sub(r"\s+", " ", text)


def test_the_pdf_of_a_signed_record_says_who_what_the_product_and_the_signature(clinic: Clinic) -> None:
    record = signed(clinic)
    pages, text = text_of(pdf.record_pdf(record))
    assert pages <= 2
    for expected in (
        "Procedure record: Patient1 Example",
        "RC000001",
        "Right knee: Osteoarthritis",
        "Bone-marrow harvest",
        "BMA-2031-0305-01",
        "medial compartment",
        "P2-Bβ",
        "Dose 1.43 billion (C); efficiency 44.0% (C); purity 87.5% (B)",
        "100 million (4.00 mL)",
        "Harvest to first injection: 35 min",
        "No breach",
        "MIBO (PRP): complete; not recordable here yet: how long the condition has lasted, local anaesthetic at the",
        "Dr. Bob Example",
        "I performed it.",
        "The signature holds for the record as printed.",
    ):
        assert expected in text, expected
    # The whole hash is printed (it may wrap: compare without spaces).
    assert record.signed_sha256 in text.replace(" ", "")


def test_an_amended_record_prints_its_amendments_and_reason(clinic: Clinic) -> None:
    record = signed(clinic)
    services.procedure_amend(record=record, changes={"kit_lot": "LOT-43"}, reason="Lot misread.", by=clinic.tech)
    record = ProcedureRecord.objects.get(pk=record.pk)
    _pages, text = text_of(pdf.record_pdf(record))
    assert "Amendment 1, by charlie" in text
    assert "Reason: Lot misread." in text
    assert "record.kit_lot LOT-42 LOT-43" in text


def test_downloading_the_pdf_leaves_one_row_and_names_no_patient_in_the_file_name(clinic: Clinic) -> None:
    record = signed(clinic)
    client = Client()
    sign_in(client, clinic.tech)
    mark = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = client.get(f"/staff/procedures/{record.uuid}/record.pdf")
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == f'attachment; filename="procedure-{record.uuid}.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    assert list(AuditEvent.objects.filter(pk__gt=mark).values_list("action", "object_ref", "patient")) == [
        ("view", str(record.uuid), clinic.rosa.pk)
    ]


def test_a_record_in_progress_does_not_print(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    client = Client()
    sign_in(client, clinic.doctor)
    response = client.get(f"/staff/procedures/{record.uuid}/record.pdf")
    assert (response.status_code, response["Location"]) == (302, record.get_absolute_url())


def test_the_front_desk_cannot_download_it(clinic: Clinic) -> None:
    record = signed(clinic)
    client = Client()
    sign_in(client, User.objects.create_user("desk2", password="a-password-for-tests", role=Role.FRONT_DESK))
    assert client.get(f"/staff/procedures/{record.uuid}/record.pdf").status_code == 404

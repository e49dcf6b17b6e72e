"""The intake's staff page: who sees it, what it shows, confirming (clinicians) and resending the link (front desk).

Personas: alice (front desk), bob (physician), charlie (processing technician: no business here).
"""

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import links
from accounts.models import PatientLink, Role, User
from accounts.testing import sign_in
from outbox.models import Email
from patients import intake as intakes
from patients.models import Intake, Medication, Patient
from patients.tests.test_intake import COMPLETE, TOKEN_IN, audit_mark, audit_queries, audit_since, book, fill
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake(schedule: Schedule, outbox_capture: Any) -> Intake:
    appointment, _token = book(schedule, outbox_capture)
    return appointment.intakes.get()


@pytest.fixture
def sent(intake: Intake) -> Intake:
    return intakes.intake_submit(intake=fill(intake))


def page_of(intake: Intake, action: str = "") -> str:
    return f"/staff/patients/intakes/{intake.uuid}/{action}"


def signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def test_the_front_desk_and_physicians_see_it_others_get_a_404(
    sent: Intake, alice: User, bob: User, charlie: User
) -> None:
    assert signed_in(alice).get(page_of(sent)).status_code == 200
    assert signed_in(bob).get(page_of(sent)).status_code == 200
    assert signed_in(charlie).get(page_of(sent)).status_code == 404
    manager = User.objects.create_user("mia", role=Role.MANAGER, is_staff=True)
    assert signed_in(manager).get(page_of(sent)).status_code == 404
    anonymous = Client().get(page_of(sent))
    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/accounts/sign-in/?next={page_of(sent)}")


def test_an_unknown_or_malformed_id_is_a_404(sent: Intake, bob: User) -> None:
    client = signed_in(bob)
    assert client.get(f"/staff/patients/intakes/{uuid.uuid4()}/").status_code == 404
    assert client.get("/staff/patients/intakes/not-a-uuid/").status_code == 404
    assert client.post(f"/staff/patients/intakes/{uuid.uuid4()}/confirm/").status_code == 404
    assert client.post(f"/staff/patients/intakes/{uuid.uuid4()}/resend/").status_code == 404


def test_reading_it_leaves_one_audit_row_naming_the_patient(sent: Intake, bob: User, charlie: User) -> None:
    physician, technician = signed_in(bob), signed_in(charlie)
    mark = audit_mark()
    physician.get(page_of(sent))
    assert audit_since(mark) == [(bob.pk, "physician", "view", "intake", str(sent.uuid), sent.patient_id, "allowed")]
    mark = audit_mark()
    technician.get(page_of(sent))
    assert audit_since(mark) == [(charlie.pk, "technician", "view", "intake", str(sent.uuid), None, "denied")]


def test_it_shows_the_answers_what_needs_attention_and_what_waits_to_be_confirmed(sent: Intake, bob: User) -> None:
    response = signed_in(bob).get(page_of(sent))
    shown = text(response)
    assert "Intake form of Patient1 Example" in shown
    assert "Status Submitted by the patient" in shown
    assert (
        "Needs attention Have you been told you have a bleeding disorder, such as hemophilia? Not sure "
        "Do you take a blood thinner, such as warfarin, apixaban (Eliquis), rivaroxaban (Xarelto) or clopidogrel "
        "(Plavix)? Yes Flagged: Anticoagulant Eliquis (5 mg twice a day)"
    ) in shown
    assert "Area 1 Knee, Right, 1 to 2 years" in shown
    assert "Goals Avoid surgery; Walk without pain" in shown
    assert "Medication: Eliquis (5 mg twice a day)" in shown
    assert "Allergy: <strong>Penicillin</strong>: Hives" in response.content.decode()
    assert "Earlier surgery at the site Arthroscopy, 2019" in shown
    assert shown.count("Patient-reported Not yet confirmed by a clinician.") == 4
    assert "Confirm what the patient reported" in shown
    assert "Email the patient a new link" not in shown


def test_the_page_is_never_stored(sent: Intake, bob: User) -> None:
    assert "no-store" in signed_in(bob).get(page_of(sent))["Cache-Control"]


@pytest.mark.parametrize("rows", [1, 3])
def test_the_page_asks_a_fixed_number_of_queries(intake: Intake, bob: User, rows: int) -> None:
    fill(intake)
    medications = [{"name": f"Medicine {n}", "dose": ""} for n in range(rows)]
    intakes.intake_save_section(intake=intake, section="medications", data={"none": False, "medications": medications})
    intakes.intake_submit(intake=intake)
    client = signed_in(bob)
    client.get(page_of(intake))  # warms the practice cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page_of(intake))
    assert response.content.decode().count("Medication: <strong>Medicine ") == rows
    # The session, the user, their authenticator, the intake (with its patient, visit, office, provider,
    # confirmer), the latest link, the unconfirmed medications, allergies and history: one query each,
    # however many rows; and the audit row (what the log itself costs).
    assert len(queries) == 8 + audit_queries()


# --- Confirming -------------------------------------------------------------------------------------


def test_a_physician_confirms_and_the_page_says_so(sent: Intake, bob: User) -> None:
    client = signed_in(bob)
    response = client.post(page_of(sent, "confirm/"))
    assert (response.status_code, response["Location"]) == (302, page_of(sent))
    sent.refresh_from_db()
    assert (sent.status, sent.confirmed_by) == ("confirmed", bob)
    shown = text(client.get(page_of(sent)))
    assert "Confirmed. What the patient reported is now marked as reviewed." in shown
    assert "Nothing waits to be confirmed." in shown
    assert "Confirm what the patient reported" not in shown
    assert set(Medication.objects.values_list("confirmed_by", flat=True)) == {bob.pk}


def test_the_front_desk_cannot_confirm(sent: Intake, alice: User) -> None:
    client = signed_in(alice)
    assert "Confirm what the patient reported" not in text(client.get(page_of(sent)))
    mark = audit_mark()
    assert client.post(page_of(sent, "confirm/")).status_code == 404
    assert audit_since(mark) == [
        (alice.pk, "front_desk", "change", "intake", str(sent.uuid), sent.patient_id, "denied")
    ]
    sent.refresh_from_db()
    assert sent.status == "submitted"


def test_confirming_an_intake_still_being_filled_is_refused_with_a_message(intake: Intake, bob: User) -> None:
    client = signed_in(bob)
    response = client.post(page_of(intake, "confirm/"), follow=True)
    assert "The patient has not sent this form yet." in text(response)
    intake.refresh_from_db()
    assert intake.status == "in_progress"


# --- Resending --------------------------------------------------------------------------------------


def test_the_front_desk_resends_the_link_and_the_old_one_stops_working(
    intake: Intake, alice: User, outbox_capture: Any
) -> None:
    old = PatientLink.objects.get()
    client = signed_in(alice)
    assert "Email the patient a new link" in text(client.get(page_of(intake)))
    with outbox_capture(execute=True) as queued:
        response = client.post(page_of(intake, "resend/"))
    assert (response.status_code, response["Location"]) == (302, page_of(intake))
    [email] = [item.email for item in queued]
    assert (email.kind, email.to) == ("intake.link", "p1@example.com")
    old.refresh_from_db()
    assert old.revoked_at is not None
    token = TOKEN_IN.search(email.body).group(1)  # type: ignore[union-attr]
    assert PatientLink.objects.get(token_sha256=links.digest(token)).created_by == alice
    shown = text(client.get(page_of(intake)))
    assert "A new link is on its way to the patient. The earlier link no longer works." in shown
    # The patient's new link opens the form.
    assert Client().get(f"/intake/{token}/")["Location"] == "/intake/"


def test_resending_is_refused_with_a_message_without_an_email_or_once_sent(
    intake: Intake, alice: User, bob: User
) -> None:
    Patient.objects.filter(pk=intake.patient_id).update(email="")
    client = signed_in(alice)
    response = client.post(page_of(intake, "resend/"), follow=True)
    assert "This patient has no email address on file. Please call them." in text(response)
    Patient.objects.filter(pk=intake.patient_id).update(email="p1@example.com")
    intakes.intake_submit(intake=fill(intake))
    response = client.post(page_of(intake, "resend/"), follow=True)
    assert "This form was already sent, so it can no longer be changed." in text(response)
    assert Email.objects.filter(kind="intake.link").count() == 0


def test_a_technician_cannot_resend(intake: Intake, charlie: User) -> None:
    assert signed_in(charlie).post(page_of(intake, "resend/")).status_code == 404
    assert Email.objects.filter(kind="intake.link").count() == 0


def test_the_answers_are_shown_as_the_patient_gave_them(sent: Intake, bob: User) -> None:
    shown = text(signed_in(bob).get(page_of(sent)))
    assert COMPLETE["goals"]["own_words"] in shown

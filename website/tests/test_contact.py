"""The Get In Touch form: validation, the medical-content guard, abuse limits, notification."""

import time
from typing import Any
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from outbox.models import Email
from outbox.services import email_deliver
from website.models import Inquiry, Office

pytestmark = pytest.mark.django_db


def started(seconds_ago: float = 30) -> str:
    return signing.dumps(time.time() - seconds_ago, salt="website.contact.started")


def post(client: Client, url: str = "/contact/", **overrides: Any) -> Any:
    data = {
        "name": "Rosa Díaz",
        "email": "rosa@example.com",
        "phone": "(818) 555-0199",
        "preferred_office": "",
        "message": "Do you have parking at the Encino office?",
        "started": started(),
        "website": "",
    }
    data.update(overrides)
    return client.post(url, data, REMOTE_ADDR="203.0.113.7")


def test_it_shows_the_required_note_and_the_non_medical_notice(client: Client, practice: Any) -> None:
    response = client.get("/contact/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "* All indicated fields must be completed" in body
    assert "Please include non-medical questions and correspondence only" in body


def test_it_saves_an_inquiry_and_notifies_without_the_message(
    client: Client, practice: Any, outbox_capture: Any
) -> None:
    encino = Office.objects.get(slug="encino")
    with outbox_capture(execute=True):
        response = post(client, preferred_office=str(encino.pk), message="Is there parking near the Encino office?")
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"
    inquiry = Inquiry.objects.get()
    assert (inquiry.name, inquiry.email, inquiry.preferred_office, inquiry.status) == (
        "Rosa Díaz",
        "rosa@example.com",
        encino,
        Inquiry.Status.NEW,
    )
    assert inquiry.message == "Is there parking near the Encino office?"
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["frontdesk@regenclinic.example"]
    assert notice.subject == "New website inquiry"
    assert "parking" not in notice.body
    assert "Rosa" not in notice.body and "rosa@example.com" not in notice.body
    assert f"/staff/inquiries/{inquiry.uuid}/" in notice.body
    assert Email.objects.get().reference == str(inquiry.uuid)


def test_it_sends_no_email_before_the_worker_runs_after_the_commit(
    client: Client, practice: Any, outbox_capture: Any
) -> None:
    with outbox_capture(execute=False) as queued:
        post(client)
    assert len(queued) == 1
    assert mail.outbox == []
    queued[0]()
    assert len(mail.outbox) == 1


def test_it_keeps_the_inquiry_and_its_notice_when_the_email_fails(
    client: Client, practice: Any, outbox_capture: Any
) -> None:
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("mail server down")),
        outbox_capture(execute=True),
    ):
        response = post(client)
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    email = Email.objects.get()
    assert (email.status, email.attempts, email.last_error, mail.outbox) == ("failed", 1, "OSError", [])
    # Its retry comes at its time and sends it once.
    assert email_deliver(email_id=email.pk, now=email.next_attempt_at) == "sent"
    assert inquiry.pk == Inquiry.objects.get().pk
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Please tell us your name."),
        ("email", "", "Please give an email address so we can answer you."),
        ("email", "rosa-at-example", "Please check the email address: it should look like name@example.com."),
        ("message", "   ", "Please write your question."),
        ("phone", "12", "Please check the phone number, or leave it empty."),
    ],
)
def test_it_explains_a_bad_field_next_to_it_and_keeps_what_was_typed(
    client: Client, practice: Any, field: str, value: str, message: str
) -> None:
    response = post(client, **{field: value, "message": "Where do I park?" if field != "message" else value})
    body = response.content.decode()
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert f'id="id_{field}_error"' in body
    assert 'value="(818) 555-0199"' in body or field == "phone"
    assert "Rosa Díaz" in body or field == "name"


def test_it_offers_a_consultation_when_the_message_looks_medical(client: Client, practice: Any) -> None:
    text = "My left knee has hurt for months and ibuprofen does not help. Can stem cells fix it?"
    response = post(client, message=text)
    body = response.content.decode()
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert response.context["form"].medical_notice is True
    assert "Your message seems to include medical details." in body
    assert "Book a consultation in Los Angeles" in body
    assert 'name="confirm_non_medical"' in body
    assert "ibuprofen does not help" in body


def test_it_sends_a_flagged_message_when_the_person_confirms_it_is_not_medical(client: Client, practice: Any) -> None:
    text = "My knee hurts just reading your parking rules! Where can I park for free?"
    response = post(client, message=text, confirm_non_medical="on")
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.sent_despite_medical_notice is True


def test_it_refuses_a_filled_honeypot(client: Client, practice: Any) -> None:
    response = post(client, website="http://spam.example")
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert response.context["form"].non_field_errors() == [
        "This message could not be sent. If you are a person, please call one of our offices."
    ]


def test_it_refuses_a_form_sent_faster_than_a_person_types(client: Client, practice: Any) -> None:
    response = post(client, started=started(seconds_ago=0.5))
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert response.context["form"].non_field_errors() == [
        "That was sent very quickly. Please wait a moment, check your message and send it again."
    ]


def test_it_refuses_a_tampered_start_token_and_keeps_the_message(client: Client, practice: Any) -> None:
    response = post(client, started="forged")
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert response.context["form"].non_field_errors() == [
        "This form had expired. Please check your message and send it again."
    ]
    assert "Do you have parking at the Encino office?" in response.content.decode()


def test_it_accepts_five_messages_an_hour_from_one_address_then_explains(client: Client, practice: Any) -> None:
    for n in range(5):
        assert post(client, message=f"Question number {n} about parking").status_code == 302
    response = post(client, message="A sixth question about parking")
    assert response.status_code == 200
    assert Inquiry.objects.count() == 5
    assert response.context["form"].non_field_errors() == [
        "You have sent several messages in the last hour, so this one was not sent. "
        "Please try again later, or call one of our offices."
    ]
    # Another person, from another address, is not held back.
    other = Client().post(
        "/contact/",
        {"name": "Tom", "email": "tom@example.com", "message": "Hours on Friday?", "started": started()},
        REMOTE_ADDR="198.51.100.2",
    )
    assert other.status_code == 302


def test_it_counts_the_limit_by_email_whatever_the_ip(client: Client, practice: Any) -> None:
    for n in range(5):
        Client().post(
            "/contact/",
            {"name": "Rosa", "email": "ROSA@example.com", "message": f"Parking {n}?", "started": started()},
            REMOTE_ADDR=f"192.0.2.{n + 1}",
        )
    response = post(client)
    assert response.status_code == 200
    assert Inquiry.objects.count() == 5


def test_it_rejects_a_csrf_less_post(practice: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = post(client)
    assert response.status_code == 403
    assert Inquiry.objects.count() == 0


def test_it_works_in_spanish(client: Client, practice: Any) -> None:
    response = post(client, url="/es/contact/", message="¿Tienen estacionamiento en Encino?")
    assert response.status_code == 302
    assert response["Location"] == "/es/contact/thanks/"
    assert Inquiry.objects.get().language == "es"


def test_the_thanks_page_says_it_was_sent(client: Client, practice: Any) -> None:
    response = client.get(reverse("website:contact_thanks"))
    assert "Thank you, your message was sent" in response.content.decode()


# --- Urgent warning signs: call the office now or 911, not a routine message ---

URGENT_ENGLISH = "Since the injection last Tuesday my knee is red and warm and I have a fever of 101."
URGENT_SPANISH = "Después de la inyección del viernes la rodilla está roja y caliente y tengo calentura."


def _urgent_notice(body: str) -> str:
    start = body.index('id="urgent-notice"')
    return body[start : body.index("</div>", start)]


def test_it_tells_the_person_to_call_the_office_now_when_the_message_is_urgent(client: Client, practice: Any) -> None:
    response = post(client, message=URGENT_ENGLISH)
    body = response.content.decode()
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    form = response.context["form"]
    assert (form.urgent_notice, form.medical_notice, form.urgent) == (True, False, False)
    notice = _urgent_notice(body)
    assert "If this is an emergency, call 911." in notice
    assert "For a problem after a procedure, call the office now:" in notice
    assert 'Los Angeles: <a href="tel:3105550100">(310) 555-0100</a>' in notice
    assert 'Encino: <a href="tel:8185550100">(818) 555-0100</a>' in notice
    # At the top: before the usual notice and the form, and instead of the medical one.
    assert body.index('id="urgent-notice"') < body.index('id="contact-notice"') < body.index("<form")
    assert "Your message seems to include medical details." not in body
    assert form.non_field_errors() == [
        "Your message was not sent: it mentions a sign that may need care now. "
        "Please read the notice at the top of this page. "
        "To send the message anyway, tick the box below and send it again."
    ]
    assert 'name="confirm_urgent"' in body
    assert 'name="confirm_non_medical"' not in body
    assert "I have a fever of 101." in body  # what the person typed is kept


def test_an_urgent_message_is_not_sent_as_routine_by_ticking_the_non_medical_box(client: Client, practice: Any) -> None:
    response = post(client, message=URGENT_ENGLISH, confirm_non_medical="on")
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    assert response.context["form"].urgent_notice is True


def test_it_sends_an_urgent_message_when_the_person_confirms(client: Client, practice: Any) -> None:
    response = post(client, message=URGENT_ENGLISH, confirm_urgent="on")
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"  # nothing of the message in the address
    inquiry = Inquiry.objects.get()
    assert (inquiry.message, inquiry.urgent) == (URGENT_ENGLISH, True)
    # The practice's notice is the usual one: no text and no urgency travel by email; the inbox flags it.
    notice = Email.objects.get()
    assert (notice.subject, "urgent" in notice.body.lower(), inquiry.message[:20] in notice.body) == (
        "New website inquiry",
        False,
        False,
    )


def test_the_form_says_urgent_only_after_the_person_confirmed(practice: Any) -> None:
    from website.forms import ContactForm

    data = {"name": "Rosa", "email": "rosa@example.com", "message": URGENT_ENGLISH, "started": started()}
    unconfirmed = ContactForm(data)
    assert unconfirmed.is_valid() is False
    assert (unconfirmed.urgent_notice, unconfirmed.urgent) == (True, False)
    confirmed = ContactForm({**data, "confirm_urgent": "on"})
    assert confirmed.is_valid() is True
    assert (confirmed.urgent_notice, confirmed.urgent) == (False, True)
    routine = ContactForm({**data, "message": "Where do I park in Encino?"})
    assert routine.is_valid() is True
    assert routine.urgent is False


def test_it_keeps_the_ordinary_medical_notice_for_a_medical_message_that_is_not_urgent(
    client: Client, practice: Any
) -> None:
    response = post(client, message="Is fever a side effect of the bone marrow procedure?")
    body = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.medical_notice, form.urgent_notice) == (True, False)
    assert "Your message seems to include medical details." in body
    assert 'id="urgent-notice"' not in body
    assert 'name="confirm_urgent"' not in body


def test_it_tells_a_spanish_speaker_to_call_now_with_the_offices_spanish_names(client: Client, practice: Any) -> None:
    response = post(client, url="/es/contact/", message=URGENT_SPANISH)
    body = response.content.decode()
    assert response.status_code == 200
    assert Inquiry.objects.count() == 0
    form = response.context["form"]
    assert (form.urgent_notice, form.medical_notice) == (True, False)
    notice = _urgent_notice(body)
    assert 'Los Ángeles: <a href="tel:3105550100">(310) 555-0100</a>' in notice
    assert 'Encino: <a href="tel:8185550100">(818) 555-0100</a>' in notice
    assert "Contáctenos" in body
    assert "Parece que su mensaje incluye detalles médicos." not in body
    assert 'name="confirm_urgent"' in body
    assert "tengo calentura" in body


def test_it_sends_an_urgent_spanish_message_once_confirmed(client: Client, practice: Any) -> None:
    response = post(client, url="/es/contact/", message=URGENT_SPANISH, confirm_urgent="on")
    assert response.status_code == 302
    assert response["Location"] == "/es/contact/thanks/"
    assert Inquiry.objects.get().language == "es"


def test_it_shows_the_ordinary_medical_notice_in_spanish(client: Client, practice: Any) -> None:
    response = post(client, url="/es/contact/", message="Me duele la rodilla desde hace meses y tomo naproxeno.")
    body = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.medical_notice, form.urgent_notice) == (True, False)
    assert "Parece que su mensaje incluye detalles médicos." in body
    assert 'id="urgent-notice"' not in body
    assert "Reservar una consulta en" in body

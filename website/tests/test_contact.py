"""The Get In Touch form: validation, the medical-content guard, abuse limits, notification."""

import time
from typing import Any
from unittest import mock

import pytest
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

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
    client: Client, practice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    encino = Office.objects.get(slug="encino")
    with django_capture_on_commit_callbacks(execute=True):
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
    inquiry.refresh_from_db()
    assert inquiry.notified_at is not None


def test_it_sends_no_email_before_the_inquiry_is_committed(
    client: Client, practice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client)
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_it_keeps_the_inquiry_when_the_email_fails(
    client: Client, practice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        mock.patch("website.services.send_mail", side_effect=OSError("mail server down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post(client)
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.notified_at is None
    from website.services import inquiries_notify_pending

    assert inquiries_notify_pending() == (1, 0)
    inquiry.refresh_from_db()
    assert inquiry.notified_at is not None
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

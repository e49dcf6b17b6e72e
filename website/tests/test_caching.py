"""The public page cache: fast for visitors, never wrong for them."""

import re
import time
from typing import Any

import pytest
from django.core import signing
from django.test import Client

from accounts.testing import sign_in
from website.models import Inquiry, Office

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_a_cached_contact_page_gives_each_visitor_a_working_csrf_token(practice: Any) -> None:
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get("/contact/")  # renders and fills the cache
    page = second.get("/contact/")  # served from the cache
    token = TOKEN.search(page.content.decode())
    assert token is not None and "\x00" not in token.group(1)
    assert "csrftoken" in page.cookies
    response = second.post(
        "/contact/",
        {
            "csrfmiddlewaretoken": token.group(1),
            "name": "Ana",
            "email": "ana@example.com",
            "message": "Is there parking?",
            "started": signing.dumps(time.time() - 30, salt="website.contact.started"),
        },
    )
    assert response.status_code == 302
    assert Inquiry.objects.count() == 1


def test_a_staff_edit_shows_on_the_next_visit(client: Client, practice: Any) -> None:
    assert "(818) 555-0100" in client.get("/offices/encino/").content.decode()
    encino = Office.objects.get(slug="encino")
    encino.phone = "(818) 555-0177"
    encino.save()
    body = client.get("/offices/encino/").content.decode()
    assert "(818) 555-0177" in body and "(818) 555-0100" not in body


def test_a_signed_in_person_never_gets_the_anonymous_copy(client: Client, practice: Any, alice: Any) -> None:
    client.get("/")
    sign_in(client, alice)
    assert "Signed in as alice" in client.get("/").content.decode()
    anonymous = Client().get("/").content.decode()
    assert "Signed in as" not in anonymous


def test_languages_are_cached_apart(client: Client, practice: Any) -> None:
    client.get("/prp/")
    assert '<html lang="es">' in client.get("/es/prp/").content.decode()
    assert '<html lang="en">' in client.get("/prp/").content.decode()

"""The staff inbox of website inquiries."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEvent
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES, audit_clear
from website.models import Inquiry

pytestmark = pytest.mark.django_db


def make_inquiry(n: int = 0, **fields: Any) -> Inquiry:
    values = {
        "name": f"Person {n}",
        "email": f"p{n}@example.com",
        "message": f"Parking question {n}",
        "client_key": "k",
    }
    values.update(fields)
    return Inquiry.objects.create(**values)


def test_it_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/staff/inquiries/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/?next=/staff/inquiries/"


def test_it_is_a_404_for_staff_without_inbox_duties(client: Client, charlie: Any) -> None:
    inquiry = make_inquiry()
    sign_in(client, charlie)
    assert client.get("/staff/inquiries/").status_code == 404
    assert client.get(inquiry.get_absolute_url()).status_code == 404


def test_it_lists_new_inquiries_for_the_front_desk(client: Client, alice: Any) -> None:
    make_inquiry(1)
    make_inquiry(2, status=Inquiry.Status.ARCHIVED)
    sign_in(client, alice)
    response = client.get("/staff/inquiries/")
    assert [i.name for i in response.context["inquiries"]] == ["Person 1"]
    archived = client.get("/staff/inquiries/?status=archived")
    assert [i.name for i in archived.context["inquiries"]] == ["Person 2"]


@pytest.mark.parametrize("rows", [1, 3])
def test_it_lists_with_a_fixed_number_of_queries(client: Client, alice: Any, practice: Any, rows: int) -> None:
    for n in range(rows):
        make_inquiry(n)
    sign_in(client, alice)
    client.get("/staff/inquiries/")  # warm the practice cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/staff/inquiries/")
    assert len(response.context["inquiries"]) == rows
    # session, user, authenticator, the page's audit row, inquiries (with their office)
    assert len(queries) == 5 + CHAIN_QUERIES


def test_it_marks_an_inquiry_answered_and_records_who(client: Client, alice: Any) -> None:
    inquiry = make_inquiry()
    sign_in(client, alice)
    response = client.post(f"/staff/inquiries/{inquiry.uuid}/status/", {"status": "answered"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/inquiries/?status=new"
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.status_changed_by) == (Inquiry.Status.ANSWERED, alice)
    assert list(AuditEvent.objects.filter(object_type="inquiry").values_list("action", "object_ref")) == [
        ("change", str(inquiry.uuid))
    ]


def test_it_refuses_an_unknown_status(client: Client, alice: Any) -> None:
    inquiry = make_inquiry()
    sign_in(client, alice)
    response = client.post(f"/staff/inquiries/{inquiry.uuid}/status/", {"status": "deleted"}, follow=True)
    assert response.status_code == 200
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.NEW
    assert "Choose new, answered or archived." in response.content.decode()
    # Nothing changed, so nothing is recorded as a change (the page shown again is a read).
    assert AuditEvent.objects.filter(object_type="inquiry", action="change").count() == 0


def test_urgent_inquiries_are_flagged_at_the_top_of_the_inbox(client: Client, alice: Any) -> None:
    older_urgent = make_inquiry(1)
    Inquiry.objects.filter(pk=older_urgent.pk).update(urgent=True)
    newer = make_inquiry(2)
    sign_in(client, alice)
    response = client.get("/staff/inquiries/")
    assert [inquiry.pk for inquiry in response.context["inquiries"]] == [older_urgent.pk, newer.pk]
    assert response.content.decode().count("Urgent: call back now") == 1


def test_reading_an_inquiry_leaves_one_audit_row(client: Client, alice: Any) -> None:
    inquiry = make_inquiry()
    sign_in(client, alice)
    audit_clear()
    response = client.get(inquiry.get_absolute_url())
    assert response.status_code == 200
    assert "Parking question 0" in response.content.decode()
    assert list(AuditEvent.objects.values_list("actor", "action", "object_type", "object_ref")) == [
        (alice.pk, "view", "inquiry", str(inquiry.uuid))
    ]


def test_an_unknown_inquiry_is_a_404(client: Client, alice: Any) -> None:
    sign_in(client, alice)
    assert client.get("/staff/inquiries/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize(
    ("persona", "landing"),
    [("alice", "/staff/calendar/"), ("bob", "/staff/calendar/")],
)
def test_sign_in_lands_each_role_on_a_page_it_may_open(
    client: Client, persona: str, landing: str, request: pytest.FixtureRequest
) -> None:
    sign_in(client, request.getfixturevalue(persona))
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


def test_a_role_without_staff_pages_yet_gets_a_plain_page_and_no_dead_links(client: Client, charlie: Any) -> None:
    sign_in(client, charlie)
    response = client.get("/staff/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is nothing here for your role yet" in body
    assert 'href="/staff/inquiries/' not in body
    assert 'href="/staff/calendar/"' not in body


def test_the_staff_bar_offers_only_what_the_role_may_open(client: Client, alice: Any, bob: Any) -> None:
    sign_in(client, bob)
    body = client.get("/staff/calendar/").content.decode()
    assert 'href="/staff/calendar/"' in body
    assert ">Inquiries</a>" not in body
    sign_in(client, alice)
    body = client.get("/staff/calendar/").content.decode()
    assert ">Inquiries</a>" in body

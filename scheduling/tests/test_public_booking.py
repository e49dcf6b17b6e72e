"""The public booking pages: office → time → details → booked; taken slots, bad input, links, call backs.

The demo schedule runs on the real clock here (the pages use it), so each test takes its
times from what the pages offer, or signs a slot relative to now.
"""

import logging
import os
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from icalendar import Calendar

from accounts.models import AuditEvent
from accounts.tests.audit import audit_clear
from patients.models import Patient
from scheduling import display, services, tokens
from scheduling.availability import Slot
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingRules,
    CallbackRequest,
    Provider,
    ScheduleException,
    WorkingHours,
)
from scheduling.views.public import TimeChoice
from website.models import Office, Practice

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
DETAILS = {
    "first_name": "Rosa",
    "last_name": "Díaz",
    "phone": "(818) 555-0199",
    "email": "rosa@example.com",
    "date_of_birth": "1958-03-14",
    "area_of_concern": "cartilage",
}
# What must never leave the form: the date of birth, in any spelling, and the area of concern.
HEALTH_STRINGS = ["1958-03-14", "03/14/1958", "1958", "cartilage", "Cartilage"]


@pytest.fixture
def clinic(practice: Practice) -> Office:
    """The demo practice and schedule; returns the Los Angeles office."""
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return Office.objects.get(slug="los-angeles")


def offered(client: Client, path: str = "/book/los-angeles/") -> list[TimeChoice]:
    response = client.get(path)
    assert response.status_code == 200
    return [choice for day in response.context["days"] for choice in day.times]


def post_details(client: Client, slot: str, *, office: str = "los-angeles", **overrides: Any) -> Any:
    data = {**DETAILS, "slot": slot, **overrides}
    return client.post(f"/book/{office}/details/", {k: v for k, v in data.items() if v is not None})


def book(client: Client, capture: Any, index: int = 0, **overrides: Any) -> tuple[Appointment, str]:
    """Book the `index`-th offered time through the pages; returns the appointment and its manage token."""
    slot = offered(client)[index].value
    with capture(execute=True):
        response = post_details(client, slot, **overrides)
    assert response.status_code == 302
    token = response["Location"].split("/book/manage/")[1].split("/")[0]
    appointment = Appointment.objects.get(uuid=tokens.manage_token_read(token).appointment_uuid)
    return appointment, token


def sign(*, starts_at: datetime, provider: Provider | None = None, office: Office | None = None) -> str:
    office = office or Office.objects.get(slug="los-angeles")
    provider = provider or Provider.objects.order_by("pk").first()
    assert provider is not None
    consult = AppointmentType.objects.get(slug="new-patient-consultation")
    slot = Slot(starts_at=starts_at, ends_at=starts_at, provider_id=provider.pk, office_id=office.pk)
    return tokens.slot_sign(slot=slot, appointment_type_id=consult.pk)


def local_day(days_ahead: int, hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    day = timezone.now().astimezone(LA).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hours, minutes), tzinfo=LA)


def other_patient(n: int = 1) -> Patient:
    return Patient.objects.create(
        first_name=f"Other{n}", last_name="Person", date_of_birth=date(1970, 1, 1), email=f"other{n}@example.com"
    )


# --- Choosing an office and a time --------------------------------------------------------------


def test_the_first_step_lists_both_offices_with_a_link_to_their_times(client: Client, clinic: Office) -> None:
    response = client.get("/book/")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/book/los-angeles/"' in body
    assert 'href="/book/encino/"' in body


def test_the_first_step_gives_each_office_the_first_time_its_own_page_offers(client: Client, clinic: Office) -> None:
    choices = client.get("/book/").context["choices"]
    assert [choice.office.slug for choice in choices] == ["los-angeles", "encino"]
    for choice in choices:
        first_day = client.get(f"/book/{choice.office.slug}/").context["days"][0]
        assert (choice.soonest_day, choice.soonest_time) == (first_day.label, first_day.times[0].time)
    encino = Office.objects.get(slug="encino")
    ScheduleException.objects.create(
        office=encino, kind=ScheduleException.Kind.CLOSURE,
        starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=400),
    )  # fmt: skip
    body = client.get("/book/").content.decode()
    assert body.count("First free time: ") == 1
    assert body.count("No free times online right now. You can ask us to call you back.") == 1
    assert body.index("First free time: ") < body.index("No free times online") < body.index("/book/encino/")


def test_the_first_step_costs_the_same_queries_for_two_offices_and_three(client: Client, clinic: Office) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/book/")
        assert response.status_code == 200
        assert all(choice.soonest_day for choice in response.context["choices"])
        return len(queries)

    client.get("/book/")  # warms the practice cache, as any earlier visitor would
    two = count()
    third = Office.objects.create(
        name="Pasadena", slug="pasadena", street="1 Example St", city="Pasadena", postal_code="91101",
        phone="(626) 555-0100", order=3,
    )  # fmt: skip
    provider = Provider.objects.order_by("pk").first()
    assert provider is not None
    WorkingHours.objects.create(provider=provider, office=third, weekday=5, starts=time(9), ends=time(13))
    assert len(client.get("/book/").context["choices"]) == 3
    assert count() == two


def test_the_office_page_and_the_call_to_action_link_to_online_booking(client: Client, clinic: Office) -> None:
    body = client.get("/offices/encino/").content.decode()
    assert 'href="/book/encino/">Book online</a>' in body
    assert "coming soon" not in body
    assert 'href="tel:8185550100"' in body
    assert 'href="/book/los-angeles/">Book a consultation in Los Angeles</a>' in client.get("/prp/").content.decode()


def test_the_times_page_offers_fourteen_days_grouped_by_local_day(client: Client, clinic: Office) -> None:
    response = client.get("/book/los-angeles/")
    days = response.context["days"]
    assert len(days) == 14
    rules = BookingRules.current()
    earliest = timezone.now() + rules.min_notice
    for day in days:
        assert day.times, day
        starts = [tokens.slot_unsign(choice.value).starts_at for choice in day.times]
        assert starts == sorted(starts)
        assert len(set(starts)) == len(starts)
        assert {start.astimezone(LA).date() for start in starts} == {day.day}
        assert all(start >= earliest for start in starts)
    assert [d.day for d in days] == sorted(d.day for d in days)
    # The demo hours open at 8:30 Pacific Time, whatever the season.
    first_of_each_day = [tokens.slot_unsign(day.times[0].value).starts_at.astimezone(LA).time() for day in days[1:]]
    assert set(first_of_each_day) == {time(8, 30)}
    assert days[1].times[0].time == "8:30 a.m."


def test_show_later_dates_continues_the_day_after_the_last_one_shown(client: Client, clinic: Office) -> None:
    first = client.get("/book/los-angeles/")
    later = first.context["later"]
    assert later == first.context["days"][-1].day + timedelta(days=1)
    assert f'href="/book/los-angeles/?from={later:%Y-%m-%d}"' in first.content.decode()
    second = client.get(f"/book/los-angeles/?from={later:%Y-%m-%d}")
    assert second.status_code == 200
    assert second.context["days"][0].day >= later
    assert 'href="/book/los-angeles/">Show the earliest dates</a>' in second.content.decode()


@pytest.mark.parametrize("value", ["yesterday", "2020-01-01", "2031-02-30", "<script>"])
def test_a_bad_or_past_from_date_shows_the_first_dates(client: Client, clinic: Office, value: str) -> None:
    first = client.get("/book/los-angeles/").context["days"]
    response = client.get("/book/los-angeles/", {"from": value})
    assert response.status_code == 200
    assert [d.day for d in response.context["days"]] == [d.day for d in first]


def test_a_time_already_booked_is_not_offered(client: Client, clinic: Office) -> None:
    # The first time with the 45 and 60 minutes after it also offered, so every assert below can fail
    # whatever the clock says (late in the day, the time 60 minutes on is past closing).
    before = [tokens.slot_unsign(c.value) for c in offered(client)]
    starts_before = {s.starts_at for s in before}
    signed = next(
        s
        for s in before
        if s.starts_at + timedelta(minutes=45) in starts_before and s.starts_at + timedelta(minutes=60) in starts_before
    )
    services.appointment_book(
        office=clinic,
        provider=Provider.objects.get(pk=signed.provider_id),
        appointment_type=AppointmentType.objects.get(pk=signed.appointment_type_id),
        starts_at=signed.starts_at,
        patient=other_patient(),
        source=Appointment.Source.ONLINE,
    )
    # Only one provider works in Los Angeles each day, so the time (and the 45 minutes after it) is gone.
    starts = [tokens.slot_unsign(c.value).starts_at for c in offered(client)]
    assert signed.starts_at not in starts
    assert signed.starts_at + timedelta(minutes=45) not in starts
    assert signed.starts_at + timedelta(minutes=60) in starts


@pytest.mark.parametrize(
    "path", ["/book/nowhere/", "/book/nowhere/details/", "/book/nowhere/callback/", "/es/book/nowhere/"]
)
def test_an_unknown_office_is_a_404(client: Client, clinic: Office, path: str) -> None:
    assert client.get(path).status_code == 404


def test_with_no_online_visit_type_the_page_offers_a_call_back(client: Client, clinic: Office) -> None:
    AppointmentType.objects.update(bookable_online=False)
    response = client.get("/book/encino/")
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["days"] == []
    assert "There are no free times to book online in Encino right now." in body
    assert 'href="/book/encino/callback/"' in body


def test_the_times_page_asks_the_same_number_of_queries_for_one_provider_or_three(
    client: Client, practice: Practice
) -> None:
    la = Office.objects.get(slug="los-angeles")
    AppointmentType.objects.create(
        name="Consultation",
        slug="new-patient-consultation",
        duration_minutes=45,
        buffer_after_minutes=15,
        bookable_online=True,
    )
    BookingRules.objects.create(practice=practice)

    def add_provider(n: int) -> None:
        provider = Provider.objects.create(name=f"Dr. {n}")
        for weekday in range(5):
            WorkingHours.objects.create(provider=provider, office=la, weekday=weekday, starts=time(9), ends=time(17))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/book/los-angeles/")
        assert response.status_code == 200
        assert len(response.context["days"]) == 14
        return len(queries)

    add_provider(1)
    client.get("/book/los-angeles/")  # warms the practice cache, as any earlier visitor would
    one = count()
    add_provider(2)
    add_provider(3)
    client.get(
        "/book/los-angeles/"
    )  # a provider's change refreshes the public pages (they name clinicians): warm again
    assert count() == one


# --- Details and booking ------------------------------------------------------------------------


def test_a_patient_books_a_consultation_and_is_emailed_after_commit(
    client: Client, clinic: Office, outbox_capture: Any, caplog: Any
) -> None:
    choice = offered(client)[2]
    form = client.get("/book/los-angeles/details/", {"slot": choice.value})
    assert form.status_code == 200
    assert f'<input type="hidden" name="slot" value="{choice.value}">' in form.content.decode()
    caplog.set_level(logging.DEBUG)
    with outbox_capture(execute=True) as callbacks:
        response = post_details(client, choice.value)
    assert len(callbacks) == 1
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/book/manage/") and location.endswith("/booked/")

    appointment = Appointment.objects.select_related("patient", "provider").get()
    signed = tokens.slot_unsign(choice.value)
    assert (appointment.office, appointment.provider_id, appointment.starts_at) == (
        clinic,
        signed.provider_id,
        signed.starts_at,
    )
    assert appointment.ends_at == signed.starts_at + timedelta(minutes=45)
    assert (appointment.status, appointment.source, appointment.area_of_concern) == ("booked", "online", "cartilage")
    patient = appointment.patient
    assert (patient.first_name, patient.last_name, patient.email, patient.phone, patient.date_of_birth) == (
        "Rosa",
        "Díaz",
        "rosa@example.com",
        "(818) 555-0199",
        date(1958, 3, 14),
    )

    page = client.get(location)
    body = page.content.decode()
    token = tokens.manage_token(appointment)
    assert page.status_code == 200
    assert "<h1>Your appointment is booked</h1>" in body
    assert "Appointment at the Los Angeles office (Pacific Time)" in body
    assert f"{choice.day}" in body and choice.time in body
    assert "100 Example Boulevard, Suite 200" in body
    assert f'href="/book/manage/{token}/calendar.ics"' in body
    assert f'href="/book/manage/{token}/"' in body
    assert f'href="/book/manage/{token}/reschedule/"' in body
    for text in HEALTH_STRINGS:
        assert text not in location
        assert text not in body
        assert text not in caplog.text

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["rosa@example.com"]
    day, at = display.long_day_label(signed.starts_at, clinic), display.time_label(signed.starts_at, clinic)
    assert email.subject == f"Your appointment is booked: {day} at {at}"
    assert email.body.startswith(f"Your appointment is booked:\n\n{day}, {at} (Pacific Time)\n")
    assert "100 Example Boulevard, Suite 200" in email.body
    assert "(310) 555-0100" in email.body
    assert f"http://127.0.0.1:8000/book/manage/{token}/" in email.body
    assert f"http://127.0.0.1:8000/book/manage/{token}/reschedule/" in email.body
    for text in [*HEALTH_STRINGS, "Díaz", "Rosa", "osteoarthritis", "Consultation", "consultation"]:
        assert text not in email.body
        assert text not in email.subject
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == ("regenclinic-appointment.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == signed.starts_at
    assert str(event["summary"]) == "Appointment at RegenClinic Los Angeles"
    for text in [*HEALTH_STRINGS, "onsultation"]:
        assert text not in content


def test_no_email_goes_out_before_the_booking_commits(client: Client, clinic: Office, outbox_capture: Any) -> None:
    slot = offered(client)[0].value
    with outbox_capture(execute=False) as callbacks:
        response = post_details(client, slot)
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert mail.outbox == []


def test_a_returning_patient_is_found_by_email_birth_date_and_last_name(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    known = Patient.objects.create(
        first_name="Rosa", last_name="Díaz", date_of_birth=date(1958, 3, 14), email="rosa@example.com"
    )
    appointment, _ = book(client, outbox_capture, email="ROSA@example.com", last_name="díaz")
    assert appointment.patient == known
    assert Patient.objects.count() == 1
    # Another birth date is another person.
    second, _ = book(client, outbox_capture, index=5, date_of_birth="1960-01-02")
    assert second.patient != known
    assert Patient.objects.count() == 2


def test_sending_the_form_twice_shows_the_same_confirmation_and_books_once(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    slot = offered(client)[0].value
    with outbox_capture(execute=True):
        first = post_details(client, slot)
        second = post_details(client, slot)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appointment.objects.count() == 1
    assert len(mail.outbox) == 1


def test_the_same_details_sent_later_do_not_reveal_the_booking(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    slot = offered(client)[0].value
    with outbox_capture(execute=True):
        post_details(client, slot)
    # Someone who knows the patient's name, email and birth date tries the slot an hour later.
    Appointment.objects.update(created_at=timezone.now() - timedelta(hours=1))
    later = post_details(client, slot)
    body = later.content.decode()
    assert later.status_code == 409
    assert "Sorry, that time was just taken. Here are the nearest free times:" in body
    assert "/book/manage/" not in body
    assert Appointment.objects.count() == 1
    assert len(mail.outbox) == 1


def test_booking_rejects_a_slot_taken_a_moment_ago_and_offers_the_nearest_times_keeping_what_was_typed(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    choice = offered(client)[3]
    signed = tokens.slot_unsign(choice.value)
    services.appointment_book(
        office=clinic,
        provider=Provider.objects.get(pk=signed.provider_id),
        appointment_type=AppointmentType.objects.get(pk=signed.appointment_type_id),
        starts_at=signed.starts_at,
        patient=other_patient(),
        source=Appointment.Source.ONLINE,
    )
    with outbox_capture(execute=True):
        response = post_details(client, choice.value)
    body = response.content.decode()
    assert response.status_code == 409
    assert "Sorry, that time was just taken. Here are the nearest free times:" in body
    alternatives = response.context["alternatives"]
    assert len(alternatives) == 6
    starts = [tokens.slot_unsign(a.value).starts_at for a in alternatives]
    assert signed.starts_at not in starts
    assert all(abs(start - signed.starts_at) <= timedelta(days=3) for start in starts)
    assert body.count('type="radio" name="slot"') == 6
    for name, value in DETAILS.items():
        if name != "area_of_concern":
            assert f'value="{value}"' in body, name
    assert 'value="cartilage" id="id_area_of_concern_8" required checked>' in body
    assert f'value="{choice.value}"' not in body
    assert Appointment.objects.count() == 1
    assert Patient.objects.count() == 1
    assert mail.outbox == []

    # Choosing one of the nearest times books it.
    with outbox_capture(execute=True):
        retry = post_details(client, alternatives[0].value)
    assert retry.status_code == 302
    assert Appointment.objects.get(patient__email="rosa@example.com").starts_at == starts[0]
    assert len(mail.outbox) == 1


def test_sending_the_taken_form_without_choosing_a_new_time_asks_for_one(client: Client, clinic: Office) -> None:
    around = local_day(7, "10:00")
    response = client.post("/book/los-angeles/details/", {**DETAILS, "around": str(int(around.timestamp()))})
    assert response.status_code == 200
    assert "Please choose one of the times below." in response.content.decode()
    assert response.context["alternatives"]
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    "mangle",
    [
        lambda value: value[:-2] + ("AA" if not value.endswith("AA") else "BB"),
        # Another office id under the same signature.
        lambda value: str(int(value.split(".")[0]) + 1) + "." + value.split(".", 1)[1],
        lambda value: "not-a-slot",
        lambda value: value.split(":")[0],
    ],
)
def test_a_tampered_slot_is_refused_with_a_clear_message(client: Client, clinic: Office, mangle: Any) -> None:
    slot = mangle(offered(client)[0].value)
    response = post_details(client, slot)
    body = response.content.decode()
    assert response.status_code == 400
    assert "We could not read the time you chose. Please choose a time again." in body
    assert 'value="Rosa"' in body
    assert Appointment.objects.count() == 0
    assert Patient.objects.count() == 0
    shown = client.get("/book/los-angeles/details/", {"slot": slot})
    assert shown.status_code == 400
    assert "We could not read the time you chose. Please choose a time again." in shown.content.decode()


def test_a_slot_signed_for_one_office_is_refused_at_the_other(client: Client, clinic: Office) -> None:
    slot = offered(client)[0].value
    response = post_details(client, slot, office="encino")
    assert response.status_code == 400
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda: local_day(-1, "10:00"), "That time has already passed. Please choose another time."),
        (
            lambda: (timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0),
            "Online bookings need at least 24 hours' notice. Please choose a later time, or call the office.",
        ),
        (lambda: local_day(120, "10:00"), "Times can be booked up to 90 days ahead. Please choose an earlier time."),
        (lambda: local_day(10, "03:00"), "The provider does not see patients at this office at that time."),
    ],
    ids=["in-the-past", "too-soon", "too-far-ahead", "outside-hours"],
)
def test_a_time_that_cannot_be_booked_is_explained_with_the_nearest_free_times(
    client: Client, clinic: Office, when: Any, message: str
) -> None:
    response = post_details(client, sign(starts_at=when()))
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["problem"] == f"{message} Here are the nearest free times:"
    assert "Here are the nearest free times:" in body
    assert 'value="Rosa"' in body
    assert Appointment.objects.count() == 0
    assert Patient.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "Please tell us your first name."),
        ("last_name", "  ", "Please tell us your last name."),
        ("phone", "", "Please give a phone number, in case we need to reach you."),
        ("phone", "12", "Please check the phone number, for example 818-555-0199."),
        ("email", "", "Please give an email address for the confirmation."),
        ("email", "rosa-at-example", "Please check the email address: it should look like name@example.com."),
        ("date_of_birth", "", "Please give your date of birth."),
        ("date_of_birth", "14.03.1958", "Please check the date of birth, for example 03/14/1958."),
        ("date_of_birth", "2999-01-01", "The date of birth cannot be in the future."),
        ("date_of_birth", "1800-01-01", "Please check the year of birth."),
        ("area_of_concern", None, "Please choose one."),
        ("area_of_concern", "lungs", "Select a valid choice. lungs is not one of the available choices."),
    ],
)
def test_a_bad_field_is_explained_next_to_it_and_the_rest_is_kept(
    client: Client, clinic: Office, field: str, value: str | None, message: str
) -> None:
    choice = offered(client)[0]
    overrides: dict[str, Any] = {field: value}
    response = post_details(client, choice.value, **overrides)
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert f'id="id_{field}_error"' in body
    assert f'<input type="hidden" name="slot" value="{choice.value}">' in body
    assert 'value="(818) 555-0199"' in body or field == "phone"
    assert Appointment.objects.count() == 0


def test_a_date_of_birth_typed_as_month_day_year_is_understood(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, _ = book(client, outbox_capture, date_of_birth="03/14/1958")
    assert appointment.patient.date_of_birth == date(1958, 3, 14)


def test_the_booking_pages_never_put_health_information_in_a_url(client: Client, clinic: Office) -> None:
    slot = offered(client)[0].value
    body = client.get("/book/los-angeles/details/", {"slot": slot}).content.decode()
    assert '<form method="post" action="/book/los-angeles/details/"' in body
    response = client.get("/book/los-angeles/details/", {"slot": slot, **DETAILS})
    assert response.status_code == 200
    assert Appointment.objects.count() == 0


# --- Call back ----------------------------------------------------------------------------------


def test_a_person_asks_for_a_call_back_and_is_thanked(client: Client, clinic: Office) -> None:
    encino = Office.objects.get(slug="encino")
    form = client.get("/book/encino/callback/")
    assert form.status_code == 200
    assert f'<option value="{encino.pk}" selected>Encino</option>' in form.content.decode()
    response = client.post(
        "/book/encino/callback/",
        {
            "office": encino.pk,
            "name": "Jorge Ruiz",
            "phone": "818 555 0123",
            "email": "",
            "preferred_times": "Weekday mornings",
            "website": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/book/callback/thanks/"
    request = CallbackRequest.objects.get()
    assert (request.office, request.name, request.phone, request.email, request.preferred_times, request.handled) == (
        encino,
        "Jorge Ruiz",
        "818 555 0123",
        "",
        "Weekday mornings",
        False,
    )
    assert "Thank you, we will call you back" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Please tell us your name."),
        ("phone", "", "Please give a phone number so we can call you."),
        ("phone", "55", "Please check the phone number, for example 818-555-0199."),
        ("email", "jorge@", "Please check the email address: it should look like name@example.com."),
    ],
)
def test_a_bad_call_back_request_is_explained_next_to_the_field(
    client: Client, clinic: Office, field: str, value: str, message: str
) -> None:
    data = {"office": clinic.pk, "name": "Jorge", "phone": "818 555 0123", "email": "", "preferred_times": ""}
    response = client.post("/book/los-angeles/callback/", {**data, field: value})
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert f'id="id_{field}_error"' in response.content.decode()
    assert CallbackRequest.objects.count() == 0


def test_a_call_back_form_filled_by_a_bot_is_not_saved(client: Client, clinic: Office) -> None:
    data = {"office": clinic.pk, "name": "Bot", "phone": "818 555 0123", "website": "http://spam.example"}
    response = client.post("/book/los-angeles/callback/", data)
    assert response.status_code == 200
    assert CallbackRequest.objects.count() == 0


# --- Managing a booking from its links ----------------------------------------------------------


def test_the_manage_page_shows_when_and_where_and_nothing_about_health(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, token = book(client, outbox_capture, index=8)
    response = client.get(f"/book/manage/{token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    local = appointment.starts_at.astimezone(LA)
    assert f"{local:%A}, {local:%B} {local.day}, {local.year}" in body
    assert "Los Angeles office" in body
    assert f'action="/book/manage/{token}/cancel/"' in body
    assert f'href="/book/manage/{token}/reschedule/"' in body
    for text in [*HEALTH_STRINGS, "Rosa", "Díaz"]:
        assert text not in body


@pytest.mark.parametrize("suffix", ["", "booked/", "cancel/", "reschedule/", "calendar.ics"])
def test_a_tampered_link_gets_a_clear_404(client: Client, clinic: Office, outbox_capture: Any, suffix: str) -> None:
    appointment, token = book(client, outbox_capture)
    forged = f"{appointment.uuid.hex}.{tokens.manage_token_read(token).version}:{'A' * 43}"
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged, "nonsense"):
        response = (client.post if suffix == "cancel/" else client.get)(f"/book/manage/{bad}/{suffix}")
        assert response.status_code == 404
        assert "This link is not valid. Please use the link in your email, or call the office." in (
            response.content.decode()
        )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_a_patient_cancels_from_the_link_and_is_emailed_after_commit(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, token = book(client, outbox_capture)
    mail.outbox.clear()
    with outbox_capture(execute=False) as callbacks:
        response = client.post(f"/book/manage/{token}/cancel/")
    assert response.status_code == 302
    assert response["Location"] == f"/book/manage/{token}/"
    assert len(callbacks) == 1 and mail.outbox == []
    callbacks[0]()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    [email] = mail.outbox
    day = display.long_day_label(appointment.starts_at, clinic)
    at = display.time_label(appointment.starts_at, clinic)
    assert email.subject == f"Your appointment on {day} at {at} is cancelled"
    assert email.body.startswith(f"Your appointment is cancelled:\n\n{day}, {at} (Pacific Time)\n")
    assert "http://127.0.0.1:8000/book/los-angeles/" in email.body
    for text in HEALTH_STRINGS:
        assert text not in email.body
    event_calendar = Calendar.from_ical(email.attachments[0][1])
    assert (str(event_calendar["method"]), str(event_calendar.walk("VEVENT")[0]["status"])) == (
        "CANCEL",
        "CANCELLED",
    )
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "Your appointment is cancelled. We have sent you an email to confirm." in body
    assert "This appointment is cancelled" in body
    assert "/cancel/" not in body
    # Cancelling again (a second click) changes nothing and sends nothing.
    with outbox_capture(execute=True):
        client.post(f"/book/manage/{token}/cancel/")
    assert len(mail.outbox) == 1


def test_cancelling_inside_the_cut_off_is_refused_with_the_office_phone(client: Client, clinic: Office) -> None:
    starts_at = timezone.now() + timedelta(hours=3)
    appointment = Appointment.objects.create(
        office=clinic,
        provider=Provider.objects.order_by("pk")[0],
        appointment_type=AppointmentType.objects.get(slug="new-patient-consultation"),
        patient=other_patient(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        blocks_until=starts_at + timedelta(minutes=60),
        source=Appointment.Source.STAFF,
    )
    token = tokens.manage_token(appointment)
    page = client.get(f"/book/manage/{token}/").content.decode()
    assert (
        "Appointments can be cancelled or moved online up to 24 hours before. "
        "To cancel or change this one, please call the office at (310) 555-0100."
    ) in page
    assert "/cancel/" not in page
    response = client.post(f"/book/manage/{token}/cancel/", follow=True)
    assert (
        "Appointments can be cancelled or moved online up to 24 hours before. Please call the office."
        in response.content.decode()
    )
    moved = client.get(f"/book/manage/{token}/reschedule/", follow=True)
    assert "It is too late to move this appointment online. Please call the office at (310) 555-0100." in (
        moved.content.decode()
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.starts_at == starts_at
    assert mail.outbox == []


def test_a_patient_moves_the_appointment_and_the_old_links_stop_working(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, old_token = book(client, outbox_capture)
    mail.outbox.clear()
    page = client.get(f"/book/manage/{old_token}/reschedule/")
    assert page.status_code == 200
    new_choice = [c for day in page.context["days"] for c in day.times][10]
    new_start = tokens.slot_unsign(new_choice.value).starts_at
    with outbox_capture(execute=True) as callbacks:
        response = client.post(f"/book/manage/{old_token}/reschedule/", {"slot": new_choice.value})
    assert len(callbacks) == 1
    appointment.refresh_from_db()
    assert appointment.starts_at == new_start
    new_token = tokens.manage_token(appointment)
    assert new_token != old_token
    assert response.status_code == 302
    assert response["Location"] == f"/book/manage/{new_token}/"
    assert "Your appointment was moved." in client.get(response["Location"]).content.decode()

    for suffix in ("", "calendar.ics", "reschedule/"):
        stale = client.get(f"/book/manage/{old_token}/{suffix}")
        assert stale.status_code == 404
        assert "This link is from before your appointment was moved, so it no longer works." in (stale.content.decode())
    assert client.post(f"/book/manage/{old_token}/cancel/").status_code == 404

    [email] = mail.outbox
    day, at = display.long_day_label(new_start, clinic), display.time_label(new_start, clinic)
    assert email.subject == f"Your appointment was moved: {day} at {at}"
    assert email.body.startswith(f"Your appointment was moved. The new time is:\n\n{day}, {at} (Pacific Time)\n")
    assert f"/book/manage/{new_token}/" in email.body
    assert old_token not in email.body
    event = Calendar.from_ical(email.attachments[0][1]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == new_start
    assert event.decoded("sequence") == 2


def test_the_reschedule_page_offers_times_overlapping_the_appointments_own_time(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    # Only one provider in Los Angeles that day, so the appointment's own slot is the only thing in the way.
    appointment, token = book(client, outbox_capture)
    page = client.get(f"/book/manage/{token}/reschedule/")
    offered_starts = {tokens.slot_unsign(c.value).starts_at for day in page.context["days"] for c in day.times}
    own = appointment.starts_at
    later = own + timedelta(minutes=30)  # overlaps its current 45 minutes and buffer
    assert own not in offered_starts  # moving to where it already is means nothing
    assert later in offered_starts
    signed = next(
        c.value for day in page.context["days"] for c in day.times if tokens.slot_unsign(c.value).starts_at == later
    )
    with outbox_capture(execute=True) as queued:
        moved = client.post(f"/book/manage/{token}/reschedule/", {"slot": signed})
    assert moved.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.starts_at, len(queued)) == (later, 1)


def test_a_patient_created_by_the_booking_form_leaves_an_audit_row_naming_them(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    audit_clear()
    appointment, _ = book(client, outbox_capture)
    patient = appointment.patient
    assert list(
        AuditEvent.objects.order_by("id").values_list("actor", "action", "object_type", "object_ref", "patient")
    ) == [
        (None, "create", "patient", str(patient.uuid), patient.pk),
        (None, "create", "appointment", str(appointment.uuid), patient.pk),
    ]


def test_moving_into_a_time_taken_a_moment_ago_offers_the_nearest_times(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, token = book(client, outbox_capture)
    page = client.get(f"/book/manage/{token}/reschedule/")
    target = [c for day in page.context["days"] for c in day.times][12]
    signed = tokens.slot_unsign(target.value)
    services.appointment_book(
        office=clinic,
        provider=Provider.objects.get(pk=signed.provider_id),
        appointment_type=appointment.appointment_type,
        starts_at=signed.starts_at,
        patient=other_patient(),
        source=Appointment.Source.ONLINE,
    )
    mail.outbox.clear()
    with outbox_capture(execute=True):
        response = client.post(f"/book/manage/{token}/reschedule/", {"slot": target.value})
    assert response.status_code == 409
    assert "Sorry, that time was just taken. Here are the nearest free times:" in response.content.decode()
    assert len(response.context["alternatives"]) == 6
    old_start = appointment.starts_at
    appointment.refresh_from_db()
    assert appointment.starts_at == old_start
    assert mail.outbox == []


def test_moving_to_a_tampered_time_is_refused(client: Client, clinic: Office, outbox_capture: Any) -> None:
    _appointment, token = book(client, outbox_capture)
    response = client.post(f"/book/manage/{token}/reschedule/", {"slot": "1.1.1.2000000000:forged"})
    assert response.status_code == 400
    assert "We could not read the time you chose. Please choose a time again." in response.content.decode()


def procedure_visit(clinic: Office) -> tuple[Appointment, str]:
    """A procedure visit (not booked online) five days ahead, as the front desk books it; and its manage token."""
    starts_at = local_day(5, "09:00")
    appointment = Appointment.objects.create(
        office=clinic,
        provider=Provider.objects.order_by("pk")[0],
        appointment_type=AppointmentType.objects.get(slug="procedure-visit"),
        patient=other_patient(),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=150),
        blocks_until=starts_at + timedelta(minutes=180),
        source=Appointment.Source.STAFF,
    )
    return appointment, tokens.manage_token(appointment)


CALL_TO_CHANGE = "To change this appointment, please call the office at (310) 555-0100."


def test_a_visit_not_booked_online_can_be_cancelled_from_its_link_but_not_moved(client: Client, clinic: Office) -> None:
    _appointment, token = procedure_visit(clinic)
    body = client.get(f"/book/manage/{token}/").content.decode()
    assert CALL_TO_CHANGE in body
    assert f'action="/book/manage/{token}/cancel/"' in body
    assert f'href="/book/manage/{token}/calendar.ics"' in body
    assert "/reschedule/" not in body
    assert "Choose another time" not in body
    assert "Appointment at the Los Angeles office (Pacific Time)" in body
    assert "Procedure" not in body
    booked = client.get(f"/book/manage/{token}/booked/").content.decode()
    assert CALL_TO_CHANGE in booked
    assert "/reschedule/" not in booked


def test_the_reschedule_page_of_a_visit_not_booked_online_says_to_call_and_refuses_a_move(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    appointment, token = procedure_visit(clinic)
    page = client.get(f"/book/manage/{token}/reschedule/")
    body = page.content.decode()
    assert page.status_code == 200
    assert CALL_TO_CHANGE in body
    assert "days" not in page.context
    assert 'name="slot"' not in body
    assert '<a class="button" href="tel:3105550100">Call (310) 555-0100</a>' in body
    # A time offered for the consultation, sent anyway (an old page, a crafted form), moves nothing.
    slot = offered(client)[0].value
    with outbox_capture(execute=True) as callbacks:
        refused = client.post(f"/book/manage/{token}/reschedule/", {"slot": slot})
    assert refused.status_code == 403
    assert CALL_TO_CHANGE in refused.content.decode()
    assert "days" not in refused.context
    before = appointment.starts_at
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.status) == (before, AppointmentStatus.BOOKED)
    assert (callbacks, mail.outbox) == ([], [])


def test_a_cancelled_visit_not_booked_online_says_to_call_to_book_again(
    client: Client, clinic: Office, outbox_capture: Any
) -> None:
    _appointment, token = procedure_visit(clinic)
    with outbox_capture(execute=True):
        response = client.post(f"/book/manage/{token}/cancel/", follow=True)
    body = response.content.decode()
    assert "This appointment is cancelled" in body
    assert "To book another time, please call the office at (310) 555-0100." in body
    assert 'href="/book/los-angeles/"' not in body.split("<main")[1].split("</main>")[0]
    [email] = mail.outbox
    assert "To book another time, please call the office at (310) 555-0100.\n" in email.body
    assert "/book/los-angeles/" not in email.body
    assert "Procedure" not in email.body


def test_the_calendar_link_downloads_the_ics(client: Client, clinic: Office, outbox_capture: Any) -> None:
    appointment, token = book(client, outbox_capture)
    response = client.get(f"/book/manage/{token}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="regenclinic-appointment.ics"'
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["uid"]) == f"{appointment.uuid}@127.0.0.1"
    assert event.decoded("dtstart") == appointment.starts_at


# --- Spanish ------------------------------------------------------------------------------------


def test_the_booking_pages_speak_spanish_under_es(client: Client, clinic: Office, outbox_capture: Any) -> None:
    response = client.get("/es/book/los-angeles/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Reservar una consulta en Los Ángeles" in body
    choice = next(c for day in response.context["days"] for c in day.times)
    assert 'action="/es/book/los-angeles/details/"' in body
    with outbox_capture(execute=True):
        booked = client.post("/es/book/los-angeles/details/", {**DETAILS, "slot": choice.value})
    assert booked.status_code == 302
    assert booked["Location"].startswith("/es/book/manage/")
    assert "<h1>Su cita está reservada</h1>" in client.get(booked["Location"]).content.decode()
    [email] = mail.outbox
    assert email.subject.startswith("Su cita está reservada: ")
    assert email.body.startswith("Su cita está reservada:\n\n")
    assert "/es/book/manage/" in email.body
    assert Appointment.objects.get().patient.preferred_language == "es"

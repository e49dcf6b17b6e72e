"""The front desk's calendar: who may see it, what it shows, booking, moving, statuses, arrivals, call-backs.

Personas: alice (front desk), bob (physician, the schedule's "Dr. Bob Example"), charlie
(processing technician). The schedule fixture's week of 3 March 2031 is far enough ahead
that the real clock never makes it the past.
"""

import html
import io
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES, audit_clear
from patients.models import Patient
from scheduling import services
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    ScheduleException,
)
from scheduling.tests.conftest import NOW, Schedule, hhmm, local, make_patient
from website.models import Office

DASH = "\N{EN DASH}"

pytestmark = pytest.mark.django_db

WEDNESDAY = date(2031, 3, 5)
THURSDAY = date(2031, 3, 6)
CALENDAR = "/staff/calendar/"
NEW = "/staff/calendar/new/"
TAKEN = "Sorry, that time was just taken. Please choose another time."


def book(s: Schedule, starts_at: datetime, **overrides: Any) -> Appointment:
    arguments: dict[str, Any] = {
        "office": s.la,
        "provider": s.doctor,
        "appointment_type": s.consult,
        "patient": s.rosa,
        "source": Appointment.Source.STAFF,
        "now": NOW,
    }
    arguments.update(overrides)
    return services.appointment_book(starts_at=starts_at, **arguments)


def text(response: Any) -> str:
    """The page's main content as a person reads it: no tags, entities decoded, whitespace collapsed."""
    page = response.content.decode()
    main = page[page.index('<main id="main"') : page.index("</main>")]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def week_url(**params: str) -> str:
    query = {"show": "office:los-angeles", "view": "week", "date": WEDNESDAY.isoformat()}
    query.update(params)
    return CALENDAR + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def audit_rows(**filters: Any) -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list("actor__username", "action", "object_type", "object_ref")
    )


def booking_form(s: Schedule, **changes: str) -> dict[str, str]:
    data = {
        "action": "book",
        "patient": "new",
        "first_name": "Nora",
        "last_name": "Example",
        "date_of_birth": "1959-04-12",
        "phone": "(818) 555-0123",
        "email": "",
        "language": "en",
        "appointment_type": s.consult.slug,
        "office": s.la.slug,
        "provider": str(s.doctor.uuid),
        "date": WEDNESDAY.isoformat(),
        "time": "10:00",
        "area_of_concern": "",
        "override_reason": "",
        "find_name": "",
        "find_date_of_birth": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def desk(client: Client, alice: User) -> Client:
    sign_in(client, alice)
    return client


# --- Who may see it ------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client: Client, schedule: Schedule) -> None:
    for path in (CALENDAR, NEW, CALENDAR + "arrivals/", CALENDAR + "callbacks/"):
        response = client.get(path)
        assert (response.status_code, response["Location"]) == (302, f"/accounts/sign-in/?next={path}")


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.RESEARCHER])
def test_it_is_a_403_for_lists_and_a_404_for_appointments_for_other_roles(
    client: Client, schedule: Schedule, role: str
) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    callback = CallbackRequest.objects.create(office=schedule.la, name="Olga Example", phone="310-555-0142")
    user = User.objects.create_user("someone", password="someone-password-1", role=role)
    sign_in(client, user)
    audit_clear()
    for path in (week_url(), NEW, CALENDAR + "arrivals/", CALENDAR + "callbacks/"):
        assert client.get(path).status_code == 403, path
    assert client.post(NEW, booking_form(schedule)).status_code == 403
    base = f"{CALENDAR}appointments/{appointment.uuid}/"
    assert client.get(base).status_code == 404
    for action, data in (
        ("move/", {"date": "2031-03-05", "time": "11:00"}),
        ("cancel/", {}),
        ("status/", {"status": "checked_in"}),
    ):
        assert client.post(base + action, data).status_code == 404, action
    assert client.post(f"{CALENDAR}callbacks/{callback.uuid}/done/").status_code == 404
    appointment.refresh_from_db()
    callback.refresh_from_db()
    assert (appointment.status, hhmm(appointment.starts_at), callback.handled) == ("booked", "10:00", False)
    assert Appointment.objects.count() == 1
    # Each refused attempt leaves one "denied" row (ten requests above), and nothing is recorded as allowed.
    assert AuditEvent.objects.filter(outcome="denied", actor=user, role=role).count() == 10
    assert AuditEvent.objects.exclude(outcome="denied").count() == 0
    assert sorted(set(AuditEvent.objects.filter(object_ref__gt="").values_list("object_ref", flat=True))) == sorted(
        {str(appointment.uuid), str(callback.uuid)}
    )


def test_charlie_the_technician_cannot_see_the_calendar(client: Client, schedule: Schedule, charlie: User) -> None:
    sign_in(client, charlie)
    assert client.get(week_url()).status_code == 403


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.ADMIN])
def test_the_front_desk_clinicians_and_the_administrator_see_the_calendar(
    client: Client, schedule: Schedule, role: str
) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    sign_in(client, User.objects.create_user("staffer", password="staffer-password-1", role=role))
    response = client.get(week_url())
    assert response.status_code == 200
    assert "Patient1 Example" in text(response)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RESEARCHER])
def test_managers_and_researchers_see_no_calendar_with_names(client: Client, schedule: Schedule, role: str) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    sign_in(client, User.objects.create_user("staffer", password="staffer-password-1", role=role))
    response = client.get(week_url())
    assert response.status_code == 403
    assert "Patient1 Example" not in response.content.decode()


# --- What it shows -------------------------------------------------------------------------------


def test_the_week_shows_each_appointment_with_time_type_patient_provider_room_and_status(
    desk: Client, schedule: Schedule, alice: User
) -> None:
    book(schedule, local(WEDNESDAY, "9:00"))
    procedure = book(schedule, local(WEDNESDAY, "11:00"), appointment_type=schedule.procedure, patient=schedule.luis)
    services.appointment_set_status(appointment=procedure, status=AppointmentStatus.CHECKED_IN, by=alice)
    response = desk.get(week_url())
    assert response.status_code == 200
    cal = response.context["cal"]
    assert [column.heading for column in cal.columns] == [
        "Mon, Mar 3",
        "Tue, Mar 4",
        "Wed, Mar 5",
        "Thu, Mar 6",
        "Fri, Mar 7",
        "Sat, Mar 8",
        "Sun, Mar 9",
    ]
    wednesday = cal.columns[2]
    assert [(e.time_range, e.appointment.patient.first_name) for e in wednesday.entries] == [
        (f"9 a.m. {DASH} 9:45 a.m.", "Patient1"),
        (f"11 a.m. {DASH} 1:30 p.m.", "Patient2"),
    ]
    assert all(not column.entries for i, column in enumerate(cal.columns) if i != 2)
    assert wednesday.notes == [f"Dr. Bob Example, 9 a.m. {DASH} 5 p.m."]
    page = text(response)
    assert (
        f"11 a.m. {DASH} 1:30 p.m. Patient2 Example Procedure visit Dr. Bob Example · Procedure room Checked in" in page
    )
    assert f"9 a.m. {DASH} 9:45 a.m. Patient1 Example Consultation Dr. Bob Example Booked" in page


def test_the_day_of_an_office_has_a_column_per_provider_working_there(desk: Client, schedule: Schedule) -> None:
    # Thursday: the PA works in Los Angeles, the doctor in Encino.
    book(schedule, local(THURSDAY, "9:00"), provider=schedule.pa)
    book(schedule, local(THURSDAY, "9:00"), office=schedule.encino, patient=schedule.luis)
    response = desk.get(week_url(view="day", date=THURSDAY.isoformat()))
    columns = response.context["cal"].columns
    assert [(c.heading, c.notes, [e.appointment.patient.first_name for e in c.entries]) for c in columns] == [
        ("Pat Kim, PA-C", [f"9 a.m. {DASH} 5 p.m."], ["Patient1"])
    ]
    assert response.context["cal"].title == "Thursday, March 6, 2031"


def test_the_calendar_of_a_provider_follows_them_across_offices(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "9:00"))
    book(schedule, local(THURSDAY, "9:00"), office=schedule.encino, patient=schedule.luis)
    book(schedule, local(THURSDAY, "10:00"), provider=schedule.pa, patient=make_patient(3))
    response = desk.get(week_url(show=f"provider:{schedule.doctor.uuid}"))
    cal = response.context["cal"]
    assert [(c.heading, [e.appointment.office.name for e in c.entries]) for c in cal.columns if c.entries] == [
        ("Wed, Mar 5", ["Los Angeles"]),
        ("Thu, Mar 6", ["Encino"]),
    ]
    assert cal.columns[3].notes == [f"Encino, 9 a.m. {DASH} 5 p.m."]
    assert "Dr. Bob Example · Encino" in text(response)


def test_the_calendar_of_a_room_shows_only_what_uses_it(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "9:00"))
    book(schedule, local(WEDNESDAY, "11:00"), appointment_type=schedule.procedure, patient=schedule.luis)
    response = desk.get(week_url(show=f"room:{schedule.la_room.pk}", view="day"))
    [column] = response.context["cal"].columns
    assert (column.heading, [e.time_range for e in column.entries]) == (
        "Procedure room, Los Angeles",
        [f"11 a.m. {DASH} 1:30 p.m."],
    )


def test_an_unknown_filter_or_date_falls_back_to_the_first_office_this_week(desk: Client, schedule: Schedule) -> None:
    response = desk.get(CALENDAR + "?show=office:nowhere&view=month&date=2031-02-30")
    query = response.context["query"]
    assert (response.status_code, query.scope.value, query.view) == (200, "office:los-angeles", "week")


def test_cancelled_appointments_show_only_when_asked(desk: Client, schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(WEDNESDAY, "9:00"))
    services.appointment_cancel(appointment=appointment, enforce_cutoff=False, by=alice, now=NOW)
    assert desk.get(week_url()).context["cal"].count == 0
    shown = desk.get(week_url(cancelled="1"))
    assert [e.appointment.status for e in shown.context["cal"].columns[2].entries] == ["cancelled"]


def test_closures_and_time_off_are_noted_on_their_day(desk: Client, schedule: Schedule) -> None:
    ScheduleException.objects.create(
        provider=schedule.doctor,
        starts_at=local(WEDNESDAY, "0:00"),
        ends_at=local(THURSDAY, "0:00"),
        kind=ScheduleException.Kind.TIME_OFF,
    )
    ScheduleException.objects.create(
        starts_at=local(THURSDAY, "0:00"), ends_at=local(date(2031, 3, 7), "0:00"), kind=ScheduleException.Kind.HOLIDAY
    )
    columns = desk.get(week_url()).context["cal"].columns
    assert columns[2].notes == [f"Dr. Bob Example, 9 a.m. {DASH} 5 p.m.", "Time off: Dr. Bob Example"]
    assert columns[3].notes == [f"Pat Kim, PA-C, 9 a.m. {DASH} 5 p.m.", "Holiday"]


def test_days_are_the_offices_days_across_the_spring_daylight_saving_change(desk: Client, schedule: Schedule) -> None:
    # Sunday 9 March 2031 has 23 hours in Los Angeles. Set-up rows, straight into the table.
    late_sunday = local(date(2031, 3, 9), "23:30")
    Appointment.objects.create(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        patient=schedule.rosa,
        starts_at=late_sunday,
        ends_at=late_sunday + timedelta(minutes=20),
        blocks_until=late_sunday + timedelta(minutes=20),
        source=Appointment.Source.STAFF,
    )
    book(schedule, local(date(2031, 3, 10), "9:00"), patient=schedule.luis)
    week = desk.get(week_url(date="2031-03-09")).context["cal"]
    assert [(c.heading, [e.time_range for e in c.entries]) for c in week.columns if c.entries] == [
        ("Sun, Mar 9", [f"11:30 p.m. {DASH} 11:50 p.m."])
    ]
    monday = desk.get(week_url(date="2031-03-10", view="day")).context["cal"]
    assert [e.time_range for c in monday.columns for e in c.entries] == [f"9 a.m. {DASH} 9:45 a.m."]


def test_nine_oclock_stays_nine_oclock_after_the_autumn_change(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(date(2031, 11, 3), "9:00"))
    cal = desk.get(week_url(date="2031-11-03")).context["cal"]
    assert [(c.heading, e.time_range) for c in cal.columns for e in c.entries] == [
        ("Mon, Nov 3", f"9 a.m. {DASH} 9:45 a.m.")
    ]


def test_no_url_on_the_calendar_carries_a_patients_name(desk: Client, schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "9:00"))
    page = desk.get(week_url()).content.decode()
    links = re.findall(r'(?:href|action)="([^"]*)"', page)
    assert f"/staff/calendar/appointments/{appointment.uuid}/" in links
    assert [link for link in links if "Patient1" in link or "Example" in link] == []


@pytest.mark.parametrize("rows", [1, 3])
def test_the_week_asks_a_fixed_number_of_queries(desk: Client, schedule: Schedule, rows: int) -> None:
    patients = [schedule.rosa, schedule.luis, make_patient(3)]
    for n in range(rows):
        book(schedule, local(WEDNESDAY, "9:00") + timedelta(hours=n), patient=patients[n])
    desk.get(week_url())  # warm the practice cache
    with CaptureQueriesContext(connection) as queries:
        response = desk.get(week_url())
    assert response.context["cal"].count == rows
    # session, user, authenticator, offices, providers, rooms, appointments (with everything shown),
    # hours, closures, audit row
    assert len(queries) == 10 + CHAIN_QUERIES, [q["sql"][:80] for q in queries]


@pytest.mark.parametrize("rows", [1, 3])
def test_the_day_asks_a_fixed_number_of_queries(desk: Client, schedule: Schedule, rows: int) -> None:
    patients = [schedule.rosa, schedule.luis, make_patient(3)]
    for n in range(rows):
        book(schedule, local(WEDNESDAY, "9:00") + timedelta(hours=n), patient=patients[n])
    desk.get(week_url(view="day"))
    with CaptureQueriesContext(connection) as queries:
        response = desk.get(week_url(view="day"))
    assert response.context["cal"].count == rows
    assert len(queries) == 10 + CHAIN_QUERIES


def test_reading_the_calendar_leaves_one_audit_row_naming_what_was_shown(
    desk: Client, schedule: Schedule, alice: User
) -> None:
    book(schedule, local(WEDNESDAY, "9:00"))
    audit_clear()
    desk.get(week_url())
    desk.get(week_url(show=f"provider:{schedule.doctor.uuid}", view="day"))
    assert audit_rows() == [
        ("alice", "view", "appointment_calendar", f"week:2031-03-03:office:{schedule.la.pk}"),
        ("alice", "view", "appointment_calendar", f"day:2031-03-05:provider:{schedule.doctor.pk}"),
    ]
    assert AuditEvent.objects.filter(ip_address="127.0.0.1").count() == 2


def test_the_calendar_speaks_spanish(desk: Client, schedule: Schedule) -> None:
    response = desk.get("/es" + week_url())
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()


# --- Booking -------------------------------------------------------------------------------------


def test_the_booking_form_is_filled_from_the_calendars_book_link(desk: Client, schedule: Schedule) -> None:
    response = desk.get(week_url(view="day"))
    [column] = response.context["cal"].columns
    assert column.book_url == f"/staff/calendar/new/?date=2031-03-05&office=los-angeles&provider={schedule.doctor.uuid}"
    form = desk.get(column.book_url).context["form"]
    assert (form["date"].value(), form["office"].value(), form["provider"].value()) == (
        "2031-03-05",
        "los-angeles",
        str(schedule.doctor.uuid),
    )


def test_the_front_desk_books_a_new_patient(desk: Client, schedule: Schedule, alice: User) -> None:
    audit_clear()
    response = desk.post(NEW, booking_form(schedule))
    appointment = Appointment.objects.select_related("patient").get()
    assert (response.status_code, response["Location"]) == (302, f"/staff/calendar/appointments/{appointment.uuid}/")
    patient = appointment.patient
    assert (patient.first_name, patient.last_name, patient.date_of_birth, patient.phone) == (
        "Nora",
        "Example",
        date(1959, 4, 12),
        "(818) 555-0123",
    )
    assert (appointment.starts_at, appointment.source, appointment.created_by, appointment.room) == (
        local(WEDNESDAY, "10:00"),
        "staff",
        alice,
        None,
    )
    assert audit_rows() == [
        ("alice", "create", "patient", str(patient.uuid)),
        ("alice", "create", "appointment", str(appointment.uuid)),
    ]
    detail = desk.get(response["Location"])
    assert "Appointment booked." in text(detail)
    assert f"Wednesday, March 5, 2031, 10 a.m. {DASH} 10:45 a.m." in text(detail)


def test_the_front_desk_finds_a_patient_on_file_and_books_them(desk: Client, schedule: Schedule, alice: User) -> None:
    audit_clear()
    found = desk.post(NEW, booking_form(schedule, action="find", patient="", find_name="patient2 exa"))
    assert found.status_code == 200
    assert list(found.context["form"].patients) == [str(schedule.luis.uuid)]
    assert "Patient2 Example, born 01/01/1960" in text(found)
    # What was typed for the visit is still there, unjudged.
    assert (found.context["form"]["time"].value(), found.context["form"].errors) == ("10:00", {})
    assert audit_rows() == [("alice", "view", "patient_search", "results:1")]
    booked = desk.post(NEW, booking_form(schedule, patient=str(schedule.luis.uuid), find_name="patient2 exa"))
    assert booked.status_code == 302
    assert Appointment.objects.get().patient == schedule.luis
    assert Patient.objects.count() == 2


def test_a_search_by_date_of_birth_finds_everyone_born_that_day(desk: Client, schedule: Schedule) -> None:
    found = desk.post(NEW, booking_form(schedule, action="find", find_date_of_birth="1960-01-01"))
    assert sorted(found.context["form"].patients) == sorted([str(schedule.rosa.uuid), str(schedule.luis.uuid)])


def test_an_empty_search_says_what_to_type(desk: Client, schedule: Schedule) -> None:
    response = desk.post(NEW, booking_form(schedule, action="find"))
    assert "Type part of the name or the date of birth, then search." in text(response)
    assert AuditEvent.objects.filter(object_type="patient_search").count() == 0


def test_a_new_patient_already_on_file_is_refused_and_nothing_is_saved(desk: Client, schedule: Schedule) -> None:
    response = desk.post(
        NEW, booking_form(schedule, first_name="patient1", last_name="EXAMPLE", date_of_birth="1960-01-01")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["patient"] == [
        "A patient with this name and date of birth is already on file. Find them above and choose them."
    ]
    assert (Appointment.objects.count(), Patient.objects.count()) == (0, 2)


def test_missing_details_are_marked_next_to_their_fields_and_what_was_typed_is_kept(
    desk: Client, schedule: Schedule
) -> None:
    response = desk.post(NEW, booking_form(schedule, last_name="", phone="12", time=""))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert (errors["last_name"], errors["phone"], errors["time"]) == (
        ["Please give the last name."],
        ["Please check the phone number, for example 818-555-0199."],
        ["Please choose a time."],
    )
    page = response.content.decode()
    assert 'value="Nora"' in page and 'value="1959-04-12"' in page
    assert (Appointment.objects.count(), Patient.objects.count()) == (0, 2)


def test_a_taken_time_is_a_409_with_the_message_the_nearest_times_and_everything_kept(
    desk: Client, schedule: Schedule
) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    response = desk.post(NEW, booking_form(schedule, time="10:15", area_of_concern="cartilage"))
    assert response.status_code == 409
    page = text(response)
    assert TAKEN in page
    assert 'value="Nora"' in response.content.decode()
    form = response.context["form"]
    assert (form["time"].value(), form["area_of_concern"].value()) == ("10:15", "cartilage")
    # The nearest free times with any provider at the office, ready to pick.
    picks = [alt["value"] for alt in response.context["alternatives"]]
    assert picks[:2] == [f"{schedule.doctor.uuid}|2031-03-05T09:00", f"{schedule.doctor.uuid}|2031-03-05T11:00"]
    assert (Appointment.objects.count(), Patient.objects.count()) == (1, 2)


def test_picking_one_of_the_nearest_times_fills_it_in_without_booking(desk: Client, schedule: Schedule) -> None:
    response = desk.post(NEW, booking_form(schedule, time="10:15", pick=f"{schedule.doctor.uuid}|2031-03-05T11:00"))
    form = response.context["form"]
    assert (form["date"].value(), form["time"].value(), form["first_name"].value()) == ("2031-03-05", "11:00", "Nora")
    assert Appointment.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time": "18:00"}, "The provider does not see patients at this office at that time."),
        ({"office": "encino"}, "The provider does not see patients at this office at that time."),
        ({"date": "2020-03-04"}, "That time has already passed. Please choose another time."),
        (
            {"date": "2031-03-09", "time": "02:30"},
            "The clocks skip this time on that night. Please choose another time.",
        ),
    ],
)
def test_times_the_rules_refuse_are_explained_and_nothing_is_saved(
    desk: Client, schedule: Schedule, changes: dict[str, str], message: str
) -> None:
    response = desk.post(NEW, booking_form(schedule, **changes))
    assert response.status_code == 200
    assert message in text(response)
    assert (Appointment.objects.count(), Patient.objects.count()) == (0, 2)


def test_a_procedure_visit_reserves_the_provider_and_the_room_and_says_which(desk: Client, schedule: Schedule) -> None:
    response = desk.post(NEW, booking_form(schedule, appointment_type=schedule.procedure.slug), follow=True)
    appointment = Appointment.objects.get()
    assert (appointment.provider, appointment.room) == (schedule.doctor, schedule.la_room)
    page = text(response)
    assert "Appointment booked, in Procedure room." in page
    assert "Room Procedure room" in page


def test_a_procedure_visit_with_the_room_taken_reserves_nothing(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(date(2031, 3, 4), "11:00"), provider=schedule.pa, appointment_type=schedule.procedure)
    # Tuesday: the PA holds the Los Angeles procedure room; the doctor is in Encino. Give the doctor LA hours too.
    WorkingHoursLA = schedule.doctor.working_hours.get(weekday=1)
    WorkingHoursLA.office = schedule.la
    WorkingHoursLA.save()
    response = desk.post(
        NEW, booking_form(schedule, appointment_type=schedule.procedure.slug, date="2031-03-04", time="11:00")
    )
    assert response.status_code == 409
    assert "No procedure room is free at that time. Please choose another time." in text(response)
    assert (Appointment.objects.count(), Patient.objects.count()) == (1, 2)


def test_bob_the_physician_books_over_an_appointment_with_a_written_reason(
    client: Client, schedule: Schedule, bob: User
) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    sign_in(client, bob)
    refused = client.post(NEW, booking_form(schedule, time="10:15"))
    assert refused.status_code == 409
    assert refused.context["form"].errors["override_reason"] == [
        "To book over the other appointment anyway, write the reason here and send again."
    ]
    assert 'name="override_reason"' in refused.content.decode()
    response = client.post(NEW, booking_form(schedule, time="10:15", override_reason="Post-op wound check, urgent"))
    assert response.status_code == 302
    second = Appointment.objects.get(starts_at=local(WEDNESDAY, "10:15"))
    assert (second.override_reason, second.created_by) == ("Post-op wound check, urgent", bob)
    detail = client.get(response["Location"])
    assert "Booked over another appointment because Post-op wound check, urgent" in text(detail)


def test_alice_cannot_override_even_with_a_reason(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    assert 'name="override_reason"' not in desk.get(NEW).content.decode()
    response = desk.post(NEW, booking_form(schedule, time="10:15", override_reason="Busy day"))
    assert response.status_code == 200
    assert response.context["form"].errors["override_reason"] == [
        "Only a physician can book over another appointment, and only with a written reason."
    ]
    # The refusal is shown next to its field, with the reason typed still there.
    assert "Busy day</textarea>" in response.content.decode()
    assert (Appointment.objects.count(), Patient.objects.count()) == (1, 2)


def test_the_patient_cannot_be_booked_twice_at_once(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"), provider=schedule.pa, office=schedule.encino)
    response = desk.post(NEW, booking_form(schedule, patient=str(schedule.rosa.uuid), time="10:15"))
    assert response.status_code == 409
    assert response.context["form"].errors["patient"] == ["The patient already has an appointment at that time."]


# --- One appointment: read, move, cancel, statuses -----------------------------------------------


def test_reading_an_appointment_leaves_one_audit_row(desk: Client, schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    audit_clear()
    response = desk.get(f"{CALENDAR}appointments/{appointment.uuid}/")
    assert response.status_code == 200
    assert "Patient1 Example" in text(response)
    assert audit_rows() == [("alice", "view", "appointment", str(appointment.uuid))]


def test_an_unknown_appointment_is_a_404(desk: Client, schedule: Schedule) -> None:
    assert desk.get(f"{CALENDAR}appointments/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_front_desk_moves_an_appointment_to_another_time_and_provider(
    desk: Client, schedule: Schedule, alice: User
) -> None:
    appointment = book(schedule, local(THURSDAY, "10:00"), office=schedule.la, provider=schedule.pa)
    audit_clear()
    response = desk.post(
        f"{CALENDAR}appointments/{appointment.uuid}/move/",
        {"date": "2031-03-05", "time": "14:30", "provider": str(schedule.doctor.uuid)},
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "/staff/calendar/?show=office%3Alos-angeles&view=week&date=2031-03-05",
    )
    appointment.refresh_from_db()
    assert (appointment.provider, appointment.starts_at, appointment.updated_by) == (
        schedule.doctor,
        local(WEDNESDAY, "14:30"),
        alice,
    )
    assert audit_rows() == [("alice", "change", "appointment", str(appointment.uuid))]
    week = desk.get(response["Location"])
    assert [str(m) for m in week.context["messages"]] == ["Moved. New time: Wednesday, March 5, 2031 at 2:30 p.m."]
    assert [e.appointment for e in week.context["cal"].columns[2].entries] == [appointment]


def test_moving_into_a_taken_time_keeps_the_old_time_and_what_was_typed(desk: Client, schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    appointment = book(schedule, local(WEDNESDAY, "14:00"), patient=schedule.luis)
    audit_clear()
    response = desk.post(
        f"{CALENDAR}appointments/{appointment.uuid}/move/",
        {"date": "2031-03-05", "time": "10:30", "provider": str(schedule.doctor.uuid)},
    )
    assert response.status_code == 409
    assert TAKEN in text(response)
    assert response.context["form"]["time"].value() == "10:30"
    appointment.refresh_from_db()
    assert hhmm(appointment.starts_at) == "14:00"
    # Shown again with the patient's name: one read, no change.
    assert audit_rows() == [("alice", "view", "appointment", str(appointment.uuid))]


def test_bob_moves_over_an_appointment_with_a_reason_and_alice_cannot(
    client: Client, schedule: Schedule, alice: User, bob: User
) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    appointment = book(schedule, local(WEDNESDAY, "14:00"), patient=schedule.luis)
    path = f"{CALENDAR}appointments/{appointment.uuid}/move/"
    data = {"date": "2031-03-05", "time": "10:30", "provider": str(schedule.doctor.uuid), "override_reason": "Fasting"}
    sign_in(client, alice)
    assert client.post(path, data).context["form"].errors["override_reason"] == [
        "Only a physician can book over another appointment, and only with a written reason."
    ]
    sign_in(client, bob)
    assert client.post(path, data).status_code == 302
    appointment.refresh_from_db()
    assert (hhmm(appointment.starts_at), appointment.override_reason, appointment.updated_by) == (
        "10:30",
        "Fasting",
        bob,
    )


def test_cancelling_frees_the_time(desk: Client, schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    path = f"{CALENDAR}appointments/{appointment.uuid}/"
    response = desk.post(path + "cancel/", {"next": path}, follow=True)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_at is not None) == ("cancelled", True)
    assert "Appointment cancelled. Its time is free again." in text(response)
    assert desk.post(NEW, booking_form(schedule)).status_code == 302


@pytest.mark.parametrize(
    ("steps", "final", "message"),
    [
        (["checked_in"], "checked_in", "Checked in."),
        (["checked_in", "completed"], "completed", "Marked completed."),
        (["no_show"], "no_show", "Marked as a no-show."),
        (["no_show", "checked_in"], "no_show", "A no-show appointment cannot be marked checked in."),
        (["cancelled"], "booked", "Choose check in, completed or no-show."),
    ],
)
def test_check_in_complete_and_no_show(
    desk: Client, schedule: Schedule, steps: list[str], final: str, message: str
) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    path = f"{CALENDAR}appointments/{appointment.uuid}/"
    for step in steps:
        response = desk.post(path + "status/", {"status": step, "next": path})
        assert (response.status_code, response["Location"]) == (302, path)
    appointment.refresh_from_db()
    assert appointment.status == final
    assert message in text(desk.get(path))


def test_a_next_address_off_the_site_is_ignored(desk: Client, schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    path = f"{CALENDAR}appointments/{appointment.uuid}/"
    response = desk.post(path + "status/", {"status": "checked_in", "next": "https://evil.example/"})
    assert response["Location"] == path


def test_changes_need_a_post(desk: Client, schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    for action in ("move/", "cancel/", "status/"):
        assert desk.get(f"{CALENDAR}appointments/{appointment.uuid}/{action}").status_code == 405


# --- Arrivals and call-backs ---------------------------------------------------------------------


def test_arrivals_list_who_is_expected_or_here_at_each_office(desk: Client, schedule: Schedule, alice: User) -> None:
    here = book(schedule, local(WEDNESDAY, "9:00"))
    services.appointment_set_status(appointment=here, status="checked_in", by=alice)
    done = book(schedule, local(WEDNESDAY, "10:00"), patient=schedule.luis)
    services.appointment_set_status(appointment=done, status="completed", by=alice)
    expected = book(schedule, local(WEDNESDAY, "11:00"), patient=make_patient(3))
    encino = book(
        schedule, local(WEDNESDAY, "11:00"), office=schedule.encino, provider=schedule.pa, patient=make_patient(4)
    )
    book(schedule, local(THURSDAY, "9:00"), provider=schedule.pa, patient=make_patient(5))
    audit_clear()
    response = desk.get(CALENDAR + "arrivals/?date=2031-03-05")
    sections = [(office.slug, [e.appointment for e in entries]) for office, entries in response.context["sections"]]
    assert sections == [("los-angeles", [here, expected]), ("encino", [encino])]
    assert audit_rows() == [("alice", "view", "appointment_arrivals", "2031-03-05:office:all")]
    one = desk.get(CALENDAR + "arrivals/?office=encino&date=2031-03-05")
    assert [(o.slug, len(e)) for o, e in one.context["sections"]] == [("encino", 1)]
    # Check in from the list, and come back to it.
    page = one.content.decode()
    assert f'action="/staff/calendar/appointments/{encino.uuid}/status/"' in page
    back = "/staff/calendar/arrivals/?office=encino&date=2031-03-05"
    response = desk.post(f"{CALENDAR}appointments/{encino.uuid}/status/", {"status": "checked_in", "next": back})
    assert response["Location"] == back
    encino.refresh_from_db()
    assert encino.status == "checked_in"


@pytest.mark.parametrize("rows", [1, 3])
def test_arrivals_ask_a_fixed_number_of_queries(desk: Client, schedule: Schedule, rows: int) -> None:
    patients = [schedule.rosa, schedule.luis, make_patient(3)]
    for n in range(rows):
        book(schedule, local(WEDNESDAY, "9:00") + timedelta(hours=n), patient=patients[n])
    desk.get(CALENDAR + "arrivals/?date=2031-03-05")
    with CaptureQueriesContext(connection) as queries:
        response = desk.get(CALENDAR + "arrivals/?date=2031-03-05")
    assert sum(len(entries) for _office, entries in response.context["sections"]) == rows
    # session, user, authenticator, offices, appointments (with everything shown), audit row
    assert len(queries) == 6 + CHAIN_QUERIES


def make_callback(office: Office, n: int) -> CallbackRequest:
    return CallbackRequest.objects.create(
        office=office, name=f"Caller{n} Example", phone=f"(310) 555-01{n:02d}", preferred_times="Mornings"
    )


def test_the_call_back_list_and_marking_one_done(desk: Client, schedule: Schedule, alice: User) -> None:
    first = make_callback(schedule.la, 1)
    second = make_callback(schedule.encino, 2)
    audit_clear()
    response = desk.get(CALENDAR + "callbacks/")
    assert [row for row, _received, _handled in response.context["rows"]] == [first, second]
    page = text(response)
    assert "Caller1 Example (310) 555-0101 Office Los Angeles Preferred times Mornings" in page
    la_only = desk.get(CALENDAR + "callbacks/?office=los-angeles")
    assert [row for row, _r, _h in la_only.context["rows"]] == [first]
    done = desk.post(f"{CALENDAR}callbacks/{first.uuid}/done/", {"next": "/staff/calendar/callbacks/"})
    assert done["Location"] == "/staff/calendar/callbacks/"
    first.refresh_from_db()
    assert (first.handled, first.handled_by) == (True, alice)
    assert [row for row, _r, _h in desk.get(CALENDAR + "callbacks/").context["rows"]] == [second]
    assert [row for row, _r, _h in desk.get(CALENDAR + "callbacks/?status=done").context["rows"]] == [first]
    assert audit_rows() == [
        ("alice", "view", "callback_requests", "open:office:all"),
        ("alice", "view", "callback_requests", f"open:office:{schedule.la.pk}"),
        ("alice", "change", "callback_request", str(first.uuid)),
        ("alice", "view", "callback_requests", "open:office:all"),
        ("alice", "view", "callback_requests", "done:office:all"),
    ]
    # Twice is once.
    desk.post(f"{CALENDAR}callbacks/{first.uuid}/done/")
    assert AuditEvent.objects.filter(action="change").count() == 1


@pytest.mark.parametrize("rows", [1, 3])
def test_the_call_back_list_asks_a_fixed_number_of_queries(desk: Client, schedule: Schedule, rows: int) -> None:
    for n in range(rows):
        make_callback(schedule.la, n)
    desk.get(CALENDAR + "callbacks/")
    with CaptureQueriesContext(connection) as queries:
        response = desk.get(CALENDAR + "callbacks/")
    assert len(response.context["rows"]) == rows
    # session, user, authenticator, offices, call-backs (with office and who handled them), audit row
    assert len(queries) == 6 + CHAIN_QUERIES


# --- The demo ------------------------------------------------------------------------------------


def test_the_demo_fills_the_calendar_once(practice: Any) -> None:
    def run() -> str:
        out = io.StringIO()
        call_command("load_demo_schedule", "--with-appointments", stdout=out)
        return out.getvalue().strip().splitlines()[-1]

    first = run()
    counts = (Appointment.objects.count(), CallbackRequest.objects.count(), Patient.objects.count())
    assert first == f"load_demo_schedule: {counts[0]} demo appointment(s), 3 call-back request(s) added"
    assert counts[0] >= 40 and counts[2] == 10
    assert run() == "load_demo_schedule: 0 demo appointment(s), 0 call-back request(s) added"
    assert (Appointment.objects.count(), CallbackRequest.objects.count(), Patient.objects.count()) == counts
    # Obviously fictional people.
    assert set(Patient.objects.values_list("last_name", flat=True)) == {"Example", "Sample", "Placeholder"}
    assert all(email.endswith("@example.com") for email in Patient.objects.values_list("email", flat=True))
    # A procedure visit holds its room.
    procedures = Appointment.objects.filter(appointment_type__slug="procedure-visit")
    assert procedures.exists() and not procedures.filter(room=None).exists()


def test_the_staff_bar_links_to_the_calendar(desk: Client, schedule: Schedule) -> None:
    assert f'href="{reverse("scheduling:staff_calendar")}"' in desk.get("/staff/inquiries/").content.decode()


def test_tampered_choices_get_clear_answers_never_a_500(desk: Client, schedule: Schedule) -> None:
    response = desk.post(
        NEW,
        booking_form(
            schedule,
            patient="not-a-uuid",
            provider="nope",
            office="atlantis",
            appointment_type="x",
            date="2031-02-30",
            time="25:00",
            pick="garbage",
        ),
    )
    assert response.status_code == 200
    response = desk.post(NEW, booking_form(schedule, patient="00000000-0000-0000-0000-000000000000", provider="nope"))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"patient", "provider"}
    assert desk.get(NEW + "?provider=nope&office=atlantis&date=soon").status_code == 200
    assert desk.get(CALENDAR + "?show=provider:nope&date=soon").status_code == 200
    assert (Appointment.objects.count(), Patient.objects.count()) == (0, 2)


def test_moving_an_appointment_that_is_not_booked_says_why(desk: Client, schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_set_status(appointment=appointment, status="checked_in", by=alice)
    response = desk.post(
        f"{CALENDAR}appointments/{appointment.uuid}/move/",
        {"date": "2031-03-05", "time": "11:00", "provider": str(schedule.doctor.uuid)},
    )
    assert response.status_code == 200
    assert "Only a booked appointment can be moved." in text(response)
    appointment.refresh_from_db()
    assert hhmm(appointment.starts_at) == "10:00"

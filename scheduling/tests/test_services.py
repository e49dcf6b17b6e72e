"""Booking, moving, cancelling and status changes: every rule, one at a time."""

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import AuditEvent, User
from accounts.tests.audit import audit_clear
from patients.models import Patient
from scheduling import rules, services
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Provider,
    Room,
    RoomKind,
    ScheduleException,
    WorkingHours,
)
from scheduling.rules import (
    InThePast,
    InvalidStatusChange,
    NoRoomFree,
    NotBookableOnline,
    OutsideHours,
    OverrideNotAllowed,
    PastCutoff,
    PatientBusy,
    SlotTaken,
    TooFarAhead,
    TooSoon,
    Unavailable,
)
from scheduling.tests.conftest import MONDAY, NEXT_MONDAY, NOW, TUESDAY, Schedule, hhmm, local, make_patient
from website.models import Office

WEDNESDAY = date(2031, 3, 5)
THURSDAY = date(2031, 3, 6)
SATURDAY = date(2031, 3, 8)
STAFF = Appointment.Source.STAFF
ONLINE = Appointment.Source.ONLINE


def book(s: Schedule, starts_at: datetime, **overrides: Any) -> Appointment:
    arguments: dict[str, Any] = {
        "office": s.la,
        "provider": s.doctor,
        "appointment_type": s.consult,
        "patient": s.rosa,
        "source": STAFF,
        "now": NOW,
    }
    arguments.update(overrides)
    return services.appointment_book(starts_at=starts_at, **arguments)


def active_count() -> int:
    return Appointment.objects.filter(status__in=["booked", "checked_in", "completed"]).count()


# --- Booking -------------------------------------------------------------------------------------


def test_booking_an_online_consultation_stores_its_end_and_its_buffer(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"), source=ONLINE, area_of_concern="osteoarthritis")
    appointment.refresh_from_db()
    assert (hhmm(appointment.starts_at), hhmm(appointment.ends_at), hhmm(appointment.blocks_until)) == (
        "10:00",
        "10:45",
        "11:00",
    )
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.source == ONLINE
    assert appointment.room is None
    assert appointment.history.count() == 1
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref")) == [
        ("create", "appointment", str(appointment.uuid))
    ]


def test_booking_rejects_a_slot_taken_a_moment_ago(schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    with pytest.raises(SlotTaken) as caught:
        book(schedule, local(WEDNESDAY, "10:00"), patient=schedule.luis, source=ONLINE)
    assert caught.value.messages == ["Sorry, that time was just taken. Please choose another time."]
    assert caught.value.code == "slot_taken"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("start", ["09:15", "09:30", "10:15", "10:30", "10:45"])
def test_booking_refuses_a_partial_overlap(schedule: Schedule, start: str) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))  # occupies 10:00-11:00 (45 min + 15 buffer)
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, start), patient=schedule.luis)
    assert Appointment.objects.count() == 1


def test_back_to_back_appointments_are_allowed_on_both_sides(schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    before = book(schedule, local(WEDNESDAY, "09:00"), patient=schedule.luis)
    after = book(schedule, local(WEDNESDAY, "11:00"), patient=make_patient(3))
    assert (hhmm(before.blocks_until), hhmm(after.starts_at)) == ("10:00", "11:00")
    assert active_count() == 3


def test_the_buffer_after_an_appointment_is_kept_free(schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))  # ends 10:45, buffer until 11:00
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "10:45"), patient=schedule.luis, appointment_type=schedule.follow_up)


def test_a_cancelled_appointment_frees_its_time(schedule: Schedule) -> None:
    first = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_cancel(appointment=first, enforce_cutoff=True, now=NOW)
    second = book(schedule, local(WEDNESDAY, "10:00"), patient=schedule.luis)
    assert (first.status, second.status) == (AppointmentStatus.CANCELLED, AppointmentStatus.BOOKED)


def test_a_no_show_frees_its_time(schedule: Schedule, alice: User) -> None:
    first = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_set_status(appointment=first, status=AppointmentStatus.NO_SHOW, by=alice)
    second = book(schedule, local(WEDNESDAY, "10:00"), patient=schedule.luis)
    assert second.status == AppointmentStatus.BOOKED


def test_booking_rejects_a_time_in_the_past_even_for_staff(schedule: Schedule) -> None:
    with pytest.raises(InThePast) as caught:
        book(schedule, NOW - timedelta(minutes=1))
    assert caught.value.messages == ["That time has already passed. Please choose another time."]


def test_booking_rejects_a_time_without_a_time_zone(schedule: Schedule) -> None:
    with pytest.raises(rules.BookingError) as caught:
        book(schedule, datetime(2031, 3, 5, 10, 0))
    assert caught.value.messages == ["The time must include a time zone."]


def test_booking_rejects_a_time_between_minutes(schedule: Schedule) -> None:
    with pytest.raises(rules.BookingError) as caught:
        book(schedule, local(WEDNESDAY, "10:00") + timedelta(seconds=30))
    assert caught.value.messages == ["Appointments start on a whole minute."]


def test_online_booking_needs_the_minimum_notice(schedule: Schedule) -> None:
    with pytest.raises(TooSoon) as caught:
        book(schedule, local(MONDAY, "15:00"), source=ONLINE)
    assert caught.value.messages == [
        "Online bookings need at least 24 hours' notice. Please choose a later time, or call the office."
    ]


def test_staff_may_book_inside_the_minimum_notice(schedule: Schedule) -> None:
    appointment = book(schedule, local(MONDAY, "09:00"), source=STAFF)
    assert hhmm(appointment.starts_at) == "09:00"


def test_online_booking_beyond_the_horizon_is_refused_but_staff_may(schedule: Schedule) -> None:
    far = local(date(2031, 6, 6), "10:00")  # a Friday, 95 days ahead
    with pytest.raises(TooFarAhead) as caught:
        book(schedule, far, source=ONLINE)
    assert caught.value.messages == ["Times can be booked up to 90 days ahead. Please choose an earlier time."]
    assert book(schedule, far, source=STAFF).starts_at == far


def test_a_staff_only_visit_cannot_be_booked_online(schedule: Schedule) -> None:
    with pytest.raises(NotBookableOnline):
        book(schedule, local(WEDNESDAY, "10:00"), appointment_type=schedule.follow_up, source=ONLINE)


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (WEDNESDAY, "08:45"),  # before opening
        (WEDNESDAY, "16:30"),  # would end 17:15, after closing
        (SATURDAY, "10:00"),  # no hours on Saturdays
        (TUESDAY, "10:00"),  # the doctor is in Encino on Tuesdays
    ],
)
def test_booking_outside_the_providers_hours_at_that_office_is_refused(
    schedule: Schedule, day: date, start: str
) -> None:
    with pytest.raises(OutsideHours) as caught:
        book(schedule, local(day, start))
    assert caught.value.messages == ["The provider does not see patients at this office at that time."]


def test_a_visit_may_end_exactly_at_closing_with_its_buffer_after(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "16:15"))
    assert (hhmm(appointment.ends_at), hhmm(appointment.blocks_until)) == ("17:00", "17:15")


def test_a_provider_works_at_each_office_on_its_own_days(schedule: Schedule) -> None:
    in_encino = book(schedule, local(TUESDAY, "10:00"), office=schedule.encino)
    in_la = book(schedule, local(WEDNESDAY, "10:00"), office=schedule.la, patient=schedule.luis)
    assert (in_encino.office, in_la.office) == (schedule.encino, schedule.la)


def test_time_off_makes_the_provider_unavailable(schedule: Schedule) -> None:
    ScheduleException.objects.create(
        provider=schedule.doctor, starts_at=local(WEDNESDAY, "12:00"), ends_at=local(WEDNESDAY, "17:00")
    )
    with pytest.raises(Unavailable) as caught:
        book(schedule, local(WEDNESDAY, "11:30"))
    assert caught.value.messages == ["The provider is away or the office is closed at that time."]
    assert book(schedule, local(WEDNESDAY, "11:00")).starts_at == local(WEDNESDAY, "11:00")


def test_an_office_closure_stops_bookings_there_only(schedule: Schedule) -> None:
    ScheduleException.objects.create(
        office=schedule.la,
        kind=ScheduleException.Kind.CLOSURE,
        starts_at=local(MONDAY, "00:00"),
        ends_at=local(TUESDAY + timedelta(days=1), "00:00"),
    )
    with pytest.raises(Unavailable):
        book(schedule, local(TUESDAY, "10:00"), provider=schedule.pa)
    assert book(schedule, local(TUESDAY, "10:00"), office=schedule.encino).office == schedule.encino


def test_a_practice_holiday_stops_bookings_everywhere(schedule: Schedule) -> None:
    ScheduleException.objects.create(
        kind=ScheduleException.Kind.HOLIDAY, starts_at=local(TUESDAY, "00:00"), ends_at=local(WEDNESDAY, "00:00")
    )
    for office, provider in ((schedule.la, schedule.pa), (schedule.encino, schedule.doctor)):
        with pytest.raises(Unavailable):
            book(schedule, local(TUESDAY, "10:00"), office=office, provider=provider)


def test_booking_with_an_inactive_provider_is_refused(schedule: Schedule) -> None:
    schedule.doctor.is_active = False
    schedule.doctor.save()
    with pytest.raises(Unavailable):
        book(schedule, local(WEDNESDAY, "10:00"))


# --- Rooms ---------------------------------------------------------------------------------------


def test_a_procedure_visit_reserves_the_provider_and_the_procedure_room_together(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure)
    assert (appointment.room, hhmm(appointment.ends_at), hhmm(appointment.blocks_until)) == (
        schedule.la_room,
        "11:30",
        "12:00",
    )


def test_a_procedure_visit_is_refused_when_the_room_is_taken_and_reserves_nothing(schedule: Schedule) -> None:
    friday = date(2031, 3, 7)
    WorkingHours.objects.create(provider=schedule.pa, office=schedule.la, weekday=4, starts=time(9), ends=time(17))
    book(schedule, local(friday, "09:00"), appointment_type=schedule.procedure)  # LA's only room until 12:00
    with pytest.raises(NoRoomFree) as caught:
        book(
            schedule,
            local(friday, "10:00"),
            provider=schedule.pa,
            appointment_type=schedule.procedure,
            patient=schedule.luis,
        )
    assert caught.value.messages == ["No procedure room is free at that time. Please choose another time."]
    assert list(Appointment.objects.values_list("provider", flat=True)) == [schedule.doctor.pk]


def test_a_second_procedure_room_lets_two_procedures_run_at_once(schedule: Schedule) -> None:
    second_room = Room.objects.create(office=schedule.encino, name="Procedure room 2", kind=RoomKind.PROCEDURE)
    first = book(schedule, local(TUESDAY, "09:00"), office=schedule.encino, appointment_type=schedule.procedure)
    WorkingHours.objects.filter(provider=schedule.pa, office=schedule.la, weekday=1).update(office=schedule.encino)
    second = book(
        schedule,
        local(TUESDAY, "09:00"),
        office=schedule.encino,
        provider=schedule.pa,
        appointment_type=schedule.procedure,
        patient=schedule.luis,
    )
    assert (first.room, second.room) == (schedule.encino_room, second_room)


def test_a_procedure_visit_with_the_provider_busy_reserves_no_room(schedule: Schedule) -> None:
    book(schedule, local(WEDNESDAY, "11:00"))
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure, patient=schedule.luis)
    assert list(Appointment.objects.exclude(room=None)) == []


def test_a_room_out_of_use_is_not_given(schedule: Schedule) -> None:
    ScheduleException.objects.create(
        room=schedule.la_room, starts_at=local(WEDNESDAY, "00:00"), ends_at=local(THURSDAY, "00:00")
    )
    with pytest.raises(NoRoomFree):
        book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure)


# --- The patient ---------------------------------------------------------------------------------


def test_a_patient_cannot_be_in_two_appointments_at_once(schedule: Schedule) -> None:
    book(schedule, local(TUESDAY, "10:00"), office=schedule.encino)
    with pytest.raises(PatientBusy) as caught:
        book(schedule, local(TUESDAY, "10:30"), provider=schedule.pa)
    assert caught.value.messages == ["The patient already has an appointment at that time."]


# --- Overrides -----------------------------------------------------------------------------------


def test_a_physician_may_book_over_an_appointment_with_a_written_reason(schedule: Schedule, bob: User) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    second = book(
        schedule, local(WEDNESDAY, "10:15"), patient=schedule.luis, by=bob, override_reason="  Urgent recheck  "
    )
    second.refresh_from_db()
    assert (second.override_reason, second.created_by) == ("Urgent recheck", bob)
    assert active_count() == 2


def test_an_override_without_an_overlap_records_no_reason(schedule: Schedule, bob: User) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"), by=bob, override_reason="Just in case")
    assert appointment.override_reason == ""


def test_an_overlap_without_a_reason_is_refused_even_for_a_physician(schedule: Schedule, bob: User) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "10:15"), patient=schedule.luis, by=bob, override_reason="   ")


@pytest.mark.parametrize("who", ["alice", "nobody"])
def test_only_a_physician_may_override(schedule: Schedule, alice: User, who: str) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    with pytest.raises(OverrideNotAllowed) as caught:
        book(
            schedule,
            local(WEDNESDAY, "10:15"),
            patient=schedule.luis,
            by=alice if who == "alice" else None,
            override_reason="Busy day",
        )
    assert caught.value.messages == [
        "Only a physician can book over another appointment, and only with a written reason."
    ]


def test_an_override_never_double_books_the_patient_or_the_room(schedule: Schedule, bob: User) -> None:
    book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure)
    with pytest.raises(PatientBusy):
        book(schedule, local(WEDNESDAY, "10:00"), by=bob, override_reason="Squeeze in")
    with pytest.raises(NoRoomFree):
        book(
            schedule,
            local(WEDNESDAY, "10:00"),
            appointment_type=schedule.procedure,
            patient=schedule.luis,
            by=bob,
            override_reason="Squeeze in",
        )


# --- Cancelling ----------------------------------------------------------------------------------


def test_a_patient_cannot_cancel_online_inside_the_cutoff(schedule: Schedule) -> None:
    appointment = book(schedule, local(MONDAY, "15:00"))
    with pytest.raises(PastCutoff) as caught:
        services.appointment_cancel(appointment=appointment, enforce_cutoff=True, now=NOW)
    assert caught.value.messages == [
        "Appointments can be cancelled or moved online up to 24 hours before. Please call the office."
    ]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_staff_may_cancel_inside_the_cutoff(schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(MONDAY, "15:00"))
    services.appointment_cancel(appointment=appointment, enforce_cutoff=False, by=alice, now=NOW)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_at, appointment.updated_by) == ("cancelled", NOW, alice)
    assert [row.history_user for row in appointment.history.all()] == [alice, None]


def test_cancelling_twice_changes_nothing_the_second_time(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_cancel(appointment=appointment, enforce_cutoff=True, now=NOW)
    services.appointment_cancel(appointment=appointment, enforce_cutoff=True, now=NOW + timedelta(hours=1))
    appointment.refresh_from_db()
    assert (appointment.cancelled_at, appointment.history.count()) == (NOW, 2)


def test_a_completed_appointment_cannot_be_cancelled(schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(MONDAY, "09:00"))
    services.appointment_set_status(appointment=appointment, status=AppointmentStatus.COMPLETED, by=alice)
    with pytest.raises(InvalidStatusChange) as caught:
        services.appointment_cancel(appointment=appointment, enforce_cutoff=False, by=alice, now=NOW)
    assert caught.value.messages == ["A completed appointment cannot be marked cancelled."]


# --- Moving --------------------------------------------------------------------------------------


def test_an_appointment_can_move_into_a_time_overlapping_its_own_old_time(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_reschedule(
        appointment=appointment, starts_at=local(WEDNESDAY, "10:30"), enforce_cutoff=True, now=NOW
    )
    appointment.refresh_from_db()
    assert (hhmm(appointment.starts_at), hhmm(appointment.ends_at), hhmm(appointment.blocks_until)) == (
        "10:30",
        "11:15",
        "11:30",
    )
    assert appointment.history.count() == 2


def test_moving_into_a_taken_time_is_refused_and_keeps_the_old_time(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    book(schedule, local(WEDNESDAY, "14:00"), patient=schedule.luis)
    with pytest.raises(SlotTaken):
        services.appointment_reschedule(
            appointment=appointment, starts_at=local(WEDNESDAY, "14:30"), enforce_cutoff=True, now=NOW
        )
    assert hhmm(appointment.starts_at) == "10:00"
    appointment.refresh_from_db()
    assert hhmm(appointment.starts_at) == "10:00"


def test_moving_to_another_provider_follows_their_hours(schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(TUESDAY, "10:00"), office=schedule.encino)
    with pytest.raises(OutsideHours):
        services.appointment_reschedule(
            appointment=appointment, starts_at=local(TUESDAY, "11:00"), provider=schedule.pa, by=alice,
            enforce_cutoff=False, now=NOW,
        )  # fmt: skip
    moved = services.appointment_reschedule(
        appointment=appointment, starts_at=local(WEDNESDAY, "11:00"), provider=schedule.pa, by=alice,
        enforce_cutoff=False, now=NOW,
    )  # fmt: skip
    assert (moved.provider, moved.office, moved.updated_by) == (schedule.pa, schedule.encino, alice)


def test_a_patient_cannot_move_an_appointment_inside_the_cutoff(schedule: Schedule) -> None:
    appointment = book(schedule, local(MONDAY, "15:00"))
    with pytest.raises(PastCutoff):
        services.appointment_reschedule(
            appointment=appointment, starts_at=local(WEDNESDAY, "10:00"), enforce_cutoff=True, now=NOW
        )


def test_a_patient_moving_online_needs_the_minimum_notice(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "15:00"))
    with pytest.raises(TooSoon):
        services.appointment_reschedule(
            appointment=appointment, starts_at=local(MONDAY, "16:00"), enforce_cutoff=True, now=NOW
        )


def test_a_cancelled_appointment_cannot_be_moved(schedule: Schedule) -> None:
    appointment = book(schedule, local(WEDNESDAY, "10:00"))
    services.appointment_cancel(appointment=appointment, enforce_cutoff=True, now=NOW)
    with pytest.raises(rules.BookingError) as caught:
        services.appointment_reschedule(
            appointment=appointment, starts_at=local(WEDNESDAY, "11:00"), enforce_cutoff=True, now=NOW
        )
    assert caught.value.messages == ["Only a booked appointment can be moved."]


def test_moving_a_procedure_visit_finds_it_a_room_again(schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure)
    moved = services.appointment_reschedule(
        appointment=appointment, starts_at=local(WEDNESDAY, "10:00"), by=alice, enforce_cutoff=False, now=NOW
    )
    assert (moved.room, hhmm(moved.blocks_until)) == (schedule.la_room, "13:00")


# --- Status --------------------------------------------------------------------------------------


def test_check_in_then_complete(schedule: Schedule, alice: User) -> None:
    appointment = book(schedule, local(MONDAY, "09:00"))
    services.appointment_set_status(appointment=appointment, status=AppointmentStatus.CHECKED_IN, by=alice)
    services.appointment_set_status(appointment=appointment, status=AppointmentStatus.COMPLETED, by=alice)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.updated_by) == (AppointmentStatus.COMPLETED, alice)
    assert [row.status for row in appointment.history.order_by("history_date")] == ["booked", "checked_in", "completed"]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("checked_in", "no_show", "A checked in appointment cannot be marked no-show."),
        ("no_show", "checked_in", "A no-show appointment cannot be marked checked in."),
        (None, "cancelled", "A booked appointment cannot be marked cancelled."),
    ],
)
def test_status_changes_outside_the_allowed_ones_are_refused(
    schedule: Schedule, alice: User, first: str | None, then: str, message: str
) -> None:
    appointment = book(schedule, local(MONDAY, "09:00"))
    if first:
        services.appointment_set_status(appointment=appointment, status=first, by=alice)
    with pytest.raises(InvalidStatusChange) as caught:
        services.appointment_set_status(appointment=appointment, status=then, by=alice)
    assert caught.value.messages == [message]


# --- Time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2031, 3, 7), 17),  # Friday before the March change: PST, UTC-8
        (NEXT_MONDAY, 16),  # Monday after it: PDT, UTC-7
        (date(2031, 10, 31), 16),  # Friday before the November change: PDT
        (date(2031, 11, 3), 17),  # Monday after it: PST
    ],
)
def test_nine_oclock_is_nine_oclock_in_los_angeles_across_daylight_saving(
    schedule: Schedule, alice: User, day: date, utc_hour: int
) -> None:
    appointment = book(schedule, local(day, "09:00"), by=alice)
    appointment.refresh_from_db()
    assert (appointment.starts_at.hour, hhmm(appointment.starts_at)) == (utc_hour, "09:00")


# --- Hours and the database's guarantees -----------------------------------------------------------


def test_weekly_hours_at_offices_in_other_time_zones_are_compared_as_moments(schedule: Schedule) -> None:
    # The doctor works 9:00-17:00 in Los Angeles on Mondays. New York runs three hours ahead.
    new_york = Office.objects.create(
        name="New York", slug="new-york", street="1 Example Street", city="New York", state="NY",
        postal_code="10001", phone="(212) 555-0100", time_zone="America/New_York",
    )  # fmt: skip
    # 10:00-12:00 in New York is 7:00-9:00 in Los Angeles: before the Los Angeles hours, so allowed.
    WorkingHours(provider=schedule.doctor, office=new_york, weekday=0, starts=time(10), ends=time(12)).full_clean()
    # 18:00-20:00 in New York is 15:00-17:00 in Los Angeles: the same moments, so refused.
    evening = WorkingHours(provider=schedule.doctor, office=new_york, weekday=0, starts=time(18), ends=time(20))
    with pytest.raises(ValidationError) as caught:
        evening.full_clean()
    assert caught.value.messages == ["These hours overlap the provider's hours at Los Angeles, 09:00-17:00."]


def test_overlapping_weekly_hours_are_refused_even_across_offices(schedule: Schedule) -> None:
    clash = WorkingHours(provider=schedule.doctor, office=schedule.encino, weekday=0, starts=time(16), ends=time(18))
    with pytest.raises(ValidationError) as caught:
        clash.full_clean()
    assert caught.value.messages == ["These hours overlap the provider's hours at Los Angeles, 09:00-17:00."]
    later = WorkingHours(provider=schedule.doctor, office=schedule.encino, weekday=0, starts=time(17), ends=time(19))
    later.full_clean()


def test_the_database_refuses_hours_that_end_before_they_start(schedule: Schedule) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingHours.objects.create(provider=schedule.pa, office=schedule.la, weekday=5, starts=time(12), ends=time(9))


def _raw(s: Schedule, start: str, **fields: Any) -> Appointment:
    starts_at = local(WEDNESDAY, start)
    values: dict[str, Any] = {
        "office": s.la,
        "provider": s.doctor,
        "appointment_type": s.consult,
        "patient": s.rosa,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=45),
        "blocks_until": starts_at + timedelta(minutes=60),
        "source": STAFF,
    }
    values.update(fields)
    return Appointment.objects.create(**values)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints exist on PostgreSQL only")
def test_postgresql_itself_refuses_overlapping_rows_whatever_the_caller(schedule: Schedule) -> None:
    _raw(schedule, "10:00", room=schedule.la_room)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("appointment_provider_no_overlap", {"patient": schedule.luis}),
        ("appointment_room_no_overlap", {"provider": schedule.pa, "patient": schedule.luis, "room": schedule.la_room}),
        ("appointment_patient_no_overlap", {"provider": schedule.pa}),
    ]
    for constraint, fields in cases:
        with pytest.raises(IntegrityError) as caught, transaction.atomic():
            _raw(schedule, "10:30", **fields)
        assert getattr(caught.value.__cause__, "diag").constraint_name == constraint  # noqa: B009
    # Back-to-back, cancelled and physician-overridden rows pass.
    _raw(schedule, "11:00", patient=schedule.luis)
    _raw(schedule, "10:30", patient=make_patient(3), status=AppointmentStatus.CANCELLED)
    _raw(schedule, "10:30", patient=make_patient(4), override_reason="Urgent")
    assert Appointment.objects.count() == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints exist on PostgreSQL only")
def test_an_overlap_only_the_database_catches_still_gets_the_typed_answer(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(schedule, local(WEDNESDAY, "09:00"), appointment_type=schedule.procedure)
    # Blind the services' own re-check, as a race between two processes would.
    monkeypatch.setattr(services, "active_appointments", Appointment.objects.none)
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "10:00"), patient=schedule.luis)
    third = Provider.objects.create(name="Dr. Third")
    WorkingHours.objects.create(provider=third, office=schedule.la, weekday=2, starts=time(9), ends=time(17))
    with pytest.raises(PatientBusy):
        book(schedule, local(WEDNESDAY, "10:00"), provider=third)
    with pytest.raises(NoRoomFree):
        book(
            schedule,
            local(WEDNESDAY, "10:00"),
            provider=third,
            appointment_type=schedule.procedure,
            patient=schedule.luis,
        )
    assert Appointment.objects.count() == 1


# --- One booking service, whoever books ------------------------------------------------------------------


def details(**overrides: Any) -> Any:
    from patients.services import PatientDetails

    values: dict[str, Any] = {
        "first_name": "Nora",
        "last_name": "Example",
        "date_of_birth": date(1959, 4, 12),
        "phone": "(818) 555-0123",
        "email": "nora@example.com",
    }
    values.update(overrides)
    return PatientDetails(**values)


def test_the_same_online_form_sent_again_moments_later_returns_its_booking_by_the_services_clock(
    schedule: Schedule,
) -> None:
    first = book(schedule, local(WEDNESDAY, "10:00"), patient=details(), source=ONLINE)
    # Nine minutes later by the clock the service is given (not the machine's): the same booking, nothing new.
    again = book(
        schedule, local(WEDNESDAY, "10:00"), patient=details(email="NORA@example.com"), source=ONLINE,
        now=NOW + timedelta(minutes=9),
    )  # fmt: skip
    assert again == first
    assert (Appointment.objects.count(), first.patient.__class__.objects.count()) == (1, 3)
    # Eleven minutes later it is somebody trying a taken slot.
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "10:00"), patient=details(), source=ONLINE, now=NOW + timedelta(minutes=11))


def test_the_front_desk_typing_in_a_patient_already_on_file_is_refused_and_nothing_is_saved(
    schedule: Schedule, alice: User
) -> None:
    from patients.services import PatientExists

    with pytest.raises(PatientExists) as caught:
        book(
            schedule, local(WEDNESDAY, "10:00"), by=alice,
            patient=details(first_name="patient1", last_name="EXAMPLE", date_of_birth=date(1960, 1, 1)),
        )  # fmt: skip
    assert caught.value.messages == [
        "A patient with this name and date of birth is already on file. Find them above and choose them."
    ]
    assert (Appointment.objects.count(), AuditEvent.objects.count()) == (0, 0)


@pytest.mark.parametrize("field", ["first_name", "last_name", "phone", "email"])
@pytest.mark.parametrize("source", [ONLINE, "staff"])
def test_details_holding_a_nul_character_are_refused_before_any_query(
    schedule: Schedule, alice: User, field: str, source: str
) -> None:
    # Forms refuse NUL themselves; a caller of the service gets the same refusal, not PostgreSQL's DataError.
    with pytest.raises(ValidationError) as caught:
        book(
            schedule, local(WEDNESDAY, "10:00"), patient=details(**{field: "Nora\x00"}), source=source,
            by=None if source == ONLINE else alice,
        )  # fmt: skip
    assert caught.value.message_dict == {field: ["Null characters are not allowed."]}
    assert (Appointment.objects.count(), Patient.objects.filter(first_name__startswith="Nora").count()) == (0, 0)


@pytest.mark.parametrize("source", [ONLINE, "staff"])
@pytest.mark.parametrize("years", [-1, 121])  # tomorrow's date a year on, or more than 120 years ago
def test_a_date_of_birth_no_form_would_take_is_refused_by_the_service_too(
    schedule: Schedule, alice: User, source: str, years: int
) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    born = date(today.year - years, 1, 1) if years > 0 else today + timedelta(days=366)
    with pytest.raises(ValidationError) as caught:
        book(
            schedule, local(WEDNESDAY, "10:00"), patient=details(date_of_birth=born), source=source,
            by=None if source == ONLINE else alice,
        )  # fmt: skip
    assert list(caught.value.message_dict) == ["date_of_birth"]
    assert (Appointment.objects.count(), Patient.objects.filter(first_name="Nora").count()) == (0, 0)


def test_a_refused_booking_leaves_no_new_patient_and_no_audit_row(schedule: Schedule, alice: User) -> None:
    book(schedule, local(WEDNESDAY, "10:00"))
    audit_clear()
    with pytest.raises(SlotTaken):
        book(schedule, local(WEDNESDAY, "10:15"), patient=details(), by=alice)
    assert not Patient.objects.filter(first_name="Nora").exists()
    assert AuditEvent.objects.count() == 0

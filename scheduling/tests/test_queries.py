"""The free-time search: what it offers, in what order, and how few queries it costs."""

from datetime import date, time, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from scheduling import rules, services
from scheduling.availability import FreeDay, Slot, free_slots, nearest_free_slots, next_free_days, soonest_free_slots
from scheduling.models import Appointment, Provider, ScheduleException, WorkingHours
from scheduling.tests.conftest import LA_ZONE, MONDAY, NEXT_MONDAY, NOW, TUESDAY, Schedule, hhmm, local, make_patient

WEDNESDAY = date(2031, 3, 5)
THURSDAY = date(2031, 3, 6)
STAFF = Appointment.Source.STAFF


def times(start: str, end: str) -> list[str]:
    """Every quarter hour from `start` to `end`, both included, as 'HH:MM'."""
    day = date(2000, 1, 1)
    moment = local(day, start)
    last = local(day, end)
    found = []
    while moment <= last:
        found.append(f"{moment:%H:%M}")
        moment += timedelta(minutes=15)
    return found


def test_free_slots_leave_out_an_appointment_and_its_buffer(schedule: Schedule) -> None:
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.consult,
        starts_at=local(WEDNESDAY, "10:00"), patient=schedule.rosa, source=STAFF, now=NOW,
    )  # fmt: skip
    slots = free_slots(
        offices=[schedule.la], appointment_type=schedule.consult, start_date=WEDNESDAY, end_date=WEDNESDAY, now=NOW
    )
    assert [hhmm(slot.starts_at) for slot in slots] == ["09:00", *times("11:00", "16:15")]
    assert slots[0] == Slot(
        starts_at=local(WEDNESDAY, "09:00"),
        ends_at=local(WEDNESDAY, "09:45"),
        provider_id=schedule.doctor.pk,
        office_id=schedule.la.pk,
    )


def test_free_slots_leave_out_time_off(schedule: Schedule) -> None:
    ScheduleException.objects.create(
        provider=schedule.doctor, starts_at=local(WEDNESDAY, "12:00"), ends_at=local(WEDNESDAY, "17:00")
    )
    slots = free_slots(
        offices=[schedule.la], appointment_type=schedule.consult, start_date=WEDNESDAY, end_date=WEDNESDAY, now=NOW
    )
    assert [hhmm(slot.starts_at) for slot in slots] == times("09:00", "11:00")


def test_free_slots_offer_only_what_online_patients_may_book(schedule: Schedule) -> None:
    online = free_slots(
        offices=[schedule.la], appointment_type=schedule.consult, start_date=MONDAY, end_date=TUESDAY, now=NOW
    )
    staff = free_slots(
        offices=[schedule.la],
        appointment_type=schedule.consult,
        start_date=MONDAY,
        end_date=TUESDAY,
        now=NOW,
        source=STAFF,
    )
    # Monday is inside the 24 hours' notice for patients, not for staff.
    assert (online[0].starts_at, online[0].provider_id) == (local(TUESDAY, "09:00"), schedule.pa.pk)
    assert (staff[0].starts_at, staff[0].provider_id) == (local(MONDAY, "09:00"), schedule.doctor.pk)
    assert len(staff) - len(online) == 30
    assert (
        free_slots(
            offices=[schedule.la], appointment_type=schedule.follow_up, start_date=MONDAY, end_date=TUESDAY, now=NOW
        )
        == []
    )


def test_free_slots_stop_at_the_horizon(schedule: Schedule) -> None:
    slots = free_slots(
        offices=[schedule.la],
        appointment_type=schedule.consult,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=120),
        now=NOW,
    )
    # NOW + 90 days is Sunday 1 June 2031: the last offered day is Friday 30 May.
    assert (slots[-1].starts_at.astimezone(LA_ZONE).date(), hhmm(slots[-1].starts_at)) == (date(2031, 5, 30), "16:15")


def test_free_slots_are_ordered_by_time_then_provider(schedule: Schedule) -> None:
    third = Provider.objects.create(name="Dr. Third")
    WorkingHours.objects.create(provider=third, office=schedule.la, weekday=1, starts=time(9), ends=time(17))
    slots = free_slots(
        offices=[schedule.la], appointment_type=schedule.consult, start_date=TUESDAY, end_date=THURSDAY, now=NOW
    )
    assert slots == sorted(slots, key=lambda slot: (slot.starts_at, slot.provider_id))
    assert [slot.provider_id for slot in slots[:2]] == sorted([schedule.pa.pk, third.pk])


def test_a_procedure_is_offered_only_when_a_procedure_room_is_free(schedule: Schedule) -> None:
    third = Provider.objects.create(name="Dr. Third")
    WorkingHours.objects.create(provider=third, office=schedule.la, weekday=2, starts=time(9), ends=time(17))
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.procedure,
        starts_at=local(WEDNESDAY, "09:00"), patient=schedule.rosa, source=STAFF, now=NOW,
    )  # fmt: skip
    slots = free_slots(
        offices=[schedule.la],
        appointment_type=schedule.procedure,
        start_date=WEDNESDAY,
        end_date=WEDNESDAY,
        provider=third,
        now=NOW,
        source=STAFF,
    )
    # The room is busy until 12:00; a visit of 2.5 h must end by 17:00.
    assert [hhmm(slot.starts_at) for slot in slots] == times("12:00", "14:30")


@pytest.mark.parametrize(
    ("day", "now", "utc_hour"),
    [
        (NEXT_MONDAY, NOW, 16),  # the Monday after clocks go forward
        (date(2031, 11, 3), local(date(2031, 10, 27), "07:00"), 17),  # the Monday after they go back
    ],
)
def test_a_nine_oclock_slot_is_nine_oclock_local_after_the_daylight_saving_change(
    schedule: Schedule, day: date, now: object, utc_hour: int
) -> None:
    slots = free_slots(
        offices=[schedule.la],
        appointment_type=schedule.consult,
        start_date=day,
        end_date=day,
        now=now,  # type: ignore[arg-type]
    )
    assert (hhmm(slots[0].starts_at), slots[0].starts_at.hour, hhmm(slots[-1].starts_at), len(slots)) == (
        "09:00",
        utc_hour,
        "16:15",
        30,
    )


def test_every_offered_slot_can_be_booked(schedule: Schedule) -> None:
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.procedure,
        starts_at=local(WEDNESDAY, "13:00"), patient=schedule.luis, source=STAFF, now=NOW,
    )  # fmt: skip
    for appointment_type in (schedule.consult, schedule.follow_up):
        slots = free_slots(
            offices=[schedule.la],
            appointment_type=appointment_type,
            start_date=WEDNESDAY,
            end_date=THURSDAY,
            now=NOW,
            source=STAFF,
        )
        assert len(slots) > 20
        for slot in slots:
            savepoint = transaction.savepoint()
            services.appointment_book(
                office=schedule.la,
                provider=Provider.objects.get(pk=slot.provider_id),
                appointment_type=appointment_type,
                starts_at=slot.starts_at,
                patient=schedule.rosa,
                source=STAFF,
                now=NOW,
            )
            transaction.savepoint_rollback(savepoint)


def test_next_free_days_groups_slots_by_local_date(schedule: Schedule) -> None:
    days = next_free_days(office=schedule.la, appointment_type=schedule.consult, days=3, now=NOW)
    assert [(free.day, len(free.slots)) for free in days] == [
        (TUESDAY, 30),
        (WEDNESDAY, 30),
        (THURSDAY, 30),
    ]
    assert isinstance(days[0], FreeDay)
    assert (days[1].slots[0].provider_id, hhmm(days[1].slots[0].starts_at)) == (schedule.doctor.pk, "09:00")


def test_nearest_free_slots_answer_a_time_just_taken(schedule: Schedule) -> None:
    taken = local(WEDNESDAY, "10:00")
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.consult,
        starts_at=taken, patient=schedule.rosa, source=STAFF, now=NOW,
    )  # fmt: skip
    nearest = nearest_free_slots(office=schedule.la, appointment_type=schedule.consult, around=taken, now=NOW)
    assert [hhmm(slot.starts_at) for slot in nearest] == ["09:00", "11:00", "11:15"]


def _busy_practice(schedule: Schedule, providers: int) -> None:
    """`providers` more providers in LA on weekdays, each with appointments and time off over 90 days."""
    patients = [make_patient(10 + n) for n in range(providers)]
    for n in range(providers):
        provider = Provider.objects.create(name=f"Dr. Extra {n}")
        WorkingHours.objects.bulk_create(
            WorkingHours(provider=provider, office=schedule.la, weekday=d, starts=time(9), ends=time(17))
            for d in range(5)
        )
        for week in range(12):
            day = WEDNESDAY + timedelta(weeks=week)
            Appointment.objects.create(
                office=schedule.la, provider=provider, appointment_type=schedule.consult, patient=patients[n],
                starts_at=local(day, "10:00"), ends_at=local(day, "10:45"), blocks_until=local(day, "11:00"),
                source=STAFF,
            )  # fmt: skip
        ScheduleException.objects.create(
            provider=provider, starts_at=local(THURSDAY, "00:00"), ends_at=local(THURSDAY, "23:00")
        )


@pytest.mark.parametrize(("type_name", "expected"), [("consult", 4), ("procedure", 5)])
def test_free_slots_cost_the_same_queries_for_a_week_of_one_provider_and_ninety_days_of_six_at_two_offices(
    schedule: Schedule, type_name: str, expected: int
) -> None:
    _busy_practice(schedule, providers=5)
    appointment_type = getattr(schedule, type_name)
    counts = []
    both = [schedule.la, schedule.encino]
    for days, provider, offices in (
        (7, schedule.doctor, [schedule.la]),
        (90, schedule.doctor, [schedule.la]),
        (7, None, [schedule.la]),
        (90, None, [schedule.la]),
        (90, None, both),
    ):
        with CaptureQueriesContext(connection) as queries:
            slots = free_slots(
                offices=offices,
                appointment_type=appointment_type,
                start_date=MONDAY,
                end_date=MONDAY + timedelta(days=days - 1),
                provider=provider,
                now=NOW,
                source=STAFF,
            )
        assert slots
        counts.append(len(queries))
    assert counts == [expected] * 5


def test_free_slots_offer_exactly_the_grid_starts_that_booking_accepts(schedule: Schedule) -> None:
    """Every quarter hour of a busy day, tried one by one through the booking service, against the search."""
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.consult,
        starts_at=local(WEDNESDAY, "10:00"), patient=schedule.rosa, source=STAFF, now=NOW,
    )  # fmt: skip
    services.appointment_book(
        office=schedule.la, provider=schedule.doctor, appointment_type=schedule.follow_up,
        starts_at=local(WEDNESDAY, "11:50"), patient=schedule.luis, source=STAFF, now=NOW,
    )  # fmt: skip
    # Time off from half a second before 15:00 to a quarter second after 15:45: a visit
    # ending at 15:00 runs into it, and so does one starting at 15:45.
    ScheduleException.objects.create(
        provider=schedule.doctor,
        starts_at=local(WEDNESDAY, "14:59") + timedelta(seconds=59.5),
        ends_at=local(WEDNESDAY, "15:45") + timedelta(seconds=0.25),
    )
    patient = make_patient(3)
    expected = {
        # 60 minutes with the buffer: 14:00 would run into the time off by half a second.
        "consult": ["09:00", *times("12:15", "13:45"), "16:00", "16:15"],
        "follow-up": [
            *times("09:00", "09:30"),
            *times("11:00", "11:30"),
            *times("12:15", "14:30"),
            *times("16:00", "16:30"),
        ],
    }
    for appointment_type in (schedule.consult, schedule.follow_up):
        accepted = []
        for start in times("09:00", "16:45"):
            savepoint = transaction.savepoint()
            try:
                services.appointment_book(
                    office=schedule.la, provider=schedule.doctor, appointment_type=appointment_type,
                    starts_at=local(WEDNESDAY, start), patient=patient, source=STAFF, now=NOW,
                )  # fmt: skip
            except rules.BookingError:
                pass
            else:
                accepted.append(start)
            transaction.savepoint_rollback(savepoint)
        offered = free_slots(
            offices=[schedule.la],
            appointment_type=appointment_type,
            start_date=WEDNESDAY,
            end_date=WEDNESDAY,
            provider=schedule.doctor,
            now=NOW,
            source=STAFF,
        )
        assert [hhmm(slot.starts_at) for slot in offered] == accepted
        assert accepted == expected[appointment_type.slug]


def test_one_search_of_both_offices_finds_what_two_searches_find(schedule: Schedule) -> None:
    services.appointment_book(
        office=schedule.encino, provider=schedule.doctor, appointment_type=schedule.consult,
        starts_at=local(THURSDAY, "10:00"), patient=schedule.rosa, source=STAFF, now=NOW,
    )  # fmt: skip
    ScheduleException.objects.create(
        office=schedule.la, kind=ScheduleException.Kind.CLOSURE,
        starts_at=local(TUESDAY, "12:00"), ends_at=local(TUESDAY, "17:00"),
    )  # fmt: skip
    for appointment_type, source in ((schedule.consult, Appointment.Source.ONLINE), (schedule.procedure, STAFF)):
        search: dict[str, Any] = {
            "appointment_type": appointment_type, "start_date": MONDAY, "end_date": NEXT_MONDAY, "now": NOW,
            "source": source,
        }  # fmt: skip
        la = free_slots(offices=[schedule.la], **search)
        encino = free_slots(offices=[schedule.encino], **search)
        both = free_slots(offices=[schedule.encino, schedule.la], **search)
        first = {schedule.encino.pk: 0, schedule.la.pk: 1}
        assert both == sorted(la + encino, key=lambda slot: (slot.starts_at, first[slot.office_id], slot.provider_id))
        assert {slot.office_id for slot in la} == {schedule.la.pk}
        assert {slot.office_id for slot in encino} == {schedule.encino.pk}
    # The closure of Los Angeles leaves Encino open; the doctor's Encino booking is busy everywhere.
    tuesday = [
        (slot.office_id, hhmm(slot.starts_at))
        for slot in free_slots(
            offices=[schedule.la, schedule.encino],
            appointment_type=schedule.consult,
            start_date=TUESDAY,
            end_date=TUESDAY,
            now=NOW,
        )
        if slot.starts_at >= local(TUESDAY, "12:00")
    ]
    assert {office_id for office_id, _ in tuesday} == {schedule.encino.pk}
    thursday = free_slots(
        offices=[schedule.la, schedule.encino], appointment_type=schedule.consult, provider=schedule.doctor,
        start_date=THURSDAY, end_date=THURSDAY, now=NOW,
    )  # fmt: skip
    assert [hhmm(slot.starts_at) for slot in thursday] == ["09:00", *times("11:00", "16:15")]


def test_soonest_free_slots_give_each_office_its_first_time(schedule: Schedule) -> None:
    # Monday 7:00 with 24 h notice: Tuesday 7:00 is the earliest; everyone starts at 9:00.
    soonest = soonest_free_slots(offices=[schedule.la, schedule.encino], appointment_type=schedule.consult, now=NOW)
    assert {
        office_id: (slot.provider_id, hhmm(slot.starts_at), slot.starts_at.date())
        for office_id, slot in soonest.items()
    } == {
        schedule.la.pk: (schedule.pa.pk, "09:00", TUESDAY),
        schedule.encino.pk: (schedule.doctor.pk, "09:00", TUESDAY),
    }
    ScheduleException.objects.create(
        office=schedule.encino, kind=ScheduleException.Kind.CLOSURE,
        starts_at=local(MONDAY, "00:00"), ends_at=local(MONDAY, "00:00") + timedelta(days=120),
    )  # fmt: skip
    ScheduleException.objects.create(
        provider=schedule.pa, starts_at=local(TUESDAY, "00:00"), ends_at=local(WEDNESDAY, "00:00")
    )
    soonest = soonest_free_slots(offices=[schedule.la, schedule.encino], appointment_type=schedule.consult, now=NOW)
    assert [(office_id, slot.provider_id, slot.starts_at) for office_id, slot in soonest.items()] == [
        (schedule.la.pk, schedule.doctor.pk, local(WEDNESDAY, "09:00"))
    ]

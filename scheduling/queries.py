"""Reads of the scheduling domain: the free-time search.

`free_slots` asks the database a fixed number of questions whatever the date range or
the number of providers (the booking rules, the hours, the exceptions, the active
appointments and, for types that need one, the rooms), then sweeps the calendar in
Python. It applies the same rules as `services.appointment_book`, so every slot it
offers can be booked unless someone else takes it first.
"""

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Func, IntegerField, Q
from django.utils import timezone

from scheduling.models import (
    Appointment,
    AppointmentType,
    BookingRules,
    Provider,
    Room,
    ScheduleException,
    WorkingHours,
)
from scheduling.services import active_appointments, exceptions_for
from website.models import Office

Source = Appointment.Source


@dataclass(frozen=True, slots=True)
class Slot:
    """A time at which `appointment_type` can be booked with one provider at one office."""

    starts_at: datetime
    ends_at: datetime
    provider_id: int
    office_id: int


@dataclass(frozen=True, slots=True)
class FreeDay:
    """The free slots of one day, `day` being the office's local date."""

    day: date
    slots: tuple[Slot, ...]


def free_slots(
    *,
    office: Office,
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
) -> list[Slot]:
    """Every bookable start time from `start_date` to `end_date` (local dates, both included).

    Ordered by time, then provider. With `source=ONLINE` (the default) the minimum notice,
    the horizon and the type's online flag apply; with `STAFF`, only "not in the past".
    Starts fall on the practice's slot grid, counted from the start of each block of hours.
    """
    now = now or timezone.now()
    return _search(
        office=office,
        appointment_type=appointment_type,
        start_date=start_date,
        end_date=end_date,
        provider=provider,
        now=now,
        source=source,
        rules=BookingRules.current(),
    )


def next_free_days(
    *,
    office: Office,
    appointment_type: AppointmentType,
    days: int = 5,
    start_date: date | None = None,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
) -> list[FreeDay]:
    """The first `days` local dates from `start_date` (default today) that have a free slot, within the horizon."""
    now = now or timezone.now()
    rules = BookingRules.current()
    zone = ZoneInfo(office.time_zone)
    start_date = start_date or now.astimezone(zone).date()
    end_date = (now + rules.horizon).astimezone(zone).date()
    slots = _search(
        office=office,
        appointment_type=appointment_type,
        start_date=start_date,
        end_date=end_date,
        provider=provider,
        now=now,
        source=source,
        rules=rules,
    )
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        day = slot.starts_at.astimezone(zone).date()
        if day not in by_day and len(by_day) == days:
            break
        by_day[day].append(slot)
    return [FreeDay(day=day, slots=tuple(day_slots)) for day, day_slots in by_day.items()]


def nearest_free_slots(
    *,
    office: Office,
    appointment_type: AppointmentType,
    around: datetime,
    n: int = 3,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
) -> list[Slot]:
    """Up to `n` free slots closest in time to `around` (a week before to two weeks after), in time order.

    For the "that time was just taken" answer.
    """
    now = now or timezone.now()
    zone = ZoneInfo(office.time_zone)
    local = around.astimezone(zone).date()
    slots = _search(
        office=office,
        appointment_type=appointment_type,
        start_date=local - timedelta(days=7),
        end_date=local + timedelta(days=14),
        provider=provider,
        now=now,
        source=source,
        rules=BookingRules.current(),
    )
    nearest = sorted(slots, key=lambda slot: (abs(slot.starts_at - around), slot.starts_at, slot.provider_id))[:n]
    return sorted(nearest, key=lambda slot: (slot.starts_at, slot.provider_id))


class _Epoch(Func):
    """Whole seconds since 1970 of a datetime column, computed by the database.

    Thousands of rows come back as plain integers instead of being parsed into
    datetimes one by one. Exact for appointments, which start and end on whole minutes.
    """

    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(ROUND((julianday(%(expressions)s) - 2440587.5) * 86400) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(EXTRACT(EPOCH FROM %(expressions)s) AS bigint)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def get_db_converters(self, connection: Any) -> list[Any]:
        # Both databases already return an integer: no per-row conversion in Python.
        return []


class _Busy:
    """Disjoint, sorted busy intervals of one provider or room, in seconds since 1970."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: list[tuple[float, float]]) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []
        for start, end in sorted(intervals):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def is_free(self, start: float, end: float) -> bool:
        # The first interval ending after `start` must begin at or after `end` (half-open ranges).
        i = bisect_right(self.ends, start)
        return i == len(self.starts) or self.starts[i] >= end

    def free_starts(self, *, origin: int, step: int, lowest: float, highest: float, length: int) -> list[int]:
        """Every `origin + k * step` in [lowest, highest] whose [s, s + length) touches no busy interval.

        Walks the gaps between busy intervals instead of testing each grid point.
        """
        found: list[int] = []
        count = len(self.starts)
        i = bisect_right(self.ends, lowest)
        gap_start = lowest
        while gap_start <= highest:
            gap_end = self.starts[i] if i < count else math.inf
            top = min(highest, gap_end - length)
            if top >= gap_start:
                first = origin + math.ceil((gap_start - origin) / step) * step
                last = origin + math.floor((top - origin) / step) * step
                found.extend(range(first, last + 1, step))
            if i >= count:
                break
            gap_start = max(gap_start, self.ends[i])
            i += 1
        return found


def _search(
    *,
    office: Office,
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    provider: Provider | None,
    now: datetime,
    source: str,
    rules: BookingRules,
) -> list[Slot]:
    if end_date < start_date or not (office.is_active and appointment_type.is_active):
        return []
    if source == Source.ONLINE and not appointment_type.bookable_online:
        return []
    zone = ZoneInfo(office.time_zone)
    range_start = datetime.combine(start_date, time(), tzinfo=zone)
    range_end = datetime.combine(end_date + timedelta(days=1), time(), tzinfo=zone)
    occupies = appointment_type.occupies

    hours_qs = WorkingHours.objects.filter(office=office, provider__is_active=True)
    if provider is not None:
        hours_qs = hours_qs.filter(provider=provider)
    hours = list(hours_qs.values_list("provider_id", "weekday", "starts", "ends"))
    if not hours:
        return []
    provider_ids = sorted({row[0] for row in hours})
    room_kind = appointment_type.room_kind
    rooms_here = Q(room__office=office, room__kind=room_kind) if room_kind else Q(pk__in=[])

    exceptions = list(
        ScheduleException.objects.filter(starts_at__lt=range_end + occupies, ends_at__gt=range_start)
        .filter(exceptions_for(office=office, provider_ids=provider_ids) | rooms_here)
        .values_list("provider_id", "room_id", "starts_at", "ends_at")
    )
    appointments = list(
        active_appointments()
        .filter(starts_at__lt=range_end + occupies, blocks_until__gt=range_start)
        .filter(Q(provider_id__in=provider_ids) | rooms_here)
        .values_list("provider_id", "room_id", _Epoch("starts_at"), _Epoch("blocks_until"))
    )
    room_ids: list[int] = []
    if room_kind:
        room_ids = list(
            Room.objects.filter(office=office, kind=room_kind, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not room_ids:
            return []

    everyone: list[tuple[float, float]] = []
    by_provider: dict[int, list[tuple[float, float]]] = defaultdict(list)
    by_room: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for provider_id, room_id, starts_at, ends_at in exceptions:
        interval = (starts_at.timestamp(), ends_at.timestamp())
        if provider_id is not None:
            by_provider[provider_id].append(interval)
        elif room_id is not None:
            by_room[room_id].append(interval)
        else:
            everyone.append(interval)
    for provider_id, room_id, start, end in appointments:
        interval = (start, end)
        by_provider[provider_id].append(interval)
        if room_id is not None:
            by_room[room_id].append(interval)
    provider_busy = {pid: _Busy(by_provider[pid] + everyone) for pid in provider_ids}
    room_busy = [_Busy(by_room[rid]) for rid in room_ids]

    # Offered starts are whole seconds strictly after now (and after the notice, online).
    earliest = now + rules.min_notice if source == Source.ONLINE else now
    lowest = max(int(range_start.timestamp()), math.floor(earliest.timestamp()) + 1)
    highest = (now + rules.horizon).timestamp() if source == Source.ONLINE else range_end.timestamp() - 1
    step = rules.slot_step_minutes * 60
    duration = appointment_type.duration_minutes * 60
    length = int(occupies.total_seconds())

    blocks_by_weekday: dict[int, list[tuple[int, time, time]]] = defaultdict(list)
    for provider_id, weekday, opens, closes in hours:
        blocks_by_weekday[weekday].append((provider_id, opens, closes))

    found: list[tuple[int, int]] = []
    day = start_date
    while day <= end_date:
        for provider_id, opens, closes in blocks_by_weekday.get(day.weekday(), ()):
            # Each day's local times become instants through the zone: 9:00 stays 9:00 across DST.
            block_start = int(datetime.combine(day, opens, tzinfo=zone).timestamp())
            block_end = int(datetime.combine(day, closes, tzinfo=zone).timestamp())
            starts = provider_busy[provider_id].free_starts(
                origin=block_start,
                step=step,
                lowest=max(block_start, lowest),
                highest=min(block_end - duration, highest),
                length=length,
            )
            if room_busy:
                starts = [s for s in starts if any(room.is_free(s, s + length) for room in room_busy)]
            found.extend(zip(starts, repeat(provider_id)))
        day += timedelta(days=1)

    found.sort()
    office_id = office.pk
    duration_delta = appointment_type.duration
    # Providers share start times: build each pair of datetimes once.
    times: dict[int, tuple[datetime, datetime]] = {}
    slots = []
    for start, provider_id in found:
        pair = times.get(start)
        if pair is None:
            starts_at = datetime.fromtimestamp(start, UTC)
            pair = times[start] = (starts_at, starts_at + duration_delta)
        slots.append(Slot(starts_at=pair[0], ends_at=pair[1], provider_id=provider_id, office_id=office_id))
    return slots

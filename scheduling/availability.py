"""The free-time search: when can this kind of visit be booked, at these offices, with whom.

`search` runs in three named steps:

1. `_load` asks the database a fixed number of questions whatever the date range or
   the number of providers or offices: the hours, the exceptions, the active
   appointments and, for types that need one, the rooms.
2. `_busy_calendar` turns those rows into one sorted busy list per column (a provider
   at an office) and per room, in whole seconds since 1970.
3. `_sweep` walks each office's days and each block of hours, keeping the starts on
   the practice's slot grid that touch nothing busy.

It applies the rules of `scheduling.rules` that `services.appointment_book` applies, so
every slot it offers can be booked unless someone else takes it first. The result,
`FreeTimes`, answers "every slot", "by day", "nearest to a moment" and "first per office"
as methods; inside, each free (start, column) pair is one packed integer (`start *
width + column`), so ninety days of six providers cost a few thousand integers and one
sort, and `Slot` values are built only for what a caller returns.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, groupby
from operator import itemgetter
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, Q, QuerySet
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
from scheduling.rules import active_appointments, exceptions_for
from website.models import Office

Source = Appointment.Source

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Slot(NamedTuple):
    """A time at which `appointment_type` can be booked with one provider at one office.

    A named tuple rather than a dataclass: a search returns thousands, and a tuple is the
    cheapest immutable value Python builds.
    """

    starts_at: datetime
    ends_at: datetime
    provider_id: int
    office_id: int


@dataclass(frozen=True, slots=True)
class FreeDay:
    """The free slots of one day, `day` being the office's local date."""

    day: date
    slots: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class FreeTimes:
    """The free starts of one search.

    Each is packed into one integer, `start * width + column`; a column is one provider at
    one office, ordered by office (as the search was given them) then provider id, so the
    sorted codes run by (time, office, provider id).
    """

    codes: list[int]
    width: int
    columns: list[tuple[int, int]]  # (office id, provider id) of each column
    duration: timedelta

    def slots(self) -> list[Slot]:
        """Every free slot, by time, then office, then provider."""
        return self._slots(self.codes)

    def by_day(self, *, zone: ZoneInfo, days: int) -> list[FreeDay]:
        """The first `days` local dates (in `zone`) that have a free slot, each with its slots."""
        grouped: list[tuple[date, list[int]]] = []
        next_midnight = -1  # the start of the local day after the one being filled
        for code in self.codes:
            start = code // self.width
            if start >= next_midnight:
                if len(grouped) == days:
                    break
                day = datetime.fromtimestamp(start, zone).date()
                next_midnight = int(datetime.combine(day + _DAY, time(), tzinfo=zone).timestamp())
                grouped.append((day, []))
            grouped[-1][1].append(code)
        return [FreeDay(day=day, slots=tuple(self._slots(codes))) for day, codes in grouped]

    def nearest(self, *, around: datetime, n: int) -> list[Slot]:
        """Up to `n` slots closest in time to `around`, in time order."""
        # Distances in whole microseconds, so that ties break exactly as datetimes would.
        around_us = (around - _EPOCH) // _MICROSECOND
        width = self.width
        nearest = sorted(self.codes, key=lambda code: (abs(code // width * 1_000_000 - around_us), code))[:n]
        return self._slots(sorted(nearest))

    def first_per_office(self) -> dict[int, Slot]:
        """The earliest slot of each office that has one, by office id."""
        office_of = [office_id for office_id, _ in self.columns]
        wanted = len(set(office_of))
        firsts: dict[int, int] = {}
        for code in self.codes:
            firsts.setdefault(office_of[code % self.width], code)
            if len(firsts) == wanted:
                break
        return {slot.office_id: slot for slot in self._slots(firsts.values())}

    def _slots(self, codes: Iterable[int]) -> list[Slot]:
        new = tuple.__new__
        width, duration = self.width, self.duration
        provider_of = [provider_id for _, provider_id in self.columns]
        office_of = [office_id for office_id, _ in self.columns]
        slots = []
        last = -1
        starts_at = ends_at = _EPOCH
        for code in codes:
            start, index = divmod(code, width)
            if start != last:  # columns free at the same time share one pair of datetimes
                last = start
                starts_at = datetime.fromtimestamp(start, UTC)
                ends_at = starts_at + duration
            slots.append(new(Slot, (starts_at, ends_at, provider_of[index], office_of[index])))
        return slots


NOTHING = FreeTimes(codes=[], width=1, columns=[], duration=timedelta())


# --- What callers ask ---------------------------------------------------------------------------


def free_slots(
    *,
    offices: Sequence[Office],
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
) -> list[Slot]:
    """Every bookable start time at `offices` from `start_date` to `end_date` (local dates, both included).

    Ordered by time, then office (in the order given), then provider. With `source=ONLINE`
    (the default) the minimum notice, the horizon and the type's online flag apply; with
    `STAFF`, only "not in the past". Starts fall on the practice's slot grid, counted from
    the start of each block of hours.
    """
    return search(
        offices=offices,
        appointment_type=appointment_type,
        start_date=start_date,
        end_date=end_date,
        provider=provider,
        now=now or timezone.now(),
        source=source,
    ).slots()


def soonest_free_slots(
    *, offices: Sequence[Office], appointment_type: AppointmentType, now: datetime | None = None
) -> dict[int, Slot]:
    """The first time `appointment_type` can be booked online at each office, by office id, within the horizon.

    An office with no free time is left out. One search for all the offices, for a
    person choosing where to go.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    zones = [ZoneInfo(office.time_zone) for office in offices]
    return search(
        offices=offices,
        appointment_type=appointment_type,
        start_date=min((now.astimezone(zone).date() for zone in zones), default=now.date()),
        end_date=max((((now + rules.horizon).astimezone(zone).date()) for zone in zones), default=now.date()),
        now=now,
        source=Source.ONLINE,
        rules=rules,
    ).first_per_office()


def next_free_days(
    *,
    office: Office,
    appointment_type: AppointmentType,
    days: int = 5,
    start_date: date | None = None,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
    moving: Appointment | None = None,
) -> list[FreeDay]:
    """The first `days` local dates from `start_date` (default today) that have a free slot, within the horizon.

    `moving` is an appointment being moved: its own current time counts as free for it.
    """
    now = now or timezone.now()
    rules = BookingRules.current()
    zone = ZoneInfo(office.time_zone)
    return search(
        offices=[office],
        appointment_type=appointment_type,
        start_date=start_date or now.astimezone(zone).date(),
        end_date=(now + rules.horizon).astimezone(zone).date(),
        provider=provider,
        now=now,
        source=source,
        rules=rules,
        moving=moving,
    ).by_day(zone=zone, days=days)


def nearest_free_slots(
    *,
    office: Office,
    appointment_type: AppointmentType,
    around: datetime,
    n: int = 3,
    provider: Provider | None = None,
    now: datetime | None = None,
    source: str = Source.ONLINE,
    moving: Appointment | None = None,
) -> list[Slot]:
    """Up to `n` free slots closest in time to `around` (a week before to two weeks after), in time order.

    For the "that time was just taken" answer.
    """
    local = around.astimezone(ZoneInfo(office.time_zone)).date()
    return search(
        offices=[office],
        appointment_type=appointment_type,
        start_date=local - timedelta(days=7),
        end_date=local + timedelta(days=14),
        provider=provider,
        now=now or timezone.now(),
        source=source,
        moving=moving,
    ).nearest(around=around, n=n)


def search(
    *,
    offices: Sequence[Office],
    appointment_type: AppointmentType,
    start_date: date,
    end_date: date,
    now: datetime,
    source: str,
    provider: Provider | None = None,
    rules: BookingRules | None = None,
    moving: Appointment | None = None,
) -> FreeTimes:
    """The free starts at each of `offices`, from `start_date` to `end_date` in each office's own dates.

    The offices share one read of each table: a provider who works at both has one
    calendar, so time booked in Los Angeles is busy for Encino too.
    """
    offices = [office for office in offices if office.is_active]
    if end_date < start_date or not offices or not appointment_type.is_active:
        return NOTHING
    if source == Source.ONLINE and not appointment_type.bookable_online:
        return NOTHING
    rules = rules or BookingRules.current()
    window = _Window.of(offices, start_date, end_date)
    loaded = _load(window=window, offices=offices, appointment_type=appointment_type, provider=provider, moving=moving)
    if loaded is None:
        return NOTHING
    busy = _busy_calendar(loaded)
    codes = _sweep(
        window=window,
        loaded=loaded,
        busy=busy,
        appointment_type=appointment_type,
        now=now,
        source=source,
        rules=rules,
        start_date=start_date,
        end_date=end_date,
    )
    return FreeTimes(codes=codes, width=len(loaded.columns), columns=loaded.columns, duration=appointment_type.duration)


# --- Step 1: load ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Window:
    """The dates asked for, as moments: each office's own local midnights, and the widest span."""

    zones: dict[int, ZoneInfo]
    starts: dict[int, datetime]
    ends: dict[int, datetime]
    start: datetime
    end: datetime

    @classmethod
    def of(cls, offices: Sequence[Office], start_date: date, end_date: date) -> "_Window":
        zones = {office.pk: ZoneInfo(office.time_zone) for office in offices}
        starts = {pk: datetime.combine(start_date, time(), tzinfo=zone) for pk, zone in zones.items()}
        ends = {pk: datetime.combine(end_date + _DAY, time(), tzinfo=zone) for pk, zone in zones.items()}
        return cls(zones=zones, starts=starts, ends=ends, start=min(starts.values()), end=max(ends.values()))


@dataclass(frozen=True, slots=True)
class _Loaded:
    """The rows one search needs, read in a fixed number of queries."""

    hours: list[tuple[int, int, int, time, time]]  # (office, provider, weekday, starts, ends)
    columns: list[tuple[int, int]]  # (office id, provider id)
    exceptions: Sequence[tuple[int | None, int | None, int | None, datetime, datetime]]
    provider_rows: list[tuple[int, int, int]]  # (provider id, start, end), grouped by provider, by start
    room_rows: list[tuple[int, int, int]]  # (room id, start, end) of appointments holding a room
    rooms_by_office: dict[int, list[int]]


def _load(
    *,
    window: _Window,
    offices: Sequence[Office],
    appointment_type: AppointmentType,
    provider: Provider | None,
    moving: Appointment | None,
) -> _Loaded | None:
    """The hours, exceptions, appointments (and rooms) of the search; None when nobody works there."""
    office_ids = [office.pk for office in offices]
    hours_qs = WorkingHours.objects.filter(office_id__in=office_ids, provider__is_active=True)
    if provider is not None:
        hours_qs = hours_qs.filter(provider=provider)
    hours = list(hours_qs.order_by().values_list("office_id", "provider_id", "weekday", "starts", "ends"))
    if not hours:
        return None
    position = {pk: n for n, pk in enumerate(office_ids)}
    columns = sorted(
        {(office_id, provider_id) for office_id, provider_id, *_ in hours}, key=lambda c: (position[c[0]], c[1])
    )
    provider_ids = sorted({provider_id for _, provider_id in columns})
    room_kind = appointment_type.room_kind
    occupies = appointment_type.occupies

    exception_filter = exceptions_for(office_ids=office_ids, provider_ids=provider_ids)
    appointment_filter = Q(provider_id__in=provider_ids)
    if room_kind:
        rooms_here = Q(room__office_id__in=office_ids, room__kind=room_kind)
        exception_filter |= rooms_here
        appointment_filter |= rooms_here
    exceptions = list(
        ScheduleException.objects.filter(starts_at__lt=window.end + occupies, ends_at__gt=window.start)
        .filter(exception_filter)
        .order_by()
        .values_list("provider_id", "room_id", "office_id", "starts_at", "ends_at")
    )
    # Ordered as the (provider, starts_at) index reads them: each provider's rows come
    # together and already sorted, so the busy calendar sorts almost nothing.
    appointments = (
        active_appointments()
        .filter(starts_at__lt=window.end + occupies, blocks_until__gt=window.start)
        .filter(appointment_filter)
        .order_by("provider_id", "starts_at")
    )
    if moving is not None:
        appointments = appointments.exclude(pk=moving.pk)
    rooms_by_office: dict[int, list[int]] = {}
    room_rows: list[tuple[int, int, int]] = []
    if room_kind:
        rows = _rows(appointments.values_list("provider_id", "room_id", _Epoch("starts_at"), _Epoch("blocks_until")))
        provider_rows = [(pid, start, end) for pid, _, start, end in rows]
        room_rows = [(room_id, start, end) for _, room_id, start, end in rows if room_id is not None]
        for office_id, room_id in (
            Room.objects.filter(office_id__in=office_ids, kind=room_kind, is_active=True)
            .order_by("pk")
            .values_list("office_id", "pk")
        ):
            rooms_by_office.setdefault(office_id, []).append(room_id)
        # An office without such a room offers nothing; the others still do.
        columns = [column for column in columns if column[0] in rooms_by_office]
        if not columns:
            return None
    else:
        provider_rows = _rows(appointments.values_list("provider_id", _Epoch("starts_at"), _Epoch("blocks_until")))
    return _Loaded(
        hours=hours,
        columns=columns,
        exceptions=exceptions,
        provider_rows=provider_rows,
        room_rows=room_rows,
        rooms_by_office=rooms_by_office,
    )


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


def _rows(query: QuerySet[Any, Any]) -> list[Any]:
    """All rows of a values_list query in one fetch (Django reads them a hundred at a time)."""
    try:
        sql, params = query.query.get_compiler(using=query.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[query.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- Step 2: the busy calendar --------------------------------------------------------------------


class _Busy:
    """The busy intervals of one provider or room, in whole seconds since 1970.

    Kept sorted by start, with `ends` holding the running maximum of the ends: the
    intervals need no merging, yet `ends` is sorted, so bisect finds the first interval
    that reaches past a moment, and each gap runs from `ends[i - 1]` to `starts[i]`.
    """

    __slots__ = ("ends", "starts")

    def __init__(self, rows: list[tuple[int, int, int]]) -> None:
        """From (owner id, start, end) rows sorted by start."""
        self.starts = list(map(_second, rows))
        self.ends = list(accumulate(map(_third, rows), max))

    def is_free(self, start: int, end: int) -> bool:
        # The first interval reaching past `start` must begin at or after `end` (half-open ranges).
        i = bisect_right(self.ends, start)
        return i == len(self.starts) or self.starts[i] >= end

    def free_starts(
        self, *, origin: int, step: int, lowest: int, highest: int, length: int, width: int = 1, index: int = 0
    ) -> list[int]:
        """Every `s = origin + k * step` in [lowest, highest] whose [s, s + length) touches no busy interval.

        Each is returned packed as `s * width + index`. Walks the gaps between busy
        intervals instead of testing each grid point.
        """
        found: list[int] = []
        if lowest > highest:
            return found
        starts, ends = self.starts, self.ends
        count = len(starts)
        i = bisect_right(ends, lowest)
        gap_start = lowest
        packed_step = step * width
        while True:
            if i < count:
                top = starts[i] - length
                if top > highest:
                    top = highest
            else:
                top = highest
            if top >= gap_start:
                first = origin - (origin - gap_start) // step * step  # the first grid point >= gap_start
                last = origin + (top - origin) // step * step
                if first <= last:
                    found.extend(range(first * width + index, last * width + index + 1, packed_step))
            if i >= count:
                break
            if ends[i] > gap_start:
                gap_start = ends[i]
                if gap_start > highest:
                    break
            i += 1
        return found


_first = itemgetter(0)
_second = itemgetter(1)
_third = itemgetter(2)


@dataclass(frozen=True, slots=True)
class _BusyCalendar:
    columns: list[_Busy]  # per column index
    rooms: dict[int, list[_Busy]]  # per office id, one per room of the needed kind


def _busy_calendar(loaded: _Loaded) -> _BusyCalendar:
    """Each column's busy time (its provider's appointments, time off, closures) and each room's."""
    # An exception is widened to whole seconds, which changes nothing for starts that are whole seconds.
    everyone: list[tuple[int, int]] = []
    closed: dict[int, list[tuple[int, int]]] = defaultdict(list)
    away: dict[int, list[tuple[int, int]]] = defaultdict(list)
    room_rows = list(loaded.room_rows)
    for provider_id, room_id, office_id, starts_at, ends_at in loaded.exceptions:
        interval = (int(starts_at.timestamp() // 1), -int(-ends_at.timestamp() // 1))
        if provider_id is not None:
            away[provider_id].append(interval)
        elif room_id is not None:
            room_rows.append((room_id, *interval))
        elif office_id is not None:
            closed[office_id].append(interval)
        else:
            everyone.append(interval)
    booked = {pid: list(rows) for pid, rows in groupby(loaded.provider_rows, _first)}
    columns = []
    for office_id, pid in loaded.columns:
        busy_rows = booked.get(pid, [])
        extra = away.get(pid, []) + closed.get(office_id, []) + everyone
        if extra:
            busy_rows = sorted(busy_rows + [(pid, start, end) for start, end in extra])
        columns.append(_Busy(busy_rows))
    room_rows.sort()
    by_room = {rid: list(rows) for rid, rows in groupby(room_rows, _first)}
    rooms = {
        office_id: [_Busy(by_room.get(rid, [])) for rid in room_ids]
        for office_id, room_ids in loaded.rooms_by_office.items()
    }
    return _BusyCalendar(columns=columns, rooms=rooms)


# --- Step 3: the sweep ------------------------------------------------------------------------------


def _sweep(
    *,
    window: _Window,
    loaded: _Loaded,
    busy: _BusyCalendar,
    appointment_type: AppointmentType,
    now: datetime,
    source: str,
    rules: BookingRules,
    start_date: date,
    end_date: date,
) -> list[int]:
    """The packed free starts, sorted: each office's days, each block of hours, on the slot grid."""
    # Offered starts are whole seconds strictly after now (and after the notice, online).
    earliest = now + rules.min_notice if source == Source.ONLINE else now
    last_moment = (now + rules.horizon).timestamp() if source == Source.ONLINE else window.end.timestamp() - 1
    step = rules.slot_step_minutes * 60
    duration = appointment_type.duration_minutes * 60
    length = int(appointment_type.occupies.total_seconds())
    width = len(loaded.columns)
    index_of = {column: index for index, column in enumerate(loaded.columns)}
    # Per office and weekday: (column, opens, closes) in seconds after midnight, and as times.
    blocks: dict[tuple[int, int], list[tuple[int, int, int, time, time]]] = defaultdict(list)
    for office_id, provider_id, weekday, opens, closes in loaded.hours:
        index = index_of.get((office_id, provider_id))
        if index is not None:
            blocks[office_id, weekday].append((index, _seconds(opens), _seconds(closes), opens, closes))

    codes: list[int] = []
    for office_id, zone in window.zones.items():
        lowest = max(int(window.starts[office_id].timestamp()), int(earliest.timestamp() // 1) + 1)
        highest = min(int(last_moment // 1), int(window.ends[office_id].timestamp()) - 1)
        rooms = busy.rooms.get(office_id, [])
        day = max(start_date, datetime.fromtimestamp(lowest, zone).date() - _DAY)  # nothing earlier can be offered
        while day <= end_date:
            for index, block_start, block_end in _day_blocks(day, blocks.get((office_id, day.weekday()), []), zone):
                low = block_start if block_start > lowest else lowest
                high = min(block_end - duration, highest)
                if high < low:
                    continue
                column = busy.columns[index]
                if rooms:
                    starts = column.free_starts(origin=block_start, step=step, lowest=low, highest=high, length=length)
                    codes.extend(
                        start * width + index
                        for start in starts
                        if any(room.is_free(start, start + length) for room in rooms)
                    )
                else:
                    codes.extend(
                        column.free_starts(
                            origin=block_start,
                            step=step,
                            lowest=low,
                            highest=high,
                            length=length,
                            width=width,
                            index=index,
                        )
                    )
            day += _DAY
    codes.sort()
    return codes


def _day_blocks(
    day: date, blocks: list[tuple[int, int, int, time, time]], zone: ZoneInfo
) -> list[tuple[int, int, int]]:
    """(column, start, end) in seconds since 1970 of each block of hours on one local date."""
    if not blocks:
        return []
    # On a day without a clock change every local time shares one offset; on the two
    # days that have one, each time goes through the zone (9:00 stays 9:00 across DST).
    offset = zone.utcoffset(datetime.combine(day, time()))
    if offset is not None and offset == zone.utcoffset(datetime.combine(day, time.max)):
        midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86400 - int(offset.total_seconds())
        return [(index, midnight + opens, midnight + closes) for index, opens, closes, _, _ in blocks]
    return [
        (
            index,
            int(datetime.combine(day, opens_at, tzinfo=zone).timestamp()),
            int(datetime.combine(day, closes_at, tzinfo=zone).timestamp()),
        )
        for index, _, _, opens_at, closes_at in blocks
    ]


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second

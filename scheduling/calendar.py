"""Reads of the staff calendar: who and what a page can show, the day and week grids, arrivals, call-backs.

Each read asks the database a fixed number of questions whatever the number of
appointments: the appointments come with their office, provider, room, type and
patient in one query, and the hours and closures of the period in one each.
Times are cut into days and labelled in the office's time zone, so a day is the
office's day even across a daylight-saving change.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import dateformat, formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from scheduling import display
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    CallbackRequest,
    Provider,
    Room,
    ScheduleException,
    WorkingHours,
)
from website.models import Office

DAY = "day"
WEEK = "week"
VIEWS = (DAY, WEEK)
EN_DASH = "\N{EN DASH}"
ARRIVING = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


# --- What the calendar can show ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """One office, one provider or one room: whose calendar is on the page."""

    kind: str  # "office", "provider" or "room"
    key: str  # the office's slug, the provider's uuid or the room's id
    label: str
    office: Office | None = None
    provider: Provider | None = None
    room: Room | None = None

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def zone(self) -> ZoneInfo:
        place = self.office or (self.room.office if self.room else None)
        return ZoneInfo(place.time_zone if place else settings.TIME_ZONE)

    def appointments(self) -> Q:
        if self.office is not None:
            return Q(office=self.office)
        if self.provider is not None:
            return Q(provider=self.provider)
        return Q(room=self.room)

    @property
    def audit_ref(self) -> str:
        """A short public name of the scope for the audit log (ids only, never a person)."""
        if self.office is not None:
            return f"office:{self.office.pk}"
        if self.provider is not None:
            return f"provider:{self.provider.pk}"
        assert self.room is not None
        return f"room:{self.room.pk}"


@dataclass(frozen=True, slots=True)
class ScopeChoices:
    """Every office, provider and room that has a calendar (three queries)."""

    offices: list[Office]
    providers: list[Provider]
    rooms: list[Room]

    def all(self) -> list[Scope]:
        return (
            [Scope("office", office.slug, office.name, office=office) for office in self.offices]
            + [Scope("provider", str(p.uuid), p.name, provider=p) for p in self.providers]
            + [Scope("room", str(room.pk), f"{room.name}, {room.office.name}", room=room) for room in self.rooms]
        )

    def find(self, value: str) -> Scope | None:
        return next((scope for scope in self.all() if scope.value == value), None)

    def default(self) -> Scope | None:
        scopes = self.all()
        return scopes[0] if scopes else None

    def grouped(self) -> list[tuple[str, list[Scope]]]:
        """For a <select> with one group per kind."""
        scopes = self.all()
        groups = [(_("Offices"), "office"), (_("Providers"), "provider"), (_("Rooms"), "room")]
        return [(label, [s for s in scopes if s.kind == kind]) for label, kind in groups]


def scope_choices() -> ScopeChoices:
    return ScopeChoices(
        offices=list(Office.objects.filter(is_active=True)),
        providers=list(Provider.objects.filter(is_active=True)),
        rooms=list(Room.objects.filter(is_active=True, office__is_active=True).select_related("office")),
    )


# --- The grid ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One appointment as the calendar shows it."""

    appointment: Appointment
    time_range: str
    starts_label: str

    @property
    def is_cancelled(self) -> bool:
        return self.appointment.status == AppointmentStatus.CANCELLED


@dataclass
class Column:
    """A day (week view) or a provider (day view of an office) and its appointments in time order."""

    key: str
    heading: str
    day: date
    is_today: bool = False
    notes: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    provider: Provider | None = None
    book_url: str = ""  # set by the view: the new-appointment form, filled in for this column


@dataclass(frozen=True, slots=True)
class Calendar:
    scope: Scope
    view: str
    days: list[date]
    columns: list[Column]
    title: str

    @property
    def count(self) -> int:
        return sum(len(column.entries) for column in self.columns)


def calendar_appointments(
    *, scope: Scope, starts: datetime, ends: datetime, include_cancelled: bool
) -> list[Appointment]:
    """The appointments of `scope` touching [starts, ends), with everything a card shows, in one query."""
    found: QuerySet[Appointment] = (
        Appointment.objects.filter(scope.appointments(), starts_at__lt=ends, ends_at__gt=starts)
        .select_related("office", "provider", "room", "appointment_type", "patient")
        .order_by("starts_at", "provider__name", "pk")
    )
    if not include_cancelled:
        found = found.exclude(status=AppointmentStatus.CANCELLED)
    return list(found)


def week_of(day: date) -> list[date]:
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=n) for n in range(7)]


def calendar(*, scope: Scope, view: str, day: date, today: date, include_cancelled: bool) -> Calendar:
    """The day or week around `day` for `scope`: columns of appointments, with hours and closures noted."""
    zone = scope.zone
    days = week_of(day) if view == WEEK else [day]
    starts = datetime.combine(days[0], time(), tzinfo=zone)
    ends = datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=zone)
    appointments = calendar_appointments(scope=scope, starts=starts, ends=ends, include_cancelled=include_cancelled)
    hours = _hours(scope=scope, weekdays={d.weekday() for d in days})
    closures = _closures(scope=scope, starts=starts, ends=ends)

    by_day: dict[date, list[Entry]] = defaultdict(list)
    for appointment in appointments:
        by_day[appointment.starts_at.astimezone(zone).date()].append(_entry(appointment))

    if view == WEEK:
        columns = [
            Column(
                key=d.isoformat(),
                heading=_day_heading(d),
                day=d,
                is_today=d == today,
                notes=_day_notes(scope=scope, day=d, hours=hours, closures=closures, zone=zone),
                entries=by_day.get(d, []),
            )
            for d in days
        ]
        title = _("Week of %(day)s") % {"day": long_day(days[0])}
    elif scope.office is not None:
        columns = _provider_columns(scope=scope, day=day, today=today, hours=hours, entries=by_day.get(day, []))
        columns += _closure_column(scope=scope, day=day, today=today, closures=closures, zone=zone, columns=columns)
        title = long_day(day)
    else:
        columns = [
            Column(
                key=day.isoformat(),
                heading=scope.label,
                day=day,
                is_today=day == today,
                notes=_day_notes(scope=scope, day=day, hours=hours, closures=closures, zone=zone),
                entries=by_day.get(day, []),
            )
        ]
        title = long_day(day)
    return Calendar(scope=scope, view=view, days=days, columns=columns, title=title)


def time_range(start: str, end: str) -> str:
    return f"{start} {EN_DASH} {end}"


def _entry(appointment: Appointment) -> Entry:
    office = appointment.office
    return Entry(
        appointment=appointment,
        time_range=time_range(
            display.time_label(appointment.starts_at, office), display.time_label(appointment.ends_at, office)
        ),
        starts_label=display.time_label(appointment.starts_at, office),
    )


def _hours(*, scope: Scope, weekdays: set[int]) -> list[WorkingHours]:
    rows = WorkingHours.objects.filter(weekday__in=weekdays, provider__is_active=True).select_related(
        "provider", "office"
    )
    if scope.provider is not None:
        rows = rows.filter(provider=scope.provider)
    else:
        rows = rows.filter(office=scope.office or (scope.room.office if scope.room else None))
    return list(rows.order_by("weekday", "starts", "provider__name"))


def _closures(*, scope: Scope, starts: datetime, ends: datetime) -> list[ScheduleException]:
    everyone = Q(provider__isnull=True, room__isnull=True, office__isnull=True)
    if scope.office is not None:
        mine = Q(office=scope.office, provider__isnull=True, room__isnull=True) | Q(
            provider__working_hours__office=scope.office
        )
    elif scope.provider is not None:
        mine = Q(provider=scope.provider)
    else:
        assert scope.room is not None
        mine = Q(room=scope.room) | Q(office=scope.room.office, provider__isnull=True, room__isnull=True)
    return list(
        ScheduleException.objects.filter(everyone | mine, starts_at__lt=ends, ends_at__gt=starts)
        .select_related("provider", "office", "room")
        .distinct()
        .order_by("starts_at", "pk")
    )


def _day_heading(day: date) -> str:
    return dateformat.format(day, pgettext("calendar column heading, PHP date format", "D, M j"))


def long_day(day: date) -> str:
    return dateformat.format(day, pgettext("full date, PHP date format", "l, F j, Y"))


def _hours_label(block: WorkingHours) -> str:
    return time_range(formats.time_format(block.starts, "TIME_FORMAT"), formats.time_format(block.ends, "TIME_FORMAT"))


def _closure_note(closure: ScheduleException) -> str:
    who = closure.provider or closure.room or closure.office
    kind = closure.get_kind_display()
    return f"{kind}: {who}" if who is not None else kind


def _closures_on(*, day: date, closures: Iterable[ScheduleException], zone: ZoneInfo) -> list[ScheduleException]:
    starts = datetime.combine(day, time(), tzinfo=zone)
    ends = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    return [c for c in closures if c.starts_at < ends and c.ends_at > starts]


def _day_notes(
    *, scope: Scope, day: date, hours: list[WorkingHours], closures: list[ScheduleException], zone: ZoneInfo
) -> list[str]:
    notes = []
    for block in hours:
        if block.weekday != day.weekday():
            continue
        if scope.provider is not None:
            notes.append(f"{block.office.name}, {_hours_label(block)}")
        else:
            notes.append(f"{block.provider.name}, {_hours_label(block)}")
    notes += [_closure_note(closure) for closure in _closures_on(day=day, closures=closures, zone=zone)]
    return notes


def _provider_columns(
    *, scope: Scope, day: date, today: date, hours: list[WorkingHours], entries: list[Entry]
) -> list[Column]:
    """The day of an office: one column per provider working there that day or holding an appointment."""
    columns: dict[int, Column] = {}
    for block in hours:
        if block.weekday != day.weekday():
            continue
        column = columns.setdefault(
            block.provider_id,
            Column(
                key=str(block.provider.uuid),
                heading=block.provider.name,
                day=day,
                is_today=day == today,
                provider=block.provider,
            ),
        )
        column.notes.append(_hours_label(block))
    for entry in entries:
        provider = entry.appointment.provider
        column = columns.setdefault(
            provider.pk,
            Column(key=str(provider.uuid), heading=provider.name, day=day, is_today=day == today, provider=provider),
        )
        column.entries.append(entry)
    return sorted(columns.values(), key=lambda column: column.heading)


def _closure_column(
    *,
    scope: Scope,
    day: date,
    today: date,
    closures: list[ScheduleException],
    zone: ZoneInfo,
    columns: list[Column],
) -> list[Column]:
    """Closures of the office's day, shown where the staff look: in each provider's notes, or on their own."""
    notes = [_closure_note(closure) for closure in _closures_on(day=day, closures=closures, zone=zone)]
    if not notes:
        return []
    if columns:
        for column in columns:
            column.notes += notes
        return []
    return [Column(key=day.isoformat(), heading=scope.label, day=day, is_today=day == today, notes=notes)]


# --- Arrivals, call-backs, patient search --------------------------------------------------------


def arrivals(*, offices: list[Office], day: date) -> dict[int, list[Entry]]:
    """Per office id: the appointments of `day` still to arrive or here now (booked or checked in), in time order.

    `day` is each office's own local date; one query for every office.
    """
    today_at = Q(pk__in=[])
    for office in offices:
        zone = ZoneInfo(office.time_zone)
        starts = datetime.combine(day, time(), tzinfo=zone)
        ends = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        today_at |= Q(office=office, starts_at__gte=starts, starts_at__lt=ends)
    found = (
        Appointment.objects.filter(today_at, status__in=ARRIVING)
        .select_related("office", "provider", "room", "appointment_type", "patient")
        .order_by("starts_at", "provider__name", "pk")
    )
    by_office: dict[int, list[Entry]] = {office.pk: [] for office in offices}
    for appointment in found if offices else []:
        by_office[appointment.office_id].append(_entry(appointment))
    return by_office


def callback_requests(*, office: Office | None, handled: bool) -> list[CallbackRequest]:
    found = CallbackRequest.objects.filter(handled=handled).select_related("office", "handled_by")
    if office is not None:
        found = found.filter(office=office)
    return list(found.order_by("-handled_at", "created_at") if handled else found.order_by("created_at"))

"""Load the demo schedule on top of the demo practice: providers, hours, rooms, visit types, rules. Idempotent.

With `--with-appointments` (what `make demo` runs), also a lived-in calendar: this week's
and next week's appointments for obviously fictional patients, and a few call-back
requests, booked through the same services as the staff calendar.
"""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Replace
from django.utils import timezone

from accounts.models import User
from patients.models import Patient
from scheduling import rules, services
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    BookingRules,
    CallbackRequest,
    Provider,
    Room,
    RoomKind,
    ScheduleException,
    WorkingHours,
)
from website.models import Office, Practice, Weekday

DAY_HOURS = (time(8, 30), time(17))
LA_ZONE = ZoneInfo("America/Los_Angeles")


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (0 = Monday) of the month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A holiday on a Saturday is kept on the Friday, on a Sunday on the Monday."""
    return day - timedelta(days=1) if day.weekday() == 5 else day + timedelta(days=1) if day.weekday() == 6 else day


def demo_holidays(year: int) -> list[tuple[date, str]]:
    """The days the demo practice closes: the usual US holidays, as observed."""
    return [
        (_observed(date(year, 1, 1)), "New Year's Day"),
        (_nth_weekday(year, 5, 0, -1), "Memorial Day"),
        (_observed(date(year, 7, 4)), "Independence Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving"),
        (_nth_weekday(year, 11, 3, 4) + timedelta(days=1), "Day after Thanksgiving"),
        (_observed(date(year, 12, 25)), "Christmas Day"),
    ]


# (slug, name, minutes, buffer after, bookable online, room kind, colour)
APPOINTMENT_TYPES = [
    ("new-patient-consultation", "New-patient consultation", 45, 15, True, "", "#2f6f9f"),
    ("procedure-visit", "Procedure visit", 150, 30, False, RoomKind.PROCEDURE, "#9f2f4f"),
    ("follow-up", "Follow-up", 20, 0, False, "", "#3f8f5f"),
    ("prp-visit", "PRP-only visit", 45, 0, False, "", "#8f6f2f"),
]


# Obviously fictional people: "Example", "Sample" and "Placeholder" names, example.com, 555-01xx.
DEMO_PATIENTS = [
    ("Ada", "Example", date(1951, 4, 2)),
    ("Bruno", "Sample", date(1962, 9, 18)),
    ("Carmen", "Placeholder", date(1958, 1, 27)),
    ("Dev", "Example", date(1970, 6, 5)),
    ("Elena", "Sample", date(1966, 11, 30)),
    ("Frank", "Placeholder", date(1949, 3, 14)),
    ("Grace", "Example", date(1975, 8, 21)),
    ("Hugo", "Sample", date(1981, 12, 9)),
    ("Irene", "Placeholder", date(1957, 5, 16)),
    ("Jorge", "Example", date(1963, 10, 3)),
]
# Each weekday: (provider, local start, appointment type slug). The office follows the provider's hours.
DEMO_DAY = [
    ("physician", time(9), "new-patient-consultation"),
    ("physician", time(10), "procedure-visit"),
    ("physician", time(14), "follow-up"),
    ("physician", time(15), "prp-visit"),
    ("pa", time(9), "follow-up"),
    ("pa", time(10, 30), "new-patient-consultation"),
    ("pa", time(13, 30), "prp-visit"),
]
DEMO_CALLBACKS = [
    ("los-angeles", "Olga Example", "(310) 555-0142", "Weekday mornings"),
    ("encino", "Pablo Sample", "(818) 555-0177", "Tuesday after 3 p.m."),
    ("los-angeles", "Quinn Placeholder", "(310) 555-0163", ""),
]


class Command(BaseCommand):
    help = "Create the demo schedule (run after load_demo_practice). Leaves existing records alone."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--with-appointments",
            action="store_true",
            help="Also book demo appointments this week and next (when none lie ahead) and add demo call-backs.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        practice = Practice.objects.first()
        offices = {office.slug: office for office in Office.objects.filter(slug__in=["los-angeles", "encino"])}
        if practice is None or len(offices) != 2:
            raise CommandError("The demo practice is missing: run `manage.py load_demo_practice` first.")
        la, encino = offices["los-angeles"], offices["encino"]

        # Earlier demos wrote "(example)" into names; the banner on every page says so instead.
        Provider.objects.filter(name__endswith=" (example)").update(
            name=Replace("name", Value(" (example)"), Value(""))
        )
        physician, physician_added = self._physician()
        pa, pa_added = Provider.objects.get_or_create(
            name="Pat Kim, PA-C",
            defaults={"kind": Provider.Kind.PHYSICIAN_ASSISTANT, "color": "#6f3f9f", "is_public": True, "order": 2},
        )
        pkim = User.objects.filter(username="pkim").first()
        if pkim is not None and pa.user_id is None and not Provider.objects.filter(user=pkim).exists():
            pa.user = pkim  # the same person: the calendar's PA and the sign-in `pkim`
            pa.save(update_fields=["user"])
        if physician_added or not physician.is_public:
            # The one record of Dr. Lee: the calendar's provider, the sign-in `drlee`, the office pages' profile.
            physician.is_public, physician.credentials, physician.order = True, "MD", 1
            physician.bio_en = "Example physician for the demonstration site."
            physician.bio_es = "Médica de ejemplo para el sitio de demostración."
            physician.save(update_fields=["is_public", "credentials", "order", "bio_en", "bio_es"])
        week = {
            physician: [
                (la, Weekday.MONDAY),
                (encino, Weekday.TUESDAY),
                (la, Weekday.WEDNESDAY),
                (encino, Weekday.THURSDAY),
                (la, Weekday.FRIDAY),
            ],
            pa: [(encino, Weekday.MONDAY), (la, Weekday.TUESDAY), (encino, Weekday.WEDNESDAY), (la, Weekday.THURSDAY)],
        }
        hours_added = 0
        for provider, days in week.items():
            for office, weekday in days:
                if not WorkingHours.objects.filter(provider=provider, weekday=weekday).exists():
                    block = WorkingHours(
                        provider=provider, office=office, weekday=weekday, starts=DAY_HOURS[0], ends=DAY_HOURS[1]
                    )
                    block.full_clean()
                    block.save()
                    hours_added += 1
        rooms_added = sum(
            Room.objects.get_or_create(office=office, name="Procedure room", defaults={"kind": RoomKind.PROCEDURE})[1]
            for office in (la, encino)
        )
        types_added = 0
        for order, (slug, name, minutes, buffer, online, room_kind, color) in enumerate(APPOINTMENT_TYPES):
            types_added += AppointmentType.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "duration_minutes": minutes,
                    "buffer_after_minutes": buffer,
                    "bookable_online": online,
                    "room_kind": room_kind,
                    "color": color,
                    "order": order,
                },
            )[1]
        _, rules_added = BookingRules.objects.get_or_create(
            practice=practice,
            defaults={"min_notice_hours": 24, "horizon_days": 90, "cancel_cutoff_hours": 24, "slot_step_minutes": 15},
        )
        holidays_added = self._holidays()
        self.stdout.write(
            f"load_demo_schedule: {int(physician_added) + int(pa_added)} provider(s), {hours_added} block(s) of hours, "
            f"{rooms_added} room(s), {types_added} appointment type(s), {int(rules_added)} set of booking rules, "
            f"{holidays_added} holiday(s) added"
        )
        if options["with_appointments"]:
            booked = self._appointments(providers={"physician": physician, "pa": pa})
            callbacks = self._callbacks(offices)
            self.stdout.write(
                f"load_demo_schedule: {booked} demo appointment(s), {callbacks} call-back request(s) added"
            )

    def _holidays(self) -> int:
        """Practice-wide closures for the holidays of the coming twelve months. Returns how many were added."""
        today = timezone.now().astimezone(LA_ZONE).date()
        added = 0
        for year in (today.year, today.year + 1):
            for day, name in demo_holidays(year):
                if not today <= day < today + timedelta(days=365):
                    continue
                starts_at = datetime.combine(day, time(), tzinfo=LA_ZONE)
                ends_at = datetime.combine(day + timedelta(days=1), time(), tzinfo=LA_ZONE)
                _, created = ScheduleException.objects.get_or_create(
                    kind=ScheduleException.Kind.HOLIDAY,
                    provider=None,
                    office=None,
                    room=None,
                    starts_at=starts_at,
                    defaults={"ends_at": ends_at, "reason": name},
                )
                added += int(created)
        return added

    def _appointments(self, *, providers: dict[str, Provider]) -> int:
        """This week's and next week's demo appointments, unless some already lie ahead. Returns how many."""
        patients = [
            Patient.objects.get_or_create(
                first_name=first,
                last_name=last,
                date_of_birth=born,
                defaults={"email": f"{first}.{last}@example.com".lower(), "phone": f"(310) 555-01{n:02d}"},
            )[0]
            for n, (first, last, born) in enumerate(DEMO_PATIENTS)
        ]
        now = timezone.now()
        if Appointment.objects.filter(patient__in=patients, starts_at__gte=now, status__in=ACTIVE_STATUSES).exists():
            return 0
        types = {t.slug: t for t in AppointmentType.objects.all()}
        by = User.objects.filter(username="frontdesk").first()
        zone = ZoneInfo("America/Los_Angeles")
        today = now.astimezone(zone).date()
        monday = today - timedelta(days=today.weekday())
        # Booked as if from the start of this week, so the week's earlier days fill in too;
        # every other rule (hours, overlaps, rooms, the patient) applies as usual.
        as_of = datetime.combine(monday, time(), tzinfo=zone)
        booked = planned = 0
        for offset in range(12):
            day = monday + timedelta(days=offset)
            for key, at, slug in DEMO_DAY:
                planned += 1
                provider = providers[key]
                hours = WorkingHours.objects.filter(provider=provider, weekday=day.weekday()).select_related("office")
                block = hours.first()
                if block is None or slug not in types:
                    continue
                try:
                    appointment = services.appointment_book(
                        office=block.office,
                        provider=provider,
                        appointment_type=types[slug],
                        starts_at=datetime.combine(day, at, tzinfo=zone),
                        patient=patients[planned % len(patients)],
                        source=Appointment.Source.STAFF,
                        by=by,
                        now=as_of,
                        # Seeding the demo's calendar is not news to these (fictional) patients.
                        notify=False,
                    )
                except rules.BookingError:
                    continue
                booked += 1
                self._settle(appointment, now=now, n=booked, by=by)
        return booked

    def _settle(self, appointment: Appointment, *, now: datetime, n: int, by: User | None) -> None:
        """Past visits completed (one in seven a no-show); one under way checked in."""
        if appointment.ends_at <= now:
            status = AppointmentStatus.NO_SHOW if n % 7 == 0 else AppointmentStatus.COMPLETED
        elif appointment.starts_at <= now:
            status = AppointmentStatus.CHECKED_IN
        else:
            return
        services.appointment_set_status(appointment=appointment, status=status, by=by)

    def _callbacks(self, offices: dict[str, Office]) -> int:
        if CallbackRequest.objects.exists():
            return 0
        for slug, name, phone, preferred in DEMO_CALLBACKS:
            request = CallbackRequest(office=offices[slug], name=name, phone=phone, preferred_times=preferred)
            request.full_clean()
            request.save()
        return len(DEMO_CALLBACKS)

    def _physician(self) -> tuple[Provider, bool]:
        """Dr. Lee: linked to the demo login `drlee` when there is one."""
        user = User.objects.filter(username="drlee").first()
        if user is None:
            return Provider.objects.get_or_create(name="Dr. Dana Lee", user=None)
        provider = Provider.objects.filter(user=user).first()
        if provider is not None:
            return provider, False
        # The demo may have run before the login existed: link the standalone provider.
        provider = Provider.objects.filter(name="Dr. Dana Lee", user=None).first()
        if provider is not None:
            provider.user = user
            provider.save(update_fields=["user"])
            return provider, False
        return Provider.objects.create(name="Dr. Dana Lee", user=user), True

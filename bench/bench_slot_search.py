"""Free-time search speed: `bench slot_search_p95_ms <v> ms`.

Builds 2 offices x 6 providers x 90 days, each provider in one office or the other on
each weekday, with 60% of all working time already booked (consultations of 45 minutes
plus a 15-minute buffer, drawn at random with a fixed seed), then times
`scheduling.availability.free_slots` for the online consultation over the whole 90 days.
`slot_search_p95_ms` is the 95th percentile of REPEATS searches of both offices at once
(every free time of the practice, as the booking page's first step asks it for each
office's soonest time). `slot_search_one_office_p95_ms` is the same for one office at
a time, alternating, as an office's page of times asks it. Either way all six
providers' calendars count: a provider in Los Angeles on Monday is busy there, not in
Encino.

`run()` expects Django set up on a migrated, otherwise empty database (bench/run.py
provides one); run this file alone to get a throwaway database of its own.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROVIDERS = 6
DAYS = 90
FULL = 0.6
REPEATS = 200
OPENS, CLOSES = clock(8, 30), clock(17)
BOOKED_MINUTES = 60  # a consultation (45 min) and its buffer (15 min)


def _build() -> tuple[list[Any], Any, datetime]:
    from zoneinfo import ZoneInfo

    from django.core.management import call_command

    from patients.models import Patient
    from scheduling.models import (
        Appointment,
        AppointmentType,
        BookingRules,
        Provider,
        Room,
        RoomKind,
        WorkingHours,
    )
    from website.models import Office, Practice

    call_command("load_demo_practice", "--no-staff", stdout=open(os.devnull, "w"))  # noqa: SIM115
    offices = list(Office.objects.filter(slug__in=["los-angeles", "encino"]).order_by("slug"))
    BookingRules.objects.get_or_create(practice=Practice.objects.get())
    consult, _ = AppointmentType.objects.get_or_create(
        slug="bench-consult",
        defaults={"name": "Consultation", "duration_minutes": 45, "buffer_after_minutes": 15, "bookable_online": True},
    )
    now = datetime.now(UTC).replace(microsecond=0)
    if Provider.objects.filter(name__startswith="Bench provider").exists():
        return offices, consult, now

    for office in offices:
        Room.objects.get_or_create(office=office, name="Procedure room", defaults={"kind": RoomKind.PROCEDURE})
    rng = random.Random(2031)  # the same calendar every run
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"P{n}", last_name="Bench", date_of_birth=date(1960, 1, 1)) for n in range(2000)
    )
    zone = ZoneInfo(offices[0].time_zone)
    today = now.astimezone(zone).date()
    # Each working day has room for `candidates` back-to-back consultations; booking each
    # with this chance fills FULL of the working time on average.
    day_minutes = (datetime.combine(today, CLOSES) - datetime.combine(today, OPENS)).seconds // 60
    candidates = (day_minutes - 45) // BOOKED_MINUTES + 1
    chance = FULL * day_minutes / (candidates * BOOKED_MINUTES)
    appointments: list[Any] = []
    for n in range(PROVIDERS):
        provider = Provider.objects.create(name=f"Bench provider {n}")
        # Each provider alternates offices through the week, as Dr. Lee does.
        week = [(weekday, offices[(weekday + n) % 2]) for weekday in range(5)]
        WorkingHours.objects.bulk_create(
            WorkingHours(provider=provider, office=office, weekday=weekday, starts=OPENS, ends=CLOSES)
            for weekday, office in week
        )
        for offset in range(DAYS + 1):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            office = week[day.weekday()][1]
            hour = datetime.combine(day, OPENS, tzinfo=zone)
            while hour + timedelta(minutes=45) <= datetime.combine(day, CLOSES, tzinfo=zone):
                if rng.random() < chance:
                    appointments.append(
                        Appointment(
                            office=office,
                            provider=provider,
                            appointment_type=consult,
                            patient=patients[len(appointments) % len(patients)],
                            starts_at=hour,
                            ends_at=hour + timedelta(minutes=45),
                            blocks_until=hour + timedelta(minutes=60),
                            source=Appointment.Source.STAFF,
                        )
                    )
                hour += timedelta(minutes=BOOKED_MINUTES)
    Appointment.objects.bulk_create(appointments, batch_size=500)
    return offices, consult, now


def _fullness(today: date) -> float:
    """The share of the providers' working time over the DAYS searched that is already booked."""
    from zoneinfo import ZoneInfo

    from scheduling.models import Appointment, WorkingHours

    hours = list(WorkingHours.objects.filter(provider__name__startswith="Bench provider").select_related("office"))
    booked_by_provider: dict[int, list[tuple[datetime, datetime]]] = {}
    for provider_id, starts_at, blocks_until in Appointment.objects.filter(
        provider__name__startswith="Bench provider"
    ).values_list("provider_id", "starts_at", "blocks_until"):
        booked_by_provider.setdefault(provider_id, []).append((starts_at, blocks_until))
    working = booked = timedelta()
    for offset in range(DAYS):
        day = today + timedelta(days=offset)
        for block in hours:
            if block.weekday != day.weekday():
                continue
            zone = ZoneInfo(block.office.time_zone)
            opens = datetime.combine(day, block.starts, tzinfo=zone)
            closes = datetime.combine(day, block.ends, tzinfo=zone)
            working += closes - opens
            for starts_at, blocks_until in booked_by_provider.get(block.provider_id, []):
                if starts_at < closes and blocks_until > opens:
                    booked += min(blocks_until, closes) - max(starts_at, opens)
    return booked / working


def run() -> list[tuple[str, float, str]]:
    from zoneinfo import ZoneInfo

    from scheduling.availability import free_slots
    from scheduling.models import Provider

    offices, appointment_type, now = _build()
    today = now.astimezone(ZoneInfo(offices[0].time_zone)).date()
    providers = Provider.objects.filter(is_active=True).count()
    fullness = _fullness(today)
    if providers != PROVIDERS or abs(fullness - FULL) > 0.03:
        raise SystemExit(f"bench_slot_search: {providers} providers, {fullness:.0%} full; the set-up is wrong")

    def search(offices: list[Any]) -> int:
        slots = free_slots(
            offices=offices,
            appointment_type=appointment_type,
            start_date=today,
            end_date=today + timedelta(days=DAYS - 1),
            now=now,
        )
        return len(slots)

    found = [search([office]) for office in offices]
    if 0 in found or search(offices) != sum(found):
        raise SystemExit("bench_slot_search: the searches disagree or found no free time; the set-up is wrong")
    print(
        f"bench_slot_search: {len(offices)} offices x {providers} providers x {DAYS} days, "
        f"{fullness:.1%} of working time booked; {found} free slots; {REPEATS} timed searches of each kind",
        file=sys.stderr,
    )
    for _ in range(5):
        search(offices)
        for office in offices:
            search([office])
    both, one = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        search(offices)
        both.append((time.perf_counter() - started) * 1000)
    for n in range(REPEATS):
        started = time.perf_counter()
        search([offices[n % 2]])
        one.append((time.perf_counter() - started) * 1000)
    return [
        ("slot_search_p95_ms", statistics.quantiles(both, n=20)[-1], "ms"),
        ("slot_search_one_office_p95_ms", statistics.quantiles(one, n=20)[-1], "ms"),
    ]


if __name__ == "__main__":
    tmp = tempfile.mkdtemp(prefix="regenclinic-bench-slots-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(VAR_DIR=tmp, SQLITE_PATH=str(Path(tmp) / "bench.sqlite3"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    for name, value, unit in run():
        print(f"bench {name} {value:.3g} {unit}")

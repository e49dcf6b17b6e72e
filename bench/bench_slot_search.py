"""Free-time search speed: `bench slot_search_p95_ms <v> ms`.

Builds 2 offices x 6 providers x 90 days with a calendar about 60% full, then times
`scheduling.queries.free_slots` for one office and the online consultation over the
whole 90 days. `run()` expects Django set up on a migrated, otherwise empty database
(bench/run.py provides one); run this file alone to get a throwaway database of its own.
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


def _build() -> tuple[Any, Any, datetime]:
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
        return offices[1], consult, now

    for office in offices:
        Room.objects.get_or_create(office=office, name="Procedure room", defaults={"kind": RoomKind.PROCEDURE})
    rng = random.Random(2031)  # the same calendar every run
    patients = Patient.objects.bulk_create(
        Patient(first_name=f"P{n}", last_name="Bench", date_of_birth=date(1960, 1, 1)) for n in range(2000)
    )
    zone = ZoneInfo(offices[0].time_zone)
    today = now.astimezone(zone).date()
    appointments: list[Any] = []
    for n in range(PROVIDERS):
        provider = Provider.objects.create(name=f"Bench provider {n}")
        # Each provider alternates offices through the week, as Dr. Lee does.
        week = [(weekday, offices[(weekday + n) % 2]) for weekday in range(5)]
        WorkingHours.objects.bulk_create(
            WorkingHours(provider=provider, office=office, weekday=weekday, starts=clock(8, 30), ends=clock(17))
            for weekday, office in week
        )
        for offset in range(DAYS + 1):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            office = week[day.weekday()][1]
            hour = datetime.combine(day, clock(8, 30), tzinfo=zone)
            while hour + timedelta(minutes=45) <= datetime.combine(day, clock(17), tzinfo=zone):
                if rng.random() < FULL:
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
                hour += timedelta(minutes=60)
    Appointment.objects.bulk_create(appointments, batch_size=500)
    return offices[1], consult, now


def run() -> list[tuple[str, float, str]]:
    from zoneinfo import ZoneInfo

    from scheduling.queries import free_slots

    office, appointment_type, now = _build()
    today = now.astimezone(ZoneInfo(office.time_zone)).date()

    def search() -> int:
        slots = free_slots(
            office=office,
            appointment_type=appointment_type,
            start_date=today,
            end_date=today + timedelta(days=DAYS - 1),
            now=now,
        )
        return len(slots)

    if search() == 0:
        raise SystemExit("bench_slot_search: the search found no free time; the set-up is wrong")
    for _ in range(5):
        search()
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        search()
        timings.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(timings, n=20)[-1]
    return [("slot_search_p95_ms", p95, "ms")]


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

"""Booking through the served site: throughput on PostgreSQL, and a 200-person race for one slot.

    bench booking_throughput_vs_bare_view <ratio> ratio    PostgreSQL
    bench booking_race_double_bookings <n> count           SQLite (must be 0)
    bench booking_race_server_errors <n> count             SQLite (must be 0)
    bench booking_race_double_bookings_pg <n> count        PostgreSQL (must be 0)
    bench booking_race_server_errors_pg <n> count          PostgreSQL (must be 0)

The method:

- Each database gets a site of its own, started as bench/run.py starts one (gunicorn
  with 2 workers, migrate, the demo practice) plus the demo schedule and BENCH_PROVIDERS
  more providers, so that there is plenty of free time to book. SQLite: a file in a
  temporary directory. PostgreSQL: a throwaway database (`regenclinic_bench` at
  127.0.0.1, or BENCH_POSTGRES_URL), dropped before and after; never the dev database.
  When PostgreSQL does not answer, its figures are left out and stderr says why.
- Slots come from a helper process on the site's own database (this file run as
  `bench_booking.py prepare`): free online consultation times from two days ahead,
  none overlapping another for the same provider, signed as the booking page signs
  them, in time order so that neighbouring bookings go to different providers.
- A booking goes the public way, as a person's browser does: GET the details form of a
  signed slot (for the CSRF cookie and token), then POST the form with a new person's
  name, phone, email, date of birth and area of concern. It succeeded when the POST
  answers 302 to the confirmation page.
- Throughput: a pool of THREADS client threads (Python, http.client, one connection per
  request as gunicorn's sync workers close each one) books distinct slots for
  BOOKING_SECONDS against 2 sync workers, after a few warm-up bookings. The figure is
  successful bookings per second over /healthz requests per second measured by wrk on
  the same site in the same run (before and after the bookings, averaged, like run.py).
- Race: RACERS threads each GET the form for one slot, wait at a barrier, then all POST
  at once. Here the 2 workers run RACE_THREADS threads each, so that many bookings are
  in flight together (with sync workers only two could ever race). Double bookings =
  active appointments overlapping that slot for its provider, minus one; server errors
  = 5xx answers plus requests dropped without an answer.

Progress and anything unexpected go to stderr; `run()` returns the figures. Run this
file alone (`python bench/bench_booking.py`) to print just these figures.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as served  # bench/run.py: how the site is served and measured

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/regenclinic_bench")
BENCH_PROVIDERS = 10
SLOTS = 4000
THREADS = 8
WARM_BOOKINGS = 10
BOOKING_SECONDS = int(os.environ.get("BENCH_BOOKING_SECONDS", "10"))
RACERS = 200
RACE_THREADS = 16
CONSULTATION = "new-patient-consultation"
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")

Figures = list[tuple[str, float, str]]


# --- Talking to the served site ----------------------------------------------------------------


def _request(base: str, method: str, path: str, *, body: str = "", cookie: str = "") -> tuple[int, str, str, str]:
    """One request on its own connection: (status, body, Set-Cookie, Location)."""
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
    headers = {"Connection": "close"}
    if cookie:
        headers["Cookie"] = cookie
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, text, response.getheader("Set-Cookie") or "", response.getheader("Location") or ""
    finally:
        connection.close()


def _open_form(base: str, office: str, signed: str) -> tuple[str, str, str]:
    """GET the details form of a slot: (the form's path, the CSRF cookie, the form's token)."""
    path = f"/book/{office}/details/"
    status, page, set_cookie, _ = _request(base, "GET", f"{path}?{urlencode({'slot': signed})}")
    cookie = _CSRF_COOKIE.search(set_cookie)
    token = _CSRF_INPUT.search(page)
    if status != 200 or cookie is None or token is None:
        raise RuntimeError(f"the details form answered {status}")
    return path, f"csrftoken={cookie.group(1)}", token.group(1)


def _confirm(base: str, form: tuple[str, str, str], signed: str, person: str) -> tuple[int, str]:
    """POST the details form as a new person: (status, Location)."""
    path, cookie, token = form
    body = urlencode(
        {
            "csrfmiddlewaretoken": token,
            "slot": signed,
            "first_name": "Bench",
            "last_name": f"Person {person}",
            "phone": "(818) 555-0199",
            "email": f"bench-{person}@example.com",
            "date_of_birth": "1960-01-01",
            "area_of_concern": "other",
        }
    )
    status, _, _, location = _request(base, "POST", path, body=body, cookie=cookie)
    return status, location


def _book(base: str, office: str, signed: str, person: str) -> str:
    """Book one slot the public way; the outcome as a short label ("booked" when it worked)."""
    try:
        status, location = _confirm(base, _open_form(base, office, signed), signed, person)
    except (OSError, RuntimeError, http.client.HTTPException) as error:
        return f"no answer: {type(error).__name__}: {error}"
    if status == 302 and "/booked/" in location:
        return "booked"
    return f"{status}"


# --- The site's own database, through a helper process -----------------------------------------


def _helper(env: dict[str, str], *args: str) -> Any:
    """Run this file as a helper on the site's database; its JSON answer."""
    result = subprocess.run(
        [served.PY, str(Path(__file__).resolve()), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench_booking: the {args[0]} helper failed:\n{result.stderr}")
    return json.loads(result.stdout)


def _prepare() -> dict[str, Any]:
    """More providers, then free, non-overlapping, signed online slots: {"slots": [[office, signed, ...]]}."""
    from datetime import time as clock
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from scheduling import tokens
    from scheduling.availability import free_slots
    from scheduling.models import AppointmentType, Provider, WorkingHours
    from website.models import Office

    offices = list(Office.objects.filter(slug__in=["los-angeles", "encino"]).order_by("slug"))
    consult = AppointmentType.objects.get(slug=CONSULTATION)
    for n in range(BENCH_PROVIDERS):
        provider, created = Provider.objects.get_or_create(name=f"Bench provider {n}")
        if created:
            WorkingHours.objects.bulk_create(
                WorkingHours(provider=provider, office=offices[n % 2], weekday=day, starts=clock(8, 30), ends=clock(17))
                for day in range(5)
            )
    now = timezone.now()
    first_day = now.astimezone(ZoneInfo(offices[0].time_zone)).date() + timedelta(days=2)
    chosen = []
    for office in offices:
        free_until: dict[int, Any] = {}
        for slot in free_slots(
            offices=[office], appointment_type=consult, start_date=first_day, end_date=first_day + timedelta(days=80)
        ):
            if slot.starts_at >= free_until.get(slot.provider_id, slot.starts_at):
                free_until[slot.provider_id] = slot.starts_at + consult.occupies
                chosen.append((slot, office.slug))
    chosen.sort(key=lambda pair: (pair[0].starts_at, pair[0].provider_id))
    return {
        "slots": [
            [
                slug,
                tokens.slot_sign(slot=slot, appointment_type_id=consult.pk),
                slot.provider_id,
                int(slot.starts_at.timestamp()),
            ]
            for slot, slug in chosen[:SLOTS]
        ]
    }


def _overlapping(provider_id: int, starts: int) -> dict[str, int]:
    """Active appointments of the provider overlapping a consultation from `starts` (seconds since 1970)."""
    from datetime import UTC, datetime

    from scheduling.models import AppointmentType
    from scheduling.rules import active_appointments

    starts_at = datetime.fromtimestamp(starts, UTC)
    occupies = AppointmentType.objects.get(slug=CONSULTATION).occupies
    overlapping = active_appointments().filter(
        provider_id=provider_id, starts_at__lt=starts_at + occupies, blocks_until__gt=starts_at
    )
    return {"overlapping": overlapping.count()}


# --- The measurements ---------------------------------------------------------------------------


def _throughput(base: str, slots: list[list[Any]]) -> float:
    """Successful bookings per second by THREADS threads, each slot booked once."""
    warm, timed = slots[:WARM_BOOKINGS], slots[WARM_BOOKINGS:]
    for n, (office, signed, *_) in enumerate(warm):
        outcome = _book(base, office, signed, f"warm-{n}")
        if outcome != "booked":
            raise SystemExit(f"bench_booking: a warm-up booking answered {outcome}")
    lock = threading.Lock()
    todo = iter(enumerate(timed))
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + BOOKING_SECONDS

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(todo, None)
            if item is None:
                return
            n, (office, signed, *_) = item
            outcome = _book(base, office, signed, f"t-{n}")
            with lock:
                outcomes[outcome] += 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for future in [pool.submit(client) for _ in range(THREADS)]:
            future.result()
    elapsed = time.monotonic() - started
    served.say(f"bench_booking: {sum(outcomes.values())} bookings in {elapsed:.1f}s: {dict(outcomes)}")
    if outcomes["booked"] == sum(outcomes.values()) == len(timed):
        served.say("bench_booking: ran out of slots before the time was up; raise SLOTS")
    if outcomes["booked"] != sum(outcomes.values()):
        served.say("bench_booking: some bookings of distinct free slots failed (counted out of the figure)")
    return outcomes["booked"] / elapsed


def _race(base: str, env: dict[str, str], slot: list[Any]) -> tuple[int, int]:
    """RACERS people confirm one slot at once: (double bookings, server errors)."""
    office, signed, provider_id, starts = slot
    barrier = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def racer(n: int) -> None:
        try:
            form = _open_form(base, office, signed)
        except (OSError, RuntimeError, http.client.HTTPException) as error:
            barrier.abort()  # everyone stops: the race cannot be run fairly
            outcome = f"no form: {error}"
        else:
            try:
                barrier.wait(timeout=120)
                status, location = _confirm(base, form, signed, f"racer-{n}")
                outcome = "booked" if status == 302 and "/booked/" in location else str(status)
            except threading.BrokenBarrierError:
                outcome = "not run"
            except (OSError, http.client.HTTPException) as error:
                outcome = f"no answer: {type(error).__name__}"
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    served.say(f"bench_booking: {RACERS} people confirming one slot at once: {dict(outcomes)}")
    if outcomes["not run"] or any(key.startswith("no form") for key in outcomes):
        raise SystemExit("bench_booking: the race could not start: a details form did not load")
    server_errors = sum(n for key, n in outcomes.items() if key.startswith(("5", "no answer")))
    overlapping = _helper(env, "overlapping", str(provider_id), str(starts))["overlapping"]
    return overlapping - 1, server_errors


# --- The two sites ------------------------------------------------------------------------------


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A fresh throwaway database (its URL), dropped afterwards; None when PostgreSQL does not answer."""
    import psycopg

    url = urlparse(POSTGRES_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        served.say(
            f"bench_booking: PostgreSQL at {url.hostname}:{url.port} is not reachable ({error}); no PostgreSQL figures"
        )
        yield None
        return
    try:
        yield POSTGRES_URL
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _site(var_dir: Path, database_url: str = "", threads: int = 1) -> Any:
    """The served site, its output (request warnings for every 409, say) kept in var_dir/server.log."""
    return served.served_site(
        var_dir,
        database_url=database_url,
        setup=(("load_demo_schedule",),),
        threads=threads,
        log=var_dir / "server.log",
    )


def _log_trouble(var_dir: Path) -> None:
    """Say on stderr what in the server's log points at a failure."""
    text = (var_dir / "server.log").read_text()
    trouble = {word: text.count(word) for word in ("Traceback", "Internal Server Error", "database is locked")}
    served.say(f"bench_booking: in the server's log: {trouble}")


def _race_on(database_url: str, suffix: str) -> Figures:
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-race-") as tmp:
        var_dir = Path(tmp)
        env = served.app_env(var_dir, database_url)
        with _site(var_dir, database_url, threads=RACE_THREADS) as (base, _):
            slots = _helper(env, "prepare")["slots"]
            double_bookings, server_errors = _race(base, env, slots[0])
        _log_trouble(var_dir)
    return [
        (f"booking_race_double_bookings{suffix}", double_bookings, "count"),
        (f"booking_race_server_errors{suffix}", server_errors, "count"),
    ]


def _throughput_on(database_url: str) -> Figures:
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-booking-") as tmp:
        var_dir = Path(tmp)
        env = served.app_env(var_dir, database_url)
        with _site(var_dir, database_url) as (base, _):
            slots = _helper(env, "prepare")["slots"]
            for _ in range(served.WARM_REQUESTS):
                served.fetch(base + served.BARE_URL)
            served.say(f"bench_booking: {served.BARE_URL} with wrk, then bookings for {BOOKING_SECONDS}s, then wrk")
            bare = served.wrk_rps(base + served.BARE_URL)
            bookings = _throughput(base, slots)
            bare_again = served.wrk_rps(base + served.BARE_URL)
        _log_trouble(var_dir)
    bare_mean = (bare + bare_again) / 2
    served.say(f"bench_booking: {bookings:.1f} bookings/s; bare view {bare:.0f} and {bare_again:.0f} req/s")
    return [("booking_throughput_vs_bare_view", bookings / bare_mean, "ratio")]


def run() -> Figures:
    figures = _race_on("", "")
    with _postgres_database() as database_url:
        if database_url is not None:
            figures += _throughput_on(database_url)
    # A fresh database for the race: the throughput run booked much of the calendar.
    with _postgres_database() as database_url:
        if database_url is not None:
            figures += _race_on(database_url, "_pg")
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1:  # a helper, on the database the environment names
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        if sys.argv[1] == "prepare":
            print(json.dumps(_prepare()))
        elif sys.argv[1] == "overlapping":
            print(json.dumps(_overlapping(int(sys.argv[2]), int(sys.argv[3]))))
        else:
            raise SystemExit(f"bench_booking: unknown helper {sys.argv[1]!r}")
    else:
        for name, value, unit in run():
            served.figure(name, value, unit)

"""The crash drill: under booking and chart-editing load, kill the web server, the worker and the database.

    manage.py crash_drill [--database sqlite|postgresql|both] [--seconds N]

On a database of its own (a SQLite file in a temporary directory, or a throwaway
PostgreSQL cluster: `initdb` into a temporary directory, its own port and socket; the
machine's PostgreSQL is never touched), loaded with the demo practice, the drill serves
the site as `make run` does (gunicorn with 2 sync workers, and `manage.py run_worker`),
then drives it with client threads:

- bookers book online consultations the public way (the details form, then its POST,
  CSRF and all), every booker on the same next free slot at once, so that a double
  booking would show; a booking is acknowledged by its 302 to the confirmation page,
  whose link names the appointment;
- editors are a physician signed in with `accounts.testing.signed_in_session`, each on a
  chart of their own, alternately adding an allergy (named by its number) and saving
  the demographics form with a new street address (numbered), as a browser submits it.

While they run: `kill -9` of gunicorn's whole process group, a restart; `kill -9` of the
worker, a restart; on PostgreSQL `pg_ctl stop -m immediate` (a crash: no checkpoint, no
goodbye to clients), a restart. Then the load stops, the worker sends what is waiting
and is stopped, and a check on the database, run as a process of its own, counts:

- every acknowledged booking's appointment, every acknowledged allergy, and each
  acknowledged address, on its chart or saved over by a later edit (never an older
  one): `lost` is what is missing;
- active appointments of one provider (or one room) whose times overlap;
- the outbox against the mail the worker wrote (the file backend; a file can hold several messages):
  `emails_sent_twice` counts messages written more often than their row says, and
  `emails_lost` rows recorded sent with no message, found bookings without an email,
  and rows still pending once the outbox's
  sweep has run as it will when SWEEP_AFTER has passed (it delivers what a killed worker
  had claimed as a task but not begun). A row left SENDING by a killed worker is counted
  as interrupted (and as unsent when no message was written): the sweep records it so
  for staff, who can send it again from the admin, and never sends it again by itself;
- `verify_audit`.

The figures are printed as `drill crash_<database>_<name> <value> <unit>`; the command
fails when anything acknowledged is lost, a slot is double-booked, an email is sent
twice or lost, the audit chain is broken, the web server or the worker stopped by itself, or
the site acknowledged nothing after a restart.
Progress goes to stderr. Request paths, not patients, are all the logs here hold.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BOOKERS = 4
EDITORS = 2
SLOTS = 1500
CONSULTATION = "new-patient-consultation"
EDITOR_USERNAME = "drlee"
# Figures that must be 0.
MUST_BE_ZERO = (
    "lost",
    "double_booked",
    "emails_sent_twice",
    "emails_lost",
    "audit_broken",
    "web_exited",
    "worker_exited",
)


def rate_limit_variables() -> list[str]:
    """The environment variable of every rate-limit group the settings know (RATE_LIMIT_<GROUP>), to lift them."""
    from django.conf import settings

    return [f"RATE_LIMIT_{group.upper()}" for group in settings.RATE_LIMITS]


_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_BOOKED = re.compile(r"/book/manage/([^/]+)/booked/")
_STREET = re.compile(r"^(\d+) Drill Street$")


def say(message: str) -> None:
    print(f"crash_drill: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(var_dir: Path, database_url: str = "") -> dict[str, str]:
    """The served site's environment: SQLite in `var_dir` or `database_url`, mail in `var_dir`/mail, no limits."""
    drop = {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE", "EMAIL_BACKEND", "REDIS_URL", "HTTPS"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        VAR_DIR=str(var_dir),
        SQLITE_PATH=str(var_dir / "drill.sqlite3"),
        ALLOWED_HOSTS="127.0.0.1",
        WORKER_INTERVAL_SECONDS="2",
        SECRET_KEY="crash-drill-" + os.urandom(16).hex(),
        # Every client comes from 127.0.0.1: the per-address limits would refuse the load itself.
        SIGN_IN_FAILURE_LIMIT="1000000",
        **{name: "1000000/h" for name in rate_limit_variables()},
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


# --- A throwaway PostgreSQL cluster ---------------------------------------------------------------


def _pg_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise SystemExit("crash_drill: no PostgreSQL server binaries (initdb) found; set PG_BIN")
    return Path(found[-1]).parent


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on a port of its own, that can be crashed and restarted.

    initdb refuses to run as root, so as root the server runs as the `postgres` user.
    """

    def __init__(self, base: Path) -> None:
        self.bin = _pg_bin()
        self.dir = base / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.dir.mkdir()
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def create(self) -> None:
        """initdb, start, and create the app's database."""
        if self.as_owner:
            shutil.chown(self.dir, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.start()
        with self.connect("postgres") as connection:
            connection.execute("CREATE DATABASE regenclinic")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/regenclinic"

    def connect(self, database: str) -> Any:
        import psycopg

        return psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/{database}", autocommit=True)

    def _pg(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / program), *args], check=True, stdout=subprocess.DEVNULL, cwd=self.dir
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w", "start")

    def crash(self) -> None:
        """Stop at once, as a crash would (no checkpoint), and start again: it recovers from the write-ahead log."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        time.sleep(1)
        self.start()

    def remove(self) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )


# --- The served site: gunicorn and the worker, as `make run` starts them --------------------------


class Site:
    """gunicorn and the worker on one database, each in a process group of its own so a kill reaches all of it."""

    def __init__(self, env: dict[str, str], var_dir: Path) -> None:
        self.env = env
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.web_log = (var_dir / "web.log").open("a")
        self.worker_log = (var_dir / "worker.log").open("a")
        self.web: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def start_web(self) -> None:
        self.web = subprocess.Popen(
            [
                PY,
                "-m",
                "gunicorn",
                "regenclinic.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--logger-class",
                "regenclinic.logfilters.GunicornLogger",
                "--access-logfile",
                "-",
                "--access-logformat",
                "%(t)s %(m)s %(U)s %(s)s %(b)s %(L)ss",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.web_log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._healthy():
            if time.monotonic() > deadline or self.web.poll() is not None:
                raise SystemExit("crash_drill: gunicorn did not start")
            time.sleep(0.1)

    def _healthy(self) -> bool:
        try:
            return request(self.base, "GET", "/healthz", timeout=2).status == 200
        except (OSError, http.client.HTTPException):
            return False

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [PY, "manage.py", "run_worker", "--exit-with-parent"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
            stdout=self.worker_log,
            stderr=subprocess.STDOUT,
        )

    @staticmethod
    def kill(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
        """Signal the process's whole group (gunicorn's master and workers together) and wait for it."""
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        process.wait(timeout=60)
        if sig != signal.SIGKILL:
            return
        # A worker of a killed master that outlived it (none should) is killed too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def crash_web(self) -> None:
        self.kill(self.web)
        self.start_web()

    def crash_worker(self) -> None:
        self.kill(self.worker)
        self.start_worker()

    def stop(self) -> None:
        self.kill(self.web, signal.SIGTERM)
        self.kill(self.worker, signal.SIGTERM)
        self.web_log.close()
        self.worker_log.close()


# --- HTTP, as a browser speaks it -----------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str
    cookies: dict[str, str]
    location: str


def request(
    base: str, method: str, path: str, *, form: dict[str, str] | None = None, cookies: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:  # fmt: skip
    """One request on its own connection (gunicorn's sync workers close each one)."""
    port = int(base.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Connection": "close", "Accept-Encoding": "identity"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        # Django's CSRF check compares the Origin of an unsafe request with the host.
        headers["Origin"] = base
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        set_cookies = {}
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            set_cookies[name.strip()] = rest.split(";", 1)[0]
        return Answer(response.status, text, set_cookies, response.getheader("Location") or "")
    finally:
        connection.close()


class _Form(HTMLParser):
    """The fields of the form on a page that holds `field`, filled as a browser would submit it unchanged."""

    def __init__(self, field: str) -> None:
        super().__init__()
        self.field = field
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        name = values.get("name", "")
        if tag == "form":
            self.forms.append({})
        elif not self.forms:
            return
        elif tag == "input" and name and values.get("type") not in {"submit", "button"}:
            if values.get("type") in {"checkbox", "radio"} and "checked" not in values:
                return
            self.forms[-1][name] = values.get("value", "on" if values.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select:
            if self._select not in self.forms[-1] or "selected" in values:
                self.forms[-1][self._select] = values.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.forms[-1][name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1][self._textarea] += data

    def fields(self) -> dict[str, str]:
        for form in self.forms:
            if self.field in form:
                return form
        raise LookupError(f"no form with {self.field}")


def read_form(page: str, field: str) -> dict[str, str]:
    parser = _Form(field)
    parser.feed(page)
    return parser.fields()


# --- The load -------------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What every client sent and whether it got a success answer, kept for the check."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, *, kind: str, outcome: str, **entry: Any) -> None:
        with self.lock:
            self.outcomes[f"{kind} {outcome}"] += 1
            if outcome == "ok":
                self.entries.append({"kind": kind, "at": time.monotonic(), **entry})

    def acknowledged_since(self, moment: float) -> int:
        with self.lock:
            return sum(1 for entry in self.entries if entry["at"] > moment)


def _outcome(error: BaseException) -> str:
    return "no answer" if isinstance(error, (OSError, http.client.HTTPException)) else type(error).__name__


class Load:
    """BOOKERS racing for the same next slot and EDITORS on their own charts, until `stop`."""

    def __init__(self, base: str, prepared: dict[str, Any]) -> None:
        self.base = base
        self.slots = prepared["slots"]
        self.charts = prepared["charts"]
        self.session = prepared["session"]
        self.ledger = Ledger()
        self.stop_event = threading.Event()
        self.next_slot = 0
        self.slot_lock = threading.Lock()
        self.threads = [threading.Thread(target=self._booker, args=(n,)) for n in range(BOOKERS)] + [
            threading.Thread(target=self._editor, args=(n,)) for n in range(EDITORS)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join()

    def _pause(self) -> None:
        # After a refusal or no answer: the site is down or busy; do not spin.
        self.stop_event.wait(0.2)

    def _booker(self, n: int) -> None:
        count = 0
        while not self.stop_event.is_set():
            with self.slot_lock:
                index = self.next_slot
            if index >= len(self.slots):
                self.ledger.note(kind="booking", outcome="out of slots")
                return
            office, signed = self.slots[index]
            count += 1
            outcome = "refused"
            try:
                outcome, token = self._book(office, signed, f"{n}-{count}")
            except Exception as error:  # a crash drill meets every kind of failure
                outcome, token = _outcome(error), ""
            if outcome in {"ok", "refused"}:
                with self.slot_lock:  # booked by this booker or another: everyone moves on to the next
                    self.next_slot = max(self.next_slot, index + 1)
            self.ledger.note(kind="booking", outcome=outcome, token=token, slot=index)
            if outcome != "ok":
                self._pause()

    def _book(self, office: str, signed: str, person: str) -> tuple[str, str]:
        path = f"/book/{office}/details/"
        page = request(self.base, "GET", f"{path}?{urlencode({'slot': signed})}")
        token = _CSRF_INPUT.search(page.body)
        if page.status != 200 or token is None:
            return f"form {page.status}", ""
        answer = request(
            self.base,
            "POST",
            path,
            cookies=page.cookies,
            form={
                "csrfmiddlewaretoken": token.group(1),
                "slot": signed,
                "first_name": "Drill",
                "last_name": f"Person {person}",
                "phone": "(818) 555-0199",
                "email": f"drill-{person}@example.com",
                "date_of_birth": "1960-01-01",
                "area_of_concern": "other",
            },
        )
        booked = _BOOKED.search(answer.location)
        if answer.status == 302 and booked:
            return "ok", booked.group(1)
        return ("refused" if answer.status in {200, 409} else str(answer.status)), ""

    def _editor(self, n: int) -> None:
        chart = self.charts[n % len(self.charts)]
        cookies = {self.session["cookie"]: self.session["value"]}
        count = 0
        while not self.stop_event.is_set():
            count += 1
            kind = "allergy" if count % 2 else "address"
            try:
                outcome = self._edit(chart, kind, count, cookies)
            except Exception as error:
                outcome = _outcome(error)
            self.ledger.note(kind=kind, outcome=outcome, chart=chart, number=count)
            if outcome != "ok":
                self._pause()

    def _edit(self, chart: str, kind: str, number: int, cookies: dict[str, str]) -> str:
        page_path = f"/staff/patients/{chart}/" + ("allergies/new/" if kind == "allergy" else "edit/")
        page = request(self.base, "GET", page_path, cookies=cookies)
        cookies.update(page.cookies)
        if page.status != 200:
            return f"form {page.status}"
        if kind == "allergy":
            token = _CSRF_INPUT.search(page.body)
            if token is None:
                return "form without token"
            fields = {"csrfmiddlewaretoken": token.group(1), "substance": f"Drill allergy {number}", "reaction": ""}
        else:
            fields = read_form(page.body, "street")
            fields["street"] = f"{number} Drill Street"
        answer = request(self.base, "POST", page_path, form=fields, cookies=cookies)
        cookies.update(answer.cookies)
        if answer.status == 302 and answer.location.startswith(f"/staff/patients/{chart}/"):
            return "ok"
        return str(answer.status)


# --- The drill ------------------------------------------------------------------------------------


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if result.returncode != 0:
        raise SystemExit(f"crash_drill: manage.py {args[0]} failed:\n{result.stderr}")
    return result.stdout or ""


SETUP = (
    ("migrate", "--noinput", "-v0"),
    ("load_demo_practice",),
    ("load_demo_schedule",),
    ("load_consent_documents",),
    ("load_demo_clinic",),
)


@dataclass
class Step:
    name: str
    seconds: float
    acknowledged_after: int


def drill(*, database: str, seconds: float, out: TextIO) -> bool:
    """One drill on `database` ("sqlite" or "postgresql"); prints its figures to `out`; True when nothing was lost.

    A failed drill keeps its directory (the servers' logs, the database, the mail) and says where.
    """
    started = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix=f"regenclinic-crash-drill-{database}-"))
    var_dir.chmod(0o711)  # as root, the postgres user must pass through to its cluster's directory inside
    cluster: Cluster | None = None
    passed = False
    try:
        if database == "postgresql":
            cluster = Cluster(var_dir)
            cluster.create()
        env = app_env(var_dir, cluster.url if cluster else "")
        say(f"{database}: migrate and the demo practice")
        for command in SETUP:
            manage(env, *command)
        prepared = json.loads(manage(env, "crash_drill", "--prepare", capture=True))
        site = Site(env, var_dir)
        try:
            entries, steps = _under_load(site, cluster, prepared, seconds=seconds, database=database)
            exited = {"web_exited": site.web, "worker_exited": site.worker}
            _wait_for_outbox(env)
            exited_figures = {
                name: int(process is None or process.poll() is not None) for name, process in exited.items()
            }
        finally:
            site.stop()
        ledger = var_dir / "ledger.json"
        ledger.write_text(json.dumps(entries))
        figures = json.loads(manage(env, "crash_drill", "--check", str(ledger), capture=True))
        figures.update(exited_figures, seconds=round(time.monotonic() - started))
        passed = _report(database, figures, steps, out)
        return passed
    finally:
        if cluster:
            cluster.remove()
        if passed:
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            say(f"{database}: kept {var_dir} (the servers' logs, the database, the mail)")


def _under_load(
    site: Site, cluster: Cluster | None, prepared: dict[str, Any], *, seconds: float, database: str
) -> tuple[list[dict[str, Any]], list[Step]]:
    """The site served and loaded, crashed and restarted step by step; what was acknowledged, and each step."""
    site.start_web()
    site.start_worker()
    load = Load(site.base, prepared)
    say(f"{database}: load on {site.base} ({BOOKERS} bookers on the same slots, {EDITORS} chart editors)")
    crashes: list[tuple[str, Callable[[], None]]] = [
        ("kill -9 gunicorn", site.crash_web),
        ("kill -9 worker", site.crash_worker),
    ]
    if cluster:
        crashes.append(("postgresql immediate stop", cluster.crash))
    steps: list[Step] = []
    load.start()
    try:
        time.sleep(seconds)
        for name, crash in crashes:
            moment = time.monotonic()
            crash()
            back = time.monotonic() - moment
            time.sleep(seconds)
            steps.append(Step(name, back, load.ledger.acknowledged_since(moment + back)))
            say(f"{database}: {name}, back in {back:.1f}s; {steps[-1].acknowledged_after} acknowledged since")
    finally:
        load.stop()
    say(f"{database}: load stopped: {dict(sorted(load.ledger.outcomes.items()))}")
    return load.ledger.entries, steps


def _wait_for_outbox(env: dict[str, str], timeout: float = 30) -> None:
    """Until no task is ready to run (the worker runs ready tasks every second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(manage(env, "crash_drill", "--ready-tasks", capture=True)) == 0:
            return
        time.sleep(1)
    say("the worker had not sent everything after 30 s; the check's sweep sends the rest")


def _report(database: str, figures: dict[str, int], steps: list[Step], out: TextIO) -> bool:
    units = {
        "acknowledged": "requests",
        "found": "rows",
        "lost": "rows",
        "seconds": "s",
        "audit_rows": "rows",
    }
    for name, value in figures.items():
        unit = units.get(name, "emails" if name.startswith("emails") else "count")
        out.write(f"drill crash_{database}_{name} {value} {unit}\n")
    for step in steps:
        slug = re.sub(r"[^a-z0-9]+", "_", step.name.lower()).strip("_")
        out.write(f"drill crash_{database}_{slug}_back_in {step.seconds:.1f} s\n")
        out.write(f"drill crash_{database}_{slug}_acknowledged_after {step.acknowledged_after} requests\n")
    out.flush()
    failed = [name for name in MUST_BE_ZERO if figures.get(name)]
    if figures.get("acknowledged", 0) == 0:
        failed.append("nothing acknowledged")
    failed += [f"nothing acknowledged after {step.name}" for step in steps if step.acknowledged_after == 0]
    if failed:
        out.write(f"drill crash_{database} FAILED: {', '.join(failed)}\n")
    return not failed


# --- The steps that run on the drill's database (manage.py crash_drill --prepare / --pending / --check) --


def prepare() -> dict[str, Any]:
    """Signed free slots in time order, the editing physician's session, and the charts the editors take."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.utils import timezone

    from accounts.models import User
    from accounts.testing import signed_in_session
    from patients.chart import chart_patients
    from scheduling import tokens
    from scheduling.availability import free_slots
    from scheduling.models import AppointmentType
    from website.models import Office

    consult = AppointmentType.objects.get(slug=CONSULTATION)
    offices = list(Office.objects.filter(is_active=True).order_by("slug"))
    first_day = timezone.now().astimezone(ZoneInfo(offices[0].time_zone)).date() + timedelta(days=2)
    slots = []
    for office in offices:
        free_until: dict[int, Any] = {}
        for slot in free_slots(
            offices=[office], appointment_type=consult, start_date=first_day, end_date=first_day + timedelta(days=120)
        ):
            if slot.starts_at >= free_until.get(slot.provider_id, slot.starts_at):
                free_until[slot.provider_id] = slot.starts_at + consult.occupies
                slots.append((slot.starts_at, slot.provider_id, office.slug, slot))
    slots.sort(key=lambda item: (item[0], item[1]))
    editor = User.objects.get(username=EDITOR_USERNAME)
    charts = chart_patients().filter(merged_into__isnull=True).order_by("pk")[:EDITORS]
    return {
        "slots": [[slug, tokens.slot_sign(slot=slot, appointment_type_id=consult.pk)] for *_, slug, slot in slots][
            :SLOTS
        ],
        "session": {"cookie": settings.SESSION_COOKIE_NAME, "value": signed_in_session(editor)},
        "charts": [str(patient.uuid) for patient in charts],
    }


def ready_tasks() -> int:
    """Tasks the worker would run now (above all, deliveries of queued emails)."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


def check(entries: list[dict[str, Any]]) -> dict[str, int]:
    """The figures: what acknowledged requests left in the database, double bookings, the outbox, the audit chain."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from accounts.audit import audit_verify
    from outbox.models import Email
    from outbox.services import SWEEP_AFTER, emails_sweep
    from patients.models import Allergy, Patient
    from scheduling import tokens
    from scheduling.models import Appointment

    figures: dict[str, int] = {}
    bookings = [entry for entry in entries if entry["kind"] == "booking"]
    allergies = [entry for entry in entries if entry["kind"] == "allergy"]
    addresses = [entry for entry in entries if entry["kind"] == "address"]

    booked = {tokens.manage_token_read(entry["token"]).appointment_uuid for entry in bookings}
    found_bookings = set(Appointment.objects.filter(uuid__in=booked).values_list("uuid", flat=True))
    recorded = set(
        Allergy.objects.filter(substance__startswith="Drill allergy ").values_list("patient__uuid", "substance")
    )
    found_allergies = [e for e in allergies if (_uuid(e["chart"]), f"Drill allergy {e['number']}") in recorded]
    streets = dict(Patient.objects.filter(uuid__in={e["chart"] for e in addresses}).values_list("uuid", "street"))
    found_addresses = 0
    for entry in addresses:
        street = _STREET.match(streets.get(_uuid(entry["chart"]), ""))
        # Edit n is there, or a later edit saved over it (one whose answer a kill cut off may stand): never older.
        if street and int(street.group(1)) >= entry["number"]:
            found_addresses += 1
    figures["acknowledged"] = len(entries)
    figures["bookings_acknowledged"] = len(bookings)
    figures["allergies_acknowledged"] = len(allergies)
    figures["addresses_acknowledged"] = len(addresses)
    figures["found"] = len(found_bookings) + len(found_allergies) + found_addresses
    figures["lost"] = figures["acknowledged"] - figures["found"]
    figures["appointments"] = Appointment.objects.count()
    figures["double_booked"] = _double_booked()

    # The outbox: first what a killed worker left claimed, then the sweep as it will run once SWEEP_AFTER has passed.
    interrupted = list(Email.objects.filter(status=Email.Status.SENDING).values_list("pk", flat=True))
    later = timezone.now() + SWEEP_AFTER + timedelta(minutes=1)
    swept = emails_sweep(now=later)
    sent = _mail_sent(Path(settings.EMAIL_FILE_PATH))
    rows = Counter[tuple[str, str, str]]()
    may_have_sent = Counter[tuple[str, str, str]]()
    for email in Email.objects.all():
        key = (email.to, email.subject, _normal(email.body))
        if email.status == Email.Status.SENT:
            rows[key] += 1
        elif email.pk in interrupted or email.status == Email.Status.INTERRUPTED:
            may_have_sent[key] += 1
    figures["emails"] = Email.objects.count()
    figures["emails_sent"] = sum(sent.values())
    figures["emails_sent_late_by_sweep"] = swept["delivered late"]
    figures["emails_interrupted"] = sum(may_have_sent.values())
    # Of those, the ones no message was written for: the sweep records them interrupted, for staff to send again.
    figures["emails_interrupted_unsent"] = sum(
        max(0, count - max(0, sent[key] - rows[key])) for key, count in may_have_sent.items()
    )
    figures["emails_sent_twice"] = sum(max(0, count - rows[key] - may_have_sent[key]) for key, count in sent.items())
    still_pending = Email.objects.filter(status__in=(Email.Status.QUEUED, Email.Status.FAILED)).count()
    figures["emails_lost"] = sum(max(0, count - sent[key]) for key, count in rows.items()) + still_pending
    booked_without_email = Appointment.objects.filter(uuid__in=found_bookings).exclude(
        uuid__in=[_uuid(ref) for ref in Email.objects.values_list("reference", flat=True) if _is_uuid(ref)]
    )
    figures["emails_lost"] += booked_without_email.count()
    audit = audit_verify()
    figures["audit_rows"] = audit.rows
    figures["audit_broken"] = 0 if audit.ok else 1
    return figures


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


def _is_uuid(value: str) -> bool:
    try:
        _uuid(value)
    except ValueError:
        return False
    return True


def _double_booked() -> int:
    """Active appointments overlapping an earlier one of the same provider (not a physician's override) or room."""
    from django.db.models import Exists, OuterRef

    from scheduling.rules import active_appointments

    def earlier_overlapping(on: str) -> Any:
        return active_appointments().filter(
            **{on: OuterRef(on)},
            pk__lt=OuterRef("pk"),
            starts_at__lt=OuterRef("blocks_until"),
            blocks_until__gt=OuterRef("starts_at"),
        )

    active = active_appointments()
    provider = active.filter(override_reason="").filter(
        Exists(earlier_overlapping("provider_id").filter(override_reason=""))
    )
    room = active.filter(room__isnull=False).filter(Exists(earlier_overlapping("room_id")))
    return provider.count() + room.count()


def _normal(body: str) -> str:
    return "\n".join(line.rstrip() for line in body.replace("\r\n", "\n").strip().split("\n"))


def _mail_sent(directory: Path) -> Counter[tuple[str, str, str]]:
    """The messages the file backend wrote (each ends with a line of 79 dashes), by recipient, subject and text."""
    sent: Counter[tuple[str, str, str]] = Counter()
    separator = b"\n" + b"-" * 79 + b"\n"
    for path in sorted(directory.glob("*.log")) if directory.exists() else []:
        for raw in path.read_bytes().split(separator):
            if raw.strip():
                # The modern policy unfolds a long header (a subject over 78 characters is written on two
                # lines) and decodes it, so each message is read back as the row it came from.
                message = message_from_bytes(raw, policy=email_policy.default)
                sent[(str(message["To"]), str(message["Subject"]), _normal(_text(message)))] += 1
    return sent


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    return ""

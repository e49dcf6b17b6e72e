"""The worker command: one pass of every job, a loop that stops cleanly, a failing job that stops nothing.

The loop tests run the real command in a child process against the test database,
with its own var/ directory (mail lands in its var/mail/), and signal it as a person's
Ctrl-C, a service manager or a vanished parent would.
"""

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from outbox import jobs
from scheduling.models import Appointment, Reminder
from scheduling.tests.conftest import Schedule
from website.services import inquiry_submit

STARTED = (
    "run_worker: started, a pass every 0.2 s (outbox_sweep, send_reminders, outcomes_invitations, interop_bulk_sweep)."
)
# The outcomes and interop jobs' part of a pass where they had nothing to do (no follow-up or export in these tests).
NO_OUTCOMES = (
    "outcomes_invitations 0 baselines, 0 opened, 0 missed, 0 sent, 0 skipped; "
    "interop_bulk_sweep 0 interrupted, 0 expired; "
)
ONE_REMINDER = (
    "run_worker: outbox_sweep 0 interrupted, 0 delivered late; send_reminders 1 queued, 0 skipped; "
    f"{NO_OUTCOMES}tasks 1 run"
)
IDLE = (
    "run_worker: outbox_sweep 0 interrupted, 0 delivered late; send_reminders 0 queued, 0 skipped; "
    f"{NO_OUTCOMES}tasks 0 run\n"
)
STOPPED = "run_worker: stopped."


def due_now(schedule: Schedule) -> Appointment:
    """An appointment whose 2-hour reminder fell due a minute ago (its 48-hour one is not due yet: 46 h)."""
    starts_at = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=2) - timedelta(minutes=1)
    schedule.rules.reminder_hours = "2"
    schedule.rules.save()
    return Appointment.objects.create(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        patient=schedule.rosa,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        blocks_until=starts_at + timedelta(minutes=60),
        source=Appointment.Source.STAFF,
    )


def run_once() -> str:
    out = io.StringIO()
    call_command("run_worker", "--once", stdout=out)
    return out.getvalue()


# --- One pass ----------------------------------------------------------------------------------------


def test_once_runs_every_job_one_time_then_the_ready_tasks_and_prints_the_pass(schedule: Schedule) -> None:
    due_now(schedule)
    inquiry_submit(
        name="A person",
        email="person@example.com",
        phone="",
        preferred_office=None,
        message="When are you open?",
        language="en",
        ip_address="127.0.0.1",
    )
    assert run_once() == (
        "run_worker: outbox_sweep 0 interrupted, 0 delivered late; send_reminders 1 queued, 0 skipped; "
        f"{NO_OUTCOMES}tasks 2 run\n"
    )
    assert sorted(email.to[0] for email in mail.outbox) == ["frontdesk@regenclinic.example", "p1@example.com"]
    assert run_once() == IDLE
    assert len(mail.outbox) == 2


def test_a_job_that_raises_is_logged_by_name_only_and_the_others_still_run(
    schedule: Schedule, monkeypatch: Any, caplog: Any
) -> None:
    due_now(schedule)

    def broken() -> dict[str, int]:
        raise RuntimeError("could not reach p1@example.com about the rotator cuff")

    registered: dict[str, Callable[[], dict[str, int]]] = {"broken": broken, **jobs.JOBS}
    monkeypatch.setattr(jobs, "JOBS", registered)
    caplog.set_level(logging.INFO)
    assert run_once() == (
        "run_worker: broken raised RuntimeError; outbox_sweep 0 interrupted, 0 delivered late; "
        f"send_reminders 1 queued, 0 skipped; {NO_OUTCOMES}tasks 1 run\n"
    )
    line = next(record.getMessage() for record in caplog.records if record.levelno == logging.ERROR)
    assert line.startswith("run_worker: job broken raised RuntimeError at outbox/tests/test_worker.py:")
    assert line.endswith("; the next pass runs it again.")
    assert "p1@example.com" not in caplog.text and "rotator" not in caplog.text
    assert len(mail.outbox) == 1


def test_a_database_gone_away_ends_a_pass_early_and_not_the_worker(
    schedule: Schedule, monkeypatch: Any, caplog: Any
) -> None:
    # As when PostgreSQL restarts under a running worker: the next query cannot connect.
    def gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection failed: connection to server at 127.0.0.1 failed: Connection refused")

    due_now(schedule)
    monkeypatch.setattr(DBTaskResult.objects, "ready", gone)
    caplog.set_level(logging.INFO)
    assert run_once() == (
        "run_worker: outbox_sweep 0 interrupted, 0 delivered late; send_reminders 1 queued, 0 skipped; "
        f"{NO_OUTCOMES}tasks 0 run\n"
    )
    line = next(record.getMessage() for record in caplog.records if record.levelno == logging.ERROR)
    assert line.startswith("run_worker: the ready tasks could not be run (OperationalError at ")
    assert line.endswith("); the next pass tries again.")
    assert len(mail.outbox) == 0
    monkeypatch.undo()
    assert run_once().endswith("tasks 1 run\n")
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_a_bad_interval_is_refused_with_a_clear_message(db: Any, monkeypatch: Any, value: str) -> None:
    monkeypatch.setenv("WORKER_INTERVAL_SECONDS", value)
    with pytest.raises(CommandError) as raised:
        call_command("run_worker")
    assert str(raised.value) == f"WORKER_INTERVAL_SECONDS must be a number of seconds above 0, not '{value}'."


# --- The loop, in a process of its own -------------------------------------------------------------------


def child_env(var_dir: Path) -> dict[str, str]:
    """The environment of a worker process using this test's database and its own var/."""
    env = {**os.environ, "VAR_DIR": str(var_dir), "WORKER_INTERVAL_SECONDS": "0.2", "LOG_LEVEL": "INFO"}
    env.pop("EMAIL_BACKEND", None)  # the file backend, into var_dir/mail
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["DATABASE_URL"] = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env["CONN_MAX_AGE"] = "0"
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(db["NAME"])
    return env


def wait_for(path: Path, lines: list[str], seconds: float = 30) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = path.read_text().splitlines()
        if all(line in found for line in lines):
            return found
        time.sleep(0.05)
    raise AssertionError(f"never saw {lines} in {path.read_text()!r}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_loop_logs_only_passes_that_did_something_and_stops_cleanly_on_a_signal(
    schedule: Schedule, tmp_path: Path, stop: signal.Signals
) -> None:
    appointment = due_now(schedule)
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker"],
            cwd=settings.BASE_DIR,
            env=child_env(tmp_path),
            stdout=stderr,
            stderr=stderr,
        )
    try:
        wait_for(log, [STARTED, ONE_REMINDER])
        time.sleep(1.2)  # several more passes, with nothing to do
        worker.send_signal(stop)
        assert worker.wait(timeout=15) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert log.read_text().splitlines() == [STARTED, ONE_REMINDER, STOPPED]
    [sent] = (tmp_path / "mail").iterdir()
    assert "Subject: Reminder: your appointment on " in sent.read_text()
    assert Reminder.objects.get().appointment == appointment


@pytest.mark.django_db(transaction=True)
def test_the_worker_stops_by_itself_when_the_process_that_started_it_is_gone(
    schedule: Schedule, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    # The shell starts the worker, then becomes `sleep`; killing it orphans the worker, as killing
    # `make run`'s shell outright would.
    with log.open("w") as output:
        shell = subprocess.Popen(
            [
                "/bin/sh",
                "-c",
                f'"{sys.executable}" manage.py run_worker --exit-with-parent & echo "pid $!"; exec sleep 60',
            ],
            cwd=settings.BASE_DIR,
            env=child_env(tmp_path),
            stdout=output,
            stderr=output,
        )
    try:
        lines = wait_for(log, [STARTED])
        worker_pid = int(next(line for line in lines if line.startswith("pid "))[4:])
        shell.kill()
        shell.wait(timeout=5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{worker_pid}").exists() and not _is_zombie(worker_pid):
            time.sleep(0.1)
        assert not Path(f"/proc/{worker_pid}").exists() or _is_zombie(worker_pid)
    finally:
        if shell.poll() is None:
            shell.kill()
    assert log.read_text().splitlines()[-2:] == ["run_worker: the process that started it is gone.", STOPPED]


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return False

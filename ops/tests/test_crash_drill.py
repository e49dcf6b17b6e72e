"""The crash drill's check: what it finds of acknowledged requests, how it counts double bookings and the outbox.

The drill itself (real gunicorn, worker and PostgreSQL, killed) runs in `.ci/crash-drill`;
these tests pin the counting it relies on, on rows and mail files made here.
"""

import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from ops import crash_drill
from outbox.models import Email
from outbox.services import _message
from outbox.worker import run_ready_tasks
from patients.services import allergy_add
from scheduling import tokens
from scheduling.models import Appointment
from scheduling.services import appointment_book
from scheduling.tests.conftest import NEXT_MONDAY, NOW, Schedule, local, make_patient

CHECKED = ["acknowledged", "found", "lost", "double_booked", "emails_sent_twice", "emails_lost", "audit_broken"]


@pytest.fixture
def mail_dir(settings: Any, tmp_path: Path) -> Path:
    """Mail written as the drill's worker writes it: a file per message."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    return tmp_path / "mail"


def book(schedule: Schedule, hhmm: str, patient: Any) -> Appointment:
    return appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(NEXT_MONDAY, hhmm),
        patient=patient,
        source=Appointment.Source.ONLINE,
        now=NOW,
    )


def booking(appointment: Appointment) -> dict[str, Any]:
    return {"kind": "booking", "token": tokens.manage_token(appointment)}


def edit(kind: str, patient: Any, number: int) -> dict[str, Any]:
    return {"kind": kind, "chart": str(patient.uuid), "number": number}


def figures(entries: list[dict[str, Any]], names: list[str] = CHECKED) -> dict[str, int]:
    found = crash_drill.check(entries)
    return {name: found[name] for name in names}


def test_every_acknowledged_request_is_found_or_counted_lost(schedule: Schedule, bob: User, mail_dir: Path) -> None:
    rosa, luis = schedule.rosa, schedule.luis
    booked = book(schedule, "10:00", rosa)
    never_saved = Appointment(uuid=uuid.uuid4(), starts_at=booked.starts_at)
    allergy_add(patient=rosa, substance="Drill allergy 1", by=bob)
    rosa.street = "4 Drill Street"
    rosa.save(update_fields=["street"])
    run_ready_tasks()
    entries = [
        booking(booked),
        booking(never_saved),
        edit("allergy", rosa, 1),
        edit("allergy", rosa, 3),
        # Edit 2 was saved over by edit 4; luis's chart never got its edit 2.
        edit("address", rosa, 2),
        edit("address", rosa, 4),
        edit("address", luis, 2),
    ]
    assert figures(entries) == {
        "acknowledged": 7,
        "found": 4,
        "lost": 3,
        "double_booked": 0,
        "emails_sent_twice": 0,
        "emails_lost": 0,
        "audit_broken": 0,
    }


def written_messages(directory: Path) -> list[bytes]:
    """Each message the file backend wrote, with its closing line of 79 dashes, in file order."""
    end = b"-" * 79 + b"\n"
    return [
        part + end for path in sorted(directory.glob("*.log")) for part in path.read_bytes().split(end) if part.strip()
    ]


def test_an_email_written_twice_or_recorded_sent_and_never_written_is_counted(
    schedule: Schedule, mail_dir: Path
) -> None:
    book(schedule, "10:00", schedule.rosa)
    book(schedule, "13:00", schedule.luis)
    run_ready_tasks()
    # Two messages written in one second by connections at one address share a file, so split by message.
    first, _never_written = written_messages(mail_dir)
    for path in mail_dir.iterdir():
        path.unlink()
    (mail_dir / "first.log").write_bytes(first)
    (mail_dir / "again.log").write_bytes(first)
    assert figures([], ["emails", "emails_sent", "emails_sent_twice", "emails_lost"]) == {
        "emails": 2,
        "emails_sent": 2,
        "emails_sent_twice": 1,
        "emails_lost": 1,
    }


def test_a_message_whose_long_subject_was_folded_is_counted_as_the_one_it_is(db: Any, mail_dir: Path) -> None:
    """A subject over 78 characters is folded onto two lines in the file; it is still the row's own message."""
    subject = "Your appointment is booked: Wednesday, December 16, 2026 at 12:30 p.m. (a long subject line)"
    email = Email.objects.create(to="drill-1@example.com", subject=subject, body="Booked.", status=Email.Status.SENT)
    _message(email).send()
    written = next(mail_dir.iterdir()).read_text()
    assert "Subject: Your appointment is booked: Wednesday, December 16,\n 2026 at 12:30 p.m." in written
    assert figures([], ["emails", "emails_sent", "emails_sent_twice", "emails_lost"]) == {
        "emails": 1,
        "emails_sent": 1,
        "emails_sent_twice": 0,
        "emails_lost": 0,
    }


def test_an_email_whose_task_was_lost_goes_out_by_the_sweep_and_one_cut_off_mid_send_is_interrupted(
    schedule: Schedule, mail_dir: Path
) -> None:
    book(schedule, "10:00", schedule.rosa)
    book(schedule, "13:00", schedule.luis)
    book(schedule, "15:00", make_patient(3))
    DBTaskResult.objects.all().delete()  # as if a killed worker had claimed every task
    lost_task, cut_off, claimed = Email.objects.order_by("pk")
    # The worker wrote the second and was killed before it recorded it sent; it claimed the third and wrote nothing.
    Email.objects.filter(pk__in=[cut_off.pk, claimed.pk]).update(status=Email.Status.SENDING, claimed_at=timezone.now())
    _message(cut_off).send()
    names = ["emails_sent_late_by_sweep", "emails_interrupted", "emails_interrupted_unsent"]
    assert figures([], [*names, "emails_sent_twice", "emails_lost"]) == {
        "emails_sent_late_by_sweep": 1,
        "emails_interrupted": 2,
        "emails_interrupted_unsent": 1,
        "emails_sent_twice": 0,
        "emails_lost": 0,
    }
    assert Email.objects.get(pk=lost_task.pk).status == Email.Status.SENT
    assert len(list(mail_dir.iterdir())) == 2


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL's exclusion constraints refuse the rows")
def test_double_booked_counts_each_active_appointment_over_an_earlier_one(schedule: Schedule) -> None:
    def row(hhmm: str, **extra: Any) -> Appointment:
        starts_at = local(NEXT_MONDAY, hhmm)
        return Appointment.objects.create(
            office=schedule.la,
            provider=schedule.doctor,
            appointment_type=schedule.consult,
            patient=make_patient(Appointment.objects.count() + 10),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            blocks_until=starts_at + timedelta(minutes=60),
            source=Appointment.Source.STAFF,
            **extra,
        )

    row("10:00")
    row("10:30")  # over 10:00: one double booking
    row("11:30")  # from 10:30's end (its buffer included): back to back
    row("11:45", status="cancelled")
    row("12:00", override_reason="Seen between two injections, agreed with the patient")
    assert crash_drill._double_booked() == 1


def test_a_form_is_read_as_a_browser_would_submit_it_unchanged() -> None:
    page = """
        <form method="post" action="/accounts/sign-out/"><input name="csrfmiddlewaretoken" value="t0"></form>
        <form method="post">
          <input type="hidden" name="csrfmiddlewaretoken" value="t1">
          <input name="street" value="1 Main St"><input name="city">
          <select name="sex"><option value="f">F</option><option value="m" selected>M</option></select>
          <select name="language"><option value="en">English</option><option value="es">Spanish</option></select>
          <input type="checkbox" name="consent" checked><input type="checkbox" name="newsletter">
          <textarea name="notes">two words</textarea>
          <button type="submit">Save</button>
        </form>
    """
    assert crash_drill.read_form(page, "street") == {
        "csrfmiddlewaretoken": "t1",
        "street": "1 Main St",
        "city": "",
        "sex": "m",
        "language": "en",
        "consent": "on",
        "notes": "two words",
    }


def test_the_report_prints_every_figure_and_fails_on_a_loss_or_a_site_that_never_came_back() -> None:
    out = io.StringIO()
    steps = [crash_drill.Step("kill -9 gunicorn", 6.3, 40), crash_drill.Step("kill -9 worker", 0.0, 0)]
    figures = {"acknowledged": 41, "found": 40, "lost": 1, "emails_lost": 0}
    assert crash_drill._report("sqlite", figures, steps, out) is False
    assert out.getvalue().splitlines() == [
        "drill crash_sqlite_acknowledged 41 requests",
        "drill crash_sqlite_found 40 rows",
        "drill crash_sqlite_lost 1 rows",
        "drill crash_sqlite_emails_lost 0 emails",
        "drill crash_sqlite_kill_9_gunicorn_back_in 6.3 s",
        "drill crash_sqlite_kill_9_gunicorn_acknowledged_after 40 requests",
        "drill crash_sqlite_kill_9_worker_back_in 0.0 s",
        "drill crash_sqlite_kill_9_worker_acknowledged_after 0 requests",
        "drill crash_sqlite FAILED: lost, nothing acknowledged after kill -9 worker",
    ]
    assert crash_drill._report("sqlite", {**figures, "lost": 0, "found": 41}, steps[:1], io.StringIO()) is True

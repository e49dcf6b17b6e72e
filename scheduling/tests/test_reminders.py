"""Reminder emails: due on time, sent exactly once by any number of workers, never about health.

The `schedule` fixture's practice has the default rules: reminders 48 and 2 hours
before, a grace window of 60 minutes. Most tests book Wednesday 5 March 2031 at 10:00
in Los Angeles, so its reminders are due on Monday at 10:00 and Wednesday at 8:00.

`sent(now)` is what a worker's pass does at `now` for reminders: queue those that are
due (scheduling.reminders), record interrupted sends, then deliver the reminder emails
due in the outbox (outbox.services), counting the outcomes.
"""

import io
import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from accounts.models import User
from accounts.testing import sign_in
from conftest import run_threads, together
from outbox.models import Email
from outbox.services import emails_deliver_due, emails_mark_interrupted
from patients.models import Patient
from scheduling import emails, services, tokens
from scheduling.models import Appointment, AppointmentStatus, BookingRules, Reminder
from scheduling.reminders import reminders_queue_due
from scheduling.tests.conftest import NOW, Schedule, local, make_patient

WEDNESDAY = date(2031, 3, 5)
FRIDAY = date(2031, 3, 7)
TWO_DAYS_BEFORE = local(date(2031, 3, 3), "10:00")  # the 48-hour reminder of Wednesday 10:00
TWO_HOURS_BEFORE = local(WEDNESDAY, "08:00")  # the 2-hour one
SECOND = timedelta(seconds=1)
GRACE = timedelta(minutes=60)


def book(
    schedule: Schedule, *, patient: Patient | None = None, day: date = WEDNESDAY, hhmm: str = "10:00"
) -> Appointment:
    return services.appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(day, hhmm),
        patient=patient or schedule.rosa,
        source=Appointment.Source.STAFF,
        area_of_concern="rotator_cuff",
        now=NOW,
    )


@dataclass
class Pass:
    """What one worker pass did with reminders: sent, failed (to be retried), skipped (too late, withdrawn, stopped)."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0


OUTCOME: dict[str, str] = {Email.Status.SENT: "sent", Email.Status.FAILED: "failed", Email.Status.GAVE_UP: "failed"}


def sent(now: datetime) -> Pass:
    result = Pass(skipped=reminders_queue_due(now=now).skipped)
    result.skipped += emails_mark_interrupted(now=now)
    for status in emails_deliver_due(now=now, kinds=(emails.Kind.REMINDER.outbox_kind,)):
        if status in OUTCOME:
            setattr(result, OUTCOME[status], getattr(result, OUTCOME[status]) + 1)
        elif status:
            result.skipped += 1
    return result


# How each reminder stands, in the words of the rows below: its own skip, else its email's state.
STATE = {
    Email.Status.SENT: ("sent", ""),
    Email.Status.FAILED: ("failed", ""),
    Email.Status.QUEUED: ("queued", ""),
    Email.Status.SENDING: ("sending", ""),
    Email.Status.EXPIRED: ("skipped", "too_late"),
    Email.Status.WITHDRAWN: ("skipped", "changed"),
    Email.Status.INTERRUPTED: ("skipped", "stopped"),
}


def state(reminder: Reminder) -> tuple[str, str]:
    if reminder.email is None:
        return reminder.status, reminder.skip_reason
    return STATE[Email.Status(reminder.email.status)]


def rows() -> list[tuple[int, str, str, int]]:
    """(offset in minutes, status, skip reason, attempts) of every reminder, largest offset first."""
    reminders = Reminder.objects.select_related("email").order_by("-offset_minutes", "pk")
    return [(r.offset_minutes, *state(r), r.email.attempts if r.email else 0) for r in reminders]


def counts(result: Pass) -> tuple[int, int, int]:
    return result.sent, result.failed, result.skipped


# --- When -----------------------------------------------------------------------------------------


def test_nothing_goes_out_a_second_before_a_reminder_is_due(schedule: Schedule) -> None:
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE - SECOND)) == (0, 0, 0)
    assert (rows(), mail.outbox) == ([], [])


def test_a_reminder_goes_out_when_due_and_only_once(schedule: Schedule) -> None:
    appointment = book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE)) == (1, 0, 0)
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=1))) == (0, 0, 0)
    assert rows() == [(48 * 60, "sent", "", 1)]
    reminder = Reminder.objects.select_related("email").get()
    assert reminder.email is not None
    assert (reminder.appointment, reminder.starts_at, reminder.due_at, reminder.email.sent_at) == (
        appointment,
        local(WEDNESDAY, "10:00"),
        TWO_DAYS_BEFORE,
        TWO_DAYS_BEFORE,
    )
    [email] = mail.outbox
    assert email.to == ["p1@example.com"]
    assert email.subject == "Reminder: your appointment on Wednesday, March 5, 2031 at 10 a.m."


def test_each_offset_gets_its_own_reminder(schedule: Schedule) -> None:
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE)) == (1, 0, 0)
    assert counts(sent(TWO_HOURS_BEFORE - SECOND)) == (0, 0, 0)
    assert counts(sent(TWO_HOURS_BEFORE)) == (1, 0, 0)
    assert rows() == [(48 * 60, "sent", "", 1), (2 * 60, "sent", "", 1)]
    assert len(mail.outbox) == 2


def test_a_reminder_late_by_the_grace_window_still_goes_out(schedule: Schedule) -> None:
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE + GRACE)) == (1, 0, 0)
    assert len(mail.outbox) == 1


def test_a_reminder_later_than_the_grace_window_is_recorded_skipped_not_sent(schedule: Schedule) -> None:
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE + GRACE + SECOND)) == (0, 0, 1)
    assert counts(sent(TWO_DAYS_BEFORE + GRACE + 2 * SECOND)) == (0, 0, 0)
    assert rows() == [(48 * 60, "skipped", "too_late", 0)]
    assert mail.outbox == []


def test_a_two_day_reminder_for_a_booking_made_one_day_ahead_is_skipped_the_two_hour_one_is_sent(
    schedule: Schedule,
) -> None:
    # Booked on Tuesday morning for Wednesday 10:00: the 48-hour reminder was due on Monday.
    tuesday_morning = local(date(2031, 3, 4), "08:00")
    services.appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(WEDNESDAY, "10:00"),
        patient=schedule.rosa,
        source=Appointment.Source.STAFF,
        now=tuesday_morning,
    )
    assert counts(sent(tuesday_morning)) == (0, 0, 1)
    assert counts(sent(TWO_HOURS_BEFORE)) == (1, 0, 0)
    assert rows() == [(48 * 60, "skipped", "too_late", 0), (2 * 60, "sent", "", 1)]
    assert len(mail.outbox) == 1


def test_the_offsets_staff_set_are_the_ones_used(schedule: Schedule) -> None:
    schedule.rules.reminder_hours = "24"
    schedule.rules.save()
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE)) == (0, 0, 0)
    assert counts(sent(local(date(2031, 3, 4), "10:00"))) == (1, 0, 0)
    assert counts(sent(TWO_HOURS_BEFORE)) == (0, 0, 0)
    assert rows() == [(24 * 60, "sent", "", 1)]


def test_with_no_offsets_no_reminder_goes_out(schedule: Schedule) -> None:
    schedule.rules.reminder_hours = ""
    schedule.rules.save()
    book(schedule)
    assert counts(sent(TWO_HOURS_BEFORE)) == (0, 0, 0)
    assert (rows(), mail.outbox) == ([], [])


# --- Who ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [AppointmentStatus.CANCELLED, AppointmentStatus.CHECKED_IN])
def test_an_appointment_no_longer_booked_gets_no_reminder(schedule: Schedule, status: str) -> None:
    appointment = book(schedule)
    if status == AppointmentStatus.CANCELLED:
        services.appointment_cancel(appointment=appointment, enforce_cutoff=False, now=NOW)
    else:
        services.appointment_set_status(appointment=appointment, status=status, by=None)
    assert counts(sent(TWO_DAYS_BEFORE)) == (0, 0, 0)
    assert counts(sent(TWO_HOURS_BEFORE)) == (0, 0, 0)
    assert (rows(), mail.outbox) == ([], [])


def test_a_patient_without_an_email_address_gets_no_reminder(schedule: Schedule) -> None:
    schedule.rosa.email = ""
    schedule.rosa.save()
    book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE)) == (0, 0, 0)
    assert (rows(), mail.outbox) == ([], [])


def test_a_moved_appointment_is_reminded_of_its_new_time_only(schedule: Schedule) -> None:
    appointment = book(schedule)
    assert counts(sent(TWO_DAYS_BEFORE)) == (1, 0, 0)  # reminded of Wednesday
    services.appointment_reschedule(
        appointment=appointment, starts_at=local(FRIDAY, "10:00"), enforce_cutoff=False, now=TWO_DAYS_BEFORE
    )
    mail.outbox.clear()
    # Wednesday's 2-hour reminder is never due now; Friday's come on Wednesday 10:00 and Friday 8:00.
    assert counts(sent(TWO_HOURS_BEFORE)) == (0, 0, 0)
    assert counts(sent(local(WEDNESDAY, "10:00"))) == (1, 0, 0)
    assert counts(sent(local(FRIDAY, "08:00"))) == (1, 0, 0)
    assert [(r.starts_at, r.offset_minutes, state(r)[0]) for r in Reminder.objects.order_by("pk")] == [
        (local(WEDNESDAY, "10:00"), 48 * 60, "sent"),
        (local(FRIDAY, "10:00"), 48 * 60, "sent"),
        (local(FRIDAY, "10:00"), 2 * 60, "sent"),
    ]
    assert [email.subject for email in mail.outbox] == [
        "Reminder: your appointment on Friday, March 7, 2031 at 10 a.m.",
        "Reminder: your appointment on Friday, March 7, 2031 at 10 a.m.",
    ]
    assert emails.links(appointment)["manage"] in mail.outbox[0].body


# --- What it says ----------------------------------------------------------------------------------


def test_the_reminder_says_when_and_where_and_nothing_about_the_person(schedule: Schedule) -> None:
    Patient.objects.filter(pk=schedule.rosa.pk).update(
        first_name="Rosa", last_name="Díaz", date_of_birth=date(1958, 3, 14), phone="(818) 555-0199"
    )
    appointment = book(schedule)
    sent(TWO_DAYS_BEFORE)
    [email] = mail.outbox
    links = emails.links(appointment)
    assert email.body == (
        "A reminder of your appointment:\n\n"
        "Wednesday, March 5, 2031, 10 a.m. (Pacific Time)\n"
        "RegenClinic Los Angeles\n"
        "100 Example Boulevard, Suite 200\n"
        "Los Angeles, CA 90048\n"
        "Phone: (310) 555-0100\n\n"
        f"To cancel or change this appointment:\n{links['manage']}\n\n"
        f"To choose another time:\n{links['reschedule']}\n\n"
        f"To add it to your calendar:\n{links['calendar']}\n\n"
        "Questions? Call us at (310) 555-0100.\n"
        "Please do not reply to this email.\n"
    )
    [(filename, content, mimetype)] = email.attachments
    assert (filename, mimetype) == ("regenclinic-appointment.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == local(WEDNESDAY, "10:00")
    identity = ["Rosa", "Díaz", "1958", "March 14", "03/14", "14/03", "555-0199", "Dr. Bob", "Consultation"]
    health = ["rotator", "Rotator", "cuff", "tear", "Partial"]
    for text in [*identity, *health]:
        assert text not in email.subject
        assert text not in email.body
        assert text not in content


def test_a_spanish_speaking_patient_gets_the_reminder_in_spanish(schedule: Schedule) -> None:
    schedule.rosa.preferred_language = Patient.Language.SPANISH
    schedule.rosa.save()
    appointment = book(schedule)
    sent(TWO_DAYS_BEFORE)
    [email] = mail.outbox
    token = tokens.manage_token(appointment)
    assert "miércoles 5 de marzo de 2031" in email.subject
    assert (
        "miércoles 5 de marzo de 2031, 10:00\u00a0a.\u00a0m. (hora del Pacífico)\nRegenClinic Los Ángeles\n"
        in email.body
    )
    assert f"Para cancelar o cambiar esta cita:\nhttp://127.0.0.1:8000/es/book/manage/{token}/\n" in email.body
    assert "Teléfono: (310) 555-0100\n" in email.body
    assert "Wednesday" not in email.body


def test_times_are_said_in_the_offices_time_zone_across_a_clock_change(schedule: Schedule) -> None:
    # Clocks go forward on Sunday 9 March 2031: Monday 10 March 10:00 is 17:00 UTC, not 18:00.
    # 48 hours before it is Saturday 9:00 on the clock (the night lost an hour).
    appointment = book(schedule, day=date(2031, 3, 10))
    assert appointment.starts_at == datetime(2031, 3, 10, 17, tzinfo=UTC)
    assert counts(sent(local(date(2031, 3, 8), "09:00") - SECOND)) == (0, 0, 0)
    assert counts(sent(local(date(2031, 3, 8), "09:00"))) == (1, 0, 0)
    [email] = mail.outbox
    assert email.subject == "Reminder: your appointment on Monday, March 10, 2031 at 10 a.m."
    assert "Monday, March 10, 2031, 10 a.m. (Pacific Time)\n" in email.body


# --- Failures ---------------------------------------------------------------------------------------


def failing_send(times: int) -> Callable[..., int]:
    """An EmailMessage.send that raises (with the address in its text, as SMTP errors do) `times` times."""
    calls = {"n": 0}
    real_send = EmailMessage.send

    def send(message: EmailMessage, fail_silently: bool = False) -> int:
        calls["n"] += 1
        if calls["n"] <= times:
            raise smtplib.SMTPServerDisconnected(f"lost the server while sending to {message.to[0]}")
        return real_send(message, fail_silently)

    return send


def test_a_failed_send_is_recorded_and_retried_later_sending_once(
    schedule: Schedule, monkeypatch: Any, caplog: Any
) -> None:
    book(schedule)
    monkeypatch.setattr(EmailMessage, "send", failing_send(times=1))
    caplog.set_level(logging.INFO)
    assert counts(sent(TWO_DAYS_BEFORE)) == (0, 1, 0)
    email = Reminder.objects.get().email
    assert email is not None
    assert (email.status, email.attempts, email.last_error, email.next_attempt_at) == (
        "failed",
        1,
        "SMTPServerDisconnected",
        TWO_DAYS_BEFORE + timedelta(minutes=2),
    )
    assert caplog.messages == [f"Email {email.uuid} could not be sent (SMTPServerDisconnected); it will be retried."]
    assert "p1@example.com" not in caplog.text

    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=1))) == (0, 0, 0)  # not its turn yet
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=2))) == (1, 0, 0)
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=3))) == (0, 0, 0)
    assert rows() == [(48 * 60, "sent", "", 2)]
    assert len(mail.outbox) == 1


def test_retries_back_off_and_stop_when_the_window_closes(schedule: Schedule, monkeypatch: Any) -> None:
    book(schedule)
    monkeypatch.setattr(EmailMessage, "send", failing_send(times=100))
    moments = [0, 2, 6, 14, 30, 60]  # minutes after due: each retry waits twice as long, up to the grace window
    for minutes in moments:
        assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=minutes))) == (0, 1, 0), minutes
    email = Email.objects.get(kind="appointment.reminder")
    assert (email.attempts, email.next_attempt_at) == (6, TWO_DAYS_BEFORE + timedelta(minutes=90))
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=90))) == (0, 0, 1)
    assert rows() == [(48 * 60, "skipped", "too_late", 6)]
    assert mail.outbox == []


def test_a_failed_reminder_of_an_appointment_cancelled_since_is_skipped(schedule: Schedule, monkeypatch: Any) -> None:
    appointment = book(schedule)
    monkeypatch.setattr(EmailMessage, "send", failing_send(times=1))
    assert counts(sent(TWO_DAYS_BEFORE)) == (0, 1, 0)
    # Cancelling withdraws it from the outbox at once (and queues the cancellation email instead).
    services.appointment_cancel(appointment=appointment, enforce_cutoff=False, now=TWO_DAYS_BEFORE)
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=2))) == (0, 0, 0)
    assert rows() == [(48 * 60, "skipped", "changed", 1)]
    assert mail.outbox == []


# --- Two workers at once ------------------------------------------------------------------------------


def run_at_once(workers: int, now: datetime) -> list[Pass | str]:
    """A worker's pass in `workers` threads at once, each with its own connection, as separate processes would."""
    barrier = together(workers)
    results: list[Pass | str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            result: Pass | str = sent(now)
        except Exception as error:  # fails the test below, with its text
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            results.append(result)

    run_threads([work] * workers)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_running_at_once_send_each_due_reminder_exactly_once(schedule: Schedule, workers: int) -> None:
    # At Monday 20:00, with a day's grace: 20 appointments an hour apart from Tuesday 20:00 have their
    # 48-hour reminder due; 3 from Monday 23:00 are more than a day late for theirs (skipped, once
    # too) and not yet due for their 2-hour one.
    schedule.rules.reminder_grace_minutes = 24 * 60
    schedule.rules.save()
    now = local(date(2031, 3, 3), "20:00")
    due = [create(schedule, n, local(date(2031, 3, 4), "20:00") + timedelta(hours=n)) for n in range(20)]
    late = [create(schedule, 100 + n, local(date(2031, 3, 3), "23:00") + timedelta(hours=n)) for n in range(3)]

    results = run_at_once(workers, now)

    assert [r for r in results if isinstance(r, str)] == []
    assert sum(r.sent for r in results if isinstance(r, Pass)) == len(due)
    assert sum(r.skipped for r in results if isinstance(r, Pass)) == len(late)
    assert sum(r.failed for r in results if isinstance(r, Pass)) == 0
    assert len(mail.outbox) == len(due)
    assert sorted(email.to[0] for email in mail.outbox) == sorted(a.patient.email for a in due)
    assert Reminder.objects.filter(email__status="sent", offset_minutes=48 * 60).count() == len(due)
    assert Reminder.objects.filter(status="skipped", skip_reason="too_late").count() == len(late)
    assert Reminder.objects.count() == len(due) + len(late)
    assert Email.objects.count() == len(due)
    assert counts(sent(now)) == (0, 0, 0)


def create(schedule: Schedule, n: int, starts_at: datetime) -> Appointment:
    """An appointment written directly (the rules of booking are not under test here), one provider each hour."""
    return Appointment.objects.create(
        office=schedule.la,
        provider=schedule.doctor if n % 2 else schedule.pa,
        appointment_type=schedule.consult,
        patient=make_patient(1000 + n),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        blocks_until=starts_at + timedelta(minutes=60),
        source=Appointment.Source.STAFF,
    )


# --- The command and the rules ----------------------------------------------------------------------


def test_send_reminders_prints_a_one_line_summary_and_is_idempotent(schedule: Schedule) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    create(schedule, 1, now + timedelta(hours=2) - timedelta(minutes=1))  # 2 h: due; 48 h: long past, skipped
    create(schedule, 2, now + timedelta(hours=47, minutes=30))  # 48 h: due half an hour ago
    first, second = io.StringIO(), io.StringIO()
    call_command("send_reminders", stdout=first)
    call_command("send_reminders", stdout=second)
    assert first.getvalue() == "send_reminders: 2 queued, 1 skipped\n"
    assert second.getvalue() == "send_reminders: 0 queued, 0 skipped\n"
    assert (Email.objects.count(), mail.outbox) == (2, [])  # the worker sends them


@pytest.mark.parametrize(
    ("typed", "stored"), [("48,2", "48,2"), (" 2, 48 ", "48,2"), ("", ""), ("24", "24"), ("2160,1", "2160,1")]
)
def test_reminder_hours_are_read_and_stored_largest_first(practice: Any, typed: str, stored: str) -> None:
    rules = BookingRules(practice=practice, reminder_hours=typed)
    rules.full_clean()
    assert rules.reminder_hours == stored
    assert rules.reminder_offsets == [timedelta(hours=int(h)) for h in stored.split(",") if h]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("two", "“two” is not a number of hours from 1 to 2160. Write whole hours separated by commas."),
        ("48;2", "“48;2” is not a number of hours from 1 to 2160. Write whole hours separated by commas."),
        ("0", "“0” is not a number of hours from 1 to 2160. Write whole hours separated by commas."),
        ("1.5", "“1.5” is not a number of hours from 1 to 2160. Write whole hours separated by commas."),
        ("2161", "“2161” is not a number of hours from 1 to 2160. Write whole hours separated by commas."),
        ("2,48,2", "2 hours is listed twice."),
    ],
)
def test_unreadable_reminder_hours_are_refused_next_to_the_field(practice: Any, typed: str, message: str) -> None:
    rules = BookingRules(practice=practice, reminder_hours=typed)
    with pytest.raises(ValidationError) as raised:
        rules.full_clean()
    assert raised.value.message_dict == {"reminder_hours": [message]}


def test_staff_edit_the_reminder_hours_in_the_admin_and_a_bad_value_is_explained_and_kept(
    schedule: Schedule, client: Client
) -> None:
    manager = User.objects.create_superuser("mia", password="mia-password-12")
    sign_in(client, manager)
    url = f"/admin/scheduling/bookingrules/{schedule.rules.pk}/change/"
    form = {
        "practice": schedule.rules.practice_id,
        "min_notice_hours": 24,
        "horizon_days": 90,
        "cancel_cutoff_hours": 24,
        "slot_step_minutes": 15,
        "reminder_grace_minutes": 90,
    }
    bad = client.post(url, {**form, "reminder_hours": "48, two"})
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "“two” is not a number of hours from 1 to 2160." in body
    assert 'value="48, two"' in body
    assert BookingRules.objects.get().reminder_hours == "48,2"

    good = client.post(url, {**form, "reminder_hours": "2, 24"})
    assert good.status_code == 302
    rules = BookingRules.objects.get()
    assert (rules.reminder_hours, rules.reminder_grace_minutes) == ("24,2", 90)


def test_a_reminder_left_sending_by_a_stopped_worker_is_marked_stopped_and_never_sent_twice(
    schedule: Schedule, monkeypatch: Any, caplog: Any
) -> None:
    book(schedule)

    def stopped_mid_send(message: EmailMessage, fail_silently: bool = False) -> int:
        raise KeyboardInterrupt  # as the worker's process is stopped between claiming and recording

    with monkeypatch.context() as patch:
        patch.setattr(EmailMessage, "send", stopped_mid_send)
        with pytest.raises(KeyboardInterrupt):
            sent(TWO_DAYS_BEFORE)
    assert rows() == [(48 * 60, "sending", "", 0)]
    caplog.set_level(logging.INFO)
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=9))) == (0, 0, 0)  # it may still be on its way
    assert rows() == [(48 * 60, "sending", "", 0)]
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=11))) == (0, 0, 1)
    assert rows() == [(48 * 60, "skipped", "stopped", 0)]
    email = Email.objects.get(kind="appointment.reminder")
    assert caplog.messages == [
        f"Email {email.uuid} was claimed by a worker that stopped before recording it; not sent again."
    ]
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(minutes=12))) == (0, 0, 0)
    assert mail.outbox == []


def test_a_long_pass_claims_each_reminder_at_its_own_moment(schedule: Schedule, monkeypatch: Any) -> None:
    """Another worker must not take a reminder claimed late in a slow pass for one left behind."""
    book(schedule)
    book(schedule, patient=make_patient(3), hhmm="11:00")
    readings = [0.0, 0.0]  # the pass starts, the first claim; every later reading is 700 s on

    def monotonic() -> float:
        return readings.pop(0) if readings else 700.0

    monkeypatch.setattr("scheduling.reminders.monotonic", monotonic)
    assert counts(sent(TWO_DAYS_BEFORE + timedelta(hours=1))) == (2, 0, 0)
    claimed = list(Reminder.objects.order_by("starts_at").values_list("claimed_at", flat=True))
    assert claimed == [
        TWO_DAYS_BEFORE + timedelta(hours=1),
        TWO_DAYS_BEFORE + timedelta(hours=1, seconds=700),
    ]

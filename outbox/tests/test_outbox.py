"""The outbox: written with the change that causes it, sent once after commit, retried, given up visibly."""

import logging
import smtplib
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from conftest import run_threads, together
from outbox.models import Email
from outbox.services import MAX_ATTEMPTS, email_deliver, email_queue, emails_sweep, emails_withdraw
from outbox.worker import run_ready_tasks

pytestmark = pytest.mark.django_db


def message(n: int = 1, **extra: Any) -> EmailMessage:
    return EmailMessage(subject=f"Subject {n}", body=f"Body {n}", to=[f"person{n}@example.com"], **extra)


def failing(times: int) -> Any:
    calls = {"n": 0}
    real = EmailMessage.send

    def send(self: EmailMessage, fail_silently: bool = False) -> int:
        calls["n"] += 1
        if calls["n"] <= times:
            raise smtplib.SMTPServerDisconnected(f"lost the server while sending to {self.to[0]}")
        return real(self, fail_silently)

    return send


def test_an_email_is_stored_whole_and_its_delivery_queued_carrying_only_its_id() -> None:
    email = email_queue(message=message(attachments=[("a.ics", b"BEGIN:VCALENDAR", "text/calendar")]), kind="test")
    assert (email.status, email.to, email.subject, email.attempts) == ("queued", "person1@example.com", "Subject 1", 0)
    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.args_kwargs) == ("outbox.tasks.deliver_email", {"args": [email.pk], "kwargs": {}})
    assert mail.outbox == []
    assert run_ready_tasks() == 1
    [sent] = mail.outbox
    assert (sent.to, sent.subject, sent.body) == (["person1@example.com"], "Subject 1", "Body 1")
    assert [(name, content, kind) for name, content, kind in sent.attachments] == [
        ("a.ics", "BEGIN:VCALENDAR", "text/calendar")
    ]
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at is not None) == ("sent", 1, True)


def test_a_change_that_rolls_back_leaves_neither_the_email_nor_its_task() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        email_queue(message=message(), kind="test")
        raise RuntimeError("the change failed after queuing")
    assert (Email.objects.count(), DBTaskResult.objects.count()) == (0, 0)
    assert run_ready_tasks() == 0
    assert mail.outbox == []


def test_an_email_is_sent_once_however_often_its_delivery_runs() -> None:
    email = email_queue(message=message(), kind="test")
    assert email_deliver(email_id=email.pk) == "sent"
    assert email_deliver(email_id=email.pk) == ""
    assert run_ready_tasks() == 1  # its task finds it sent, and sends nothing
    assert len(mail.outbox) == 1


def test_a_failed_send_backs_off_then_gives_up_visibly_and_is_logged_without_the_address(
    monkeypatch: Any, caplog: Any
) -> None:
    monkeypatch.setattr(EmailMessage, "send", failing(times=100))
    caplog.set_level(logging.WARNING)
    email = email_queue(message=message(), kind="test")
    now = timezone.now()
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        email.refresh_from_db()
        at = email.next_attempt_at or now
        assert email_deliver(email_id=email.pk, now=at - timedelta(seconds=1)) == ("" if attempt > 1 else "failed")
        if attempt > 1:  # not its turn a second early; then it is
            assert email_deliver(email_id=email.pk, now=at) == ("gave_up" if attempt == MAX_ATTEMPTS else "failed")
        email.refresh_from_db()
        if email.next_attempt_at:
            waits.append(round((email.next_attempt_at - at).total_seconds() / 60))
    assert waits == [2, 4, 8, 16, 30, 30, 30]
    assert (email.status, email.attempts, email.last_error) == ("gave_up", MAX_ATTEMPTS, "SMTPServerDisconnected")
    # Each retry was queued as a task of its own, to run at its time.
    assert DBTaskResult.objects.count() == MAX_ATTEMPTS
    assert "person1@example.com" not in caplog.text
    assert (
        caplog.messages[-1]
        == f"Email {email.uuid} could not be sent after {MAX_ATTEMPTS} attempts (SMTPServerDisconnected); given up."
    )
    assert mail.outbox == []


def test_staff_see_what_gave_up_and_send_it_again_which_is_audited(client: Client, monkeypatch: Any) -> None:
    email = email_queue(message=message(), kind="appointment.booked")
    Email.objects.filter(pk=email.pk).update(
        status="gave_up", attempts=MAX_ATTEMPTS, last_error="SMTPServerDisconnected"
    )
    desk = User.objects.create_user("fran", password="fran-password-12", role=Role.FRONT_DESK, is_staff=True)
    sign_in(client, desk)
    listed = client.get("/admin/outbox/email/?status__exact=gave_up")
    assert listed.status_code == 200
    assert "person1@example.com" in listed.content.decode()
    audit_clear()
    again = client.post("/admin/outbox/email/", {"action": "send_again", "_selected_action": [email.pk]})
    assert again.status_code == 302
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("queued", 0)
    assert list(AuditEvent.objects.filter(action="change").values_list("object_type", "object_ref")) == [
        ("email", str(email.uuid))
    ]
    run_ready_tasks()
    assert len(mail.outbox) == 1


def test_an_email_past_its_moment_expires_instead_of_going_out_late() -> None:
    email = email_queue(message=message(), kind="test", not_after=timezone.now() - timedelta(minutes=1))
    run_ready_tasks()
    email.refresh_from_db()
    assert (email.status, mail.outbox) == ("expired", [])


def test_a_withdrawn_email_is_not_sent() -> None:
    email = email_queue(message=message(), kind="appointment.reminder", reference="abc")
    other = email_queue(message=message(2), kind="appointment.booked", reference="abc")
    assert emails_withdraw(reference="abc", kinds=("appointment.reminder",)) == 1
    run_ready_tasks()
    email.refresh_from_db()
    assert email.status == "withdrawn"
    assert [sent.to for sent in mail.outbox] == [[other.to]]


def test_the_sweep_delivers_an_email_whose_task_went_missing() -> None:
    email = email_queue(message=message(), kind="test")
    DBTaskResult.objects.all().delete()
    assert emails_sweep() == {"interrupted": 0, "delivered late": 0}  # its task may still come
    later = timezone.now() + timedelta(minutes=6)
    assert emails_sweep(now=later) == {"interrupted": 0, "delivered late": 1}
    email.refresh_from_db()
    assert (email.status, len(mail.outbox)) == ("sent", 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_running_at_once_send_each_email_exactly_once(workers: int) -> None:
    emails = [email_queue(message=message(n), kind="test") for n in range(30)]
    barrier = together(workers)
    ran: list[int | str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            result: int | str = run_ready_tasks()
        except Exception as error:
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            ran.append(result)

    run_threads([work] * workers)
    assert [r for r in ran if isinstance(r, str)] == []
    assert sum(r for r in ran if isinstance(r, int)) == len(emails)
    assert sorted(sent.to[0] for sent in mail.outbox) == sorted(email.to for email in emails)
    assert Email.objects.filter(status="sent").count() == len(emails)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == len(emails)

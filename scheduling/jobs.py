"""Scheduling's job for the worker: queue the appointment reminders that are due."""

from outbox.jobs import job
from scheduling.reminders import reminders_queue_due


@job("send_reminders")
def send_reminders() -> dict[str, int]:
    return reminders_queue_due().counts()

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from scheduling.reminders import reminders_send_due


class Command(BaseCommand):
    help = (
        "Send the appointment reminder emails that are due, each once even with several workers running. "
        "Safe to run at any time and as often as wanted; the worker (run_worker) runs it every pass."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reminders_send_due(now=timezone.now())
        self.stdout.write(f"send_reminders: {result}")

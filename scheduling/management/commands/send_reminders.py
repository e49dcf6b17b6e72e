from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from scheduling.reminders import reminders_queue_due


class Command(BaseCommand):
    help = (
        "Queue the appointment reminder emails that are due, each once even with several workers running; "
        "the worker (run_worker) sends them. Safe to run at any time and as often as wanted."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = reminders_queue_due(now=timezone.now())
        self.stdout.write(f"send_reminders: {result}")

from typing import Any

from django.core.management.base import BaseCommand

from website.services import inquiries_notify_pending


class Command(BaseCommand):
    help = "Send the new-inquiry email for inquiries whose notice failed earlier."

    def handle(self, *args: Any, **options: Any) -> None:
        sent, failed = inquiries_notify_pending()
        self.stdout.write(f"notify_inquiries: {sent} sent, {failed} failed")

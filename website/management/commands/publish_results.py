"""Publish "Our results" from today's data, as a physician would from /staff/results/ (the demo does this)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import access
from accounts.access import Act, Record
from accounts.models import User
from website import results
from website.models import ResultsVersion


class Command(BaseCommand):
    help = "Publish a new version of each condition's public results (or only those never published), by a physician."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--by", required=True, help="The username of the physician who publishes.")
        parser.add_argument(
            "--if-unpublished", action="store_true", help="Only conditions with no version yet (idempotent)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["by"]).first()
        if user is None or not access.can(user, Act.CHANGE, Record.PUBLIC_RESULTS):
            raise CommandError(f"{options['by']!r} is not a physician who may publish results.")
        published = set(ResultsVersion.objects.values_list("indication", flat=True))
        done = []
        for code, label in results.conditions():
            if options["if_unpublished"] and code in published:
                continue
            version = results.publish(indication=code, by=user)
            shown = "figures" if version.figures["treated"] is not None else "too few to show"
            done.append(f"{label}: {shown}")
        self.stdout.write("publish_results: " + ("; ".join(done) if done else "every condition is published already"))

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outcomes import instruments
from outcomes.scoring import rescore


class Command(BaseCommand):
    help = (
        "Recompute the stored scores of every submitted response (or one instrument's) with the current scoring "
        "functions; each score records the version that produced it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("instrument", nargs="?", help="An instrument code (e.g. KOOS); all when left out.")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["instrument"]
        if code and code.upper() not in instruments.INSTRUMENTS:
            raise CommandError(f"Unknown instrument {code!r}; known: {', '.join(sorted(instruments.INSTRUMENTS))}.")
        done = rescore(instrument=code)
        self.stdout.write(f"rescore: {done} response(s) scored")

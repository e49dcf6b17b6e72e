"""`manage.py crash_drill`: kill -9 the web server, the worker and PostgreSQL under load; nothing acknowledged is lost.

See ops/crash_drill.py. The drill never touches the configured database: it serves a
database of its own. `--prepare`, `--ready-tasks` and `--check` are its steps on that
database, run by the drill as processes of their own.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import crash_drill


class Command(BaseCommand):
    help = (
        "The crash drill: under booking and chart-editing load, kill -9 gunicorn, then the worker, then (on "
        "PostgreSQL, a throwaway cluster of its own) stop the database at once; restart each; then check that every "
        "acknowledged request is in the database, no slot is double-booked, no email was sent twice or lost, and "
        "the audit chain is whole. Prints its figures; exits 1 on any loss."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
        parser.add_argument(
            "--seconds", type=float, default=8.0, help="Load before the first crash and after each (default 8)."
        )
        steps = parser.add_mutually_exclusive_group()
        steps.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
        steps.add_argument("--ready-tasks", action="store_true", help=argparse.SUPPRESS)
        steps.add_argument("--check", metavar="LEDGER", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["prepare"]:
            self.stdout.write(json.dumps(crash_drill.prepare()))
            return
        if options["ready_tasks"]:
            self.stdout.write(str(crash_drill.ready_tasks()))
            return
        if options["check"]:
            self.stdout.write(json.dumps(crash_drill.check(json.loads(Path(options["check"]).read_text()))))
            return
        databases = ["sqlite", "postgresql"] if options["database"] == "both" else [options["database"]]
        results = [crash_drill.drill(database=name, seconds=options["seconds"], out=sys.stdout) for name in databases]
        if not all(results):
            raise CommandError("crash_drill: something acknowledged was lost or doubled; see the figures above.")

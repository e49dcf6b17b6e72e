"""`manage.py export_fhir --out DIR`: the whole practice as FHIR R4B NDJSON, one file per resource type.

Like every export it writes one audit row ("fhir:command:all", role "command line": a
command has no signed-in user), before the first file is written.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from interop.fhir import bulk_export
from interop.services import logged


class Command(BaseCommand):
    help = "Write every patient's records as FHIR R4B NDJSON (Patient.ndjson, Procedure.ndjson, ...) into DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="The directory to write into (created if missing).")

    def handle(self, *args: Any, **options: Any) -> None:
        logged("fhir:command:all", by=None)
        counts = bulk_export(options["out"])
        summary = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
        self.stdout.write(f"FHIR R4B NDJSON in {options['out']}: {summary}")

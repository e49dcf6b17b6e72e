"""`manage.py verify_consent [uuid ...]`: check signed consents against their hashes and their documents.

Every signed consent when no uuid is given. Prints one line per broken consent (its
public id and what differs, never its content) and a summary; exits 1 on any problem.
"""

import sys
import uuid
from typing import Any

from django.core.management.base import BaseCommand

from patients.consent import consent_verify
from patients.models import ConsentSignature


class Command(BaseCommand):
    help = "Verify signed consents (all, or those named): exits 0 if every one is intact, 1 otherwise."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("uuids", nargs="*", help="public ids of signed consents (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted: list[str] = options["uuids"]
        found = ConsentSignature.objects.select_related("document", "episode").order_by("signed_at", "pk")
        failed = 0
        if wanted:
            ids = []
            for value in wanted:
                try:
                    ids.append(uuid.UUID(value))
                except ValueError:
                    self.stderr.write(f"verify_consent: {value}: not a consent id")
                    failed += 1
            found = found.filter(uuid__in=ids)
            missing = set(ids) - set(found.values_list("uuid", flat=True))
            for value in sorted(str(m) for m in missing):
                self.stderr.write(f"verify_consent: {value}: no such consent")
                failed += 1
        checked = 0
        for signature in found.iterator(chunk_size=200):
            checked += 1
            verification = consent_verify(signature)
            if not verification.valid:
                failed += 1
                for problem in verification.problems:
                    self.stderr.write(f"verify_consent: {signature.uuid}: {problem}")
        if failed:
            self.stderr.write(f"verify_consent: {checked} checked, {failed} with problems")
            sys.exit(1)
        self.stdout.write(f"verify_consent: OK, {checked} consents")

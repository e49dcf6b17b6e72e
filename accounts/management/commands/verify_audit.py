"""`manage.py verify_audit`: recompute the audit log's hash chain; OK with the row count, or the first broken row."""

import sys
from typing import Any

from django.core.management.base import BaseCommand

from accounts.audit import audit_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain: exits 0 if it is whole, 1 at the first altered, missing or misplaced row."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default="default")

    def handle(self, *args: Any, **options: Any) -> None:
        check = audit_verify(using=options["database"])
        if check.ok:
            self.stdout.write(f"verify_audit: OK, {check.rows} rows")
            return
        self.stderr.write(f"verify_audit: BROKEN at {check.broken_at}: {check.problem} ({check.rows} whole before it)")
        sys.exit(1)

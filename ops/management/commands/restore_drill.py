"""`manage.py restore_drill`: back up, restore into a new empty database, compare every table, check the audit chain."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, restore_drill


class Command(BaseCommand):
    help = (
        "Prove a backup restores: back up the configured database, restore it into a new empty one (a temporary "
        "SQLite file, or a new PostgreSQL database, dropped after), compare rows and checksums of every table, "
        "and run verify_audit there. Changes nothing in the configured database."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            drill = restore_drill()
        except BackupError as error:
            raise CommandError(str(error)) from None
        summary = (
            f"restore_drill: {drill.tables} tables compared, {drill.rows:,} rows, mismatches: {len(drill.mismatches)}, "
            f"{drill.verify_audit}, backup {drill.backup_size / 1e6:.1f} MB, {drill.seconds:.1f}s"
        )
        if drill.mismatches:
            raise CommandError("\n".join([summary, *drill.mismatches]))
        self.stdout.write(summary)

"""`manage.py restore FILE [--force]`: restore a backup into the configured database and check it (ops.backup)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.audit import audit_verify
from ops.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into the configured database (stop the app and the worker first). "
        "Refuses a file whose checksum does not match, and a database holding data unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--force", action="store_true", help="Replace everything the database holds.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = backup_restore(options["file"], force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from None
        chain = audit_verify()
        problems = [*restored.mismatches]
        if not chain.ok:
            problems.append(f"verify_audit: BROKEN at {chain.broken_at}: {chain.problem}")
        summary = (
            f"restore: {restored.tables} tables, {restored.rows:,} rows, mismatches: {len(problems)}, "
            f"verify_audit {'OK' if chain.ok else 'BROKEN'} ({chain.rows:,} rows), {restored.seconds:.1f}s"
        )
        if restored.pending_migrations:
            summary += f"; {restored.pending_migrations} migrations newer than the backup: run `manage.py migrate`"
        if problems:
            raise CommandError("\n".join([summary, *problems]))
        self.stdout.write(summary)

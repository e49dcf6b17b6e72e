"""`manage.py backup [--out DIR]`: one backup of the configured database, with its manifest (ops.backup)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite's online backup API, or pg_dump --format=custom) into one .tar.gz holding "
        "a manifest: its SHA-256, the audit chain's head, rows and a checksum per table, the migrations applied."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="Folder to write into (default: var/backups/).")

    def handle(self, *args: Any, **options: Any) -> None:
        out = options["out"] or Path(settings.VAR_DIR) / "backups"
        try:
            made = backup_create(out_dir=out)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"backup: {made.path} ({made.size / 1e6:.1f} MB, {made.tables} tables, {made.rows:,} rows, "
            f"{made.seconds:.1f}s) sha256 {made.sha256}"
        )

"""Backups of the practice's database, their restore, and the drill that proves a restore gives back every row.

A backup is one file, `regenclinic-<vendor>-<UTC time>.tar.gz`, holding the database
and `manifest.json`:

- SQLite: a copy made by SQLite's online backup API (consistent while the app writes; never `cp`);
- PostgreSQL: `pg_dump --format=custom`, taken from a snapshot the manifest's figures are read
  in too, so both describe the same moment however busy the database is.

The manifest holds the database's SHA-256, the audit chain's head (its last `seq` and
`row_hash`: a restore whose chain is whole but shorter lost rows from its end), the rows
and a checksum of every table, the migrations applied, and the time. Beside the archive,
`<archive>.sha256` is its own checksum in `sha256sum` format, to check a copy kept elsewhere.

A restore refuses a file that is not a backup, a database whose checksum does not match,
a backup of the other database vendor, and a target holding data unless forced; after it,
it reads the figures again and compares them with the manifest, and checks the audit
chain (`accounts.audit.audit_verify`). The backup holds health information: the archive
is readable by its owner only.
"""

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import UUID

from django.conf import settings
from django.db import connections

FORMAT = "regenclinic-backup-v1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRESQL_MEMBER = "database.pgdump"
# What `migrate` writes into a new database by itself: a database holding only these is empty.
BOOKKEEPING = frozenset({"django_migrations", "django_content_type", "auth_permission"})
# Tables a data migration fills (outcomes 0003: the default instrument sets): empty when nothing else has rows.
FILLED_BY_MIGRATIONS = frozenset({"outcomes_instrumentset"})
AUDIT_TABLE = "accounts_auditevent"
CHUNK = 2000


class BackupError(Exception):
    """A backup or restore refused, with the message for the person running it (nothing was changed)."""


@dataclass(frozen=True, slots=True)
class Database:
    """Where a database is: a SQLite file (`name` its path) or a PostgreSQL database (`name` and the server)."""

    vendor: str
    name: str
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, using: str = "default") -> "Database":
        wrapper = connections[using]
        config = wrapper.settings_dict
        return cls(
            vendor=wrapper.vendor,
            name=str(config["NAME"]),
            host=str(config.get("HOST") or ""),
            port=str(config.get("PORT") or ""),
            user=str(config.get("USER") or ""),
            password=str(config.get("PASSWORD") or ""),
        )

    def connect(self) -> Any:
        """A plain DB-API connection of its own (not Django's): the figures read values as the driver gives them."""
        if self.vendor == "sqlite":
            return sqlite3.connect(self.name)
        import psycopg

        return psycopg.connect(self.conninfo())

    def pg_env(self) -> dict[str, str]:
        """The environment `pg_dump`, `pg_restore` and `manage.py` need for this database (no password on argv)."""
        env = {"PGDATABASE": self.name}
        for key, value in (("PGHOST", self.host), ("PGPORT", self.port), ("PGUSER", self.user)):
            if value:
                env[key] = value
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def conninfo(self) -> str:
        """libpq's connection string for this PostgreSQL database."""
        from psycopg.conninfo import make_conninfo

        params = {"dbname": self.name, "host": self.host, "port": self.port, "user": self.user}
        if self.password:
            params["password"] = self.password
        return make_conninfo(**{key: value for key, value in params.items() if value})


# --- The figures: rows and a checksum per table --------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableFigure:
    rows: int
    sha256: str


def table_figures(database: Database, *, cursor: Any = None) -> dict[str, TableFigure]:
    """Every table's rows and SHA-256 over its rows in primary-key order, each value in one canonical spelling.

    With `cursor`, read through it (PostgreSQL: inside the backup's snapshot); otherwise on
    a connection of its own. A database that does not exist yet has no tables.
    """
    if cursor is not None:
        return _figures(cursor, database.vendor)
    if database.vendor == "sqlite" and not Path(database.name).exists():
        return {}
    with contextlib.closing(database.connect()) as conn:
        return _figures(conn.cursor(), database.vendor)


def _figures(cursor: Any, vendor: str) -> dict[str, TableFigure]:
    figures = {}
    for table in _tables(cursor, vendor):
        order = _primary_key(cursor, vendor, table) or _columns(cursor, vendor, table)
        quoted = _quote(table)
        cursor.execute(f"SELECT * FROM {quoted} ORDER BY {', '.join(map(_quote, order))}")  # noqa: S608
        digest, rows = hashlib.sha256(), 0
        while batch := cursor.fetchmany(CHUNK):
            for row in batch:
                digest.update(json.dumps([_canonical(value) for value in row], separators=(",", ":")).encode())
                digest.update(b"\n")
            rows += len(batch)
        figures[table] = TableFigure(rows=rows, sha256=digest.hexdigest())
    return figures


def _tables(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return sorted(str(row[0]) for row in cursor.fetchall())


def _primary_key(cursor: Any, vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(f"PRAGMA table_info({_quote(table)})")
        return [str(row[1]) for row in sorted(cursor.fetchall(), key=lambda row: row[5]) if row[5]]
    cursor.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        [_quote(table)],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def _columns(cursor: Any, vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(f"PRAGMA table_info({_quote(table)})")
        return [str(row[1]) for row in cursor.fetchall()]
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [str(row[0]) for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _canonical(value: Any) -> Any:
    """One spelling per value, whatever the connection's time zone or the driver's types."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date | clock_time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _audit_head(cursor: Any) -> dict[str, Any]:
    cursor.execute(f"SELECT count(*) FROM {AUDIT_TABLE}")  # noqa: S608
    rows = int(cursor.fetchone()[0])
    cursor.execute(f"SELECT seq, row_hash FROM {AUDIT_TABLE} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")  # noqa: S608
    last = cursor.fetchone()
    return {"rows": rows, "head_seq": int(last[0]) if last else 0, "head_hash": str(last[1]) if last else ""}


def _migrations(cursor: Any) -> list[list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations")
    return sorted([str(app), str(name)] for app, name in cursor.fetchall())


# --- Backing up ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    sha256: str
    size: int
    tables: int
    rows: int
    seconds: float


def backup_create(*, out_dir: Path, source: Database | None = None) -> Backup:
    """Write one backup of `source` (the configured database) into `out_dir`, whole or not at all."""
    source = source or Database.from_settings()
    started = time.perf_counter()
    moment = datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="regenclinic-backup-") as work:
        if source.vendor == "sqlite":
            member, figures, audit, migrations = _sqlite_dump(source, Path(work) / SQLITE_MEMBER)
        elif source.vendor == "postgresql":
            member, figures, audit, migrations = _postgresql_dump(source, Path(work) / POSTGRESQL_MEMBER)
        else:
            raise BackupError(f"No backup for a {source.vendor} database: SQLite and PostgreSQL only.")
        manifest = {
            "format": FORMAT,
            "created_at": moment.isoformat(timespec="seconds"),
            "vendor": source.vendor,
            "database": member.name,
            "sha256": file_sha256(member),
            "size": member.stat().st_size,
            "audit": audit,
            "migrations": migrations,
            "tables": {table: {"rows": figure.rows, "sha256": figure.sha256} for table, figure in figures.items()},
        }
        (Path(work) / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        name = f"regenclinic-{source.vendor}-{moment:%Y%m%dT%H%M%SZ}.tar.gz"
        partial = out_dir / f".{name}.partial"
        # Created readable by its owner only: the backup holds every patient's record.
        partial.touch(mode=0o600)
        with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
            tar.add(Path(work) / MANIFEST, arcname=MANIFEST)
            tar.add(member, arcname=member.name)
        path = out_dir / name
        os.replace(partial, path)
    checksum = file_sha256(path)
    path.with_name(path.name + ".sha256").write_text(f"{checksum}  {path.name}\n")
    return Backup(
        path=path,
        sha256=checksum,
        size=path.stat().st_size,
        tables=len(figures),
        rows=sum(figure.rows for figure in figures.values()),
        seconds=time.perf_counter() - started,
    )


def _sqlite_dump(source: Database, target: Path) -> tuple[Path, dict[str, TableFigure], dict[str, Any], Any]:
    if not Path(source.name).exists():
        raise BackupError(f"There is no database at {source.name} to back up.")
    with contextlib.closing(sqlite3.connect(source.name)) as live, contextlib.closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
        # The copy's figures, read from the copy itself: what the file holds is what the manifest says.
        cursor = copy.cursor()
        figures = _figures(cursor, "sqlite")
        audit, migrations = _audit_head(cursor), _migrations(cursor)
    return target, figures, audit, migrations


def _postgresql_dump(source: Database, target: Path) -> tuple[Path, dict[str, TableFigure], dict[str, Any], Any]:
    import psycopg

    with contextlib.closing(source.connect()) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        cursor = conn.cursor()
        # pg_dump reads the snapshot this transaction exported, while the transaction stays open.
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        dump = subprocess.run(  # noqa: S603
            [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--file={target}", "--no-password"],
            env={**os.environ, **source.pg_env()},
            capture_output=True,
            text=True,
            check=False,
        )
        if dump.returncode != 0:
            raise BackupError(f"pg_dump failed: {dump.stderr.strip()}")
        figures = _figures(cursor, "postgresql")
        audit, migrations = _audit_head(cursor), _migrations(cursor)
        conn.rollback()
    return target, figures, audit, migrations


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of the backup at `path`, or BackupError if the file is not a backup."""
    try:
        with tarfile.open(path) as tar:
            stream = tar.extractfile(MANIFEST)
            manifest = json.loads(stream.read()) if stream is not None else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path.name}: not a RegenClinic backup (no readable manifest). Nothing was restored.")
    return manifest


# --- Restoring -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restore:
    tables: int
    rows: int
    audit_rows: int
    mismatches: list[str]
    pending_migrations: int
    seconds: float


def backup_restore(path: Path, *, target: Database | None = None, force: bool = False) -> Restore:
    """Restore the backup at `path` into `target` (the configured database), then compare it with the manifest.

    Refuses (BackupError, nothing changed) a file that is not a backup, a database that does
    not match its checksum, a backup of the other vendor, and a target holding data unless
    `force`. The figures read back and the audit chain's head that differ from the
    manifest are `mismatches`, one sentence each.
    """
    target = target or Database.from_settings()
    started = time.perf_counter()
    manifest = read_manifest(path)
    if manifest["vendor"] != target.vendor:
        raise BackupError(
            f"{path.name} is a backup of a {manifest['vendor']} database; the database to restore into is "
            f"{target.vendor}. Nothing was restored."
        )
    held = held_data(target)
    if held and not force:
        listed = ", ".join(f"{table}: {rows} rows" for table, rows in sorted(held.items(), key=lambda t: -t[1])[:5])
        raise BackupError(
            f"The database holds data ({len(held)} {'table' if len(held) == 1 else 'tables'}, {listed}"
            f"{', ...' if len(held) > 5 else ''}). "
            "Restore into an empty database, or pass --force to replace everything in it."
        )
    with tempfile.TemporaryDirectory(prefix="regenclinic-restore-") as work:
        member = _extract(path, manifest, Path(work))
        # Django's own connections would keep reading the database as it was.
        connections.close_all()
        if target.vendor == "sqlite":
            Path(target.name).parent.mkdir(parents=True, exist_ok=True)
            with (
                contextlib.closing(sqlite3.connect(member)) as saved,
                contextlib.closing(sqlite3.connect(target.name)) as live,
            ):
                saved.backup(live)
        else:
            _pg_restore(member, target)
    return _compare(manifest, target, started)


def held_data(database: Database) -> dict[str, int]:
    """The tables holding rows, and how many, in `database`: none for a new one, or one `migrate` alone made."""
    figures = table_figures(database)
    held = {table: figure.rows for table, figure in figures.items() if figure.rows and table not in BOOKKEEPING}
    if set(held) <= FILLED_BY_MIGRATIONS:
        return {}
    return held


def _extract(path: Path, manifest: dict[str, Any], work: Path) -> Path:
    name = manifest.get("database")
    if name not in (SQLITE_MEMBER, POSTGRESQL_MEMBER):
        raise BackupError(f"{path.name}: not a RegenClinic backup (no readable manifest). Nothing was restored.")
    try:
        with tarfile.open(path) as tar:
            tar.extract(name, work, filter="data")
    except (OSError, tarfile.TarError, KeyError) as error:
        raise BackupError(f"{path.name}: the database in it cannot be read ({error}). Nothing was restored.") from None
    member = work / name
    if file_sha256(member) != manifest["sha256"]:
        raise BackupError(
            f"{path.name}: the database in this backup does not match its checksum (expected {manifest['sha256']}); "
            "the file is damaged or was changed. Nothing was restored."
        )
    return member


def _pg_restore(member: Path, target: Database) -> None:
    # One transaction: a restore that fails half-way leaves the database as it was. --clean drops
    # what the backup holds before making it again (a migrated but empty database, or --force).
    restore = subprocess.run(  # noqa: S603
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={target.name}",
            str(member),
        ],
        env={**os.environ, **target.pg_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    if restore.returncode != 0:
        raise BackupError(f"pg_restore failed, the database is as it was: {restore.stderr.strip()}")


def _compare(manifest: dict[str, Any], target: Database, started: float) -> Restore:
    figures = table_figures(target)
    expected = manifest["tables"]
    mismatches = []
    for table in sorted(set(expected) | set(figures)):
        if table not in figures:
            mismatches.append(f"{table}: missing after the restore")
        elif table not in expected:
            mismatches.append(f"{table}: not in the backup")
        elif figures[table].rows != expected[table]["rows"]:
            mismatches.append(f"{table}: {figures[table].rows} rows where the backup says {expected[table]['rows']}")
        elif figures[table].sha256 != expected[table]["sha256"]:
            mismatches.append(f"{table}: its rows differ from the backup's (checksum)")
    with contextlib.closing(target.connect()) as conn:
        cursor = conn.cursor()
        head = _audit_head(cursor) if AUDIT_TABLE in figures else {"rows": 0, "head_seq": 0, "head_hash": ""}
        applied = _migrations(cursor) if "django_migrations" in figures else []
    if head["head_seq"] != manifest["audit"]["head_seq"]:
        mismatches.append(
            f"audit log: its last row is seq {head['head_seq']} where the backup says "
            f"{manifest['audit']['head_seq']} (rows lost from its end?)"
        )
    elif head["head_hash"] != manifest["audit"]["head_hash"]:
        mismatches.append("audit log: its last row's hash differs from the backup's")
    return Restore(
        tables=len(figures),
        rows=sum(figure.rows for figure in figures.values()),
        audit_rows=head["rows"],
        mismatches=mismatches,
        pending_migrations=len(_known_migrations() - {(app, name) for app, name in applied}),
        seconds=time.perf_counter() - started,
    )


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


# --- The drill -----------------------------------------------------------------------------------


@contextlib.contextmanager
def empty_database_like(source: Database) -> Iterator[Database]:
    """A new, empty database beside `source` (a temporary SQLite file, or a PostgreSQL database), dropped after."""
    if source.vendor == "sqlite":
        with tempfile.TemporaryDirectory(prefix="regenclinic-drill-") as work:
            yield replace(source, name=str(Path(work) / "restored.sqlite3"))
        return
    import psycopg
    from psycopg import sql

    name = f"regenclinic_drill_{secrets.token_hex(4)}"
    with contextlib.closing(psycopg.connect(source.conninfo(), autocommit=True)) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield replace(source, name=name)
    finally:
        with contextlib.closing(psycopg.connect(source.conninfo(), autocommit=True)) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass(frozen=True, slots=True)
class Drill:
    tables: int
    rows: int
    audit_rows: int
    mismatches: list[str]
    verify_audit: str
    backup_size: int
    seconds: float
    target_dropped: bool


def restore_drill(*, source: Database | None = None) -> Drill:
    """Back up `source`, restore it into a new empty database, compare every table and run `verify_audit` there."""
    source = source or Database.from_settings()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="regenclinic-drill-backup-") as work:
        made = backup_create(out_dir=Path(work), source=source)
        with empty_database_like(source) as target:
            restored = backup_restore(made.path, target=target)
            checked = _verify_audit(target)
        dropped = not Path(target.name).exists() if target.vendor == "sqlite" else _pg_absent(target)
    return Drill(
        tables=restored.tables,
        rows=restored.rows,
        audit_rows=restored.audit_rows,
        mismatches=restored.mismatches if checked.startswith("verify_audit: OK") else [*restored.mismatches, checked],
        verify_audit=checked,
        backup_size=made.size,
        seconds=time.perf_counter() - started,
        target_dropped=dropped,
    )


def _verify_audit(target: Database) -> str:
    """`manage.py verify_audit` run against `target`, as an operator would run it there: its one line."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "SQLITE_PATH")}
    if target.vendor == "sqlite":
        env["SQLITE_PATH"] = target.name
    else:
        env.update(target.pg_env())
        user = f"{quote(target.user)}@" if target.user else ""
        env["DATABASE_URL"] = (
            f"postgres://{user}{target.host or 'localhost'}:{target.port or 5432}/{quote(target.name)}"
        )
    checked = subprocess.run(  # noqa: S603
        # The project's system checks (every URL's imports) would only add seconds.
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "verify_audit", "--skip-checks"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return (checked.stdout + checked.stderr).strip()


def _pg_absent(target: Database) -> bool:
    import psycopg

    with contextlib.closing(psycopg.connect(replace(target, name="postgres").conninfo())) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target.name]).fetchone() is None

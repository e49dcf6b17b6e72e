"""Backups and restores: the manifest, the refusals, and the restore drill into an empty database.

The same tests run on SQLite and, when DATABASE_URL names it, on PostgreSQL: the backup
is of the test database, the restore goes into a database of its own (a new SQLite file,
or a freshly created PostgreSQL database). Data must be committed for another connection
(the backup API, pg_dump) to see it, hence transactional tests.
"""

import importlib
import io
import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from accounts.audit import audit_record
from accounts.models import AuditEvent
from ops import backup
from outcomes.models import InstrumentSet, Response, Score
from patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)


def quiet(*args: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def clinic() -> None:
    """The demo clinic (its rows made by the staff pages' services, audit rows included) and a small registry."""
    quiet("load_demo_practice")
    quiet("load_demo_schedule", "--with-appointments")
    quiet("load_consent_documents")
    quiet("load_demo_clinic")
    quiet("make_registry", "--episodes", "12", "--force")


@pytest.fixture
def rows() -> None:
    """A small synthetic registry (a few hundred rows) and three audit rows: quicker than the whole demo clinic."""
    quiet("make_registry", "--episodes", "12")
    for patient in Patient.objects.order_by("pk")[:3]:
        audit_record(actor=None, action=AuditEvent.Action.VIEW, object_type="patient", object_ref=str(patient.uuid))


@pytest.fixture
def empty() -> Iterator[backup.Database]:
    with backup.empty_database_like(backup.Database.from_settings()) as target:
        yield target


def rewrite(archive: Path, *, manifest: dict[str, Any] | None = None, data: bytes | None = None) -> None:
    """Write the archive again with another manifest or other database bytes (a damaged or doctored backup)."""
    with tarfile.open(archive) as tar:
        members = {member.name: tar.extractfile(member).read() for member in tar.getmembers()}  # type: ignore[union-attr]
    if manifest is not None:
        members[backup.MANIFEST] = json.dumps(manifest).encode()
    if data is not None:
        database_member = next(name for name in members if name != backup.MANIFEST)
        members[database_member] = data
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_the_manifest_holds_the_checksum_audit_head_tables_and_migrations(clinic: None, tmp_path: Path) -> None:
    made = backup.backup_create(out_dir=tmp_path)
    manifest = backup.read_manifest(made.path)

    last = AuditEvent.objects.order_by("-seq").first()
    assert last is not None and last.seq == AuditEvent.objects.count()
    assert manifest["format"] == backup.FORMAT
    assert manifest["vendor"] == connection.vendor
    assert manifest["audit"] == {"rows": last.seq, "head_seq": last.seq, "head_hash": last.row_hash}
    assert manifest["tables"]["patients_patient"]["rows"] == Patient.objects.count()
    assert manifest["tables"]["accounts_auditevent"]["rows"] == AuditEvent.objects.count()
    assert set(manifest["tables"]) == set(connection.introspection.table_names())
    applied = sorted([app, name] for app, name in MigrationRecorder.Migration.objects.values_list("app", "name"))
    assert manifest["migrations"] == applied
    assert len(manifest["sha256"]) == 64
    # The archive's own checksum beside it, as sha256sum writes it (and `sha256sum -c` reads it).
    assert made.path.with_name(made.path.name + ".sha256").read_text() == f"{made.sha256}  {made.path.name}\n"
    assert backup.file_sha256(made.path) == made.sha256


def test_the_drill_restores_every_table_and_row_into_an_empty_database(clinic: None) -> None:
    drill = backup.restore_drill()

    tables = connection.introspection.table_names()
    assert drill.mismatches == []
    assert drill.tables == len(tables)
    assert drill.rows == sum(figure.rows for figure in backup.table_figures(backup.Database.from_settings()).values())
    assert drill.rows > 1500
    assert drill.audit_rows == AuditEvent.objects.count() > 50
    assert drill.verify_audit == f"verify_audit: OK, {drill.audit_rows} rows"
    assert drill.target_dropped is True


def test_restore_into_an_empty_database_gives_the_same_figures(rows: None, tmp_path: Path, empty: Any) -> None:
    made = backup.backup_create(out_dir=tmp_path)

    report = backup.backup_restore(made.path, target=empty)

    assert report.mismatches == []
    assert backup.table_figures(empty) == backup.table_figures(backup.Database.from_settings())
    assert report.rows == sum(figure["rows"] for figure in backup.read_manifest(made.path)["tables"].values())


def test_restore_refuses_a_backup_whose_checksum_does_not_match(rows: None, tmp_path: Path, empty: Any) -> None:
    made = backup.backup_create(out_dir=tmp_path)
    rewrite(made.path, data=b"SQLite format 3\x00 but not what was backed up")

    with pytest.raises(backup.BackupError) as refused:
        backup.backup_restore(made.path, target=empty)

    manifest = backup.read_manifest(made.path)
    assert str(refused.value) == (
        f"{made.path.name}: the database in this backup does not match its checksum (expected {manifest['sha256']}); "
        "the file is damaged or was changed. Nothing was restored."
    )
    assert backup.table_figures(empty) == {}


def test_restore_refuses_to_write_over_a_database_that_holds_rows(rows: None, tmp_path: Path) -> None:
    made = backup.backup_create(out_dir=tmp_path)
    before = backup.table_figures(backup.Database.from_settings())

    with pytest.raises(backup.BackupError) as refused:
        backup.backup_restore(made.path, target=backup.Database.from_settings())

    message = str(refused.value)
    held = backup.held_data(backup.Database.from_settings())
    assert held["patients_patient"] == Patient.objects.count() == 12
    # The five largest tables, largest first.
    assert message.startswith(
        f"The database holds data ({len(held)} tables, outcomes_score: {Score.objects.count()} rows, "
        f"outcomes_response: {Response.objects.count()} rows, "
    )
    assert message.endswith("Restore into an empty database, or pass --force to replace everything in it.")
    assert backup.table_figures(backup.Database.from_settings()) == before


def test_a_database_migrate_alone_filled_counts_as_empty() -> None:
    # What a new database holds after `migrate`: bookkeeping, and the default instrument sets (outcomes 0003).
    defaults = importlib.import_module("outcomes.migrations.0003_default_instrument_sets")
    defaults.add(django_apps, None)
    assert InstrumentSet.objects.count() == 46
    database = backup.Database.from_settings()

    assert backup.held_data(database) == {}

    audit_record(actor=None, action=AuditEvent.Action.VIEW, object_type="patient", object_ref="x")
    assert backup.held_data(database) == {"accounts_auditevent": 1, "outcomes_instrumentset": 46}


def test_restore_with_force_replaces_what_the_database_holds(rows: None, tmp_path: Path) -> None:
    made = backup.backup_create(out_dir=tmp_path)
    first = Patient.objects.order_by("pk").first()
    assert first is not None
    Patient.objects.filter(pk=first.pk).update(first_name="Changed after the backup")

    report = backup.backup_restore(made.path, target=backup.Database.from_settings(), force=True)

    assert report.mismatches == []
    assert Patient.objects.get(pk=first.pk).first_name == first.first_name


def test_restore_names_each_table_that_comes_back_different(rows: None, tmp_path: Path, empty: Any) -> None:
    made = backup.backup_create(out_dir=tmp_path)
    manifest = backup.read_manifest(made.path)
    patients = manifest["tables"]["patients_patient"]["rows"]
    manifest["tables"]["patients_patient"]["rows"] = patients + 1
    manifest["audit"]["head_seq"] += 1
    rewrite(made.path, manifest=manifest)

    report = backup.backup_restore(made.path, target=empty)

    assert report.mismatches == [
        f"patients_patient: {patients} rows where the backup says {patients + 1}",
        f"audit log: its last row is seq {manifest['audit']['head_seq'] - 1} where the backup says "
        f"{manifest['audit']['head_seq']} (rows lost from its end?)",
    ]


def test_restore_counts_the_migrations_newer_than_the_backup(rows: None, tmp_path: Path, empty: Any) -> None:
    # As if the backup were made before the code's last migration of the audit log.
    MigrationRecorder.Migration.objects.filter(app="accounts", name="0004_audit_append_only").delete()
    made = backup.backup_create(out_dir=tmp_path)

    report = backup.backup_restore(made.path, target=empty)

    assert report.pending_migrations == 1
    assert ["accounts", "0004_audit_append_only"] not in backup.read_manifest(made.path)["migrations"]


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path, empty: Any) -> None:
    stray = tmp_path / "notes.tar.gz"
    stray.write_bytes(b"not an archive")

    with pytest.raises(backup.BackupError) as refused:
        backup.backup_restore(stray, target=empty)

    assert str(refused.value) == "notes.tar.gz: not a RegenClinic backup (no readable manifest). Nothing was restored."


def test_the_commands_back_up_refuse_and_drill_with_one_line_each(rows: None, tmp_path: Path) -> None:
    out = quiet("backup", "--out", str(tmp_path))
    archives = sorted(tmp_path.glob("regenclinic-*.tar.gz"))
    assert len(archives) == 1
    assert out.startswith(f"backup: {archives[0]} (")
    assert out.endswith(f" sha256 {backup.file_sha256(archives[0])}\n")

    with pytest.raises(CommandError) as refused:
        quiet("restore", str(archives[0]))
    assert str(refused.value).startswith("The database holds data (")

    drill = quiet("restore_drill")
    assert drill.startswith("restore_drill: ")
    assert " tables compared, " in drill
    assert ", mismatches: 0, verify_audit: OK, " in drill


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file's own path")
def test_a_sqlite_backup_is_a_file_sqlite_opens(rows: None, tmp_path: Path) -> None:
    import sqlite3

    made = backup.backup_create(out_dir=tmp_path)
    with tarfile.open(made.path) as tar:
        tar.extract(backup.SQLITE_MEMBER, tmp_path, filter="data")
    copy = sqlite3.connect(tmp_path / backup.SQLITE_MEMBER)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM patients_patient").fetchone() == (Patient.objects.count(),)
    copy.close()
    assert os.stat(made.path).st_mode & 0o077 == 0

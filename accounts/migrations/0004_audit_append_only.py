"""The audit log is append-only in the database itself, on PostgreSQL and on SQLite.

A trigger refuses every UPDATE and DELETE of `accounts_auditevent` with a clear error
(an IntegrityError in Django). Rows are added by `accounts.audit.audit_record` only.

- PostgreSQL: a row trigger. `flush` (a TRUNCATE, as the test runner's) is not a row
  operation and still empties the table; production should not grant TRUNCATE to the
  application's role. A superuser can lift it for a transaction
  (`SET LOCAL session_replication_role = replica`), as the tests' helper does.
- SQLite: two triggers that refuse unless the connection's `regenclinic_audit_unlocked()`
  says 1. The application registers that function on each connection (`accounts.audit`),
  answering 0 except inside `sqlite_guard_lifted()` (`flush` and tests); any other
  client (the sqlite3 shell) has no such function, so its UPDATE or DELETE fails too.

Rows written before the chain began (no `seq`) are chained first, in the order they
were written, so `verify_audit` can vouch for the whole log from here on.
"""

from django.db import migrations

GUARD = "regenclinic_audit_unlocked"
MESSAGE = "the audit log is append-only: {op} of accounts_auditevent is refused"

POSTGRESQL_UP = [
    f"""
    CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE.format(op="%")}', TG_OP
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Audit rows are only ever added (accounts.audit.audit_record).';
    END
    $$
    """,
    """
    CREATE TRIGGER accounts_auditevent_append_only
        BEFORE UPDATE OR DELETE ON accounts_auditevent
        FOR EACH ROW EXECUTE FUNCTION accounts_auditevent_append_only()
    """,
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS accounts_auditevent_append_only ON accounts_auditevent",
    "DROP FUNCTION IF EXISTS accounts_auditevent_append_only()",
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER accounts_auditevent_no_{op.lower()} BEFORE {op} ON accounts_auditevent
    WHEN NOT {GUARD}()
    BEGIN SELECT RAISE(ABORT, '{MESSAGE.format(op=op)}'); END
    """
    for op in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS accounts_auditevent_no_{op}" for op in ("update", "delete")]


def chain_existing_rows(apps, schema_editor):
    from accounts.audit import GENESIS, chain_hash

    AuditEvent = apps.get_model("accounts", "AuditEvent")
    db = schema_editor.connection.alias
    last = AuditEvent.objects.using(db).filter(seq__isnull=False).order_by("-seq").values_list("seq", "row_hash")
    seq, prev = last.first() or (0, GENESIS)
    unchained = AuditEvent.objects.using(db).filter(seq__isnull=True).order_by("id")
    for event in unchained.select_related("patient").iterator(chunk_size=2000):
        seq += 1
        row_hash = chain_hash(
            seq=seq,
            at=event.at,
            actor_id=event.actor_id,
            role=event.role,
            action=event.action,
            object_type=event.object_type,
            object_ref=event.object_ref,
            patient_uuid=event.patient.uuid if event.patient_id else None,
            outcome=event.outcome,
            ip_address=event.ip_address,
            uuid=event.uuid,
            prev_hash=prev,
        )
        AuditEvent.objects.using(db).filter(pk=event.pk).update(seq=seq, prev_hash=prev, row_hash=row_hash)
        prev = row_hash


def add_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_UP, "sqlite": SQLITE_UP}.get(vendor, []):
        # No parameters: the driver must not read the `%` of RAISE EXCEPTION as a placeholder.
        schema_editor.execute(statement, params=None)


def drop_guard(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRESQL_DOWN, "sqlite": SQLITE_DOWN}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_audit_chain_patient_links")]

    operations = [
        # Chain first: once the guard is on, not even this migration may change a row.
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
        migrations.RunPython(add_guard, drop_guard),
    ]

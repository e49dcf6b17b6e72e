"""For tests only: reach past the audit log's append-only guard, inside the test's own transaction.

The database refuses UPDATE and DELETE on the audit table (migration 0004), so a test
that wants to count the rows one step leaves calls `audit_clear()` instead of
`AuditEvent.objects.all().delete()`, and a test of the chain alters a row with
`audit_raw(...)`. Inside a test that runs in a transaction (the default), what they do
is rolled back with the test.

How the guard is lifted, per database:
- PostgreSQL: `SET LOCAL session_replication_role = replica` for the statement (ordinary
  triggers do not fire in that mode), then back to the default at once. It needs a
  superuser, as the test database's owner is; the application's role in production
  is not one, so it cannot do the same.
- SQLite: the triggers ask the connection's `regenclinic_audit_unlocked()`, which says 1
  only inside `accounts.audit.sqlite_guard_lifted()`.
"""

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from accounts.audit import sqlite_guard_lifted


def audit_raw(sql: str, params: Sequence[Any] = ()) -> int:
    """Run one UPDATE or DELETE on `accounts_auditevent` with the guard lifted; the rows it touched."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            touched = cursor.rowcount
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            return touched
        with sqlite_guard_lifted(connection.alias):
            cursor.execute(sql, params)
            return cursor.rowcount


def audit_clear() -> None:
    """Empty the audit log (the test's set-up left rows the test does not count)."""
    audit_raw("DELETE FROM accounts_auditevent")


# The queries one audit row takes besides its INSERT (for tests that count a page's queries): the
# read of the chain's head, and on PostgreSQL the advisory lock taken before it.
CHAIN_QUERIES = 2 if connection.vendor == "postgresql" else 1

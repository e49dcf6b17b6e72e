"""Django's `flush`, able to empty the audit log on SQLite too (as TRUNCATE does on PostgreSQL).

`flush` removes every row of every table (the test runner's transactional tests end
with one). The audit log's append-only triggers would refuse its DELETE on SQLite;
emptying the whole database is not editing the log, so the guard is lifted for it.
"""

from typing import Any

from django.core.management.commands import flush

from accounts.audit import sqlite_guard_lifted


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        with sqlite_guard_lifted(options["database"]):
            super().handle(**options)

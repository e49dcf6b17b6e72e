"""One pass of the worker: every registered job once, then every task that is ready.

Tasks are django-tasks' (database backend, `django_tasks_db`): a ready task is locked
and claimed in one short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's
IMMEDIATE transactions hold its write lock), so each runs in one worker only, and then
run outside it. Jobs come from `outbox.jobs.JOBS`, which each app fills.
"""

import logging
import traceback
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
from django_tasks.utils import get_random_id
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from outbox import jobs

logger = logging.getLogger("outbox.worker")


def run_ready_tasks(*, worker_id: str | None = None, limit: int | None = None) -> int:
    """Run the tasks that are ready now, one at a time; returns how many ran."""
    worker_id = worker_id or get_random_id()
    runner = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    while limit is None or ran < limit:
        try:
            with transaction.atomic():
                found = DBTaskResult.objects.ready().filter(backend_name=DEFAULT_TASK_BACKEND_ALIAS).get_locked()
                if found is None:
                    break
                found.claim(worker_id)
            runner.run_task(found)
        except DatabaseError as error:
            # The database went away (a restart, a failover): the worker outlives it and tries again next pass.
            # A task cut short stays claimed; its email is the outbox sweep's (sent late, or recorded interrupted).
            logger.error(
                "run_worker: the ready tasks could not be run (%s at %s); the next pass tries again.",
                type(error).__name__,
                _where(error),
            )
            _drop_stale_connections()
            break
        ran += 1
    return ran


def run_pass() -> tuple[str, bool]:
    """Run every job once, then the ready tasks. Returns the pass's one-line summary and whether anything happened."""
    parts = []
    happened = False
    for name, job in jobs.JOBS.items():
        _drop_stale_connections()
        try:
            counts = job()
        except Exception as error:
            happened = True
            parts.append(f"{name} raised {type(error).__name__}")
            logger.error(
                "run_worker: job %s raised %s at %s; the next pass runs it again.",
                name,
                type(error).__name__,
                _where(error),
            )
            continue
        finally:
            _drop_stale_connections()
        happened = happened or any(counts.values())
        parts.append(f"{name} " + ", ".join(f"{count} {what}" for what, count in counts.items()))
    ran = run_ready_tasks()
    _drop_stale_connections()
    happened = happened or bool(ran)
    parts.append(f"tasks {ran} run")
    return "; ".join(parts), happened


def _drop_stale_connections() -> None:
    """What Django does around each request: close a connection that broke or outlived CONN_MAX_AGE.

    A connection inside a transaction (a caller's, or a test's) is left alone.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _where(error: BaseException) -> str:
    """file:line where the error was raised, relative to the project."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    path = Path(frames[-1].filename)
    if path.is_relative_to(settings.BASE_DIR):
        path = path.relative_to(settings.BASE_DIR)
    return f"{path}:{frames[-1].lineno}"

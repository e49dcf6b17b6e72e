"""The worker: runs the practice's background jobs every N seconds until it is stopped.

The jobs are `send_reminders` (appointment reminders, scheduling.reminders) and
`notify_inquiries` (retrying new-inquiry notices that failed, website.services).
`make run` starts the worker beside gunicorn; in production run it as a process of
its own (`manage.py run_worker`), one or several.

Why a loop and not django-tasks (with its database backend, django-tasks-db): every
job here is an idempotent service whose state already lives in the database (a
reminder is a row claimed under a unique constraint, an inquiry has `notified_at`),
so calling each one every pass is enough, stays correct with several workers at once,
and needs no queue table, no enqueueing from the web process and no new dependency.
Issue 3 allows either; the loop is the simpler one.

It stops cleanly on SIGINT or SIGTERM: the pass under way finishes, then it exits.
A job that raises is logged by its name, the error's kind and where it was raised
(never the error's text, which may carry a patient's details) and does not stop the
other jobs or the loop; the next pass tries it again.
"""

import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from scheduling.reminders import reminders_send_due
from website.services import inquiries_notify_pending

logger = logging.getLogger("scheduling.worker")

DEFAULT_INTERVAL_SECONDS = 30.0


def send_reminders() -> dict[str, int]:
    result = reminders_send_due()
    return {"sent": result.sent, "failed": result.failed, "skipped": result.skipped}


def notify_inquiries() -> dict[str, int]:
    sent, failed = inquiries_notify_pending()
    return {"sent": sent, "failed": failed}


# Each job returns what it did as counts; a pass in which every count is 0 is not logged.
JOBS: dict[str, Callable[[], dict[str, int]]] = {
    "send_reminders": send_reminders,
    "notify_inquiries": notify_inquiries,
}


def run_pass() -> tuple[str, bool]:
    """Run every job once. Returns the pass's one-line summary and whether anything happened."""
    parts = []
    happened = False
    for name, job in JOBS.items():
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


def interval_from_env() -> float:
    text = os.environ.get("WORKER_INTERVAL_SECONDS", "").strip()
    if not text:
        return DEFAULT_INTERVAL_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 24 * 60 * 60:
        raise CommandError(f"WORKER_INTERVAL_SECONDS must be a number of seconds above 0, not {text!r}.")
    return seconds


class Command(BaseCommand):
    help = (
        "Run the background jobs (send_reminders, notify_inquiries) every WORKER_INTERVAL_SECONDS "
        "(default 30) until SIGINT or SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one pass, print its summary and exit.")
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Also stop when the process that started this one goes away (make run uses it, so no worker "
            "outlives its shell).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            summary, _ = run_pass()
            self.stdout.write(f"run_worker: {summary}")
            return
        interval = interval_from_env()
        parent = os.getppid()
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {number: signal.signal(number, request_stop) for number in (signal.SIGINT, signal.SIGTERM)}
        logger.info("run_worker: started, a pass every %g s (%s).", interval, ", ".join(JOBS))
        try:
            while not stop.is_set():
                summary, happened = run_pass()
                if happened:
                    logger.info("run_worker: %s", summary)
                deadline = time.monotonic() + interval
                # Short waits, so a signal or a vanished parent is noticed within a second.
                while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                    stop.wait(min(left, 1.0))
                    if options["exit_with_parent"] and os.getppid() != parent:
                        logger.info("run_worker: the process that started it is gone.")
                        stop.set()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            connections.close_all()
        logger.info("run_worker: stopped.")

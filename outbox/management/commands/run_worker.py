"""The worker: runs the practice's background work every N seconds until it is stopped.

Each pass runs every job the apps registered (`outbox.jobs`: appointment reminders,
questionnaire invitations, the outbox's sweep) and then every task that is ready
(django-tasks with its database backend: above all, delivering the outbox's emails).
`make run` starts the worker beside gunicorn; in production run it as a process of its
own (`manage.py run_worker`), one or several: jobs claim their work under unique
constraints and tasks are claimed with row locks, so several workers never do one thing
twice.

It stops cleanly on SIGINT or SIGTERM: the pass under way finishes, then it exits.
A job that raises is logged by its name, the error's kind and where it was raised
(never the error's text, which may carry a patient's details) and does not stop the
other jobs or the loop; the next pass tries it again. Nor does a database that goes away
(PostgreSQL restarting): the tasks wait for the next pass (the crash drill, ops/crash_drill.py).
"""

import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from outbox import jobs
from outbox.worker import run_pass, run_ready_tasks

logger = logging.getLogger("outbox.worker")

DEFAULT_INTERVAL_SECONDS = 30.0


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
        "Run the background jobs and the ready tasks (the outbox's emails) every WORKER_INTERVAL_SECONDS "
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
        logger.info("run_worker: started, a pass every %g s (%s).", interval, ", ".join(jobs.JOBS))
        try:
            while not stop.is_set():
                summary, happened = run_pass()
                if happened:
                    logger.info("run_worker: %s", summary)
                deadline = time.monotonic() + interval
                # Short waits, so a signal or a vanished parent is noticed within a second, and an email
                # queued meanwhile goes out within about a second rather than at the next pass.
                while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                    stop.wait(min(left, 1.0))
                    if not stop.is_set() and (ran := run_ready_tasks()):
                        logger.info("run_worker: tasks %s run", ran)
                    if options["exit_with_parent"] and os.getppid() != parent:
                        logger.info("run_worker: the process that started it is gone.")
                        stop.set()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            connections.close_all()
        logger.info("run_worker: stopped.")

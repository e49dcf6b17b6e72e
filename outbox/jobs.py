"""The worker's periodic jobs. Each app registers its own in its AppConfig.ready (`@job("name")`).

A job is an idempotent service whose state lives in the database (a reminder is a row
claimed under a unique constraint), so the worker calls each one every pass and several
workers may run at once. It returns what it did as counts; a pass in which every count
is 0 is not logged.
"""

from collections.abc import Callable

from outbox.services import emails_sweep

Job = Callable[[], dict[str, int]]
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    def register(function: Job) -> Job:
        if name in JOBS and JOBS[name] is not function:
            raise ValueError(f"Two jobs are named {name!r}.")
        JOBS[name] = function
        return function

    return register


@job("outbox_sweep")
def sweep_outbox() -> dict[str, int]:
    return emails_sweep()

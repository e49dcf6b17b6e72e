"""Two workers passing over the follow-ups at the same moment: each invitation and reminder goes out exactly once.

Real threads on the real database (SQLite here, PostgreSQL in CI), as outbox's own
exactly-once test does: the `Invitation` row, unique per follow-up and kind, is the claim.
"""

import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from conftest import run_threads, together
from outbox.models import Email
from outcomes import services
from outcomes.invitations import OUTBOX_KIND, follow_ups_advance
from outcomes.models import FollowUp, Invitation, Timepoint
from outcomes.tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
LA = ZoneInfo("America/Los_Angeles")


def open_follow_ups(n: int, *, opens_on: date) -> list[FollowUp]:
    """`n` treated episodes whose 6-week window opens on `opens_on`."""
    found = []
    for _ in range(n):
        episode = factories.episode(status="treated")
        procedure = opens_on + timedelta(weeks=2) - timedelta(weeks=6)
        factories.baseline_answered(
            episode, at=datetime.combine(procedure - timedelta(days=2), datetime.min.time(), LA)
        )
        services.schedule_create(episode=episode, procedure_date=procedure, zone=LA)
        found.append(episode.follow_ups.get(timepoint=Timepoint.WEEK_6))
    return found


def in_parallel(workers: int, now: datetime) -> list[str]:
    barrier = together(workers)
    errors: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            follow_ups_advance(now=now)
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    run_threads([work] * workers)
    return errors


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_at_once_send_each_invitation_and_reminder_exactly_once(workers: int) -> None:
    opening = date(2026, 6, 1)
    follow_ups = open_follow_ups(4, opens_on=opening)
    for day in (0, 7, 14):
        moment = datetime.combine(opening + timedelta(days=day), datetime.min.time(), LA) + timedelta(
            hours=9, minutes=1
        )
        assert in_parallel(workers, moment) == []
    claimed = sorted(Invitation.objects.values_list("follow_up_id", "kind", "status"))
    assert claimed == sorted(
        (f.pk, kind, "queued") for f in follow_ups for kind in ("invitation", "reminder_1", "reminder_2")
    )
    assert Email.objects.filter(kind=OUTBOX_KIND).count() == 3 * len(follow_ups)

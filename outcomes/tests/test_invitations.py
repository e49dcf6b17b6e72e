"""The worker's pass over follow-ups: invitation at 9:00 on the opening day, reminders on days 7 and 14, then the
call list from day 17; what a worker that was down skips; misses; no email; exactly once, with two workers too.

The episode is treated on Monday 10 March 2031 (`PROCEDURE`); its 6-week window opens on
7 April 2031 (`OPENS`) and closes on 5 May 2031. Every pass is given its `now` in Los
Angeles, the practice's zone.
"""

import threading
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from accounts.models import PatientLink
from conftest import run_threads, together
from outbox.models import Email
from outcomes import services
from outcomes.invitations import Pass, call_list, follow_ups_advance
from outcomes.models import FollowUp, Invitation, Response, Timepoint
from outcomes.tests import factories
from patients.models import Episode, Patient

LA = ZoneInfo("America/Los_Angeles")
PROCEDURE = date(2031, 3, 10)
OPENS = date(2031, 4, 7)
CLOSES = date(2031, 5, 5)


def at(day: date, hhmm: str = "10:00") -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LA)


def treated(*, email: bool = True) -> FollowUp:
    """A knee episode treated on PROCEDURE (baseline unanswered, so missed); its 6-week follow-up, scheduled."""
    episode = factories.episode(status=Episode.Status.TREATED)
    if not email:
        Patient.objects.filter(pk=episode.patient_id).update(email="")
    services.schedule_create(episode=episode, procedure_date=PROCEDURE, zone=LA)
    return episode.follow_ups.get(timepoint=Timepoint.WEEK_6)


def claims(follow_up: FollowUp) -> list[tuple[str, str, str, bool]]:
    return [
        (i.kind, i.status, i.skip_reason, i.email_id is not None)
        for i in Invitation.objects.filter(follow_up=follow_up).order_by("pk")
    ]


@pytest.mark.django_db
def test_the_window_opens_at_midnight_and_the_invitation_goes_out_at_nine_local_time() -> None:
    follow_up = treated()
    assert follow_ups_advance(now=at(OPENS - timedelta(days=1), "23:59")).counts()["opened"] == 0
    early = follow_ups_advance(now=at(OPENS, "08:59"))
    follow_up.refresh_from_db()
    assert (early.counts(), follow_up.status, claims(follow_up)) == (
        {"baselines": 0, "opened": 1, "missed": 0, "sent": 0, "skipped": 0},
        FollowUp.Status.OPEN,
        [],
    )
    nine = follow_ups_advance(now=at(OPENS, "09:00"))
    assert nine.counts() == {"baselines": 0, "opened": 0, "missed": 0, "sent": 1, "skipped": 0}
    assert claims(follow_up) == [("invitation", "queued", "", True)]
    email = Email.objects.get()
    invitation = Invitation.objects.get()
    assert (email.to, email.kind, invitation.email, invitation.claimed_at) == (
        follow_up.episode.patient.email,
        "questionnaire_invitation",
        email,
        at(OPENS, "09:00"),
    )
    link = invitation.link
    assert link is not None
    assert (link.purpose, link.target, link.patient) == (
        PatientLink.Purpose.QUESTIONNAIRE,
        str(follow_up.uuid),
        follow_up.episode.patient,
    )


@pytest.mark.django_db
def test_the_reminders_go_out_on_days_7_and_14_and_the_call_list_takes_over_on_day_17() -> None:
    follow_up = treated()
    sent_on: dict[int, list[str]] = {}
    listed_on = []
    for n in range(0, 22):
        day = OPENS + timedelta(days=n)
        before = set(Invitation.objects.values_list("kind", flat=True))
        follow_ups_advance(now=at(day, "09:30"))
        new = sorted(set(Invitation.objects.values_list("kind", flat=True)) - before)
        if new:
            sent_on[n] = new
        if follow_up in call_list(today=day):
            listed_on.append(n)
    assert sent_on == {0: ["invitation"], 7: ["reminder_1"], 14: ["reminder_2"]}
    assert Email.objects.count() == 3
    assert [status for _kind, status, _reason, _email in claims(follow_up)] == ["queued"] * 3
    assert listed_on == list(range(17, 22))


@pytest.mark.parametrize(
    ("down_until", "sent", "skipped"),
    [
        (8, "reminder_1", ["invitation"]),
        (15, "reminder_2", ["invitation", "reminder_1"]),
    ],
)
@pytest.mark.django_db
def test_a_worker_that_was_down_sends_only_the_latest_message_due_and_records_the_ones_it_skipped(
    down_until: int, sent: str, skipped: list[str]
) -> None:
    follow_up = treated()
    done = follow_ups_advance(now=at(OPENS + timedelta(days=down_until)))
    assert (done.sent, done.skipped) == (1, len(skipped))
    assert claims(follow_up) == [
        *[(kind, "skipped", "A later message was due when the worker ran.", False) for kind in skipped],
        (sent, "queued", "", True),
    ]
    assert Email.objects.count() == 1


@pytest.mark.django_db
def test_a_window_that_closes_unanswered_is_recorded_missed_and_takes_no_more_answers() -> None:
    follow_up = treated()
    follow_ups_advance(now=at(OPENS))
    on_the_last_day = follow_ups_advance(now=at(CLOSES, "23:00"))
    follow_up.refresh_from_db()
    assert (on_the_last_day.missed, follow_up.status, follow_up in call_list(today=CLOSES)) == (
        0,
        FollowUp.Status.OPEN,
        True,
    )
    claimed = claims(follow_up)
    after = follow_ups_advance(now=at(CLOSES + timedelta(days=1), "00:05"))
    follow_up.refresh_from_db()
    assert (after.missed, follow_up.status) == (1, FollowUp.Status.MISSED)
    assert follow_up not in call_list(today=CLOSES + timedelta(days=1))
    with pytest.raises(services.FollowUpClosed):
        services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 3})
    assert Response.objects.filter(follow_up=follow_up).count() == 0
    # Nothing more is sent about it, however long the worker runs.
    follow_ups_advance(now=at(CLOSES + timedelta(days=2)))
    assert claims(follow_up) == claimed


@pytest.mark.django_db
def test_a_patient_without_email_is_skipped_and_on_the_call_list_from_the_first_day() -> None:
    follow_up = treated(email=False)
    done = follow_ups_advance(now=at(OPENS, "09:00"))
    assert (done.sent, done.skipped) == (0, 1)
    assert claims(follow_up) == [("invitation", "skipped", "No email address: on the call list.", False)]
    assert (Email.objects.count(), PatientLink.objects.count()) == (0, 0)
    assert list(call_list(today=OPENS)) == [follow_up]


@pytest.mark.django_db
def test_a_second_pass_at_the_same_moment_sends_nothing_more() -> None:
    follow_up = treated()
    first = follow_ups_advance(now=at(OPENS))
    second = follow_ups_advance(now=at(OPENS))
    assert (first.sent, second.counts()) == (
        1,
        {"baselines": 0, "opened": 0, "missed": 0, "sent": 0, "skipped": 0},
    )
    assert (len(claims(follow_up)), Email.objects.count()) == (1, 1)


@pytest.mark.django_db
def test_an_answered_follow_up_is_neither_reminded_nor_called() -> None:
    follow_up = treated()
    follow_ups_advance(now=at(OPENS))
    for code in services.instruments_for(follow_up.episode, follow_up.timepoint):
        answers = factories.complete_answers(code)
        services.response_save(follow_up=follow_up, instrument=code, answers=answers, now=at(OPENS + timedelta(days=2)))
    services.follow_up_submit(follow_up=follow_up, now=at(OPENS + timedelta(days=2)))
    for n in (7, 14, 17):
        follow_ups_advance(now=at(OPENS + timedelta(days=n)))
        assert follow_up not in call_list(today=OPENS + timedelta(days=n))
    assert [kind for kind, *_rest in claims(follow_up)] == ["invitation"]


@pytest.mark.django_db
def test_an_episode_awaiting_its_procedure_gets_its_baseline_and_an_invitation() -> None:
    episode = factories.episode(status=Episode.Status.CONSENTED, opened_at=at(OPENS, "08:00"))
    done = follow_ups_advance(now=at(OPENS, "09:15"))
    baseline = episode.follow_ups.get()
    assert (done.baselines, done.sent, baseline.timepoint, baseline.status, baseline.opens_on) == (
        1,
        1,
        Timepoint.BASELINE,
        FollowUp.Status.OPEN,
        OPENS,
    )
    assert follow_ups_advance(now=at(OPENS, "09:20")).baselines == 0


def _race(workers: int, now: datetime) -> list[Pass | str]:
    barrier = together(workers)
    results: list[Pass | str] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            barrier.wait()
            result: Pass | str = follow_ups_advance(now=now)
        except Exception as error:  # fails the test below, with its text
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            results.append(result)

    run_threads([work] * workers)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_running_at_once_send_each_message_exactly_once(workers: int) -> None:
    follow_ups = [treated() for _n in range(5)]
    FollowUp.objects.filter(pk__in=[f.pk for f in follow_ups]).update(status=FollowUp.Status.OPEN)
    results: list[Any] = _race(workers, at(OPENS + timedelta(days=7)))
    assert [r for r in results if isinstance(r, str)] == []
    # Each follow-up: the invitation recorded skipped and the first reminder sent, once, whoever won.
    assert sum(r.sent for r in results) == 5
    assert sum(r.sent + r.lost_race for r in results) >= 5
    for follow_up in follow_ups:
        assert claims(follow_up) == [
            ("invitation", "skipped", "A later message was due when the worker ran.", False),
            ("reminder_1", "queued", "", True),
        ]
    assert Email.objects.count() == 5
    assert PatientLink.objects.count() == 5

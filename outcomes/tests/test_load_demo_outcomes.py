"""`manage.py load_demo_outcomes`: treated demo patients whose follow-up histories tell five different stories."""

import pytest
from django.utils import timezone

from outcomes.invitations import call_list
from outcomes.models import FollowUp, Invitation, Response, Score, SurgeryConversion, Timepoint
from outcomes.queries import episode_progress
from patients.models import Episode, Intake
from patients.tests.test_load_demo_clinic import load, run
from procedures.models import AdverseEvent, ProcedureRecord

pytestmark = pytest.mark.django_db

S = FollowUp.Status


def statuses(first_name: str) -> dict[str, str]:
    episode = Episode.objects.get(patient__first_name=first_name)
    return dict(episode.follow_ups.values_list("timepoint", "status"))


def test_the_stories_are_there_once_each_with_their_histories() -> None:
    load()
    out = run("load_demo_outcomes")
    assert [line.split()[1] for line in out.splitlines()[:5]] == ["Helen", "Walter", "Teresa", "Daniel", "Grace"]
    assert all(line.endswith("added") for line in out.splitlines()[:5])

    assert statuses("Helen") == {
        "baseline": S.COMPLETED, "6w": S.COMPLETED, "3m": S.COMPLETED, "6m": S.COMPLETED, "12m": S.COMPLETED,
        "24m": S.SCHEDULED,
    }  # fmt: skip
    helen = episode_progress(Episode.objects.get(patient__first_name="Helen"))
    pain = next(s for s in helen.series if s.code == "KOOS.PAIN")
    assert [p.meaningful for p in pain.points] == [None, True, True, True, True]
    assert helen.responder["12m"] is True

    walter = episode_progress(Episode.objects.get(patient__first_name="Walter"))
    assert [walter.responder[t] for t in ("6w", "3m", "6m")] == [False, False, False]

    assert statuses("Teresa")["3m"] == S.MISSED
    assert statuses("Teresa")["6m"] == S.OPEN
    today = timezone.localdate()
    on_the_list = [(f.episode.patient.first_name, f.timepoint) for f in call_list(today=today)]
    assert ("Teresa", "6m") in on_the_list and ("Daniel", "12m") in on_the_list

    conversion = SurgeryConversion.objects.get()
    assert (conversion.episode.patient.first_name, conversion.procedure) == ("Daniel", "knee_replacement")

    grace = Episode.objects.get(patient__first_name="Grace").follow_ups.get(timepoint=Timepoint.WEEK_6)
    assert grace.status == S.OPEN
    assert list(grace.invitations.order_by("claimed_at").values_list("kind", "status")) == [
        ("invitation", "queued"), ("reminder_1", "queued"), ("reminder_2", "queued"),
    ]  # fmt: skip
    # Every submitted response is scored; the VISA-P (one of 8A/8B/8C) too.
    assert not Response.objects.filter(status=Response.Status.SUBMITTED, scores__isnull=True).exists()
    assert Score.objects.filter(instrument="VISA-P", code="VISA-P", value__isnull=False).count() == 1

    # Each step of the past bears its own moment, not the moment the demo was loaded.
    zone = timezone.get_default_timezone()
    assert all(
        timezone.localdate(record.started_at, zone) == record.procedure_date for record in ProcedureRecord.objects.all()
    )
    assert all(event.reported_at.date() < today for event in AdverseEvent.objects.all())
    confirmed = Intake.objects.filter(confirmed_at__isnull=False)
    assert confirmed.count() >= 9
    assert all(intake.confirmed_at is not None and intake.confirmed_at.date() < today for intake in confirmed)

    before = (Response.objects.count(), Invitation.objects.count(), Score.objects.count())
    again = run("load_demo_outcomes")
    assert all(line.endswith("already there") for line in again.splitlines()[:5])
    assert (Response.objects.count(), Invitation.objects.count(), Score.objects.count()) == before

"""Small builders for outcomes tests: a treated episode and its follow-ups, written directly."""

from datetime import date
from itertools import count
from typing import Any

from outcomes import schedule
from outcomes.models import FollowUp, Response, Timepoint
from patients.models import Episode, Patient
from scheduling.models import Provider

_numbers = count(1)


def episode(*, indication: str = "osteoarthritis", site: str = "knee", side: str = "right", **extra: Any) -> Episode:
    n = next(_numbers)
    patient = Patient.objects.create(
        first_name=f"Outcome{n}", last_name="Example", date_of_birth=date(1955, 1, 1), email=f"o{n}@example.com"
    )
    physician = Provider.objects.get_or_create(name="Dr. Outcome Example")[0]
    return Episode.objects.create(
        patient=patient, indication=indication, site=site, side=side, physician=physician, **extra
    )


def follow_up(
    episode: Episode, timepoint: str = Timepoint.BASELINE, *, procedure: date = date(2027, 3, 10)
) -> FollowUp:
    windows = {w.timepoint: w for w in [schedule.baseline_window(procedure), *schedule.follow_up_windows(procedure)]}
    window = windows[timepoint]
    return FollowUp.objects.create(
        episode=episode,
        timepoint=timepoint,
        target_date=window.target,
        opens_on=window.opens,
        closes_on=window.closes,
        schedule_version=schedule.VERSION,
    )


def response(follow_up: FollowUp, instrument: str, answers: dict[str, Any], **extra: Any) -> Response:
    values: dict[str, Any] = {"status": Response.Status.SUBMITTED, **extra}
    return Response.objects.create(follow_up=follow_up, instrument=instrument, answers=answers, **values)

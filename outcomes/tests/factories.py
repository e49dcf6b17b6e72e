"""Small builders for outcomes tests: a treated episode and its follow-ups, written directly."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from outcomes import schedule, scoring
from outcomes.models import FollowUp, Response, Timepoint
from patients.models import Episode, Patient
from procedures.models import ProcedureRecord
from scheduling.models import Appointment, AppointmentType, Provider

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


def follow_up(episode: Episode, timepoint: str = Timepoint.BASELINE, *, procedure: date | None = None) -> FollowUp:
    """The episode's follow-up at `timepoint`, its window from `procedure`: by default the procedure date
    that puts the window's target on today, so that the follow-up takes answers now."""
    if procedure is None:
        procedure = _procedure_for_today(timepoint)
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


def _procedure_for_today(timepoint: str) -> date:
    from django.utils import timezone

    today = timezone.localdate()
    if timepoint == Timepoint.BASELINE:
        return today
    # The offsets are whole weeks or months: step back until the window's target is today.
    procedure = today
    for _ in range(800):
        target = {w.timepoint: w.target for w in schedule.follow_up_windows(procedure)}[timepoint]
        if target == today:
            return procedure
        procedure -= timedelta(days=1) if target > today else -timedelta(days=1)
    raise AssertionError(timepoint)


def response(follow_up: FollowUp, instrument: str, answers: dict[str, Any], **extra: Any) -> Response:
    values: dict[str, Any] = {"status": Response.Status.SUBMITTED, **extra}
    return Response.objects.create(follow_up=follow_up, instrument=instrument, answers=answers, **values)


def complete_answers(instrument: str, *, pick: int = 0) -> dict[str, Any]:
    """Every item of `instrument` answered: the `pick`-th box of each (negative: from the last), or a scale's end."""
    from outcomes import instruments

    answers: dict[str, Any] = {}
    for item in instruments.get(instrument).items:
        if item.options:
            answers[item.code] = item.options[pick].code
        else:
            assert item.low is not None and item.high is not None
            answers[item.code] = item.high if pick < 0 else item.low
    return answers


def baseline_answered(episode: Episode, *, at: Any) -> FollowUp:
    """The episode's baseline, answered in full online at the aware moment `at` (through the services)."""
    from outcomes import services

    follow_up = services.baseline_open(episode=episode, now=at)
    for code in services.instruments_for(episode, Timepoint.BASELINE):
        services.response_save(follow_up=follow_up, instrument=code, answers=complete_answers(code), now=at)
    return services.follow_up_submit(follow_up=follow_up, now=at)


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)


def _visit(made: Episode, on: date, office: Any) -> Appointment:
    """The procedure visit at `office`: each in its own hour, so no two overlap for the physician."""
    kind = AppointmentType.objects.get_or_create(
        slug="procedure-visit-test", defaults={"name": "Procedure visit", "duration_minutes": 60}
    )[0]
    starts = datetime(on.year, on.month, on.day, tzinfo=UTC) + timedelta(hours=next(_numbers))
    return Appointment.objects.create(
        office=office,
        provider=made.physician,
        appointment_type=kind,
        patient=made.patient,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=60),
        blocks_until=starts + timedelta(minutes=60),
        source="staff",
    )


@dataclass
class Built:
    episode: Episode
    procedure: ProcedureRecord


def treated(
    *,
    indication: str = "back_pain",
    site: str = "back",
    on: date = date(2025, 6, 2),
    nrs: dict[str, int] | None = None,
    sane: dict[str, int] | None = None,
    missed: tuple[str, ...] = (),
    open_now: tuple[str, ...] = (),
    dose: int | None = None,
    paw: str = "",
    physician: Provider | None = None,
    office: Any = None,
) -> Built:
    """A treated episode: a signed procedure on `on` (at `office`'s visit, if given), and answered follow-ups
    with these NRS/SANE values."""
    made = episode(indication=indication, site=site)
    made.status = made.Status.TREATED
    made.physician = physician or made.physician
    made.save(update_fields=["status", "physician"])
    procedure = ProcedureRecord.objects.create(
        episode=made,
        procedure_date=on,
        status=ProcedureRecord.Status.SIGNED,
        signed_at=_moment(on),
        cell_dose=dose,
        paw_code=paw,
        appointment=_visit(made, on, office) if office is not None else None,
    )
    answered = set(nrs or {}) | set(sane or {})
    for timepoint in [*answered, *missed, *open_now]:
        due = follow_up(made, timepoint, procedure=on)
        if timepoint in missed:
            due.status = FollowUp.Status.MISSED
        elif timepoint in open_now:
            due.status = FollowUp.Status.OPEN
        else:
            due.status = FollowUp.Status.COMPLETED
            due.completed_at = _moment(due.target_date)
        due.save()
        for code, values in (("NRS", nrs or {}), ("SANE", sane or {})):
            if timepoint in values:
                response = Response.objects.create(
                    follow_up=due,
                    instrument=code,
                    answers={code: values[timepoint]},
                    status=Response.Status.SUBMITTED,
                    submitted_at=due.completed_at,
                )
                scoring.response_scores(response, now=due.completed_at)
    return Built(episode=made, procedure=procedure)

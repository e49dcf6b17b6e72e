"""An episode's progress: each score over time, its change, if meaningful, PASS, the responder, what is next."""

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from outcomes import queries, scoring, services
from outcomes.models import FollowUp, SurgeryConversion, Timepoint
from outcomes.tests import factories
from patients.models import Episode

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
PROCEDURE = date(2031, 3, 10)


def submitted(follow_up: FollowUp, answers: dict[str, dict[str, Any]]) -> None:
    """`answers` saved and submitted on the follow-up's target day, inside its window."""
    FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUp.Status.OPEN)
    now = datetime.combine(follow_up.target_date, time(10), tzinfo=LA)
    for code, given in answers.items():
        services.response_save(follow_up=follow_up, instrument=code, answers=given, now=now)
    services.follow_up_submit(follow_up=follow_up, now=now)


def scheduled(indication: str = "osteoarthritis", site: str = "knee") -> Episode:
    episode = factories.episode(indication=indication, site=site, status=Episode.Status.TREATED)
    services.schedule_create(episode=episode, procedure_date=PROCEDURE, zone=LA)
    return episode


def worst_then_best(episode: Episode) -> Episode:
    """Baseline at the worst ends of KOOS and NRS (SANE 40), the 6-week follow-up at the best (SANE 90, PGIC 1)."""
    answers = {code: factories.complete_answers(code, pick=-1) for code in ("KOOS", "NRS")}
    submitted(episode.follow_ups.get(timepoint=Timepoint.BASELINE), {**answers, "SANE": {"SANE": 40}})
    submitted(
        episode.follow_ups.get(timepoint=Timepoint.WEEK_6),
        {
            "KOOS": factories.complete_answers("KOOS"),
            "NRS": {"NRS": 0},
            "SANE": {"SANE": 90},
            "PGIC": {"PGIC": 1},
        },
    )
    return episode


def line(progress: queries.Progress, code: str) -> queries.Series:
    return next(s for s in progress.series if s.code == code)


def points(series: queries.Series) -> list[tuple[Any, ...]]:
    return [(p.timepoint, p.value, p.change, p.meaningful, p.reaches_pass) for p in series.points]


def test_each_score_s_change_from_baseline_and_whether_it_is_meaningful(django_assert_num_queries: Any) -> None:
    episode = worst_then_best(scheduled())
    episode = Episode.objects.get(pk=episode.pk)
    with django_assert_num_queries(3):
        progress = queries.episode_progress(episode)
    assert [s.code for s in progress.series] == [
        "KOOS.SYMPTOMS",
        "KOOS.PAIN",
        "KOOS.ADL",
        "KOOS.SPORT_REC",
        "KOOS.QOL",
        "KOOS.KOOS_JR",
        "NRS.NRS",
        "PGIC.PGIC",
        "SANE.SANE",
    ]
    assert points(line(progress, "KOOS.PAIN")) == [
        ("baseline", 0.0, None, None, None),
        ("6w", 100.0, 100.0, True, None),
    ]
    # NRS's MCID is 30% of the baseline: 10 to 0 is a 100% improvement.
    assert points(line(progress, "NRS.NRS")) == [("baseline", 10.0, None, None, None), ("6w", 0.0, -10.0, True, None)]
    assert points(line(progress, "PGIC.PGIC")) == [("6w", 1.0, None, None, None)]
    jr = line(progress, "KOOS.KOOS_JR")
    assert [p.reaches_pass for p in jr.points] == [False, True]
    assert (jr.baseline, jr.latest.timepoint if jr.latest else None) == (0.0, "6w")
    assert [(p.label, p.target_date) for p in line(progress, "SANE.SANE").points] == [
        ("Before treatment", PROCEDURE),
        ("6 weeks", date(2031, 4, 21)),
    ]


def test_osteoarthritis_gets_its_omeract_oarsi_responder_status_at_each_follow_up() -> None:
    progress = queries.episode_progress(worst_then_best(scheduled()))
    assert progress.responder == {"6w": True, "3m": None, "6m": None, "12m": None, "24m": None}


def test_an_indication_other_than_osteoarthritis_has_no_responder_status() -> None:
    progress = queries.episode_progress(scheduled(indication="tendon_injury"))
    assert progress.responder == {}


def test_what_is_due_next_the_procedure_date_and_the_surgery() -> None:
    episode = worst_then_best(scheduled())
    conversion = SurgeryConversion.objects.create(
        episode=episode, surgery_date=date(2031, 9, 1), procedure="other", source="staff"
    )
    progress = queries.episode_progress(episode)
    assert (progress.next_due, progress.procedure_date, progress.surgery) == (
        episode.follow_ups.get(timepoint=Timepoint.MONTH_3),
        PROCEDURE,
        conversion,
    )
    assert [f.timepoint for f in progress.follow_ups] == ["baseline", "6w", "3m", "6m", "12m", "24m"]


def test_an_episode_awaiting_treatment_has_its_baseline_due_and_no_procedure_date() -> None:
    episode = factories.episode(status=Episode.Status.CONSENTED)
    baseline = services.baseline_open(episode=episode, now=datetime.combine(date(2031, 2, 1), time(9), tzinfo=LA))
    progress = queries.episode_progress(episode)
    assert (progress.next_due, progress.procedure_date, progress.series) == (baseline, None, [])


def test_a_score_that_cannot_be_computed_is_a_point_with_its_reason_not_a_zero() -> None:
    episode = scheduled()
    partial = factories.response(episode.follow_ups.get(timepoint=Timepoint.WEEK_6), "KOOS", {"S1": 2})
    scoring.response_scores(partial)
    [point] = line(queries.episode_progress(episode), "KOOS.QOL").points
    assert (point.timepoint, point.value, point.reason, point.change, point.meaningful) == (
        "6w",
        None,
        "Only 0 of 4 QOL items answered; the KOOS guide needs at least 2.",
        None,
        None,
    )

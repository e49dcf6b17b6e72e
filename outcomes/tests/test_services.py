"""The outcomes services: the schedule from the procedure date, answers saved and submitted, calls, surgery."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.tests.audit import audit_clear
from outcomes import instruments, schedule, services
from outcomes.models import FollowUp, FollowUpCall, InstrumentSet, Response, Score, SurgeryConversion, Timepoint
from outcomes.tests import factories
from patients.models import Episode

pytestmark = pytest.mark.django_db
LA = ZoneInfo("America/Los_Angeles")
Status = FollowUp.Status


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LA)


def windows(episode: Episode) -> list[tuple[str, date, date, date, str]]:
    return [
        (f.timepoint, f.target_date, f.opens_on, f.closes_on, f.status)
        for f in sorted(episode.follow_ups.all(), key=lambda f: f.target_date)
    ]


def answer_all(follow_up: FollowUp, *, pick: int = 0) -> None:
    for code in services.instruments_for(follow_up.episode, follow_up.timepoint):
        services.response_save(
            follow_up=follow_up, instrument=code, answers=factories.complete_answers(code, pick=pick)
        )


# --- The schedule ----------------------------------------------------------------------------------


def test_the_schedule_counts_calendar_months_from_the_procedure_date() -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    procedure = date(2031, 1, 31)
    made = services.schedule_create(episode=episode, procedure_date=procedure, zone=LA)
    assert [f.timepoint for f in made] == ["6w", "3m", "6m", "12m", "24m"]
    assert windows(episode) == [
        ("baseline", procedure, date(2031, 1, 1), procedure, Status.MISSED),
        ("6w", date(2031, 3, 14), date(2031, 2, 28), date(2031, 3, 28), Status.SCHEDULED),
        # 31 January + 3 months is 30 April, never 1 May.
        ("3m", date(2031, 4, 30), date(2031, 4, 16), date(2031, 5, 14), Status.SCHEDULED),
        ("6m", date(2031, 7, 31), date(2031, 6, 30), date(2031, 8, 31), Status.SCHEDULED),
        ("12m", date(2032, 1, 31), date(2031, 12, 31), date(2032, 2, 29), Status.SCHEDULED),
        ("24m", date(2033, 1, 31), date(2032, 11, 30), date(2033, 3, 31), Status.SCHEDULED),
    ]
    assert {f.schedule_version for f in episode.follow_ups.all()} == {schedule.VERSION}


@pytest.mark.parametrize(
    ("days_before", "status"), [(0, Status.COMPLETED), (30, Status.COMPLETED), (31, Status.MISSED)]
)
def test_the_baseline_counts_when_answered_in_the_30_days_before_the_procedure(days_before: int, status: str) -> None:
    episode = factories.episode(status=Episode.Status.CONSENTED)
    procedure = date(2031, 3, 10)
    factories.baseline_answered(episode, at=at(procedure - timedelta(days=days_before), 8))
    services.schedule_create(episode=episode, procedure_date=procedure, zone=LA)
    assert windows(episode)[0] == ("baseline", procedure, date(2031, 2, 8), procedure, status)


def test_signing_again_changes_nothing() -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    services.schedule_create(episode=episode, procedure_date=date(2031, 3, 10), zone=LA)
    before = windows(episode)
    assert services.schedule_create(episode=episode, procedure_date=date(2031, 3, 10), zone=LA) == []
    assert windows(episode) == before


def test_a_procedure_signed_the_day_its_baseline_was_opened_fixes_the_baseline_s_window() -> None:
    """Reported: the provisional baseline (from today, for 180 days) has today as its target date, so signing a
    procedure dated today took the "already fixed" branch and left it open for 180 days, after treatment."""
    episode = factories.episode(status=Episode.Status.CONSENTED)
    today = timezone.localdate()
    services.baseline_open(episode=episode)  # the worker's pass, the morning of the procedure
    services.schedule_create(episode=episode, procedure_date=today, zone=LA)
    assert windows(episode)[0] == ("baseline", today, today - timedelta(days=30), today, Status.MISSED)


# --- Answers ---------------------------------------------------------------------------------------


def treated_follow_up() -> FollowUp:
    episode = factories.episode(status=Episode.Status.TREATED)
    follow_up = factories.follow_up(episode, Timepoint.WEEK_6)
    FollowUp.objects.filter(pk=follow_up.pk).update(status=Status.OPEN)
    follow_up.refresh_from_db()
    return follow_up


def test_answers_are_merged_as_they_come_and_record_who_entered_them(alice: User) -> None:
    follow_up = treated_follow_up()
    services.response_save(follow_up=follow_up, instrument="koos", answers={"S1": 1})
    saved = services.response_save(
        follow_up=follow_up, instrument="KOOS", answers={"S2": 3}, mode=Response.Mode.PHONE, by=alice
    )
    assert (saved.instrument, saved.answers, saved.mode, saved.entered_by, saved.status) == (
        "KOOS",
        {"S1": 1, "S2": 3},
        Response.Mode.PHONE,
        alice,
        Response.Status.IN_PROGRESS,
    )
    assert Response.objects.count() == 1
    assert saved.history.first().history_user == alice


@pytest.mark.parametrize("answers", [{"Z9": 1}, {"S1": 7}, {"S1": True}, {"S1": "2"}])
def test_an_answer_the_instrument_does_not_have_is_refused_and_nothing_is_written(answers: dict[str, Any]) -> None:
    follow_up = treated_follow_up()
    audit_clear()
    with pytest.raises(ValidationError):
        services.response_save(follow_up=follow_up, instrument="KOOS", answers=answers)
    assert (Response.objects.count(), AuditEvent.objects.count()) == (0, 0)


@pytest.mark.parametrize("status", [Status.MISSED, Status.COMPLETED])
def test_a_missed_or_answered_follow_up_takes_no_answers(status: str) -> None:
    follow_up = treated_follow_up()
    FollowUp.objects.filter(pk=follow_up.pk).update(status=status)
    with pytest.raises(services.FollowUpClosed) as refused:
        services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 2})
    with pytest.raises(services.FollowUpClosed):
        services.follow_up_submit(follow_up=follow_up)
    assert refused.value.code == "closed"
    assert Response.objects.count() == 0


def test_a_follow_up_whose_window_has_not_opened_takes_no_answers() -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    later = factories.follow_up(episode, Timepoint.MONTH_12, procedure=timezone.localdate())
    assert later.status == Status.SCHEDULED and later.opens_on > timezone.localdate()
    with pytest.raises(services.FollowUpClosed):
        services.response_save(follow_up=later, instrument="NRS", answers={"NRS": 2})


def test_submitting_is_refused_while_an_instrument_is_unanswered() -> None:
    follow_up = treated_follow_up()
    services.response_save(follow_up=follow_up, instrument="KOOS", answers=factories.complete_answers("KOOS"))
    services.response_save(follow_up=follow_up, instrument="NRS", answers={"NRS": 3})
    with pytest.raises(ValidationError) as refused:
        services.follow_up_submit(follow_up=follow_up)
    assert (refused.value.code, refused.value.messages) == (
        "incomplete",
        ["Some questions are not answered yet: SANE, PGIC."],
    )
    follow_up.refresh_from_db()
    assert (follow_up.status, Score.objects.count()) == (Status.OPEN, 0)


def test_submitting_scores_every_instrument_exactly_as_its_scoring_function(bob: User) -> None:
    follow_up = treated_follow_up()
    answer_all(follow_up, pick=1)
    now = at(timezone.localdate(), 12)
    audit_clear()
    done = services.follow_up_submit(follow_up=follow_up, now=now, by=bob)
    assert (done.status, done.completed_at) == (Status.COMPLETED, now)
    for response in Response.objects.filter(follow_up=follow_up):
        expected = instruments.get(response.instrument).score(response.answers)
        stored = {s.code: (s.value, s.reason, s.timepoint, s.episode_id) for s in response.scores.all()}
        assert stored == {
            code: (r.value, r.reason, Timepoint.WEEK_6, follow_up.episode_id) for code, r in expected.items()
        }
        assert (response.status, response.submitted_at) == (Response.Status.SUBMITTED, now)
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "actor")) == [
        ("change", "follow_up", str(follow_up.uuid), bob.pk)
    ]


def test_the_optional_odi_item_and_visa_p_s_one_of_three_are_not_missing() -> None:
    back = factories.follow_up(factories.episode(indication="back_pain", site="lumbar_spine"), Timepoint.BASELINE)
    odi = {code: 0 for code in (str(n) for n in range(1, 11)) if code != "8"}
    services.response_save(follow_up=back, instrument="ODI", answers=odi)
    knee = factories.follow_up(factories.episode(indication="patellar_tendonitis"), Timepoint.BASELINE)
    visa = {item.code: item.options[0].code if item.options else item.low for item in instruments.get("VISA-P").items}
    services.response_save(
        follow_up=knee, instrument="VISA-P", answers={k: v for k, v in visa.items() if k not in ("8B", "8C")}
    )
    assert (services.missing_items(back, "ODI"), services.missing_items(knee, "VISA-P")) == ([], [])
    assert services.unanswered("VISA-P", ["8A", "8B", "8C"], {}) == ["8A", "8B", "8C"]


def test_a_surgery_the_patient_reports_is_recorded_as_theirs() -> None:
    follow_up = treated_follow_up()
    answer_all(follow_up)
    services.follow_up_submit(
        follow_up=follow_up,
        surgery={"had_surgery": True, "date": date(2027, 4, 1), "procedure": "arthroscopy"},
    )
    follow_up.refresh_from_db()
    conversion = SurgeryConversion.objects.get()
    assert (follow_up.surgery_reported, conversion.surgery_date, conversion.procedure, conversion.source) == (
        True,
        date(2027, 4, 1),
        "arthroscopy",
        SurgeryConversion.Source.PATIENT,
    )


# --- Which instruments ----------------------------------------------------------------------------


def test_each_indication_and_site_asks_its_region_instrument_then_nrs_sane_and_after_treatment_pgic() -> None:
    knee = factories.episode()
    hip = factories.episode(site="hip")
    assert services.instruments_for(knee, Timepoint.BASELINE) == ["KOOS", "NRS", "SANE"]
    assert services.instruments_for(knee, Timepoint.WEEK_6) == ["KOOS", "NRS", "SANE", "PGIC"]
    assert services.instruments_for(hip, Timepoint.MONTH_3) == ["HOOS", "NRS", "SANE", "PGIC"]


def test_the_staff_s_sets_replace_the_defaults_and_a_list_page_may_load_them_once() -> None:
    knee = factories.episode()
    InstrumentSet.objects.filter(indication="osteoarthritis").delete()
    InstrumentSet.objects.create(indication="osteoarthritis", site="knee", instrument="koos_jr", order=0)
    InstrumentSet.objects.create(indication="osteoarthritis", instrument="NRS", order=1)
    InstrumentSet.objects.create(indication="osteoarthritis", site="hip", instrument="HOOS_JR", order=0)
    InstrumentSet.objects.create(indication="osteoarthritis", instrument="NOT-AN-INSTRUMENT", order=2)
    assert services.instruments_for(knee, Timepoint.WEEK_6) == ["KOOS_JR", "NRS"]
    every = list(InstrumentSet.objects.all())
    assert services.instruments_for(knee, Timepoint.WEEK_6, sets=every) == ["KOOS_JR", "NRS"]
    # An indication the staff emptied asks the practice's defaults.
    InstrumentSet.objects.filter(indication="osteoarthritis").delete()
    assert services.instruments_for(knee, Timepoint.WEEK_6, sets=[]) == ["KOOS", "NRS", "SANE", "PGIC"]


# --- Calls and surgery ----------------------------------------------------------------------------


def test_a_call_is_recorded_with_its_audit_row(alice: User) -> None:
    follow_up = treated_follow_up()
    now = at(date(2027, 4, 20), 11)
    audit_clear()
    call = services.call_record(follow_up=follow_up, outcome="call_back", by=alice, now=now)
    assert list(FollowUpCall.objects.values_list("follow_up", "outcome", "called_at", "called_by")) == [
        (follow_up.pk, "call_back", now, alice.pk)
    ]
    assert call.get_outcome_display() == "Asked to be called again"
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "patient")) == [
        ("change", "follow_up", str(follow_up.uuid), follow_up.episode.patient_id)
    ]


def test_a_call_with_an_outcome_that_does_not_exist_is_refused_and_leaves_nothing(alice: User) -> None:
    follow_up = treated_follow_up()
    audit_clear()
    with pytest.raises(ValidationError):
        services.call_record(follow_up=follow_up, outcome="maybe", by=alice)
    assert (FollowUpCall.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_a_conversion_is_recorded_once_and_amended_after(bob: User) -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    audit_clear()
    first = services.surgery_record(episode=episode, surgery_date=date(2026, 5, 1), procedure="other", by=bob)
    again = services.surgery_record(
        episode=episode, surgery_date=date(2026, 5, 2), procedure="knee_replacement", details="Total", by=bob
    )
    assert (again.pk, again.surgery_date, again.procedure, again.details, again.source, again.recorded_by) == (
        first.pk,
        date(2026, 5, 2),
        "knee_replacement",
        "Total",
        "staff",
        bob,
    )
    assert again.history.count() == 2
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref")) == [
        ("change", "outcome", str(first.uuid)),
        ("change", "outcome", str(first.uuid)),
    ]


def test_a_conversion_with_an_operation_that_does_not_exist_is_refused(bob: User) -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    with pytest.raises(ValidationError):
        services.surgery_record(episode=episode, surgery_date=date(2026, 5, 1), procedure="magic", by=bob)
    assert SurgeryConversion.objects.count() == 0


def test_a_conversion_dated_in_the_future_is_refused_by_the_service(bob: User) -> None:
    episode = factories.episode(status=Episode.Status.TREATED)
    with pytest.raises(ValidationError):
        services.surgery_record(
            episode=episode, surgery_date=timezone.localdate() + timedelta(days=30), procedure="other", by=bob
        )

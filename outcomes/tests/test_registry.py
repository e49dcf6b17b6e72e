"""`make_registry`: a synthetic practice whose rows keep the rules the real services keep."""

import io
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Model
from django.utils import timezone

from outcomes import schedule
from outcomes.models import FollowUp, Invitation, Response, Score, SurgeryConversion, Timepoint
from outcomes.registry import RegistryCounts, RegistryExists, make_registry
from outcomes.scoring import rescore
from outcomes.services import instruments_for
from patients.models import Episode, Patient
from procedures import product, queries, signing
from procedures.models import AdverseEvent, Injection, ProcedureRecord
from scheduling.models import Appointment, Provider, WorkingHours
from website.models import Office

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)
S = FollowUp.Status
AFTER = ["6w", "3m", "6m", "12m", "24m"]


@pytest.fixture
def small() -> RegistryCounts:
    return make_registry(60, seed=5, today=TODAY)


@pytest.fixture
def larger() -> RegistryCounts:
    """Enough episodes for the shares (answers by time point, conversions, adverse events) to show."""
    return make_registry(400, seed=2, today=TODAY)


def local_day(moment: Any) -> date:
    return timezone.localdate(moment)


def answered_share(timepoint: str) -> float:
    closed = FollowUp.objects.filter(timepoint=timepoint, closes_on__lt=TODAY)
    return closed.filter(status=S.COMPLETED).count() / closed.count()


def test_the_counts_are_the_rows_made(small: RegistryCounts) -> None:
    statuses = Counter(FollowUp.objects.values_list("status", flat=True))
    assert small == RegistryCounts(
        patients=Patient.objects.count(),
        episodes=60,
        appointments=Appointment.objects.count(),
        procedures=ProcedureRecord.objects.count(),
        adverse_events=AdverseEvent.objects.count(),
        conversions=SurgeryConversion.objects.count(),
        follow_ups=FollowUp.objects.count(),
        completed=statuses[S.COMPLETED],
        missed=statuses[S.MISSED],
        open=statuses[S.OPEN],
        scheduled=statuses[S.SCHEDULED],
        responses=Response.objects.count(),
        scores=Score.objects.count(),
    )
    assert Episode.objects.count() == ProcedureRecord.objects.count() == Injection.objects.count() == 60
    assert small.follow_ups == 6 * 60
    assert small.completed + small.missed + small.open + small.scheduled == small.follow_ups


def test_synthetic_patients_are_marked_and_carry_no_real_looking_contact_data(small: RegistryCounts) -> None:
    for patient in Patient.objects.all():
        assert patient.last_name == "Synthetic"
        assert re.fullmatch(r"SYN-5-\d{7}", patient.mrn or "")
        assert patient.email.endswith("@example.invalid")
        assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", patient.phone)
        assert patient.street == ""


def test_every_row_passes_its_models_validation(small: RegistryCounts) -> None:
    for model in (Patient, Episode, Appointment, ProcedureRecord, Injection, FollowUp, Response, AdverseEvent):
        for row in model.objects.all():
            row.full_clean(validate_unique=False, validate_constraints=False)
    for conversion in SurgeryConversion.objects.all():
        conversion.full_clean(validate_unique=False)


def test_each_completed_follow_up_has_one_submitted_response_per_instrument_of_its_set_and_no_other_has_any(
    small: RegistryCounts,
) -> None:
    responses: dict[int, list[Response]] = {}
    for response in Response.objects.all():
        responses.setdefault(response.follow_up_id, []).append(response)
    for follow_up in FollowUp.objects.select_related("episode"):
        found = responses.get(follow_up.pk, [])
        if follow_up.status != S.COMPLETED:
            assert found == []
            continue
        wanted = instruments_for(follow_up.episode, follow_up.timepoint)
        assert sorted(r.instrument for r in found) == sorted(wanted)
        for response in found:
            assert response.status == Response.Status.SUBMITTED
            assert response.submitted_at == follow_up.completed_at
            assert response.submitted_at is not None and response.started_at < response.submitted_at
    assert "PGIC" not in set(
        Response.objects.filter(follow_up__timepoint=Timepoint.BASELINE).values_list("instrument", flat=True)
    )
    modes = Counter(Response.objects.values_list("mode", flat=True))
    assert set(modes) == {Response.Mode.ONLINE, Response.Mode.PHONE}
    assert modes[Response.Mode.ONLINE] > 3 * modes[Response.Mode.PHONE]


def test_the_scores_are_the_scoring_codes_own(small: RegistryCounts) -> None:
    def stored() -> list[tuple[Any, ...]]:
        return sorted(
            Score.objects.values_list(
                "response_id", "episode_id", "timepoint", "instrument", "code", "value", "reason", "scoring_version"
            )
        )

    made = stored()
    assert {row[0] for row in made} == set(Response.objects.values_list("pk", flat=True))
    assert rescore() == small.responses
    assert stored() == made


def test_follow_ups_keep_the_schedule_and_the_state_the_day_leaves_them_in(small: RegistryCounts) -> None:
    records = {r.episode_id: r for r in ProcedureRecord.objects.all()}
    for follow_up in FollowUp.objects.all():
        record = records[follow_up.episode_id]
        windows = {w.timepoint: w for w in schedule.follow_up_windows(record.procedure_date)}
        windows[Timepoint.BASELINE] = schedule.baseline_window(record.procedure_date)
        window = windows[follow_up.timepoint]
        assert (follow_up.target_date, follow_up.opens_on, follow_up.closes_on) == (
            window.target,
            window.opens,
            window.closes,
        )
        assert follow_up.schedule_version == schedule.VERSION
        if follow_up.status == S.COMPLETED:
            answered_on = local_day(follow_up.completed_at)
            assert window.opens <= answered_on < TODAY and answered_on <= window.closes
            if follow_up.timepoint == Timepoint.BASELINE:
                assert answered_on < record.procedure_date
            assert follow_up.surgery_reported is (False if follow_up.timepoint != Timepoint.BASELINE else None)
            continue
        assert follow_up.completed_at is None and follow_up.surgery_reported is None
        if follow_up.status == S.MISSED:
            assert follow_up.closes_on < TODAY
        elif follow_up.status == S.OPEN:
            assert follow_up.opens_on <= TODAY <= follow_up.closes_on
        else:
            assert follow_up.status == S.SCHEDULED and follow_up.opens_on > TODAY


def test_a_procedure_signed_without_a_baseline_says_why(small: RegistryCounts) -> None:
    baselines = dict(FollowUp.objects.filter(timepoint=Timepoint.BASELINE).values_list("episode_id", "status"))
    for record in ProcedureRecord.objects.all():
        assert bool(record.baseline_override_reason) is (baselines[record.episode_id] == S.MISSED)
    assert set(baselines.values()) == {S.COMPLETED, S.MISSED}


def test_procedure_records_are_signed_classified_and_verify(larger: RegistryCounts) -> None:
    for record in ProcedureRecord.objects.select_related("episode", "signed_by", "appointment__office"):
        injections = list(record.injections.all())
        assert record.status == ProcedureRecord.Status.SIGNED
        assert record.signed_by_id == record.episode.physician_id
        assert record.procedure_date < TODAY
        assert signing.verify(record, injections, []).ok
        expected = product.stored_fields(product.classify(record, injections))
        assert {name: getattr(record, name) for name in expected} == expected
        # Sign-off would have taken it: nothing but the signature itself stands in the way.
        record.status = ProcedureRecord.Status.IN_PROGRESS
        check = queries.record_check(record, injections)
        assert (
            signing.sign_off_problems(
                record, injections, check, baseline_override_reason=record.baseline_override_reason
            )
            == []
        )
    assert len(set(ProcedureRecord.objects.values_list("paw_code", flat=True))) >= 6
    doses = sorted(d for d in ProcedureRecord.objects.values_list("cell_dose", flat=True) if d is not None)
    assert len(doses) == 400
    assert 5e7 < doses[len(doses) // 2] < 5e8


def test_answers_fall_away_with_time(larger: RegistryCounts) -> None:
    assert answered_share("6w") > answered_share("6m") > answered_share("24m")
    assert 0.75 < answered_share("6w") < 0.92
    assert 0.45 < answered_share("24m") < 0.65


def test_conversions_are_to_surgery_of_an_osteoarthritic_knee_or_hip_and_end_the_answers(
    larger: RegistryCounts,
) -> None:
    conversions = list(SurgeryConversion.objects.select_related("episode"))
    assert (
        0.04
        < len(conversions) / Episode.objects.filter(indication="osteoarthritis", site__in=["knee", "hip"]).count()
        < 0.2
    )
    for conversion in conversions:
        episode = conversion.episode
        procedure_date = episode.procedures.get().procedure_date
        assert (episode.indication, episode.site) in {("osteoarthritis", "knee"), ("osteoarthritis", "hip")}
        assert procedure_date < conversion.surgery_date < TODAY
        assert local_day(conversion.recorded_at) < TODAY
        expected = {"hip": {"hip_replacement"}, "knee": {"knee_replacement", "arthroscopy"}}[episode.site]
        assert conversion.procedure in expected
        for follow_up in episode.follow_ups.filter(status=S.COMPLETED):
            assert local_day(follow_up.completed_at) < conversion.surgery_date


def test_adverse_events_are_few_mostly_mild_and_judged(larger: RegistryCounts) -> None:
    events = list(AdverseEvent.objects.select_related("procedure"))
    assert 0.01 < len(events) / 400 < 0.08
    grades = Counter(event.grade for event in events)
    assert grades[1] > len(events) / 2 and max(grades) <= 3
    for event in events:
        assert event.procedure is not None and event.procedure.episode_id == event.episode_id
        assert event.procedure.procedure_date <= event.onset_date < TODAY
        assert event.serious is (event.grade >= 3)
        judged = event.adjudicated_at is not None
        assert (event.related_to_harvest != AdverseEvent.Relatedness.NOT_ASSESSED) is judged
        assert local_day(event.reported_at) < TODAY and (not judged or local_day(event.adjudicated_at) < TODAY)


def test_the_same_seed_makes_the_same_rows_and_another_seed_others() -> None:
    def snapshot() -> list[Any]:
        return [
            sorted(Patient.objects.values_list("uuid", "mrn", "first_name", "date_of_birth", "sex", "email", "phone")),
            sorted(Episode.objects.values_list("uuid", "patient__mrn", "indication", "site", "side", "opened_at")),
            sorted(ProcedureRecord.objects.values_list("uuid", "procedure_date", "paw_code", "signed_sha256")),
            sorted(FollowUp.objects.values_list("uuid", "episode__uuid", "timepoint", "status", "completed_at")),
            sorted(Response.objects.values_list("uuid", "follow_up__uuid", "instrument", "answers", "mode")),
            sorted(Score.objects.values_list("response__uuid", "code", "value")),
            sorted(SurgeryConversion.objects.values_list("episode__uuid", "surgery_date", "procedure")),
            sorted(AdverseEvent.objects.values_list("uuid", "kind", "grade", "onset_date")),
        ]

    def forget() -> None:
        made_here: tuple[type[Model], ...] = (
            Score, Response, Invitation, FollowUp, SurgeryConversion, AdverseEvent, Injection, ProcedureRecord,
            Appointment, Episode, Patient,
        )  # fmt: skip
        for model in made_here:
            model._default_manager.all().delete()

    first = make_registry(30, seed=8, today=TODAY)
    made = snapshot()
    forget()
    assert make_registry(30, seed=8, today=TODAY) == first
    assert snapshot() == made
    forget()
    make_registry(30, seed=9, today=TODAY)
    assert snapshot()[0] != made[0]


def test_a_seed_on_file_is_refused_and_another_seed_adds_to_it(small: RegistryCounts) -> None:
    with pytest.raises(RegistryExists):
        make_registry(5, seed=5, today=TODAY)
    make_registry(5, seed=6, today=TODAY)
    assert Episode.objects.count() == 65


def test_in_an_empty_database_it_makes_a_small_practice_of_two_physicians_and_two_offices(
    small: RegistryCounts,
) -> None:
    physicians = list(Provider.objects.order_by("name").values_list("name", flat=True))
    assert physicians == ["Dr. Avery Synthetic", "Dr. Jordan Synthetic"]
    assert Office.objects.count() == 2
    assert set(Episode.objects.values_list("physician__name", flat=True)) == set(physicians)
    assert set(Appointment.objects.values_list("office__slug", flat=True)) == {"synthetic-west", "synthetic-valley"}


def test_at_the_demo_practice_its_physician_sees_them_at_both_offices_never_twice_at_once(practice: Any) -> None:
    call_command("load_demo_schedule", stdout=io.StringIO())
    make_registry(80, seed=3, today=TODAY)
    assert set(Episode.objects.values_list("physician__name", flat=True)) == {"Dr. Dana Lee"}
    visits = list(Appointment.objects.filter(status="completed").select_related("office").order_by("starts_at"))
    assert {visit.office.slug for visit in visits} == {"los-angeles", "encino"}
    assert len(visits) == 80  # the calendar has room for all of them
    for earlier, later in pairwise(visits):
        assert earlier.blocks_until <= later.starts_at
    for record in ProcedureRecord.objects.select_related("appointment", "episode"):
        assert record.appointment is not None
        assert record.appointment.patient_id == record.episode.patient_id
        assert record.appointment.starts_at.astimezone(timezone.get_default_timezone()).date() == record.procedure_date
        assert record.procedure_date.weekday() < 5


def test_a_full_calendar_leaves_the_records_it_cannot_hold_without_a_visit(practice: Any) -> None:
    # One physician at one office on Mondays only: two visits a week, about 300 in three years.
    monday = Provider.objects.create(name="Dr. Monday Example")
    office = Office.objects.get(slug="los-angeles")
    WorkingHours.objects.create(provider=monday, office=office, weekday=0, starts=time(8, 30), ends=time(17))
    counts = make_registry(400, seed=4, today=TODAY)
    assert 200 < counts.appointments < 400
    assert ProcedureRecord.objects.filter(appointment__isnull=True).count() == 400 - counts.appointments
    visits = Appointment.objects.all()
    assert {(v.office_id, timezone.localtime(v.starts_at).weekday()) for v in visits} == {(office.pk, 0)}
    assert Counter(timezone.localtime(v.starts_at).date() for v in visits).most_common(1)[0][1] == 2


def test_the_command_refuses_a_database_with_patients_that_are_not_synthetic() -> None:
    Patient.objects.create(first_name="Real", last_name="Person", date_of_birth=date(1960, 1, 1))
    with pytest.raises(CommandError, match="1 patient"):
        call_command("make_registry", "--episodes", "3")
    out = io.StringIO()
    call_command("make_registry", "--episodes", "3", "--seed", "4", "--force", stdout=out)
    assert re.fullmatch(
        r"make_registry: \d+ patients, 3 episodes, .* scores in [\d.]+s \([\d,]+ responses/s\)\n", out.getvalue()
    )
    assert Episode.objects.count() == 3


def test_the_command_says_a_seed_is_on_file() -> None:
    call_command("make_registry", "--episodes", "2", stdout=io.StringIO())
    with pytest.raises(CommandError, match="seed 1 is on file"):
        call_command("make_registry", "--episodes", "2", stdout=io.StringIO())
    with pytest.raises(CommandError, match="seed must be"):
        call_command("make_registry", "--episodes", "2", "--seed", "-1", stdout=io.StringIO())


def test_everything_recorded_happened_before_the_day(small: RegistryCounts) -> None:
    last = timezone.make_aware(datetime.combine(TODAY, time(0)))
    assert Appointment.objects.filter(blocks_until__gte=last).count() == 0
    assert Episode.objects.filter(opened_at__gte=last).count() == 0
    assert Response.objects.filter(submitted_at__gte=last).count() == 0
    assert ProcedureRecord.objects.filter(signed_at__gte=last).count() == 0
    assert FollowUp.objects.filter(created_at__gte=last).count() == 0
    assert Patient.objects.filter(created_at__gte=last).count() == 0
    # Spread over the three years before it.
    days = sorted(ProcedureRecord.objects.values_list("procedure_date", flat=True))
    assert days[0] < TODAY - timedelta(days=365 * 2) and days[-1] > TODAY - timedelta(days=120)


def test_its_open_follow_ups_carry_the_messages_already_due_so_the_worker_emails_no_one(larger: RegistryCounts) -> None:
    from outbox.models import Email
    from outcomes.invitations import DUE_ON, follow_ups_advance

    opened = FollowUp.objects.filter(status=S.OPEN)
    assert opened.count() == larger.open > 0
    # As the worker would have left them: each message due before today, recorded without an email.
    for follow_up in opened:
        days = (TODAY - follow_up.opens_on).days
        due = [kind for kind, after in DUE_ON if after < days]
        assert sorted(follow_up.invitations.values_list("kind", flat=True)) == sorted(due)
    assert set(Invitation.objects.values_list("status", "skip_reason", "email")) == {
        (Invitation.Status.SKIPPED, "A synthetic patient: the registry sends no email.", None)
    }
    assert not Invitation.objects.exclude(follow_up__status=S.OPEN).exists()
    # The worker, on the day after, sends nothing it should have sent before.
    before = set(Invitation.objects.values_list("follow_up", "kind"))
    follow_ups_advance(now=schedule.invitation_moment(TODAY, timezone.get_default_timezone()))
    new = set(Invitation.objects.values_list("follow_up", "kind")) - before
    for follow_up_id, kind in new:
        opens_on = FollowUp.objects.get(pk=follow_up_id).opens_on
        assert (TODAY - opens_on).days == {str(k): after for k, after in DUE_ON}[kind], (kind, opens_on)
    assert Email.objects.count() == Invitation.objects.exclude(email=None).count() == len(new)

"""`ScoreSummary`: each episode's score at every time point in one row, always what the score rows say."""

from datetime import date
from typing import Any

import pytest

from outcomes import services
from outcomes.models import SUMMARY_COLUMNS, Response, Score, ScoreSummary, Timepoint
from outcomes.registry import make_registry
from outcomes.scoring import rescore, response_scores
from outcomes.tests import factories
from patients.models import Episode

pytestmark = pytest.mark.django_db

Cells = dict[tuple[int, str, str], dict[str, float | None]]


def from_scores() -> Cells:
    """The summary as the score rows give it, computed here without SQL."""
    found: Cells = {}
    for episode_id, timepoint, instrument, code, value in Score.objects.values_list(
        "episode_id", "timepoint", "instrument", "code", "value"
    ):
        row = found.setdefault((episode_id, instrument, code), dict.fromkeys(SUMMARY_COLUMNS.values()))
        row[SUMMARY_COLUMNS[timepoint]] = value
    return found


def stored() -> Cells:
    columns = list(SUMMARY_COLUMNS.values())
    return {
        (row["episode_id"], row["instrument"], row["code"]): {c: row[c] for c in columns}
        for row in ScoreSummary.objects.values("episode_id", "instrument", "code", *columns)
    }


def answer_and_submit(follow_up: Any, *, pick: int = 0, **how: Any) -> None:
    for code in services.instruments_for(follow_up.episode, follow_up.timepoint):
        services.response_save(
            follow_up=follow_up, instrument=code, answers=factories.complete_answers(code, pick=pick), **how
        )
    services.follow_up_submit(follow_up=follow_up, by=how.get("by"))


def nrs_of(episode: Episode) -> dict[str, float | None]:
    return stored()[episode.pk, "NRS", "NRS"]


def test_the_summary_agrees_with_the_scores_after_each_way_scores_are_written(bob: Any) -> None:
    knee = factories.episode()
    answer_and_submit(factories.follow_up(knee, Timepoint.WEEK_6), pick=-1)
    assert stored() == from_scores() != {}
    # A late answer: the baseline comes after the 6-week follow-up was scored; both stay in one row.
    answer_and_submit(factories.follow_up(knee, Timepoint.BASELINE), pick=0)
    assert stored() == from_scores()
    assert (nrs_of(knee)["baseline"], nrs_of(knee)["week_6"]) == (0.0, 10.0)
    # Answers taken by phone and entered by staff.
    back = factories.episode(indication="back_pain", site="lumbar_spine", side="midline")
    answer_and_submit(factories.follow_up(back, Timepoint.MONTH_3), mode=Response.Mode.PHONE, by=bob)
    assert stored() == from_scores()
    assert Response.objects.filter(follow_up__episode=back, mode=Response.Mode.PHONE).exists()
    # Rescoring everything, then one instrument, replaces the scores and keeps the rows with them.
    assert rescore() == Response.objects.count()
    assert rescore(instrument="NRS") == 3
    assert stored() == from_scores()


def test_a_response_made_not_scorable_empties_its_cell_and_keeps_the_others() -> None:
    knee = factories.episode()
    for timepoint, value in ((Timepoint.BASELINE, 8), (Timepoint.MONTH_6, 3)):
        response_scores(factories.response(factories.follow_up(knee, timepoint), "NRS", {"NRS": value}))
    assert nrs_of(knee) == {**dict.fromkeys(SUMMARY_COLUMNS.values()), "baseline": 8.0, "month_6": 3.0}
    later = Response.objects.get(follow_up__episode=knee, follow_up__timepoint=Timepoint.MONTH_6)
    later.answers = {"NRS": None}
    later.save(update_fields=["answers"])
    rescore()
    assert Score.objects.get(response=later).value is None
    assert nrs_of(knee) == {**dict.fromkeys(SUMMARY_COLUMNS.values()), "baseline": 8.0}
    assert stored() == from_scores()
    # The same through the one-response path.
    later.answers = {"NRS": 2}
    later.save(update_fields=["answers"])
    response_scores(later)
    assert (nrs_of(knee)["month_6"], stored()) == (2.0, from_scores())


def test_scoring_responses_for_the_first_time_in_bulk_fills_the_rows() -> None:
    knee = factories.episode()
    for timepoint, value in ((Timepoint.BASELINE, 7), (Timepoint.WEEK_6, 5), (Timepoint.MONTH_12, None)):
        factories.response(factories.follow_up(knee, timepoint), "NRS", {"NRS": value})
    assert rescore() == 3
    assert nrs_of(knee) == {**dict.fromkeys(SUMMARY_COLUMNS.values()), "baseline": 7.0, "week_6": 5.0}
    assert stored() == from_scores()


def test_a_score_written_or_deleted_through_the_orm_updates_its_row() -> None:
    knee = factories.episode()
    response = factories.response(factories.follow_up(knee, Timepoint.MONTH_24), "NRS", {"NRS": 4})
    score = Score.objects.create(
        response=response, episode=knee, timepoint=Timepoint.MONTH_24, instrument="NRS", code="NRS", value=4.0,
        scoring_version="NRS-1", computed_at=response.started_at,
    )  # fmt: skip
    assert nrs_of(knee)["month_24"] == 4.0
    score.value = 6.0
    score.save(update_fields=["value"])
    assert nrs_of(knee)["month_24"] == 6.0
    response.delete()  # its scores go with it
    assert stored() == from_scores() == {}


def test_the_bulk_writes_that_send_no_signal_keep_the_rows_too() -> None:
    knee, back = factories.episode(), factories.episode(indication="back_pain", site="lumbar_spine", side="midline")
    answer_and_submit(factories.follow_up(knee, Timepoint.BASELINE), pick=0)
    answer_and_submit(factories.follow_up(knee, Timepoint.WEEK_6), pick=-1)
    answer_and_submit(factories.follow_up(back, Timepoint.BASELINE), pick=-1)
    assert stored() == from_scores()
    # QuerySet.update: a value corrected in bulk.
    assert Score.objects.filter(episode=knee, instrument="NRS", timepoint=Timepoint.WEEK_6).update(value=7.0) == 1
    assert stored() == from_scores()
    assert nrs_of(knee)["week_6"] == 7.0
    # Scores moved to another episode (a response filed against the wrong one): both rows follow.
    moved = Score.objects.filter(episode=knee, timepoint=Timepoint.WEEK_6)
    assert moved.update(episode=back) > 0
    assert stored() == from_scores()
    assert (nrs_of(knee)["week_6"], nrs_of(back)["week_6"]) == (None, 7.0)
    # ... and back again by id, one score saved on its own.
    one = Score.objects.get(episode=back, instrument="NRS", timepoint=Timepoint.WEEK_6)
    one.episode_id = knee.pk
    one.save()
    assert stored() == from_scores()
    assert (nrs_of(knee)["week_6"], nrs_of(back)["week_6"]) == (7.0, None)
    # bulk_update and bulk_create.
    one.value = 3.0
    Score.objects.bulk_update([one], ["value"])
    assert nrs_of(knee)["week_6"] == 3.0
    twin = Score.objects.get(pk=one.pk)
    twin.pk, twin.timepoint, twin.value = None, Timepoint.MONTH_3, 2.0
    twin.response = factories.response(factories.follow_up(knee, Timepoint.MONTH_3), "NRS", {"NRS": 2})
    Score.objects.bulk_create([twin])
    assert stored() == from_scores()
    assert nrs_of(knee)["month_3"] == 2.0
    # QuerySet.delete.
    Score.objects.filter(episode=knee).delete()
    assert stored() == from_scores()
    assert all(key[0] != knee.pk for key in stored())


def test_the_registry_writes_the_rows_with_its_scores() -> None:
    make_registry(40, seed=3, today=date(2026, 6, 15))
    assert stored() == from_scores()
    assert len(stored()) > 40


def test_deleting_scores_as_a_queryset_refreshes_each_episode_once() -> None:
    """Rescoring a response deletes its scores first: one refresh per episode, not one per score."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    knee, hip = factories.episode(), factories.episode(site="hip")
    for made in (knee, hip):
        follow_up = factories.follow_up(made, Timepoint.BASELINE)
        for code in services.instruments_for(made, Timepoint.BASELINE):
            response_scores(factories.response(follow_up, code, factories.complete_answers(code)))
    assert Score.objects.filter(episode=knee).count() > 3
    refresh_start = "DELETE FROM " + connection.ops.quote_name(ScoreSummary._meta.db_table)  # noqa: S608 (a prefix to match)
    with CaptureQueriesContext(connection) as queries:
        deleted, _by_model = Score.objects.filter(episode__in=[knee, hip], instrument__in=["KOOS", "HOOS"]).delete()
    assert deleted > 6
    refreshes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(refresh_start)]
    assert len(refreshes) == 1
    assert stored() == from_scores()
    assert {instrument for _episode, instrument, _code in stored()} == {"NRS", "SANE"}
    # A score deleted on its own still refreshes its row.
    Score.objects.filter(episode=knee, instrument="NRS").get().delete()
    assert stored() == from_scores()

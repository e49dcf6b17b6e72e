"""Stored scores: computed from stored answers with the instrument's function, versioned, rescored in bulk."""

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from outcomes.models import Score
from outcomes.scoring import rescore, response_scores
from outcomes.tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 17, tzinfo=UTC)
# ODI: sections 1-10 answered 2,2,1,1,0,3,2,1,2,1 -> 15 of 50 -> 30.0 %.
ODI_ANSWERS = {str(n): code for n, code in zip(range(1, 11), [2, 2, 1, 1, 0, 3, 2, 1, 2, 1], strict=True)}


def scores() -> list[tuple[str, float | None, str, str]]:
    return list(Score.objects.order_by("response_id", "code").values_list("code", "value", "reason", "scoring_version"))


def test_a_response_is_scored_and_its_version_recorded() -> None:
    follow_up = factories.follow_up(factories.episode(indication="back_pain", site="lumbar_spine", side="midline"))
    stored = factories.response(follow_up, "ODI", ODI_ANSWERS)
    response_scores(stored, now=NOW)
    assert scores() == [("ODI", 30.0, "", "ODI-1")]
    row = Score.objects.get()
    assert (row.episode_id, row.timepoint, row.instrument, row.computed_at) == (
        follow_up.episode_id, "baseline", "ODI", NOW,
    )  # fmt: skip


def test_a_score_that_cannot_be_computed_is_stored_as_not_scorable_with_the_reason_never_zero() -> None:
    follow_up = factories.follow_up(factories.episode())
    stored = factories.response(follow_up, "NRS", {"NRS": None})
    response_scores(stored, now=NOW)
    [(code, value, reason, _version)] = scores()
    assert (code, value) == ("NRS", None)
    assert reason != ""


def test_rescore_recomputes_every_submitted_response_in_bulk_and_replaces_old_scores() -> None:
    follow_up = factories.follow_up(factories.episode(indication="back_pain", site="lumbar_spine", side="midline"))
    first = factories.response(follow_up, "ODI", ODI_ANSWERS)
    second = factories.response(follow_up, "NRS", {"NRS": 7})
    Score.objects.create(
        response=first, episode=follow_up.episode, timepoint="baseline", instrument="ODI", code="ODI", value=0.0,
        scoring_version="ODI-0", computed_at=NOW,
    )  # fmt: skip
    assert rescore(now=NOW) == 2
    assert scores() == [("ODI", 30.0, "", "ODI-1"), ("NRS", 7.0, "", "NRS-1")]
    assert [r.pk for r in (first, second)] == sorted(Score.objects.values_list("response_id", flat=True))
    assert rescore(instrument="nrs", now=NOW) == 1
    assert Score.objects.count() == 2


def test_the_rescore_command_prints_what_it_did_and_refuses_an_unknown_instrument() -> None:
    follow_up = factories.follow_up(factories.episode())
    factories.response(follow_up, "NRS", {"NRS": 3})
    out = io.StringIO()
    call_command("rescore", stdout=out)
    assert out.getvalue() == "rescore: 1 response(s) scored\n"
    with pytest.raises(CommandError) as raised:
        call_command("rescore", "WOMAC")
    assert str(raised.value).startswith("Unknown instrument 'WOMAC'; known: ")


def test_only_submitted_responses_are_rescored(monkeypatch: Any) -> None:
    follow_up = factories.follow_up(factories.episode())
    factories.response(follow_up, "NRS", {"NRS": 3}, status="in_progress")
    assert (rescore(now=NOW), Score.objects.count()) == (0, 0)

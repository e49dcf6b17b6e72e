"""The self-check's rules, apart from the page."""

import pytest

from website.selfcheck import Answers, Outcome, self_check


def answers(**overrides: object) -> Answers:
    values: dict[str, object] = {
        "area": "knee",
        "duration": "over_3_months",
        "tried": frozenset({"physical_therapy"}),
        "avoid_surgery": "yes",
        "red_flags": frozenset(),
    }
    values.update(overrides)
    return Answers(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, Outcome.WORTH_A_CONSULTATION),
        ({"avoid_surgery": "unsure"}, Outcome.WORTH_A_CONSULTATION),
        ({"red_flags": frozenset({"recent_fall"})}, Outcome.SEEK_CARE_NOW),
        ({"duration": "under_6_weeks", "tried": frozenset()}, Outcome.GIVE_IT_TIME),
        ({"duration": "under_6_weeks", "tried": frozenset({"rest"})}, Outcome.TALK_IT_THROUGH),
        ({"tried": frozenset()}, Outcome.TALK_IT_THROUGH),
        ({"avoid_surgery": "no"}, Outcome.TALK_IT_THROUGH),
    ],
)
def test_it_maps_answers_to_plain_next_steps(changes: dict[str, object], outcome: Outcome) -> None:
    assert self_check(answers(**changes)) == outcome


def test_a_red_flag_wins_over_everything_else() -> None:
    assert self_check(answers(duration="under_6_weeks", tried=frozenset(), red_flags=frozenset({"fever"}))) == (
        Outcome.SEEK_CARE_NOW
    )

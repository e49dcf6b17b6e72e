"""Episode status from two scores: change, MCID, PASS and the OMERACT-OARSI responder (Pham et al. 2004)."""

from outcomes.instruments import get
from outcomes.instruments.base import ScoreDefinition, Threshold
from outcomes.responders import (
    change,
    meaningful_improvement,
    omeract_oarsi_responder,
    reaches_pass,
    to_omeract_scale,
)

ODI = get("ODI").scores[0]  # 0-100, lower is better, MCID 10 points
LEFS = get("LEFS").scores[0]  # 0-80, higher is better, MCID 9 points
NRS = get("NRS").scores[0]  # 0-10, lower is better, MCID 30 percent
PGIC = get("PGIC").scores[0]  # no MCID
KOOS_PAIN = ScoreDefinition(code="P", label={}, low=0, high=100, higher_is_better=True)
WITH_PASS = ScoreDefinition(
    code="X", label={}, low=0, high=100, higher_is_better=True, pass_threshold=Threshold(70, "test")
)
LOWER_PASS = ScoreDefinition(
    code="Y", label={}, low=0, high=100, higher_is_better=False, pass_threshold=Threshold(22, "test")
)


def test_change_is_follow_up_minus_baseline() -> None:
    assert change(40.0, 28.0) == -12.0
    assert change(None, 28.0) is None
    assert change(40.0, None) is None


def test_odi_improvement_of_exactly_the_mcid_is_meaningful() -> None:
    assert meaningful_improvement(ODI, 40.0, 30.0) is True  # 40 - 30 = 10 >= 10
    assert meaningful_improvement(ODI, 40.0, 31.0) is False  # 9 < 10
    assert meaningful_improvement(ODI, 30.0, 40.0) is False  # worse


def test_lefs_improvement_counts_upwards() -> None:
    assert meaningful_improvement(LEFS, 40.0, 49.0) is True  # 49 - 40 = 9 >= 9
    assert meaningful_improvement(LEFS, 40.0, 48.0) is False  # 8 < 9


def test_nrs_improvement_is_measured_in_percent_of_baseline() -> None:
    assert meaningful_improvement(NRS, 10.0, 7.0) is True  # (10 - 7) / 10 = 30% >= 30%
    assert meaningful_improvement(NRS, 10.0, 8.0) is False  # 20% < 30%
    assert meaningful_improvement(NRS, 3.0, 2.0) is True  # 1 / 3 = 33% even though only 1 point


def test_nrs_with_no_pain_at_baseline_cannot_improve() -> None:
    assert meaningful_improvement(NRS, 0.0, 0.0) is False


def test_meaningful_improvement_is_unknown_without_inputs_or_mcid() -> None:
    assert meaningful_improvement(ODI, None, 30.0) is None
    assert meaningful_improvement(ODI, 40.0, None) is None
    assert meaningful_improvement(PGIC, 3.0, 6.0) is None


def test_reaches_pass_respects_direction() -> None:
    assert reaches_pass(WITH_PASS, 70.0) is True
    assert reaches_pass(WITH_PASS, 69.9) is False
    assert reaches_pass(LOWER_PASS, 22.0) is True
    assert reaches_pass(LOWER_PASS, 22.5) is False
    assert reaches_pass(ODI, 10.0) is None  # no PASS published for it here
    assert reaches_pass(WITH_PASS, None) is None


def test_normalisation_to_worse_is_higher_0_to_100() -> None:
    assert to_omeract_scale(KOOS_PAIN, 75.0) == 25.0  # 100 - 75
    assert to_omeract_scale(NRS, 6.0) == 60.0  # 6 / 10 * 100
    assert to_omeract_scale(ODI, 42.0) == 42.0  # already worse = higher, 0-100
    assert to_omeract_scale(LEFS, 60.0) == 25.0  # (80 - 60) / 80 * 100
    assert to_omeract_scale(NRS, None) is None


def _responder(
    pain: tuple[float | None, float | None],
    function: tuple[float | None, float | None],
    global_: tuple[float | None, float | None],
) -> bool | None:
    return omeract_oarsi_responder(
        pain_baseline=pain[0],
        pain_follow_up=pain[1],
        function_baseline=function[0],
        function_follow_up=function[1],
        global_baseline=global_[0],
        global_follow_up=global_[1],
    )


NO_CHANGE = (50.0, 50.0)


def test_high_improvement_in_pain_alone_is_a_response() -> None:
    # 40 -> 20: 20 points (>= 20) and 50% (>= 50%).
    assert _responder((40.0, 20.0), NO_CHANGE, NO_CHANGE) is True


def test_high_improvement_in_function_alone_is_a_response() -> None:
    assert _responder(NO_CHANGE, (40.0, 20.0), NO_CHANGE) is True


def test_high_improvement_needs_twenty_points_as_well_as_half() -> None:
    # 38 -> 19: 50% but 19 points; alone it is only a moderate improvement (one domain), so no.
    assert _responder((38.0, 19.0), NO_CHANGE, NO_CHANGE) is False


def test_high_improvement_needs_half_as_well_as_twenty_points() -> None:
    # 80 -> 60: 20 points but 25%; one moderate domain only.
    assert _responder((80.0, 60.0), NO_CHANGE, NO_CHANGE) is False


def test_just_below_half_is_not_a_high_improvement() -> None:
    # 40 -> 20.5: 19.5 points, 48.75%.
    assert _responder((40.0, 20.5), NO_CHANGE, NO_CHANGE) is False


def test_two_moderate_improvements_at_exactly_twenty_percent_and_ten_points() -> None:
    # Pain 50 -> 40 and global 50 -> 40: each 10 points and 10 / 50 = 20%.
    assert _responder((50.0, 40.0), NO_CHANGE, (50.0, 40.0)) is True


def test_moderate_improvement_needs_ten_points() -> None:
    # Pain 45 -> 36: 20% but 9 points; global 50 -> 40 qualifies; only one domain qualifies.
    assert _responder((45.0, 36.0), NO_CHANGE, (50.0, 40.0)) is False


def test_moderate_improvement_needs_twenty_percent() -> None:
    # Function 60 -> 50: 10 points but 16.7%; pain 50 -> 40 qualifies; only one domain.
    assert _responder((50.0, 40.0), (60.0, 50.0), NO_CHANGE) is False


def test_just_below_twenty_percent_in_the_second_domain_is_not_a_response() -> None:
    # Global 50 -> 40.5: 9.5 points, 19%.
    assert _responder((50.0, 40.0), NO_CHANGE, (50.0, 40.5)) is False


def test_pain_and_function_moderate_improvements_are_a_response() -> None:
    assert _responder((50.0, 40.0), (50.0, 40.0), NO_CHANGE) is True


def test_a_zero_baseline_cannot_improve() -> None:
    assert _responder((0.0, 0.0), (0.0, 0.0), (0.0, 0.0)) is False


def test_missing_inputs_that_could_change_the_answer_give_none() -> None:
    # Pain moderate only; function and global unknown: could still respond.
    assert _responder((50.0, 40.0), (None, None), (None, 40.0)) is None
    # Nothing known at all.
    assert _responder((None, None), (None, None), (None, None)) is None


def test_a_response_already_decided_stands_despite_missing_inputs() -> None:
    # High improvement in pain is enough whatever function and global did.
    assert _responder((40.0, 20.0), (None, None), (None, None)) is True


def test_a_non_response_already_decided_stands_despite_one_missing_domain() -> None:
    # Pain and function known and not improved at all: at most one moderate domain remains (global).
    assert _responder(NO_CHANGE, NO_CHANGE, (None, None)) is False

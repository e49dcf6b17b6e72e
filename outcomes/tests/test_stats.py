"""The dashboard's statistics against values worked out apart from the libraries that compute them.

Each figure is checked against a closed form written here, a small dataset worked by
hand, or a value transcribed from a publication (to the places it was printed).
"""

import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta
from scipy.stats import t as student_t

from outcomes.stats import AtRisk, Interval, SurvivalStep, clopper_pearson, kaplan_meier, mean_ci, wilson

Z95 = NormalDist().inv_cdf(0.975)


def fields(interval: Interval) -> tuple[float | None, float | None, float | None, int]:
    return (interval.estimate, interval.low, interval.high, interval.n)


def sums(values: list[float]) -> tuple[int, float, float]:
    """What the SQL aggregates give: COUNT, SUM and SUM of squares."""
    return len(values), sum(values), sum(v * v for v in values)


# mean_ci


def test_mean_ci_is_the_student_t_interval_of_the_mean_and_sample_sd() -> None:
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    mean = sum(values) / 8  # 5.0
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / 7)  # sqrt(32 / 7)
    quantile = student_t.ppf(0.975, 7)
    assert quantile == pytest.approx(2.3646, abs=1e-4)  # t(0.975, 7 df) as printed in t tables
    result = mean_ci(*sums(values))
    assert result.n == 8
    assert result.estimate == pytest.approx(5.0, abs=1e-12)
    assert result.low == pytest.approx(mean - quantile * sd / math.sqrt(8), abs=1e-9)
    assert result.high == pytest.approx(mean + quantile * sd / math.sqrt(8), abs=1e-9)


def test_mean_ci_honours_the_level() -> None:
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    half_width = student_t.ppf(0.95, 7) * math.sqrt(32 / 7) / math.sqrt(8)
    result = mean_ci(*sums(values), level=0.90)
    assert (result.low, result.high) == (
        pytest.approx(5.0 - half_width, abs=1e-9),
        pytest.approx(5.0 + half_width, abs=1e-9),
    )


def test_mean_ci_of_nothing_is_all_none_and_of_one_value_has_no_interval() -> None:
    assert mean_ci(0, 0.0, 0.0) == Interval(estimate=None, low=None, high=None, n=0)
    assert mean_ci(1, 42.5, 42.5**2) == Interval(estimate=42.5, low=None, high=None, n=1)


def test_mean_ci_of_equal_values_survives_a_variance_that_rounds_below_zero() -> None:
    # 0.1 three times: SUM of squares minus SUM²/n comes out at -3.5e-18 in floating point.
    n, total, total_sq = sums([0.1, 0.1, 0.1])
    assert total_sq - total * total / n < 0
    result = mean_ci(n, total, total_sq)
    assert result.estimate == pytest.approx(0.1, abs=1e-12)
    assert result.low == pytest.approx(0.1, abs=1e-9)
    assert result.high == pytest.approx(0.1, abs=1e-9)


@settings(deadline=None)
@given(st.lists(st.floats(min_value=-1000, max_value=1000, allow_nan=False), min_size=2, max_size=60))
def test_mean_ci_from_sums_is_the_mean_with_a_symmetric_interval_around_it(values: list[float]) -> None:
    result = mean_ci(*sums(values))
    assert result.estimate is not None and result.low is not None and result.high is not None
    assert result.estimate == pytest.approx(float(np.mean(values)), abs=1e-9)
    assert result.high - result.estimate == pytest.approx(result.estimate - result.low, abs=1e-9)
    assert result.low <= result.estimate <= result.high


# wilson


def wilson_closed_form(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval (Wilson 1927; Newcombe 1998, method 3)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (5, 10), (9, 10), (10, 10), (1, 1), (81, 263), (0, 1)])
def test_wilson_is_the_closed_form_score_interval(k: int, n: int) -> None:
    low, high = wilson_closed_form(k, n)
    assert fields(wilson(k, n)) == (
        pytest.approx(k / n, abs=1e-12), pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9), n,
    )  # fmt: skip


def test_wilson_matches_newcombe_1998_for_81_of_263() -> None:
    # Newcombe, Stat Med 1998;17:857-872, Table I: 81/263 -> 0.2553 to 0.3662 (method 3, Wilson).
    result = wilson(81, 263)
    assert result.estimate == pytest.approx(0.3080, abs=1e-4)
    assert (result.low, result.high) == (pytest.approx(0.2553, abs=1e-4), pytest.approx(0.3662, abs=1e-4))


def test_wilson_honours_the_level() -> None:
    low, high = wilson_closed_form(3, 20, z=NormalDist().inv_cdf(0.995))
    result = wilson(3, 20, level=0.99)
    assert (result.low, result.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))


def test_a_proportion_of_nobody_is_all_none() -> None:
    assert wilson(0, 0) == Interval(estimate=None, low=None, high=None, n=0)
    assert clopper_pearson(0, 0) == Interval(estimate=None, low=None, high=None, n=0)


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10)])
def test_a_count_outside_zero_to_n_is_refused(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(k, n)
    with pytest.raises(ValueError):
        clopper_pearson(k, n)


# clopper_pearson


@pytest.mark.parametrize(("k", "n"), [(1, 10), (5, 10), (9, 10), (3, 47), (81, 263)])
def test_clopper_pearson_is_the_beta_quantile_interval(k: int, n: int) -> None:
    assert fields(clopper_pearson(k, n)) == (
        pytest.approx(k / n, abs=1e-12),
        pytest.approx(beta.ppf(0.025, k, n - k + 1), abs=1e-9),
        pytest.approx(beta.ppf(0.975, k + 1, n - k), abs=1e-9),
        n,
    )


def test_clopper_pearson_at_zero_and_at_all_ends_at_the_bound_with_the_closed_form_other_end() -> None:
    # With k = 0 the upper bound solves (1 - p)^n = alpha/2: 1 - 0.025^(1/n); 0/10 -> 0.3085 as tables print it.
    assert fields(clopper_pearson(0, 10)) == (0.0, 0.0, pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-9), 10)
    assert clopper_pearson(0, 10).high == pytest.approx(0.3085, abs=1e-4)
    assert fields(clopper_pearson(10, 10)) == (1.0, pytest.approx(0.025 ** (1 / 10), abs=1e-9), 1.0, 10)


def test_clopper_pearson_honours_the_level() -> None:
    result = clopper_pearson(4, 30, level=0.90)
    assert (result.low, result.high) == (
        pytest.approx(beta.ppf(0.05, 4, 27), abs=1e-9),
        pytest.approx(beta.ppf(0.95, 5, 26), abs=1e-9),
    )


# kaplan_meier

# Seven episodes: surgery at days 5, 8, 12 and 20; surgery-free when last seen at 8, 15 and 25.
DURATIONS = [5, 8, 8, 12, 15, 20, 25]
EVENTS = [True, False, True, True, False, True, False]


def log_log_band(survival: float, greenwood_sum: float, z: float = Z95) -> tuple[float, float]:
    """Kalbfleisch-Prentice band: log(-log S) ± z·se, with se from Greenwood's variance by the delta method."""
    variance = survival**2 * greenwood_sum  # Greenwood: Var S = S² Σ d / (n (n - d))
    se = math.sqrt(variance) / abs(survival * math.log(survival))
    # exp(-exp(log(-log S) + c)) is S ** exp(c): the larger exponent gives the lower bound.
    return survival ** math.exp(z * se), survival ** math.exp(-z * se)


def test_kaplan_meier_is_the_product_limit_estimate_worked_by_hand() -> None:
    # At each surgery: (day, at risk, surgeries). The one seen surgery-free at day 8 is still
    # at risk for the surgery that day (events come before censorings at a tie).
    s5 = 6 / 7  # day 5: 7 at risk, 1 surgery
    s8 = s5 * 5 / 6  # day 8: 6 at risk, 1 surgery
    s12 = s8 * 3 / 4  # day 12: 4 at risk
    s20 = s12 * 1 / 2  # day 20: 2 at risk
    g5 = 1 / (7 * 6)
    g8 = g5 + 1 / (6 * 5)
    g12 = g8 + 1 / (4 * 3)
    g20 = g12 + 1 / (2 * 1)
    expected = [(0, 1.0, 1.0, 1.0)] + [
        (day, s, *log_log_band(s, g))
        for day, s, g in [(5, s5, g5), (8, s8, g8), (12, s12, g12), (15, s12, g12), (20, s20, g20), (25, s20, g20)]
    ]
    result = kaplan_meier(DURATIONS, EVENTS)
    assert (result.n, result.events) == (7, 4)
    assert [(step.day, step.survival, step.low, step.high) for step in result.steps] == [
        (day, pytest.approx(s, abs=1e-9), pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
        for day, s, low, high in expected
    ]
    # 6/7, 5/7, 15/28 and 15/56 to four places, so a slip in the products above cannot hide.
    assert [round(step.survival, 4) for step in result.steps] == [1.0, 0.8571, 0.7143, 0.5357, 0.5357, 0.2679, 0.2679]


def test_kaplan_meier_reads_survival_at_a_day_off_the_curve_and_none_past_the_last_follow_up() -> None:
    s8 = 6 / 7 * 5 / 6
    s20 = s8 * 3 / 4 * 1 / 2
    low8, high8 = log_log_band(s8, 1 / 42 + 1 / 30)
    low20, high20 = log_log_band(s20, 1 / 42 + 1 / 30 + 1 / 12 + 1 / 2)
    result = kaplan_meier(DURATIONS, EVENTS, at_days=(10, 25, 26, 365))
    assert {day: fields(interval) for day, interval in result.at.items()} == {
        # n is the number still at risk that day: those followed at least that long.
        10: (pytest.approx(s8, abs=1e-9), pytest.approx(low8, abs=1e-9), pytest.approx(high8, abs=1e-9), 4),
        25: (pytest.approx(s20, abs=1e-9), pytest.approx(low20, abs=1e-9), pytest.approx(high20, abs=1e-9), 1),
        26: (None, None, None, 0),
        365: (None, None, None, 0),
    }


def test_kaplan_meier_counts_those_at_risk_and_the_surgeries_so_far_at_each_day() -> None:
    result = kaplan_meier(DURATIONS, EVENTS, at_risk_days=(0, 5, 8, 12, 25, 30))
    assert result.at_risk == [
        AtRisk(day=0, at_risk=7, events=0),
        AtRisk(day=5, at_risk=7, events=1),  # at risk that day: followed for at least 5 days
        AtRisk(day=8, at_risk=6, events=2),
        AtRisk(day=12, at_risk=4, events=3),
        AtRisk(day=25, at_risk=1, events=4),
        AtRisk(day=30, at_risk=0, events=4),
    ]


def test_kaplan_meier_uses_the_defaults_for_the_dashboard_days() -> None:
    result = kaplan_meier(DURATIONS, EVENTS)
    assert [(row.day, row.at_risk, row.events) for row in result.at_risk] == [
        (0, 7, 0), (91, 0, 4), (182, 0, 4), (365, 0, 4), (548, 0, 4), (730, 0, 4),
    ]  # fmt: skip
    assert result.at == {day: Interval(estimate=None, low=None, high=None, n=0) for day in (365, 730)}


def test_kaplan_meier_honours_the_level() -> None:
    s5 = 6 / 7
    low, high = log_log_band(s5, 1 / 42, z=NormalDist().inv_cdf(0.95))
    step = kaplan_meier(DURATIONS, EVENTS, level=0.90).steps[1]
    assert (step.day, step.low, step.high) == (5, pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))


def test_kaplan_meier_matches_the_published_estimates_for_the_6_mp_arm_with_its_ties() -> None:
    # Freireich et al. 1963, 6-MP arm (21 patients, weeks in remission; False = still in remission),
    # the classic Kaplan-Meier teaching set; textbooks print S(t) to 4 places at each relapse.
    weeks = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    relapsed = [True, True, True, False, True, False, True, False, False, True, True]
    relapsed += [False, False, False, True, True, False, False, False, False, False]
    result = kaplan_meier(weeks, relapsed, at_days=(6, 23), at_risk_days=(0, 6, 7, 13, 22, 35))
    at_relapse = {step.day: step.survival for step in result.steps if step.day in (6, 7, 10, 13, 16, 22, 23)}
    assert at_relapse == {
        6: pytest.approx(0.8571, abs=1e-4),
        7: pytest.approx(0.8067, abs=1e-4),
        10: pytest.approx(0.7529, abs=1e-4),
        13: pytest.approx(0.6902, abs=1e-4),
        16: pytest.approx(0.6275, abs=1e-4),
        22: pytest.approx(0.5378, abs=1e-4),
        23: pytest.approx(0.4482, abs=1e-4),
    }
    assert (result.n, result.events) == (21, 9)
    assert [(row.day, row.at_risk, row.events) for row in result.at_risk] == [
        (0, 21, 0), (6, 21, 3), (7, 17, 4), (13, 12, 6), (22, 7, 8), (35, 1, 9),
    ]  # fmt: skip
    assert (result.at[6].n, result.at[23].n) == (21, 6)


def test_kaplan_meier_without_any_surgery_stays_at_one_with_a_band_collapsed_to_one() -> None:
    result = kaplan_meier([30, 91, 400], [False, False, False], at_days=(365,))
    assert result.steps == [SurvivalStep(day=day, survival=1.0, low=1.0, high=1.0) for day in (0, 30, 91, 400)]
    assert result.at == {365: Interval(estimate=1.0, low=1.0, high=1.0, n=1)}


def test_kaplan_meier_of_nobody_is_empty() -> None:
    result = kaplan_meier([], [], at_days=(365,), at_risk_days=(0, 365))
    assert (result.n, result.events, result.steps) == (0, 0, [])
    assert result.at_risk == [AtRisk(day=0, at_risk=0, events=0), AtRisk(day=365, at_risk=0, events=0)]
    assert result.at == {365: Interval(estimate=None, low=None, high=None, n=0)}


def test_kaplan_meier_refuses_mismatched_or_negative_durations_and_negative_days() -> None:
    with pytest.raises(ValueError):
        kaplan_meier([5, 8], [True])
    with pytest.raises(ValueError):
        kaplan_meier([-1, 8], [True, False])
    with pytest.raises(ValueError):
        kaplan_meier([5, 8], [True, False], at_days=(-1,))

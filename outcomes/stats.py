"""The statistics behind the outcomes dashboard: means, proportions and surgery-free survival, each with its interval.

Every figure comes from a well-kept library (scipy, statsmodels, lifelines); this module only
feeds them what the queries aggregate and shapes their answers. An empty group gives an
`Interval` of `None`s rather than an error, so a page can show "no data" beside a figure.

The libraries are imported inside the functions: together they take seconds to import, and
most requests that import this module never draw the dashboard.
"""

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its confidence interval; `None` where there is nothing to estimate from."""

    estimate: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True, slots=True)
class SurvivalStep:
    """The Kaplan-Meier curve from `day` until the next step, with its pointwise band."""

    day: float
    survival: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class AtRisk:
    """Those still followed (and surgery-free) on `day`, and the surgeries up to and including it."""

    day: int
    at_risk: int
    events: int


@dataclass(frozen=True, slots=True)
class Survival:
    """A Kaplan-Meier curve, its numbers at risk, and the survival read off at chosen days."""

    n: int
    events: int
    steps: list[SurvivalStep]
    at_risk: list[AtRisk]
    at: dict[int, Interval]


def _empty(n: int) -> Interval:
    return Interval(estimate=None, low=None, high=None, n=n)


def mean_ci(n: int, total: float, total_sq: float, *, level: float = 0.95) -> Interval:
    """The mean of `n` values from their sum and sum of squares, with its Student t interval."""
    from scipy import stats

    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if n == 0:
        return _empty(0)
    mean = total / n
    if n == 1:
        return Interval(estimate=mean, low=None, high=None, n=1)
    # The sample variance from the sums; equal values can round it a hair below zero.
    variance = max(0.0, (total_sq - total * total / n) / (n - 1))
    standard_error = math.sqrt(variance / n)
    if standard_error == 0.0:
        # scipy refuses a zero scale; with no spread the interval is the mean itself.
        return Interval(estimate=mean, low=mean, high=mean, n=n)
    low, high = stats.t.interval(level, n - 1, loc=mean, scale=standard_error)
    return Interval(estimate=mean, low=float(low), high=float(high), n=n)


def _proportion(k: int, n: int, *, level: float, method: str) -> Interval:
    from statsmodels.stats.proportion import proportion_confint

    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return _empty(0)
    low, high = proportion_confint(k, n, alpha=1 - level, method=method)
    return Interval(estimate=k / n, low=float(low), high=float(high), n=n)


def wilson(k: int, n: int, *, level: float = 0.95) -> Interval:
    """The proportion `k / n` (0..1) with its Wilson score interval."""
    return _proportion(k, n, level=level, method="wilson")


def clopper_pearson(k: int, n: int, *, level: float = 0.95) -> Interval:
    """The proportion `k / n` (0..1) with its exact (Clopper-Pearson) interval: 0.0 low at k = 0, 1.0 high at k = n."""
    return _proportion(k, n, level=level, method="beta")


def kaplan_meier(
    durations: Sequence[float],
    events: Sequence[bool],
    *,
    at_days: Sequence[int] = (365, 730),
    at_risk_days: Sequence[int] = (0, 91, 182, 365, 548, 730),
    level: float = 0.95,
) -> Survival:
    """Surgery-free survival after the procedure (Kaplan-Meier, lifelines).

    `durations` are days from the procedure to surgery (`events` True) or to the last
    follow-up known to be surgery-free (False, censored). The band is lifelines' default,
    Greenwood's variance on the log(-log) scale. At a tie, surgeries come before censorings.

    At risk on a day are those followed at least that long (duration >= day), as in R's
    survfit and the tables under published curves; lifelines' own plotting counts those
    followed beyond it. `at[day]` is read off the curve with `n` the number at risk then;
    it is all `None` when no one was followed that long.
    """
    if len(durations) != len(events):
        raise ValueError(f"{len(durations)} durations but {len(events)} events")
    if any(duration < 0 for duration in durations):
        raise ValueError("a duration is negative: the follow-up ends before the procedure")
    if any(day < 0 for day in (*at_days, *at_risk_days)):
        raise ValueError("a day to report on is negative")
    at_risk = [
        AtRisk(
            day=day,
            at_risk=sum(1 for duration in durations if duration >= day),
            events=sum(1 for duration, event in zip(durations, events, strict=True) if event and duration <= day),
        )
        for day in at_risk_days
    ]
    if not durations:
        return Survival(n=0, events=0, steps=[], at_risk=at_risk, at={day: _empty(0) for day in at_days})

    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=1 - level).fit(list(durations), event_observed=[bool(e) for e in events])
    band = fitter.confidence_interval_
    steps = [
        SurvivalStep(day=float(day), survival=float(survival), low=float(low), high=float(high))
        for day, survival, low, high in zip(
            fitter.survival_function_.index,
            fitter.survival_function_.iloc[:, 0],
            band.iloc[:, 0],
            band.iloc[:, 1],
            strict=True,
        )
    ]
    last_seen = max(durations)
    step_days = [step.day for step in steps]
    at: dict[int, Interval] = {}
    for day in at_days:
        if day > last_seen:
            at[day] = _empty(0)
            continue
        step = steps[bisect.bisect_right(step_days, day) - 1]
        at[day] = Interval(
            estimate=step.survival,
            low=step.low,
            high=step.high,
            n=sum(1 for duration in durations if duration >= day),
        )
    return Survival(n=len(durations), events=sum(1 for e in events if e), steps=steps, at_risk=at_risk, at=at)

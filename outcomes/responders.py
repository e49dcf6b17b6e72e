"""Episode status from scores: change, meaningful improvement (MCID), PASS, and the OMERACT-OARSI responder.

Pure functions on numbers and `ScoreDefinition`s; they know nothing about patients or the database.
A missing input gives None ("unknown"), never False.

OMERACT-OARSI (Pham T, van der Heijde D, Altman RD, et al. OMERACT-OARSI initiative: Osteoarthritis
Research Society International set of responder criteria for osteoarthritis clinical trials
revisited. Osteoarthritis Cartilage 2004;12:389-399), the simplified set ("scenario D"): a patient
responds if there is
  - high improvement in pain or in function: >= 50% and absolute change >= 20, or
  - improvement in at least two of pain, function and patient's global assessment:
    >= 20% and absolute change >= 10,
with every domain on a 0-100 scale where worse is higher. `to_omeract_scale` puts a score there:
  - a score where higher is worse is rescaled: (value - low) / (high - low) x 100
    (NRS 0-10: x 10; ODI 0-100: unchanged);
  - a score where higher is better is reversed: (high - value) / (high - low) x 100
    (KOOS Pain and KOOS ADL, 0-100 best: 100 - value; LEFS 0-80: (80 - value) / 80 x 100).
Percentages are relative to the baseline on that scale. A baseline of 0 (no symptoms) cannot improve.
"""

from outcomes.instruments.base import ScoreDefinition


def change(baseline: float | None, follow_up: float | None) -> float | None:
    """Follow-up minus baseline, on the score's own scale (sign not adjusted for direction)."""
    if baseline is None or follow_up is None:
        return None
    return follow_up - baseline


def _improvement(score_definition: ScoreDefinition, baseline: float, follow_up: float) -> float:
    """How much better the follow-up is, in the score's points (positive = better)."""
    return follow_up - baseline if score_definition.higher_is_better else baseline - follow_up


def meaningful_improvement(
    score_definition: ScoreDefinition, baseline: float | None, follow_up: float | None
) -> bool | None:
    """Whether the improvement reaches the score's MCID, in points or in percent of the baseline.

    None when either score is missing or the score has no MCID. A percent MCID with a baseline of 0
    (the best state for a lower-is-better score) is False: nothing can improve.
    """
    mcid = score_definition.mcid
    if mcid is None or baseline is None or follow_up is None:
        return None
    gain = _improvement(score_definition, baseline, follow_up)
    if mcid.unit == "percent":
        if baseline == 0:
            return False
        # gain / |baseline| >= value %, written without division so boundaries are exact.
        return gain * 100 >= mcid.value * abs(baseline)
    return gain >= mcid.value


def reaches_pass(score_definition: ScoreDefinition, value: float | None) -> bool | None:
    """Whether a score is at or beyond its Patient Acceptable Symptom State; None without PASS or value."""
    threshold = score_definition.pass_threshold
    if threshold is None or value is None:
        return None
    if score_definition.higher_is_better:
        return value >= threshold.value
    return value <= threshold.value


def to_omeract_scale(score_definition: ScoreDefinition, value: float | None) -> float | None:
    """A score on the OMERACT-OARSI scale: 0-100, worse is higher (see the module docstring)."""
    if value is None:
        return None
    span = score_definition.high - score_definition.low
    if score_definition.higher_is_better:
        return (score_definition.high - value) / span * 100
    return (value - score_definition.low) / span * 100


def _improved(baseline: float | None, follow_up: float | None, *, percent: float, points: float) -> bool | None:
    """Improvement of at least `percent` % of the baseline and `points` points, on a worse-is-higher scale."""
    if baseline is None or follow_up is None:
        return None
    gain = baseline - follow_up
    if baseline <= 0:
        return False
    return gain >= points and gain * 100 >= percent * baseline


def omeract_oarsi_responder(
    *,
    pain_baseline: float | None,
    pain_follow_up: float | None,
    function_baseline: float | None,
    function_follow_up: float | None,
    global_baseline: float | None,
    global_follow_up: float | None,
) -> bool | None:
    """OMERACT-OARSI responder (Pham et al. 2004, scenario D); inputs on 0-100 with worse = higher.

    None only when the missing inputs could change the answer: a high improvement in pain already
    makes a responder, and pain and function both known and unimproved already make a non-responder.
    """
    high = [
        _improved(pain_baseline, pain_follow_up, percent=50, points=20),
        _improved(function_baseline, function_follow_up, percent=50, points=20),
    ]
    if True in high:
        return True
    moderate = [
        _improved(pain_baseline, pain_follow_up, percent=20, points=10),
        _improved(function_baseline, function_follow_up, percent=20, points=10),
        _improved(global_baseline, global_follow_up, percent=20, points=10),
    ]
    met = moderate.count(True)
    if met >= 2:
        return True
    unknown = moderate.count(None)
    # High improvement is a stricter case of moderate improvement, so an unknown high criterion is
    # already an unknown moderate one: the answer is open only if the unknowns could reach two.
    if met + unknown >= 2:
        return None
    return False

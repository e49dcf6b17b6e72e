"""The anonymous "Am I a candidate?" self-check: answers in, plain words out.

Nothing here is stored or logged. The result is never a diagnosis; it only says
what usually happens next.
"""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    SEEK_CARE_NOW = "seek_care_now"
    GIVE_IT_TIME = "give_it_time"
    WORTH_A_CONSULTATION = "worth_a_consultation"
    TALK_IT_THROUGH = "talk_it_through"


@dataclass(frozen=True)
class Answers:
    area: str
    duration: str  # "under_6_weeks" | "6_weeks_to_3_months" | "over_3_months"
    tried: frozenset[str]  # subset of TRIED, may be empty
    avoid_surgery: str  # "yes" | "no" | "unsure"
    red_flags: frozenset[str]  # subset of RED_FLAGS, may be empty


AREAS = ("knee", "hip", "shoulder", "back", "hand", "foot_ankle", "elbow", "other")
DURATIONS = ("under_6_weeks", "6_weeks_to_3_months", "over_3_months")
TRIED = ("rest", "physical_therapy", "medicines", "injections", "brace")
RED_FLAGS = ("fever", "recent_fall", "cannot_bear_weight", "numbness_weakness", "weight_loss")


def self_check(answers: Answers) -> Outcome:
    if answers.red_flags:
        return Outcome.SEEK_CARE_NOW
    if answers.duration == "under_6_weeks" and not answers.tried:
        return Outcome.GIVE_IT_TIME
    if answers.tried and answers.duration != "under_6_weeks" and answers.avoid_surgery in {"yes", "unsure"}:
        return Outcome.WORTH_A_CONSULTATION
    return Outcome.TALK_IT_THROUGH

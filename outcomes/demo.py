"""Answers for demo patients: a whole questionnaire as a person at a given level of wellness would tick it.

`answers_at(instrument, wellness, rng)` fills every item so that the instrument's scores sit
near `wellness` (0 = worst, 1 = best), with a little scatter from `rng` as real answers have.
Which end of each item is the better one is not written down per instrument: it is found
from the scoring function itself (`_better_end`), so the same code serves every instrument,
a licensed one added later included. For the demo only: nothing clinical reads it.
"""

import random
from functools import cache
from typing import Any

from outcomes import instruments
from outcomes.instruments.base import Instrument, Item
from outcomes.services import ONE_OF


def _codes(item: Item) -> list[int]:
    if item.options:
        return sorted(option.code for option in item.options)
    assert item.low is not None and item.high is not None
    return list(range(item.low, item.high + 1))


def _middle(defined: Instrument) -> dict[str, int]:
    return {item.code: _codes(item)[len(_codes(item)) // 2] for item in defined.items}


def _goodness(defined: Instrument, answers: dict[str, Any]) -> float:
    """How good `answers` score, summed over the instrument's scores (each turned so that higher is better)."""
    total = 0.0
    for definition in defined.scores:
        result = defined.score(answers).get(definition.code)
        if result is None or result.value is None:
            continue
        sign = 1 if definition.higher_is_better else -1
        total += sign * (result.value - definition.low) / (definition.high - definition.low)
    return total


@cache
def _better_end(code: str) -> dict[str, bool]:
    """For each item: True when its highest code is the better answer (found by moving it alone from the middle)."""
    defined = instruments.get(code)
    groups = ONE_OF.get(defined.code, ())
    grouped = {member: group for group in groups for member in group}
    base = _middle(defined)
    for group in groups:
        for member in group[1:]:
            del base[member]
    found = {}
    for item in defined.items:
        codes = _codes(item)
        around = dict(base)
        for member in grouped.get(item.code, ()):
            around.pop(member, None)
        low = _goodness(defined, {**around, item.code: codes[0]})
        high = _goodness(defined, {**around, item.code: codes[-1]})
        found[item.code] = high > low
    return found


def answers_at(code: str, wellness: float, rng: random.Random) -> dict[str, int]:
    """Every item of instrument `code` answered as someone at `wellness` (0-1) would, give or take a box."""
    defined = instruments.get(code)
    better_high = _better_end(defined.code)
    answers = {}
    for item in defined.items:
        codes = _codes(item)
        level = min(1.0, max(0.0, wellness + rng.uniform(-0.08, 0.08)))
        index = round(level * (len(codes) - 1))
        answers[item.code] = codes[index] if better_high[item.code] else codes[len(codes) - 1 - index]
    # Of items the form asks to answer one of (VISA-P 8A/8B/8C: no pain, pain, pain that stops sport),
    # the better the person, the earlier the one that fits.
    for group in ONE_OF.get(defined.code, ()):
        keep = group[round((1 - wellness) * (len(group) - 1))]
        for code in group:
            if code != keep:
                del answers[code]
    return answers

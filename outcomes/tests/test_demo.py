"""The demo's answers: every shipped instrument scorable, and better wellness scoring better."""

import random

import pytest

from outcomes import instruments
from outcomes.demo import answers_at


@pytest.mark.parametrize("code", sorted(instruments.INSTRUMENTS))
def test_answers_at_any_wellness_are_scorable_and_rise_with_it(code: str) -> None:
    defined = instruments.get(code)
    for definition in defined.scores:
        values = []
        for wellness in (0.0, 0.5, 1.0):
            result = defined.score(answers_at(code, wellness, random.Random(1))).get(definition.code)
            assert result is not None and result.value is not None, (code, definition.code, wellness, result)
            values.append(result.value if definition.higher_is_better else -result.value)
        assert values[0] < values[1] < values[2], (code, definition.code, values)

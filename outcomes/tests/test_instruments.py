"""NRS, ASES, VISA-P, LEFS, ODI, PGIC and SANE scored by hand from their guides, at every missing-data boundary."""

from collections.abc import Sequence

import pytest

from outcomes.instruments import INSTRUMENTS, get
from outcomes.instruments.base import Answers, InvalidAnswers, ScoreResult


def _odi(*sections: int | list[int] | None) -> Answers:
    return {str(number): answer for number, answer in enumerate(sections, start=1)}


def _lefs(values: Sequence[int | None]) -> Answers:
    return {str(number): value for number, value in enumerate(values, start=1)}


def _ases(pain: int | list[int] | None, adl: list[int | list[int] | None]) -> Answers:
    return {"PAIN": pain, **{f"ADL{number}": value for number, value in enumerate(adl, start=1)}}


def _visa(q1_7: Sequence[int | list[int] | None], **q8: int | None) -> Answers:
    return {**{str(number): value for number, value in enumerate(q1_7, start=1)}, **q8}


# --- every instrument -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["NRS", "ASES", "VISA-P", "LEFS", "ODI", "PGIC", "SANE"])
def test_it_is_registered_with_sources_and_sections_covering_every_item(code: str) -> None:
    instrument = get(code)
    assert instrument.source and instrument.scoring_source and instrument.licence and instrument.missing_rule
    assert instrument.languages == ("en",)
    in_sections = [item for section in instrument.sections for item in section.items]
    assert sorted(in_sections) == sorted(item.code for item in instrument.items)
    assert [score.code for score in instrument.scores] == list(instrument.scoring({}).keys())


@pytest.mark.parametrize("code", ["NRS", "ASES", "VISA-P", "LEFS", "ODI", "PGIC", "SANE"])
def test_nothing_answered_is_not_scorable_never_zero(code: str) -> None:
    for result in get(code).score({}).values():
        assert result.value is None
        assert result.reason


def test_directions_and_regions() -> None:
    directions = {code: INSTRUMENTS[code].scores[0].higher_is_better for code in ("NRS", "ODI", "ASES", "VISA-P")}
    assert directions == {"NRS": False, "ODI": False, "ASES": True, "VISA-P": True}
    regions = {code: INSTRUMENTS[code].body_region for code in ("ODI", "LEFS", "ASES", "VISA-P", "NRS")}
    assert regions == {"ODI": "back", "LEFS": "lower_limb", "ASES": "shoulder", "VISA-P": "knee", "NRS": "any"}


# --- ODI --------------------------------------------------------------------------------------


def test_odi_all_ten_sections_is_total_over_fifty() -> None:
    # 1+2+3+2+1+2+1+0+2+2 = 16; 16 / 50 x 100 = 32% (the guide's own example).
    assert get("ODI").score(_odi(1, 2, 3, 2, 1, 2, 1, 0, 2, 2)) == {"ODI": ScoreResult(32.0)}


def test_odi_one_section_missing_divides_by_forty_five() -> None:
    # Section 8 (sex life) not applicable: 16 / 45 x 100 = 35.55...% (the guide prints 35.5%).
    result = get("ODI").score(_odi(1, 2, 3, 2, 1, 2, 1, None, 2, 2))
    assert result == {"ODI": ScoreResult(16 / 45 * 100)}


def test_odi_missing_key_counts_as_unanswered() -> None:
    answers = dict(_odi(1, 2, 3, 2, 1, 2, 1, 0, 2, 2))
    del answers["10"]  # 14 / 45 x 100
    assert get("ODI").score(answers) == {"ODI": ScoreResult(14 / 45 * 100)}


def test_odi_two_sections_missing_is_not_scorable() -> None:
    assert get("ODI").score(_odi(1, 2, 3, 2, 1, 2, 1, None, None, 2)) == {
        "ODI": ScoreResult(None, "2 of 10 ODI sections unanswered; the ODI guide allows one.")
    }


def test_odi_two_statements_ticked_counts_the_highest() -> None:
    # Section 1 ticked 1 and 3: counts 3. 3+2+3+2+1+2+1+0+2+2 = 18; 18 / 50 x 100 = 36%.
    assert get("ODI").score(_odi([1, 3], 2, 3, 2, 1, 2, 1, 0, 2, 2)) == {"ODI": ScoreResult(36.0)}


def test_odi_extremes() -> None:
    assert get("ODI").score(_odi(*[0] * 10)) == {"ODI": ScoreResult(0.0)}
    assert get("ODI").score(_odi(*[5] * 10)) == {"ODI": ScoreResult(100.0)}
    # Nine sections all 5, one missing: 45 / 45 x 100 = 100%.
    assert get("ODI").score(_odi(*[5] * 9, None)) == {"ODI": ScoreResult(100.0)}


def test_odi_has_six_statements_per_section_coded_zero_to_five() -> None:
    odi = get("ODI")
    assert [item.code for item in odi.items] == [str(n) for n in range(1, 11)]
    assert all([option.code for option in item.options] == [0, 1, 2, 3, 4, 5] for item in odi.items)
    assert odi.item("1").options[5].text["en"] == "The pain is the worst imaginable at the moment"
    assert odi.scores[0].loinc == "97909-6"
    assert odi.loinc == "97908-8"


def test_odi_rejects_an_impossible_code_and_an_unknown_section() -> None:
    with pytest.raises(InvalidAnswers, match=r"ODI item 3: 6 is not one of its answer codes\."):
        get("ODI").score({"3": 6})
    with pytest.raises(InvalidAnswers, match=r"ODI has no item '11'\."):
        get("ODI").score({"11": 0})


# --- LEFS -------------------------------------------------------------------------------------


def test_lefs_is_the_sum_of_twenty_items() -> None:
    # Ten 4s and ten 2s: 40 + 20 = 60.
    assert get("LEFS").score(_lefs([4] * 10 + [2] * 10)) == {"LEFS": ScoreResult(60.0)}


def test_lefs_extremes() -> None:
    assert get("LEFS").score(_lefs([0] * 20)) == {"LEFS": ScoreResult(0.0)}
    assert get("LEFS").score(_lefs([4] * 20)) == {"LEFS": ScoreResult(80.0)}


def test_lefs_with_one_item_missing_is_not_scorable() -> None:
    assert get("LEFS").score(_lefs([4] * 19 + [None])) == {
        "LEFS": ScoreResult(
            None,
            "1 of 20 LEFS items unanswered; no published LEFS rule scores missing items, so every item is needed.",
        )
    }


@pytest.mark.parametrize("missing", [4, 5])
def test_lefs_with_four_or_five_items_missing_is_not_scorable(missing: int) -> None:
    # The "up to four missing items replaced by the mean" rule is not in any published LEFS guide we found.
    result = get("LEFS").score(_lefs([3] * (20 - missing) + [None] * missing))["LEFS"]
    assert result.value is None
    assert result.reason.startswith(f"{missing} of 20 LEFS items unanswered")


def test_lefs_two_boxes_ticked_is_not_scorable_and_one_box_in_a_list_is_fine() -> None:
    values: list[int | list[int] | None] = [4] * 20
    values[5] = [2, 3]
    assert get("LEFS").score({str(n): v for n, v in enumerate(values, start=1)}) == {
        "LEFS": ScoreResult(None, "More than one box ticked for LEFS item 6; no published LEFS rule says which counts.")
    }
    values[5] = [2]
    # 19 x 4 + 2 = 78.
    assert get("LEFS").score({str(n): v for n, v in enumerate(values, start=1)}) == {"LEFS": ScoreResult(78.0)}


# --- ASES -------------------------------------------------------------------------------------


def test_ases_formula_worked_example() -> None:
    # Pain 4: (10 - 4) x 5 = 30. ADL 3,3,2,2,2,2,1,1,1,1 = 18: 5/3 x 18 = 30. ASES = 60.
    assert get("ASES").score(_ases(4, [3, 3, 2, 2, 2, 2, 1, 1, 1, 1])) == {"ASES": ScoreResult(60.0)}


def test_ases_formula_with_a_fractional_function_part() -> None:
    # Pain 7: (10 - 7) x 5 = 15. ADL sum 10 x 1 = 10: 5 x 10 / 3 = 16.67. ASES = 31.67.
    assert get("ASES").score(_ases(7, [1] * 10)) == {"ASES": ScoreResult(15 + 50 / 3)}


def test_ases_extremes() -> None:
    # No pain, everything not difficult: 50 + 5/3 x 30 = 100. Worst pain, unable to do anything: 0.
    assert get("ASES").score(_ases(0, [3] * 10)) == {"ASES": ScoreResult(100.0)}
    assert get("ASES").score(_ases(10, [0] * 10)) == {"ASES": ScoreResult(0.0)}


def test_ases_missing_one_activity_is_not_scorable() -> None:
    assert get("ASES").score(_ases(4, [3] * 9 + [None])) == {
        "ASES": ScoreResult(
            None, "ASES not scored: 1 of 10 activities unanswered. No published ASES rule scores incomplete answers."
        )
    }


def test_ases_missing_pain_is_not_scorable() -> None:
    assert get("ASES").score(_ases(None, [3] * 10)) == {
        "ASES": ScoreResult(
            None,
            "ASES not scored: the pain scale is unanswered. No published ASES rule scores incomplete answers.",
        )
    }


def test_ases_two_boxes_ticked_is_not_scorable() -> None:
    result = get("ASES").score(_ases([3, 4], [3, [1, 2], 3, 3, 3, 3, 3, 3, 3, 3]))["ASES"]
    assert result == ScoreResult(
        None,
        "ASES not scored: more than one pain value given; more than one box ticked for ADL2. "
        "No published ASES rule scores incomplete answers.",
    )


# --- VISA-P -----------------------------------------------------------------------------------


def test_visa_p_branch_a_worked_example() -> None:
    # Q1-6: 7+8+9+6+5+4 = 39; Q7 = 7; Q8A ">15 mins" = 30. Total 76.
    assert get("VISA-P").score(_visa([7, 8, 9, 6, 5, 4, 7], **{"8A": 30})) == {"VISA-P": ScoreResult(76.0)}


def test_visa_p_branch_b_worked_example() -> None:
    # 39 + Q7 4 + Q8B "6-10 mins" 10 = 53.
    assert get("VISA-P").score(_visa([7, 8, 9, 6, 5, 4, 4], **{"8B": 10})) == {"VISA-P": ScoreResult(53.0)}


def test_visa_p_branch_c_worked_example() -> None:
    # 39 + Q7 0 + Q8C "1-5 mins" 2 = 41.
    assert get("VISA-P").score(_visa([7, 8, 9, 6, 5, 4, 0], **{"8C": 2})) == {"VISA-P": ScoreResult(41.0)}


def test_visa_p_extremes() -> None:
    assert get("VISA-P").score(_visa([10] * 6 + [10], **{"8A": 30})) == {"VISA-P": ScoreResult(100.0)}
    assert get("VISA-P").score(_visa([0] * 7, **{"8C": 0})) == {"VISA-P": ScoreResult(0.0)}


def test_visa_p_two_parts_of_question_8_is_not_scorable() -> None:
    result = get("VISA-P").score(_visa([5] * 6 + [7], **{"8A": 30, "8B": 20}))["VISA-P"]
    assert result == ScoreResult(
        None,
        "VISA-P not scored: question 8 answered in 8A and 8B; the form asks for EITHER A, B or C. "
        "The VISA-P has no published rule for that.",
    )


def test_visa_p_missing_question_is_not_scorable() -> None:
    result = get("VISA-P").score(_visa([5, 5, None, 5, 5, 5, 7], **{"8B": 4}))["VISA-P"]
    assert result == ScoreResult(
        None, "VISA-P not scored: question 3 unanswered. The VISA-P has no published rule for that."
    )
    result = get("VISA-P").score(_visa([5] * 6 + [7]))["VISA-P"]
    assert result.value is None
    assert "question 8 unanswered" in result.reason


def test_visa_p_two_boxes_ticked_is_not_scorable() -> None:
    result = get("VISA-P").score(_visa([5, [5, 6], 5, 5, 5, 5, 7], **{"8A": 7}))["VISA-P"]
    assert result.value is None
    assert "more than one box ticked for 2" in result.reason


def test_visa_p_branch_codes_are_the_printed_points() -> None:
    visa = get("VISA-P")
    assert [o.code for o in visa.item("7").options] == [0, 4, 7, 10]
    assert [o.code for o in visa.item("8A").options] == [0, 7, 14, 21, 30]
    assert [o.code for o in visa.item("8B").options] == [0, 4, 10, 14, 20]
    assert [o.code for o in visa.item("8C").options] == [0, 2, 5, 7, 10]
    with pytest.raises(InvalidAnswers):
        visa.score({"8A": 20})  # 20 is a 8B code, not an 8A one
    with pytest.raises(InvalidAnswers):
        visa.score({"1": 11})


# --- NRS, PGIC, SANE --------------------------------------------------------------------------


def test_nrs_is_the_number_chosen() -> None:
    assert get("NRS").score({"NRS": 0}) == {"NRS": ScoreResult(0.0)}
    assert get("NRS").score({"NRS": 10}) == {"NRS": ScoreResult(10.0)}
    assert get("NRS").score({"NRS": None}) == {"NRS": ScoreResult(None, "The NRS item is unanswered.")}
    assert get("NRS").score({"NRS": [3, 4]}) == {
        "NRS": ScoreResult(None, "More than one number chosen on the NRS; it takes exactly one.")
    }
    with pytest.raises(InvalidAnswers):
        get("NRS").score({"NRS": 11})


def test_pgic_codes_one_to_seven() -> None:
    assert [o.code for o in get("PGIC").items[0].options] == [1, 2, 3, 4, 5, 6, 7]
    assert get("PGIC").score({"PGIC": 6}) == {"PGIC": ScoreResult(6.0)}
    with pytest.raises(InvalidAnswers):
        get("PGIC").score({"PGIC": 0})


def test_sane_is_the_percentage_given() -> None:
    assert get("SANE").score({"SANE": 85}) == {"SANE": ScoreResult(85.0)}
    assert get("SANE").score({"SANE": 0}) == {"SANE": ScoreResult(0.0)}
    assert get("SANE").score({"SANE": 100}) == {"SANE": ScoreResult(100.0)}
    with pytest.raises(InvalidAnswers):
        get("SANE").score({"SANE": 101})


def test_a_boolean_is_not_an_answer_code() -> None:
    with pytest.raises(InvalidAnswers):
        get("NRS").score({"NRS": True})


def test_a_list_holding_a_boolean_or_a_float_is_refused() -> None:
    with pytest.raises(InvalidAnswers):
        get("ODI").score({"1": [1, True]})
    with pytest.raises(InvalidAnswers):
        get("ODI").score({"1": [2.0]})  # type: ignore[list-item]

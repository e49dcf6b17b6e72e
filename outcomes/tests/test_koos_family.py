"""KOOS, KOOS JR, HOOS, HOOS JR and FAOS: wording as data, scoring as the guides say.

Every expected value is worked by hand from the scoring guide next to the assertion. Subscale
scores are 100 - mean x 100 / 4 = 100 - sum x 25 / n (KOOS Scoring 2012, HOOS Scoring 2013); the
JR scores are the raw sum looked up in HSS's conversion table.
"""

import pytest

from outcomes.instruments import INSTRUMENTS, get
from outcomes.instruments.base import Answers, InvalidAnswers, ScoreResult

KOOS = get("KOOS")
HOOS = get("HOOS")
FAOS = get("FAOS")
KOOS_JR = get("KOOS_JR")
HOOS_JR = get("HOOS_JR")

KOOS_SUBSCALES = {
    "SYMPTOMS": [f"S{i}" for i in range(1, 8)],
    "PAIN": [f"P{i}" for i in range(1, 10)],
    "ADL": [f"A{i}" for i in range(1, 18)],
    "SPORT_REC": [f"SP{i}" for i in range(1, 6)],
    "QOL": [f"Q{i}" for i in range(1, 5)],
}
HOOS_SUBSCALES = {
    "SYMPTOMS": [f"S{i}" for i in range(1, 6)],
    "PAIN": [f"P{i}" for i in range(1, 11)],
    "ADL": [f"A{i}" for i in range(1, 18)],
    "SPORT_REC": [f"SP{i}" for i in range(1, 5)],
    "QOL": [f"Q{i}" for i in range(1, 5)],
}

# Transcribed independently of the module, from HSS's KOOS, JR. and HOOS, JR. scoring tables
# (raw summed score → interval score), as reproduced in Stanford CHOIR's TotalJointSurveyService
# and other open implementations; see the module's `scoring_source`.
KOOS_JR_TABLE = {
    0: 100.000,
    1: 91.975,
    2: 84.600,
    3: 79.914,
    4: 76.332,
    5: 73.342,
    6: 70.704,
    7: 68.284,
    8: 65.994,
    9: 63.776,
    10: 61.583,
    11: 59.381,
    12: 57.140,
    13: 54.840,
    14: 52.465,
    15: 50.012,
    16: 47.487,
    17: 44.905,
    18: 42.281,
    19: 39.625,
    20: 36.931,
    21: 34.174,
    22: 31.307,
    23: 28.251,
    24: 24.875,
    25: 20.941,
    26: 15.939,
    27: 8.291,
    28: 0.000,
}
HOOS_JR_TABLE = {
    0: 100.000,
    1: 92.340,
    2: 85.257,
    3: 80.550,
    4: 76.776,
    5: 73.472,
    6: 70.426,
    7: 67.516,
    8: 64.664,
    9: 61.815,
    10: 58.930,
    11: 55.985,
    12: 52.965,
    13: 49.858,
    14: 46.652,
    15: 43.335,
    16: 39.902,
    17: 36.363,
    18: 32.735,
    19: 29.009,
    20: 25.103,
    21: 20.805,
    22: 15.633,
    23: 8.104,
    24: 0.000,
}


def approx(value):
    """Tight tolerance: only the one float division of each subscale can differ in its last bit."""
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def all_answered(instrument, code):
    return {item.code: code for item in instrument.items}


def spread(codes, raw):
    """Answers for `codes` whose codes sum to `raw`, each 0-4, filling from the first item."""
    answers = {}
    for code in codes:
        answers[code] = min(4, raw)
        raw -= answers[code]
    assert raw == 0
    return answers


# --- The instruments as data ---------------------------------------------------------------


def test_the_five_instruments_are_registered_under_their_codes():
    assert {"KOOS", "KOOS_JR", "HOOS", "HOOS_JR", "FAOS"} <= set(INSTRUMENTS)
    assert get("koos_jr") is KOOS_JR


@pytest.mark.parametrize(
    ("instrument", "codes"),
    [
        (KOOS, [c for codes in KOOS_SUBSCALES.values() for c in codes]),
        (FAOS, [c for codes in KOOS_SUBSCALES.values() for c in codes]),
        (HOOS, [c for codes in HOOS_SUBSCALES.values() for c in codes]),
        (KOOS_JR, [str(i) for i in range(1, 8)]),
        (HOOS_JR, [str(i) for i in range(1, 7)]),
    ],
)
def test_it_has_every_item_of_the_form_once_and_each_section_points_at_real_items(instrument, codes):
    assert sorted(item.code for item in instrument.items) == sorted(codes)
    assert [code for section in instrument.sections for code in section.items] == [i.code for i in instrument.items]
    for item in instrument.items:
        assert [option.code for option in item.options] == [0, 1, 2, 3, 4]
        assert set(item.text) == set(instrument.languages) == {"en"}
        assert item.text["en"].strip() == item.text["en"] != ""


def test_koos_wording_and_answer_labels_are_as_printed_on_the_form():
    assert KOOS.item("S1").text["en"] == "Do you have swelling in your knee?"
    assert (
        KOOS.item("S7").text["en"]
        == "How severe is your knee stiffness after sitting, lying or resting later in the day?"
    )
    assert KOOS.item("P1").text["en"] == "How often do you experience knee pain?"
    assert KOOS.item("A5").text["en"] == "Bending to floor/pick up an object"
    assert KOOS.item("SP4").text["en"] == "Twisting/pivoting on your injured knee"
    # S4 and S5 are asked the other way round, so "Always" is the best answer and scores 0.
    assert [o.text["en"] for o in KOOS.item("S4").options] == ["Always", "Often", "Sometimes", "Rarely", "Never"]
    assert [o.text["en"] for o in KOOS.item("S1").options] == ["Never", "Rarely", "Sometimes", "Often", "Always"]
    assert [o.text["en"] for o in KOOS.item("P1").options] == ["Never", "Monthly", "Weekly", "Daily", "Always"]
    assert [o.text["en"] for o in KOOS.item("Q1").options] == ["Never", "Monthly", "Weekly", "Daily", "Constantly"]
    assert [o.text["en"] for o in KOOS.item("Q2").options] == [
        "Not at all",
        "Mildly",
        "Moderately",
        "Severely",
        "Totally",
    ]
    assert [o.text["en"] for o in KOOS.item("Q3").options][-1] == "Extremely"
    assert [o.text["en"] for o in KOOS.item("P2").options] == ["None", "Mild", "Moderate", "Severe", "Extreme"]
    # The form's own instructions open the first section, then the section's.
    assert KOOS.sections[0].instructions["en"] == (
        "INSTRUCTIONS: This survey asks for your view about your knee. This information will help us keep track "
        "of how you feel about your knee and how well you are able to perform your usual activities. Answer every "
        "question by ticking the appropriate box, only one box for each question. If you are unsure about how to "
        "answer a question, please give the best answer you can.\n\n"
        "These questions should be answered thinking of your knee symptoms during the last week."
    )
    assert [s.title["en"] for s in KOOS.sections] == [
        "Symptoms",
        "Stiffness",
        "Pain",
        "Pain",
        "Function, daily living",
        "Function, sports and recreational activities",
        "Quality of Life",
    ]


def test_each_score_is_defined_higher_is_better_on_0_to_100_with_its_loinc_code():
    assert [s.code for s in KOOS.scores] == ["SYMPTOMS", "PAIN", "ADL", "SPORT_REC", "QOL", "KOOS_JR"]
    assert {s.code: s.loinc for s in KOOS.scores} == {
        "SYMPTOMS": "72101-9",
        "PAIN": "72102-7",
        "ADL": "72100-1",
        "SPORT_REC": "72099-5",
        "QOL": "72098-7",
        "KOOS_JR": "82332-8",
    }
    assert {s.code: s.loinc for s in HOOS.scores} == {
        "SYMPTOMS": "72096-1",
        "PAIN": "72097-9",
        "ADL": "72095-3",
        "SPORT_REC": "72094-6",
        "QOL": "72093-8",
        "HOOS_JR": "82323-7",
    }
    for instrument in (KOOS, HOOS, FAOS, KOOS_JR, HOOS_JR):
        for score in instrument.scores:
            assert (score.low, score.high, score.higher_is_better) == (0, 100, True)
        # The scoring function yields exactly the scores the instrument declares.
        assert list(instrument.score({})) == [s.code for s in instrument.scores]


# --- KOOS subscales ------------------------------------------------------------------------


def test_koos_scores_a_whole_response_as_worked_by_hand():
    answers = {
        # Symptoms 1,0,2,1,0,3,1 → sum 8 of 7 items → 100 - 8x25/7 = 100 - 200/7 = 71.428571…
        "S1": 1, "S2": 0, "S3": 2, "S4": 1, "S5": 0, "S6": 3, "S7": 1,
        # Pain 2,2,1,1,0,3,2,1,2 → mean 14/9 → 100 - 14/9x25 = 61.111…
        "P1": 2, "P2": 2, "P3": 1, "P4": 1, "P5": 0, "P6": 3, "P7": 2, "P8": 1, "P9": 2,
        # ADL 1,1,2,0,3,0,1,0,2,1,2,1,0,0,1,4,1 → sum 20 of 17 → 100 - 500/17 = 70.588235…
        "A1": 1, "A2": 1, "A3": 2, "A4": 0, "A5": 3, "A6": 0, "A7": 1, "A8": 0, "A9": 2,
        "A10": 1, "A11": 2, "A12": 1, "A13": 0, "A14": 0, "A15": 1, "A16": 4, "A17": 1,
        # Sport/Rec 3,4,4,2,3 → mean 16/5 = 3.2 → 100 - 3.2x25 = 20
        "SP1": 3, "SP2": 4, "SP3": 4, "SP4": 2, "SP5": 3,
        # QOL 3,2,2,2 → mean 9/4 → 100 - 2.25x25 = 43.75
        "Q1": 3, "Q2": 2, "Q3": 2, "Q4": 2,
    }  # fmt: skip

    scores = KOOS.score(answers)

    assert scores["SYMPTOMS"].value == approx(100 - 200 / 7)
    assert scores["PAIN"].value == approx(100 - 350 / 9)
    assert scores["ADL"].value == approx(100 - 500 / 17)
    assert scores["SPORT_REC"].value == approx(20.0)
    assert scores["QOL"].value == approx(43.75)
    # KOOS JR items S6 3 + P2 2 + P3 1 + P6 3 + P9 2 + A3 2 + A5 3 = raw 16 → 47.487 in HSS's table
    assert scores["KOOS_JR"].value == 47.487
    assert all(result.reason == "" for result in scores.values())


def test_koos_keeps_full_precision_and_leaves_rounding_to_display():
    # Pain 1,0,0,0,0,0,0,0,0 → mean 1/9 → 100 - 25/9 = 97.2222…, not 97.2 or 97
    answers = {"P1": 1, **{f"P{i}": 0 for i in range(2, 10)}}
    assert KOOS.score(answers)["PAIN"].value == approx(100 - 25 / 9)


@pytest.mark.parametrize(("code", "expected"), [(0, 100.0), (4, 0.0)])
def test_koos_extremes_score_100_for_no_problems_and_0_for_extreme_problems(code, expected):
    scores = KOOS.score(all_answered(KOOS, code))
    assert {name: result.value for name, result in scores.items()} == {
        "SYMPTOMS": expected,
        "PAIN": expected,
        "ADL": expected,
        "SPORT_REC": expected,
        "QOL": expected,
        "KOOS_JR": expected,  # raw 0 → 100.000, raw 28 → 0.000
    }


@pytest.mark.parametrize(
    ("subscale", "needed", "label"),
    [
        ("SYMPTOMS", 4, "Symptoms"),
        ("PAIN", 5, "Pain"),
        ("ADL", 9, "ADL"),
        ("SPORT_REC", 3, "Sport/Rec"),
        ("QOL", 2, "QOL"),
    ],
)
def test_koos_scores_a_subscale_with_half_its_items_and_refuses_one_fewer(subscale, needed, label):
    codes = KOOS_SUBSCALES[subscale]
    # `needed` items answered 2 → mean 2 → 100 - 2x25 = 50 (KOOS Scoring 2012: 5 of 9 Pain, 4 of 7 Symptoms, …)
    enough = {code: 2 for code in codes[:needed]}
    assert KOOS.score(enough)[subscale].value == 50.0

    too_few = {code: 2 for code in codes[: needed - 1]}
    result = KOOS.score(too_few)[subscale]
    assert result.value is None
    assert result.reason == (
        f"Only {needed - 1} of {len(codes)} {label} items answered; the KOOS guide needs at least {needed}."
    )


def test_koos_reason_reads_plainly_for_pain():
    answers = {"P1": 1, "P2": 2, "P3": 0}
    assert KOOS.score(answers)["PAIN"].reason == "Only 3 of 9 Pain items answered; the KOOS guide needs at least 5."


def test_koos_half_answered_scores_the_mean_of_the_answered_items_only():
    # Pain: P1..P5 answered 4,3,2,1,0 → sum 10 of 5 → mean 2 → 100 - 50 = 50 (missing items are not zeros)
    answers = {"P1": 4, "P2": 3, "P3": 2, "P4": 1, "P5": 0, "P6": None, "P7": None}
    assert KOOS.score(answers)["PAIN"].value == 50.0


def test_an_empty_response_scores_nothing_rather_than_zero():
    for instrument in (KOOS, HOOS, FAOS, KOOS_JR, HOOS_JR):
        for result in instrument.score({}).values():
            assert result.value is None
            assert result.reason


def test_two_boxes_ticked_counts_the_one_showing_the_more_severe_problem():
    # KOOS Scoring 2012: "If two boxes are marked, that which indicates the more severe problem is chosen."
    # P1 ticked Monthly (1) and Daily (3) → 3; the rest 0 → Pain sum 3 of 9 → 100 - 75/9 = 91.666…
    answers: Answers = {"P1": [1, 3], **{f"P{i}": 0 for i in range(2, 10)}}
    assert KOOS.score(answers)["PAIN"].value == approx(100 - 75 / 9)
    # S4 "Can you straighten your knee fully?" ticked Always (0) and Rarely (3): Rarely is worse → 3
    # Symptoms 3 + six 0 → 100 - 75/7 = 89.285714…
    symptoms: Answers = {"S4": (0, 3), **{f"S{i}": 0 for i in (1, 2, 3, 5, 6, 7)}}
    assert KOOS.score(symptoms)["SYMPTOMS"].value == approx(100 - 75 / 7)


def test_two_boxes_ticked_on_a_jr_item_also_counts_the_more_severe():
    # Items 1..7 all 0 except item 4 ticked Mild (1) and Severe (3) → raw 3 → 79.914
    answers = {str(i): 0 for i in range(1, 8)} | {"4": [1, 3]}
    assert KOOS_JR.score(answers)["KOOS_JR"].value == 79.914


# --- KOOS JR --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "interval"), sorted(KOOS_JR_TABLE.items()))
def test_koos_jr_converts_every_raw_sum_by_hss_table(raw, interval):
    answers = spread([str(i) for i in range(1, 8)], raw)
    assert KOOS_JR.score(answers) == {"KOOS_JR": ScoreResult(interval)}


def test_koos_jr_items_are_the_seven_hss_took_from_the_koos():
    assert [item.text["en"] for item in KOOS_JR.items] == [
        "How severe is your knee stiffness after first wakening in the morning?",
        "Twisting/pivoting on your knee",
        "Straightening knee fully",
        "Going up or down stairs",
        "Standing upright",
        "Rising from sitting",
        "Bending to floor/pick up an object",
    ]


@pytest.mark.parametrize("raw", range(29))
def test_koos_jr_from_a_full_koos_equals_the_standalone_koos_jr_on_the_same_answers(raw):
    jr_answers = spread([str(i) for i in range(1, 8)], raw)
    # KOOS JR item n is KOOS item S6, P2, P3, P6, P9, A3, A5 (HSS, Lyman et al. 2016)
    koos_codes = ["S6", "P2", "P3", "P6", "P9", "A3", "A5"]
    koos_answers = all_answered(KOOS, 1) | {koos_codes[int(n) - 1]: code for n, code in jr_answers.items()}
    assert KOOS.score(koos_answers)["KOOS_JR"] == KOOS_JR.score(jr_answers)["KOOS_JR"]


def test_koos_jr_is_not_scored_when_an_item_is_missing():
    answers = {str(i): 1 for i in range(1, 7)}
    result = KOOS_JR.score(answers)["KOOS_JR"]
    assert result.value is None
    assert result.reason == "KOOS JR needs all 7 items answered; item 7 is unanswered."

    koos_answers = all_answered(KOOS, 1) | {"P3": None, "A5": None}
    result = KOOS.score(koos_answers)["KOOS_JR"]
    assert result.value is None
    assert (
        result.reason == "KOOS JR needs all 7 of its KOOS items (S6, P2, P3, P6, P9, A3, A5); P3 and A5 are unanswered."
    )
    # The subscales still score: Pain 8 of 9 answered 1 → 100 - 25 = 75
    assert KOOS.score(koos_answers)["PAIN"].value == 75.0


# --- HOOS and HOOS JR ----------------------------------------------------------------------


def test_hoos_scores_a_whole_response_as_worked_by_hand():
    answers = {
        # Symptoms 2,1,1,3,2 → sum 9 of 5 → 100 - 225/5 = 55
        "S1": 2, "S2": 1, "S3": 1, "S4": 3, "S5": 2,
        # Pain 1,0,2,1,3,1,0,1,2,2 → sum 13 of 10 → 100 - 325/10 = 67.5
        "P1": 1, "P2": 0, "P3": 2, "P4": 1, "P5": 3, "P6": 1, "P7": 0, "P8": 1, "P9": 2, "P10": 2,
        # ADL seventeen 1s except A3 2, A5 3, A12 0, A14 1 → sum 1x13 + 2 + 3 + 0 + 1 = 19 → 100 - 475/17 = 72.058823…
        **{f"A{i}": 1 for i in range(1, 18)}, "A3": 2, "A5": 3, "A12": 0,
        # Sport/Rec 4,4,3,2 → sum 13 of 4 → 100 - 325/4 = 18.75
        "SP1": 4, "SP2": 4, "SP3": 3, "SP4": 2,
        # QOL 2,1,3,2 → sum 8 of 4 → 100 - 50 = 50
        "Q1": 2, "Q2": 1, "Q3": 3, "Q4": 2,
    }  # fmt: skip

    scores = HOOS.score(answers)

    assert scores["SYMPTOMS"].value == approx(55.0)
    assert scores["PAIN"].value == approx(67.5)
    assert scores["ADL"].value == approx(100 - 475 / 17)
    assert scores["SPORT_REC"].value == approx(18.75)
    assert scores["QOL"].value == approx(50.0)
    # HOOS JR items P5 3 + P10 2 + A3 2 + A5 3 + A12 0 + A14 1 = raw 11 → 55.985 in HSS's table
    assert scores["HOOS_JR"].value == 55.985


@pytest.mark.parametrize(("code", "expected"), [(0, 100.0), (4, 0.0)])
def test_hoos_extremes(code, expected):
    assert {r.value for r in HOOS.score(all_answered(HOOS, code)).values()} == {expected}


@pytest.mark.parametrize(
    ("subscale", "needed", "label"),
    [
        ("SYMPTOMS", 3, "Symptoms"),
        ("PAIN", 5, "Pain"),
        ("ADL", 9, "ADL"),
        ("SPORT_REC", 2, "Sport/Rec"),
        ("QOL", 2, "QOL"),
    ],
)
def test_hoos_scores_a_subscale_with_half_its_items_and_refuses_one_fewer(subscale, needed, label):
    # HOOS Scoring 2013: 5 of 10 Pain, 3 of 5 Symptoms, 9 of 17 ADL, 2 of 4 Sport/Rec, 2 of 4 QOL
    codes = HOOS_SUBSCALES[subscale]
    # all answered 3 → mean 3 → 100 - 75 = 25
    assert HOOS.score({code: 3 for code in codes[:needed]})[subscale].value == 25.0
    result = HOOS.score({code: 3 for code in codes[: needed - 1]})[subscale]
    assert result.value is None
    assert result.reason == (
        f"Only {needed - 1} of {len(codes)} {label} items answered; the HOOS guide needs at least {needed}."
    )


@pytest.mark.parametrize(("raw", "interval"), sorted(HOOS_JR_TABLE.items()))
def test_hoos_jr_converts_every_raw_sum_by_hss_table(raw, interval):
    assert HOOS_JR.score(spread([str(i) for i in range(1, 7)], raw)) == {"HOOS_JR": ScoreResult(interval)}


@pytest.mark.parametrize("raw", range(25))
def test_hoos_jr_from_a_full_hoos_equals_the_standalone_hoos_jr_on_the_same_answers(raw):
    jr_answers = spread([str(i) for i in range(1, 7)], raw)
    hoos_codes = ["P5", "P10", "A3", "A5", "A12", "A14"]
    hoos_answers = all_answered(HOOS, 2) | {hoos_codes[int(n) - 1]: code for n, code in jr_answers.items()}
    assert HOOS.score(hoos_answers)["HOOS_JR"] == HOOS_JR.score(jr_answers)["HOOS_JR"]


def test_hoos_jr_is_not_scored_when_an_item_is_missing():
    result = HOOS_JR.score({"1": 0, "2": 0, "4": 0, "5": 0})["HOOS_JR"]
    assert result.value is None
    assert result.reason == "HOOS JR needs all 6 items answered; items 3 and 6 are unanswered."


# --- FAOS ----------------------------------------------------------------------------------


def test_faos_scores_a_whole_response_as_worked_by_hand():
    answers = {
        # Symptoms seven 2s → mean 2 → 50
        **{f"S{i}": 2 for i in range(1, 8)},
        # Pain 0,1,0,1,0,1,0,1,0 → sum 4 of 9 → 100 - 100/9 = 88.888…
        **{f"P{i}": (i + 1) % 2 for i in range(1, 10)},
        # ADL: only A1..A9 answered, all 4 → 9 of 17 is at least half → mean 4 → 0
        **{f"A{i}": 4 for i in range(1, 10)},
        # Sport/Rec: two of five answered → fewer than half → not scored
        "SP1": 1, "SP2": 1,
        # QOL 1,1,1,0 → sum 3 of 4 → 100 - 75/4 = 81.25
        "Q1": 1, "Q2": 1, "Q3": 1, "Q4": 0,
    }  # fmt: skip

    scores = FAOS.score(answers)

    assert scores["SYMPTOMS"].value == 50.0
    assert scores["PAIN"].value == approx(100 - 100 / 9)
    assert scores["ADL"].value == 0.0
    assert scores["SPORT_REC"].value is None
    assert scores["SPORT_REC"].reason == "Only 2 of 5 Sport/Rec items answered; the FAOS guide needs at least 3."
    assert scores["QOL"].value == approx(81.25)


@pytest.mark.parametrize(("code", "expected"), [(0, 100.0), (4, 0.0)])
def test_faos_extremes(code, expected):
    assert {r.value for r in FAOS.score(all_answered(FAOS, code)).values()} == {expected}


# --- Answers that cannot belong to the instrument --------------------------------------------


@pytest.mark.parametrize("instrument", [KOOS, HOOS, FAOS, KOOS_JR, HOOS_JR])
def test_an_unknown_item_code_is_rejected(instrument):
    with pytest.raises(InvalidAnswers, match="has no item 'X9'"):
        instrument.score({"X9": 1})


@pytest.mark.parametrize("answer", [5, -1, True, [2, 7], [], "2"])
def test_an_impossible_answer_code_is_rejected(answer):
    with pytest.raises(InvalidAnswers, match="is not one of its answer codes"):
        KOOS.score({"P1": answer})


def test_jr_item_codes_are_the_jr_forms_not_the_full_forms():
    with pytest.raises(InvalidAnswers):
        KOOS_JR.score({"S6": 1})
    with pytest.raises(InvalidAnswers):
        HOOS_JR.score({"P5": 1})

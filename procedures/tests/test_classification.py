"""PAW and DEPA classifications and cell-dose arithmetic: every boundary, published numbers, bad input.

Worked examples use the mean counts that Dejnek et al. 2022 published for four commercial
PRP systems (World J Orthop 13(6):587-602, Tables 1-3: blood drawn and PRP volume per
system, whole-blood counts of the 12 donors, counts in each PRP). Units there are
10^9/L (= 10^3/µL) for platelets, white cells and neutrophils and 10^12/L (= 10^6/µL)
for red cells. The classes and grades asserted are what the rules give for those means;
the paper itself does not classify them.
"""

import math

import pytest

from procedures.classification import (
    Depa,
    cell_dose,
    concentration_factor,
    depa,
    paw_code,
    per_ul_from_millions,
    per_ul_from_thousands,
    platelet_concentration_factor,
)

ALPHA = "\N{GREEK SMALL LETTER ALPHA}"  # by name: it looks like a Latin "a"
K = per_ul_from_thousands
M = per_ul_from_millions

# Dejnek 2022, Table 2: whole blood of the donors.
BLOOD_PLATELETS = K(240.67)
BLOOD_WBC = K(6.49)
BLOOD_NEUTROPHILS = K(3.79)


def paw(
    prp_platelets: float,
    *,
    baseline_platelets: float = 200_000,
    activated: bool = False,
    baseline_wbc: float = 6_000,
    prp_wbc: float = 1_000,
    baseline_neutrophils: float | None = None,
    prp_neutrophils: float | None = None,
) -> str:
    return paw_code(
        baseline_platelets=baseline_platelets,
        prp_platelets=prp_platelets,
        activated=activated,
        baseline_wbc=baseline_wbc,
        prp_wbc=prp_wbc,
        baseline_neutrophils=baseline_neutrophils,
        prp_neutrophils=prp_neutrophils,
    )


def depa_of(
    *,
    blood_platelets: float = 200_000,
    blood_volume_ml: float = 10,
    prp_platelets: float = 1_000_000,
    prp_volume_ml: float = 1,
    injected_volume_ml: float = 1,
    prp_wbc: float = 0,
    prp_rbc: float = 0,
) -> Depa:
    return depa(
        blood_platelets=blood_platelets,
        blood_volume_ml=blood_volume_ml,
        prp_platelets=prp_platelets,
        prp_volume_ml=prp_volume_ml,
        injected_volume_ml=injected_volume_ml,
        prp_wbc=prp_wbc,
        prp_rbc=prp_rbc,
    )


# --- Lab-sheet units -------------------------------------------------------------------


def test_thousands_per_ul_become_counts_per_ul_without_float_noise() -> None:
    # 240.67 * 1000 is 240670.00000000003 in plain float arithmetic.
    assert per_ul_from_thousands(240.67) == 240_670.0
    assert per_ul_from_thousands(0.87) == 870.0
    assert per_ul_from_thousands(1212) == 1_212_000.0
    assert per_ul_from_thousands(0) == 0.0


def test_millions_per_ul_become_counts_per_ul() -> None:
    assert per_ul_from_millions(0.05) == 50_000.0
    assert per_ul_from_millions(1.49) == 1_490_000.0
    assert per_ul_from_millions(4.97) == 4_970_000.0


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, -math.inf])
def test_unit_helpers_refuse_negative_and_non_finite_values(bad: float) -> None:
    with pytest.raises(ValueError):
        per_ul_from_thousands(bad)
    with pytest.raises(ValueError):
        per_ul_from_millions(bad)


# --- PAW: platelets --------------------------------------------------------------------


def test_prp_at_the_baseline_is_p1() -> None:
    assert paw(200_000, baseline_platelets=200_000) == "P1-B"


def test_prp_below_the_baseline_is_p1() -> None:
    assert paw(150_000, baseline_platelets=200_000) == "P1-B"


def test_one_platelet_above_the_baseline_is_p2() -> None:
    assert paw(200_001, baseline_platelets=200_000) == "P2-B"


def test_exactly_750_thousand_is_still_p2() -> None:
    assert paw(750_000) == "P2-B"


def test_750_001_is_p3() -> None:
    assert paw(750_001) == "P3-B"


def test_exactly_1250_thousand_is_still_p3() -> None:
    assert paw(1_250_000) == "P3-B"


def test_1250_001_is_p4() -> None:
    assert paw(1_250_001) == "P4-B"


def test_p1_wins_when_a_high_baseline_is_not_exceeded() -> None:
    # 800 thousand would be P3 by the absolute bands, but it is not above this
    # patient's own blood, so it is not platelet-rich at all.
    assert paw(800_000, baseline_platelets=900_000) == "P1-B"
    assert paw(900_000, baseline_platelets=900_000) == "P1-B"


def test_above_a_high_baseline_the_absolute_bands_apply() -> None:
    assert paw(900_001, baseline_platelets=900_000) == "P3-B"
    assert paw(1_300_000, baseline_platelets=900_000) == "P4-B"


def test_float_counts_compare_like_int_counts() -> None:
    assert paw(750_000.0) == "P2-B"
    assert paw(750_000.5) == "P3-B"
    assert paw(200_000.0, baseline_platelets=200_000) == "P1-B"


# --- PAW: activation, white cells, neutrophils -----------------------------------------


def test_exogenous_activation_adds_an_x_segment() -> None:
    assert paw(500_000, activated=True) == "P2-x-B"


def test_white_cells_equal_to_baseline_are_b() -> None:
    assert paw(500_000, baseline_wbc=6_000, prp_wbc=6_000) == "P2-B"


def test_white_cells_above_baseline_are_a() -> None:
    assert paw(500_000, baseline_wbc=6_000, prp_wbc=6_001) == "P2-A"


def test_neutrophils_equal_to_baseline_are_beta() -> None:
    assert paw(500_000, baseline_neutrophils=3_000, prp_neutrophils=3_000) == "P2-Bβ"


def test_neutrophils_above_baseline_are_alpha() -> None:
    assert paw(500_000, prp_wbc=9_000, baseline_neutrophils=3_000, prp_neutrophils=3_001) == f"P2-A{ALPHA}"


def test_uncounted_neutrophils_leave_no_greek_letter() -> None:
    assert paw(500_000, prp_wbc=9_000) == "P2-A"
    assert paw(500_000, prp_wbc=9_000, activated=True) == "P2-x-A"


def test_the_papers_own_example_p2_x_b_beta() -> None:
    # DeLong 2012's worked notation: above baseline up to 750k, activated, white cells and
    # neutrophils at or below baseline.
    code = paw(
        600_000,
        activated=True,
        baseline_wbc=6_000,
        prp_wbc=500,
        baseline_neutrophils=3_500,
        prp_neutrophils=100,
    )
    assert code == "P2-x-Bβ"


def test_every_segment_at_its_high_end_gives_p4_x_a_alpha() -> None:
    code = paw(
        2_000_000,
        activated=True,
        baseline_wbc=6_000,
        prp_wbc=30_000,
        baseline_neutrophils=3_500,
        prp_neutrophils=15_000,
    )
    assert code == f"P4-x-A{ALPHA}"


def test_a_leukocyte_poor_system_without_activation_is_p2_b_beta() -> None:
    # Dejnek 2022, Table 3, Arthrex ACP: 357.33 platelets, 0.87 white cells, 0.87 neutrophils
    # (x10^3/µL); injected without exogenous activation (Table 1: "in vivo").
    code = paw_code(
        baseline_platelets=BLOOD_PLATELETS,
        prp_platelets=K(357.33),
        activated=False,
        baseline_wbc=BLOOD_WBC,
        prp_wbc=K(0.87),
        baseline_neutrophils=BLOOD_NEUTROPHILS,
        prp_neutrophils=K(0.87),
    )
    assert code == "P2-Bβ"


def test_a_buffy_coat_system_without_activation_is_p3_a_alpha() -> None:
    # Dejnek 2022, Table 3, Mini GPS III: 1212.67 platelets, 34.19 white cells, 16.71 neutrophils.
    code = paw_code(
        baseline_platelets=BLOOD_PLATELETS,
        prp_platelets=K(1212.67),
        activated=False,
        baseline_wbc=BLOOD_WBC,
        prp_wbc=K(34.19),
        baseline_neutrophils=BLOOD_NEUTROPHILS,
        prp_neutrophils=K(16.71),
    )
    assert code == f"P3-A{ALPHA}"


@pytest.mark.parametrize(
    ("system", "prp_platelets", "prp_wbc", "prp_neutrophils"),
    [("Xerthra", 455.27, 1.80, 1.80), ("Dr. PRP", 499.75, 0.60, 0.60)],
)
def test_the_two_gel_tube_systems_are_p2_b_beta(
    system: str, prp_platelets: float, prp_wbc: float, prp_neutrophils: float
) -> None:
    code = paw_code(
        baseline_platelets=BLOOD_PLATELETS,
        prp_platelets=K(prp_platelets),
        activated=False,
        baseline_wbc=BLOOD_WBC,
        prp_wbc=K(prp_wbc),
        baseline_neutrophils=BLOOD_NEUTROPHILS,
        prp_neutrophils=K(prp_neutrophils),
    )
    assert code == "P2-Bβ", system


def test_neutrophils_given_for_one_side_only_are_refused() -> None:
    with pytest.raises(ValueError, match="neutrophil"):
        paw(500_000, baseline_neutrophils=3_000)
    with pytest.raises(ValueError, match="neutrophil"):
        paw(500_000, prp_neutrophils=3_000)


@pytest.mark.parametrize(
    "field", ["baseline_platelets", "prp_platelets", "baseline_wbc", "prp_wbc", "baseline_neutrophils"]
)
@pytest.mark.parametrize("bad", [-1, -0.5, math.nan, math.inf])
def test_paw_refuses_negative_and_non_finite_counts(field: str, bad: float) -> None:
    counts: dict = {
        "baseline_platelets": 200_000,
        "prp_platelets": 500_000,
        "baseline_wbc": 6_000,
        "prp_wbc": 1_000,
        "baseline_neutrophils": 3_000,
        "prp_neutrophils": 500,
    }
    counts[field] = bad
    with pytest.raises(ValueError, match=field):
        paw_code(activated=False, **counts)


def test_paw_refuses_a_count_that_is_not_a_number() -> None:
    with pytest.raises(TypeError):
        paw(prp_platelets="500000")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        paw(prp_platelets=True)


def test_paw_refuses_an_activation_flag_that_is_not_a_bool() -> None:
    # A truthy "none" from a form must not silently become "activated".
    with pytest.raises(TypeError):
        paw(500_000, activated="none")  # type: ignore[arg-type]


# --- DEPA: published numbers -----------------------------------------------------------


def test_depa_of_a_leukocyte_poor_system() -> None:
    # Dejnek 2022, Arthrex ACP: 13.5 mL of blood -> 4 mL of PRP (Table 1), injected whole;
    # 0.05 x10^6/µL red cells (Table 3).
    result = depa(
        blood_platelets=BLOOD_PLATELETS,
        blood_volume_ml=13.5,
        prp_platelets=K(357.33),
        prp_volume_ml=4,
        injected_volume_ml=4,
        prp_wbc=K(0.87),
        prp_rbc=M(0.05),
    )
    assert result == {
        "dose_billions": pytest.approx(1.42932, rel=1e-12),
        "efficiency_pct": pytest.approx(357.33 * 4 / (240.67 * 13.5) * 100, rel=1e-12),
        "purity_pct": pytest.approx(357.33 / (357.33 + 0.87 + 50) * 100, rel=1e-12),
        "dose_grade": "C",
        "efficiency_grade": "C",
        "purity_grade": "B",
    }
    assert round(result["efficiency_pct"], 2) == 43.99
    assert round(result["purity_pct"], 2) == 87.54


def test_depa_of_a_buffy_coat_system() -> None:
    # Dejnek 2022, Mini GPS III: 27 mL -> 3 mL; 34.19 white cells, 1.49 x10^6/µL red cells.
    result = depa(
        blood_platelets=BLOOD_PLATELETS,
        blood_volume_ml=27,
        prp_platelets=K(1212.67),
        prp_volume_ml=3,
        injected_volume_ml=3,
        prp_wbc=K(34.19),
        prp_rbc=M(1.49),
    )
    assert result["dose_billions"] == pytest.approx(3.63801, rel=1e-12)
    assert round(result["efficiency_pct"], 2) == 55.99
    assert round(result["purity_pct"], 2) == 44.31
    assert (result["dose_grade"], result["efficiency_grade"], result["purity_grade"]) == ("B", "C", "C")


def test_depa_of_a_gel_tube_system_that_loses_most_platelets() -> None:
    # Dejnek 2022, Xerthra: 13.5 mL -> 1.5 mL; 455.27 platelets, 1.80 white, 0.02 x10^6 red.
    result = depa(
        blood_platelets=BLOOD_PLATELETS,
        blood_volume_ml=13.5,
        prp_platelets=K(455.27),
        prp_volume_ml=1.5,
        injected_volume_ml=1.5,
        prp_wbc=K(1.80),
        prp_rbc=M(0.02),
    )
    assert round(result["dose_billions"], 6) == 0.682905
    assert round(result["efficiency_pct"], 2) == 21.02
    assert round(result["purity_pct"], 2) == 95.43
    assert (result["dose_grade"], result["efficiency_grade"], result["purity_grade"]) == ("D", "D", "A")


def test_only_the_injected_part_counts_towards_the_dose() -> None:
    # 6 mL prepared at 1,000,000/µL; 2 mL of it injected is 2 billion platelets.
    result = depa_of(prp_platelets=1_000_000, prp_volume_ml=6, injected_volume_ml=2)
    assert (result["dose_billions"], result["dose_grade"]) == (2.0, "C")


def test_efficiency_above_100_percent_is_reported_as_measured() -> None:
    # More platelets out than in is a counting error upstream, but the number is what the
    # lab sheet says; it grades A rather than being hidden.
    result = depa_of(blood_platelets=200_000, blood_volume_ml=10, prp_platelets=1_000_000, prp_volume_ml=6)
    assert (result["efficiency_pct"], result["efficiency_grade"]) == (300.0, "A")


# --- DEPA: every grade boundary, both sides --------------------------------------------
# Dose = PRP platelets/µL x injected mL x 1000 µL/mL; 1 billion = 1,000,000/µL x 1 mL.


@pytest.mark.parametrize(
    ("prp_platelets", "injected_ml", "dose", "grade"),
    [
        (1_250_000, 4, 5.0, "B"),  # exactly 5 billion: not "more than 5"
        (1_250_001, 4, 5.000004, "A"),
        (1_000_000, 3, 3.0, "C"),  # exactly 3 billion: the top of C, not "more than 3"
        (1_000_001, 3, 3.000003, "B"),
        (1_000_000, 1, 1.0, "C"),  # exactly 1 billion: not "less than 1"
        (999_999, 1, 0.999999, "D"),
        (0, 1, 0.0, "D"),
    ],
)
def test_dose_grade_boundaries(prp_platelets: int, injected_ml: float, dose: float, grade: str) -> None:
    # Some red cells, so a PRP with no platelets still has a (zero) purity.
    result = depa_of(prp_platelets=prp_platelets, prp_volume_ml=5, injected_volume_ml=injected_ml, prp_rbc=10_000)
    assert (result["dose_billions"], result["dose_grade"]) == (dose, grade)


@pytest.mark.parametrize(
    ("prp_platelets", "efficiency", "grade"),
    [
        (1_800_000, 90.0, "B"),  # exactly 90%: not "more than 90"
        (1_800_001, 90.00005, "A"),
        (1_400_000, 70.0, "C"),  # exactly 70%: the top of C, not "more than 70"
        (1_400_001, 70.00005, "B"),
        (600_000, 30.0, "C"),  # exactly 30%: not "less than 30"
        (599_999, 29.99995, "D"),
    ],
)
def test_efficiency_grade_boundaries(prp_platelets: int, efficiency: float, grade: str) -> None:
    # 10 mL of blood at 200k/µL holds 2 x 10^9 platelets; 1 mL of PRP recovers prp_platelets x 1000.
    result = depa_of(blood_platelets=200_000, blood_volume_ml=10, prp_platelets=prp_platelets, prp_volume_ml=1)
    assert (result["efficiency_pct"], result["efficiency_grade"]) == (efficiency, grade)


def test_efficiency_exactly_30_percent_survives_float_rounding() -> None:
    # 0.3 * 100 is 30.000000000000004 in float; the grade is decided on exact values.
    result = depa_of(blood_platelets=1_000_000, blood_volume_ml=1, prp_platelets=300_000, prp_volume_ml=1)
    assert (result["efficiency_pct"], result["efficiency_grade"]) == (30.0, "C")


@pytest.mark.parametrize(
    ("prp_platelets", "others", "grade"),
    [
        (900_000, 100_000, "B"),  # exactly 90%: not "more than 90"
        (900_001, 100_000, "A"),
        (700_000, 300_000, "C"),  # exactly 70%: the top of C
        (700_001, 300_000, "B"),
        (300_000, 700_000, "C"),  # exactly 30%: not "less than 30"
        (299_999, 700_000, "D"),
    ],
)
def test_purity_grade_boundaries(prp_platelets: int, others: int, grade: str) -> None:
    # Split the non-platelet cells between white and red to show both count against purity.
    result = depa_of(prp_platelets=prp_platelets, prp_wbc=others // 4, prp_rbc=others - others // 4)
    assert result["purity_pct"] == pytest.approx(prp_platelets / (prp_platelets + others) * 100, rel=1e-12)
    assert result["purity_grade"] == grade


def test_purity_exactly_at_a_boundary_is_exact() -> None:
    assert depa_of(prp_platelets=900_000, prp_wbc=50_000, prp_rbc=50_000)["purity_pct"] == 90.0
    assert depa_of(prp_platelets=300_000, prp_wbc=0, prp_rbc=700_000)["purity_pct"] == 30.0


def test_purity_counts_white_and_red_cells_alike() -> None:
    white = depa_of(prp_platelets=800_000, prp_wbc=200_000, prp_rbc=0)
    red = depa_of(prp_platelets=800_000, prp_wbc=0, prp_rbc=200_000)
    assert white["purity_pct"] == red["purity_pct"] == 80.0


def test_depa_returns_no_combined_code() -> None:
    assert set(depa_of()) == {
        "dose_billions",
        "efficiency_pct",
        "purity_pct",
        "dose_grade",
        "efficiency_grade",
        "purity_grade",
    }


# --- DEPA: bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "blood_platelets",
        "blood_volume_ml",
        "prp_platelets",
        "prp_volume_ml",
        "injected_volume_ml",
        "prp_wbc",
        "prp_rbc",
    ],
)
@pytest.mark.parametrize("bad", [-1, math.nan, math.inf])
def test_depa_refuses_negative_and_non_finite_inputs(field: str, bad: float) -> None:
    with pytest.raises(ValueError, match=field):
        depa_of(**{field: bad})


@pytest.mark.parametrize("field", ["blood_platelets", "blood_volume_ml"])
def test_depa_refuses_an_empty_blood_draw(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        depa_of(**{field: 0})


def test_depa_refuses_injecting_more_than_was_prepared() -> None:
    with pytest.raises(ValueError, match="injected_volume_ml"):
        depa_of(prp_volume_ml=3, injected_volume_ml=3.5)


def test_depa_refuses_a_prp_with_no_cells_at_all() -> None:
    with pytest.raises(ValueError, match="purity"):
        depa_of(prp_platelets=0, prp_wbc=0, prp_rbc=0)


# --- Cell dose and concentration factors -----------------------------------------------


def test_cell_dose_is_count_per_ml_times_volume() -> None:
    assert cell_dose(tnc_per_ml=25_000_000, volume_ml=4) == 100_000_000
    assert cell_dose(tnc_per_ml=32_500_000.0, volume_ml=2.5) == 81_250_000


def test_cell_dose_multiplies_lab_decimals_exactly() -> None:
    # 0.1 mL x 3 is not 0.3 in float; the product is taken on the decimals as typed.
    assert cell_dose(tnc_per_ml=30_000_001, volume_ml=0.3) == 9_000_000  # 9,000,000.3
    assert cell_dose(tnc_per_ml=12_345_678.5, volume_ml=1) == 12_345_679


def test_cell_dose_rounds_a_half_cell_up() -> None:
    assert cell_dose(tnc_per_ml=5, volume_ml=0.5) == 3  # 2.5
    assert cell_dose(tnc_per_ml=7, volume_ml=0.5) == 4  # 3.5: half-up, not to even
    assert cell_dose(tnc_per_ml=3, volume_ml=0.1) == 0  # 0.3


def test_cell_dose_of_nothing_injected_is_zero() -> None:
    assert cell_dose(tnc_per_ml=25_000_000, volume_ml=0) == 0


@pytest.mark.parametrize(("tnc", "volume"), [(-1, 1), (1, -1), (math.nan, 1), (1, math.inf)])
def test_cell_dose_refuses_negative_and_non_finite_inputs(tnc: float, volume: float) -> None:
    with pytest.raises(ValueError):
        cell_dose(tnc_per_ml=tnc, volume_ml=volume)


def test_concentration_factor_is_the_fold_increase_over_the_aspirate() -> None:
    assert concentration_factor(concentrate_tnc_per_ml=60_000_000, aspirate_tnc_per_ml=15_000_000) == 4.0
    assert concentration_factor(concentrate_tnc_per_ml=10_000_000, aspirate_tnc_per_ml=20_000_000) == 0.5
    assert concentration_factor(concentrate_tnc_per_ml=10_000_000, aspirate_tnc_per_ml=3_000_000) == pytest.approx(
        10 / 3, rel=1e-15
    )


def test_concentration_factor_refuses_an_aspirate_without_cells() -> None:
    with pytest.raises(ValueError, match="aspirate_tnc_per_ml"):
        concentration_factor(concentrate_tnc_per_ml=60_000_000, aspirate_tnc_per_ml=0)


@pytest.mark.parametrize(("concentrate", "aspirate"), [(-1, 1), (1, -1), (math.nan, 1), (1, math.inf)])
def test_concentration_factor_refuses_negative_and_non_finite_counts(concentrate: float, aspirate: float) -> None:
    with pytest.raises(ValueError):
        concentration_factor(concentrate_tnc_per_ml=concentrate, aspirate_tnc_per_ml=aspirate)


def test_platelet_concentration_factor_of_published_means() -> None:
    # Dejnek 2022 report 1.47 and 5.05 as the mean of per-donor ratios (Table 3, "xPLT");
    # the ratio of the mean counts is a little different, and is what this computes.
    acp = platelet_concentration_factor(prp_platelets=K(357.33), baseline_platelets=BLOOD_PLATELETS)
    gps = platelet_concentration_factor(prp_platelets=K(1212.67), baseline_platelets=BLOOD_PLATELETS)
    assert (round(acp, 4), round(gps, 4)) == (1.4847, 5.0387)
    assert platelet_concentration_factor(prp_platelets=1_000_000, baseline_platelets=250_000) == 4.0


def test_platelet_concentration_factor_refuses_a_zero_baseline() -> None:
    with pytest.raises(ValueError, match="baseline_platelets"):
        platelet_concentration_factor(prp_platelets=1_000_000, baseline_platelets=0)

"""How a PRP or a bone-marrow concentrate is classified and dosed, from its cell counts.

Pure functions, no Django. Every count is cells per microlitre (µL) unless the name says
per mL; volumes are mL. Lab sheets print platelets and white cells in 10^3/µL and red
cells in 10^6/µL: convert with `per_ul_from_thousands` / `per_ul_from_millions` first.

PAW -- DeLong JM, Russell RP, Mazzocca AD. Platelet-rich plasma: the PAW classification
system. Arthroscopy 2012;28(7):998-1009.
  Platelets: P1 at or below the patient's whole-blood count; P2 above it up to and
  including 750 x 10^3/µL; P3 above 750 up to and including 1,250 x 10^3/µL; P4 above
  1,250 x 10^3/µL. Activation: "x" when activated exogenously, nothing otherwise.
  White cells: "A" above the whole-blood count, "B" at or below it; neutrophils likewise
  Greek alpha / "β", left out when they were not counted. Written "P2-x-Bβ", or "P2-Bβ" without
  activation (no empty segment), as the paper's example and later users of it write it.
  P1 is decided first, so a PRP at or below a baseline above 750 x 10^3/µL is P1, not P3:
  the bands describe how platelet-rich a preparation is, and it is not rich at all.
  (Bands and notation checked against reviews that restate the paper -- Frontiers Vet Sci
  2021;8:641818 Table 1; J Pain Res 2019;12:753 Table 1, with the example "P2-x-Bβ";
  Orthop J Sports Med 2020, PMC7607802 Table 2 -- not against the paywalled original.)

DEPA -- Magalon J, et al. DEPA classification: a proposal for standardising PRP use and a
retrospective application of available devices. BMJ Open Sport Exerc Med 2016;2:e000060.
  Dose of injected platelets, in billions: A > 5, B 3-5, C 1-3, D < 1.
  Efficiency (platelets recovered in the PRP / platelets in the blood drawn): A > 90%,
  B 70-90%, C 30-70%, D < 30%.
  Purity (platelets / all platelets, white and red cells in the PRP): A > 90%, B 70-90%,
  C 30-70%, D < 30%.
  Where two bands share an end (3, 70), the value belongs to the lower band, and each
  band's other end follows its strict sign: exactly 5 billion is B, exactly 3 is C,
  exactly 1 is C; exactly 90% is B, exactly 70% is C, exactly 30% is C. The grades are
  decided on the exact value of the numbers given, not on a rounded float, so a
  preparation exactly on a boundary grades the same way every time.
  NOT YET VERIFIED: these limits are as our issue states them; the abstract confirms only
  "purity A = over 90%" and that no device recovers over 90%. Check them against the
  paper's classification table before anyone quotes a grade.
  The fourth letter, Activation, is a description (agent, or none), not a graded number,
  and is not computed here; nor is a combined four-letter code.
"""

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TypedDict

Count = int | float

# PAW platelet bands, per µL.
PAW_P2_MAX = 750_000
PAW_P3_MAX = 1_250_000
# Spelled by name: a Greek alpha looks like a Latin "a" in most fonts.
NEUTROPHILS_ABOVE = "\N{GREEK SMALL LETTER ALPHA}"
NEUTROPHILS_AT_OR_BELOW = "\N{GREEK SMALL LETTER BETA}"

# DEPA: (more than this is A, more than this is B, at least this is C), else D.
DOSE_BILLIONS_BANDS = (5, 3, 1)
EFFICIENCY_PCT_BANDS = (90, 70, 30)
PURITY_PCT_BANDS = (90, 70, 30)

UL_PER_ML = 1000


class Depa(TypedDict):
    """DEPA's three measured parts of one PRP preparation, each with its letter."""

    dose_billions: float
    efficiency_pct: float
    purity_pct: float
    dose_grade: str
    efficiency_grade: str
    purity_grade: str


def _number(name: str, value: object) -> Fraction:
    """The exact value of a non-negative, finite int or float, named in the error if not."""
    # bool is an int; a stray True must not count as one cell.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be an int or a float, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return Fraction(value)


def _decimal(name: str, value: Count) -> Decimal:
    """A lab value as the decimal it was typed as (0.87, not 0.869999...)."""
    _number(name, value)
    return Decimal(repr(value))


def per_ul_from_thousands(x: Count) -> float:
    """A count printed in 10^3/µL (platelets, white cells) as cells per µL: 240.67 -> 240670.0."""
    # Shifting the decimal point on the typed digits avoids 240.67 * 1000 == 240670.00000000003.
    return float(_decimal("x", x).scaleb(3))


def per_ul_from_millions(x: Count) -> float:
    """A count printed in 10^6/µL (red cells) as cells per µL: 0.05 -> 50000.0."""
    return float(_decimal("x", x).scaleb(6))


def paw_code(
    *,
    baseline_platelets: Count,
    prp_platelets: Count,
    activated: bool,
    baseline_wbc: Count,
    prp_wbc: Count,
    baseline_neutrophils: Count | None = None,
    prp_neutrophils: Count | None = None,
) -> str:
    """The PAW class of a PRP, like "P2-x-Bβ" or "P2-Bβ" (see the module docstring).

    Neutrophils are both given or both None (not counted); one without the other is a
    ValueError, since a comparison with a missing side cannot be made.
    """
    baseline = _number("baseline_platelets", baseline_platelets)
    platelets = _number("prp_platelets", prp_platelets)
    blood_wbc = _number("baseline_wbc", baseline_wbc)
    wbc = _number("prp_wbc", prp_wbc)
    if not isinstance(activated, bool):
        raise TypeError(f"activated must be a bool, not {type(activated).__name__}")
    if (baseline_neutrophils is None) != (prp_neutrophils is None):
        raise ValueError("give both baseline_neutrophils and prp_neutrophils, or neither")

    if platelets <= baseline:
        platelet_class = "P1"
    elif platelets <= PAW_P2_MAX:
        platelet_class = "P2"
    elif platelets <= PAW_P3_MAX:
        platelet_class = "P3"
    else:
        platelet_class = "P4"

    white = "A" if wbc > blood_wbc else "B"
    if baseline_neutrophils is not None and prp_neutrophils is not None:
        blood_neutrophils = _number("baseline_neutrophils", baseline_neutrophils)
        neutrophils = _number("prp_neutrophils", prp_neutrophils)
        white += NEUTROPHILS_ABOVE if neutrophils > blood_neutrophils else NEUTROPHILS_AT_OR_BELOW

    segments = [platelet_class, "x", white] if activated else [platelet_class, white]
    return "-".join(segments)


def _grade(value: Fraction, bands: tuple[int, int, int]) -> str:
    above_a, above_b, from_c = bands
    if value > above_a:
        return "A"
    if value > above_b:
        return "B"
    if value >= from_c:
        return "C"
    return "D"


def depa(
    *,
    blood_platelets: Count,
    blood_volume_ml: Count,
    prp_platelets: Count,
    prp_volume_ml: Count,
    injected_volume_ml: Count,
    prp_wbc: Count,
    prp_rbc: Count,
) -> Depa:
    """Dose, efficiency and purity of a PRP with their DEPA letters (see the module docstring).

    Dose counts the injected volume only; efficiency counts all the PRP prepared. An
    efficiency above 100% (more platelets out than drawn) is returned as measured.
    """
    blood = _number("blood_platelets", blood_platelets)
    drawn_ml = _number("blood_volume_ml", blood_volume_ml)
    platelets = _number("prp_platelets", prp_platelets)
    prepared_ml = _number("prp_volume_ml", prp_volume_ml)
    injected_ml = _number("injected_volume_ml", injected_volume_ml)
    wbc = _number("prp_wbc", prp_wbc)
    rbc = _number("prp_rbc", prp_rbc)
    if blood == 0:
        raise ValueError("blood_platelets must be above zero to measure efficiency")
    if drawn_ml == 0:
        raise ValueError("blood_volume_ml must be above zero to measure efficiency")
    if injected_ml > prepared_ml:
        raise ValueError(f"injected_volume_ml ({injected_volume_ml}) exceeds prp_volume_ml ({prp_volume_ml})")
    if platelets + wbc + rbc == 0:
        raise ValueError("a PRP with no platelets, white or red cells has no purity")

    dose = platelets * injected_ml * UL_PER_ML / 1_000_000_000
    # The µL-per-mL factor is on both sides of the efficiency ratio and cancels.
    efficiency = platelets * prepared_ml * 100 / (blood * drawn_ml)
    purity = platelets * 100 / (platelets + wbc + rbc)
    return {
        "dose_billions": float(dose),
        "efficiency_pct": float(efficiency),
        "purity_pct": float(purity),
        "dose_grade": _grade(dose, DOSE_BILLIONS_BANDS),
        "efficiency_grade": _grade(efficiency, EFFICIENCY_PCT_BANDS),
        "purity_grade": _grade(purity, PURITY_PCT_BANDS),
    }


def cell_dose(*, tnc_per_ml: Count, volume_ml: Count) -> int:
    """Total nucleated cells injected: TNC per mL x mL, to the nearest cell.

    The product is taken on the values as typed (0.3 mL, not 0.29999...), and half a cell
    rounds up (2.5 -> 3, 3.5 -> 4), as a lab sheet rounds, rather than to even.
    """
    cells = _decimal("tnc_per_ml", tnc_per_ml) * _decimal("volume_ml", volume_ml)
    return int(cells.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def concentration_factor(*, concentrate_tnc_per_ml: Count, aspirate_tnc_per_ml: Count) -> float:
    """How many times more nucleated cells per mL the concentrate has than the aspirate."""
    concentrate = _number("concentrate_tnc_per_ml", concentrate_tnc_per_ml)
    aspirate = _number("aspirate_tnc_per_ml", aspirate_tnc_per_ml)
    if aspirate == 0:
        raise ValueError("aspirate_tnc_per_ml must be above zero to compare with")
    return float(concentrate / aspirate)


def platelet_concentration_factor(*, prp_platelets: Count, baseline_platelets: Count) -> float:
    """How many times the whole-blood platelet count the PRP has (1.0 = no enrichment)."""
    platelets = _number("prp_platelets", prp_platelets)
    baseline = _number("baseline_platelets", baseline_platelets)
    if baseline == 0:
        raise ValueError("baseline_platelets must be above zero to compare with")
    return float(platelets / baseline)

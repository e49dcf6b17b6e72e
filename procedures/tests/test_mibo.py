"""The MIBO reporting checklist as data, and which of its items a procedure record still lacks."""

import pytest

from procedures.mibo import FIELDS, ITEMS, MiboItem, Part, mibo_missing


def codes(items: list[MiboItem]) -> list[str]:
    return [item.code for item in items]


def fields_of(part: Part) -> set[str]:
    return {field for item in ITEMS if item.part in (part, Part.BOTH) for field in item.fields}


PRP_CODES = [item.code for item in ITEMS if item.part in (Part.PRP, Part.BOTH)]
CELL_CODES = [item.code for item in ITEMS if item.part in (Part.CELLS, Part.BOTH)]


def test_every_item_names_only_fields_of_the_vocabulary() -> None:
    unknown = {(item.code, field) for item in ITEMS for field in item.fields if field not in FIELDS}
    assert unknown == set()


def test_every_field_of_the_vocabulary_satisfies_some_item() -> None:
    used = {field for item in ITEMS for field in item.fields}
    assert [field for field in FIELDS if field not in used] == []


def test_codes_and_fields_are_unique_and_every_item_needs_a_field() -> None:
    assert len({item.code for item in ITEMS}) == len(ITEMS)
    assert len(set(FIELDS)) == len(FIELDS)
    assert [item.code for item in ITEMS if not item.fields or not item.text] == []


def test_codes_say_which_product_the_item_is_for() -> None:
    prefixes = {Part.PRP: "PRP-", Part.CELLS: "CELL-", Part.BOTH: "BOTH-"}
    assert [item.code for item in ITEMS if not item.code.startswith(prefixes[item.part])] == []


def test_an_empty_prp_record_misses_every_prp_item_in_checklist_order() -> None:
    assert codes(mibo_missing(set(), product="prp")) == PRP_CODES


def test_an_empty_cell_record_misses_every_cell_item_in_checklist_order() -> None:
    assert codes(mibo_missing(set(), product="cells")) == CELL_CODES


def test_prp_and_cell_checklists_share_the_both_items_only() -> None:
    prp = set(codes(mibo_missing(set(), product="prp")))
    cells = set(codes(mibo_missing(set(), product="cells")))
    assert prp & cells == {item.code for item in ITEMS if item.part is Part.BOTH}
    assert "PRP-07" in prp - cells
    assert "CELL-08" in cells - prp


def test_a_complete_prp_record_misses_nothing() -> None:
    assert mibo_missing(fields_of(Part.PRP), product="prp") == []


def test_a_complete_cell_record_misses_nothing() -> None:
    assert mibo_missing(fields_of(Part.CELLS), product="cells") == []


def test_an_item_needing_several_fields_stays_missing_until_all_are_filled() -> None:
    platelets = next(item for item in ITEMS if item.code == "PRP-06")
    assert platelets.fields == ("counts.baseline_platelets", "counts.prp_platelets")
    filled = fields_of(Part.PRP) - {"counts.baseline_platelets"}
    assert codes(mibo_missing(filled, product="prp")) == ["PRP-06"]


def test_the_cell_dose_item_is_satisfied_by_the_count_and_the_injected_volume() -> None:
    # The dose itself is computed (classification.cell_dose), so the record needs only its inputs.
    dose = next(item for item in ITEMS if item.code == "CELL-12")
    assert dose.fields == ("counts.tnc_per_ml", "injection.volume_ml")


def test_a_typical_bmac_record_without_lab_characterisation() -> None:
    filled = fields_of(Part.CELLS) - {"counts.cfu_f", "counts.viability_pct", "characterization.surface_markers"}
    assert codes(mibo_missing(filled, product="cells")) == ["CELL-09", "CELL-10", "CELL-11"]


def test_prp_fields_do_nothing_for_a_cell_record() -> None:
    only_prp = fields_of(Part.PRP) - fields_of(Part.CELLS)
    assert "counts.prp_platelets" in only_prp
    assert codes(mibo_missing(only_prp, product="cells")) == CELL_CODES


def test_a_frozenset_of_fields_is_accepted() -> None:
    assert mibo_missing(frozenset(fields_of(Part.PRP)), product="prp") == []


def test_a_misspelt_field_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match=r"counts\.prp_platelet"):
        mibo_missing({"counts.prp_platelet"}, product="prp")


@pytest.mark.parametrize("product", ["PRP", "bmac", "both", ""])
def test_an_unknown_product_is_refused(product: str) -> None:
    with pytest.raises(ValueError, match="product"):
        mibo_missing(set(), product=product)


def test_items_are_immutable() -> None:
    with pytest.raises(AttributeError):
        ITEMS[0].code = "X"  # type: ignore[misc]

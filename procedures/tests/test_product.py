"""The record's product computed from what it holds (PAW, DEPA, dose, factors), and its MIBO completeness."""

from decimal import Decimal
from typing import Any

import pytest

from patients.models import CandidacyAssessment, Patient
from procedures import product
from procedures.models import Injection, ProcedureRecord
from procedures.tests.conftest import COUNTS, Clinic, at, fill, start

pytestmark = pytest.mark.django_db
BETA = "\N{GREEK SMALL LETTER BETA}"


def unsaved(clinic: Clinic, **values: Any) -> ProcedureRecord:
    record = ProcedureRecord(episode=clinic.episode, procedure_date=at("09:00").date(), **values)
    return record


def injection(record: ProcedureRecord, **values: Any) -> Injection:
    return Injection(
        record=record, target_structure="medial compartment", site="knee", side="right", guidance="ultrasound",
        injected_at=at("10:10"), **values,
    )  # fmt: skip


def test_the_worked_example_classifies_as_published(clinic: Clinic) -> None:
    # Dejnek 2022: Arthrex ACP means, 13.5 mL of blood to 4 mL of PRP, all of it injected.
    record = unsaved(clinic, **COUNTS, blood_volume_ml=Decimal("13.5"), prp_volume_ml=Decimal("4"), activation="none")
    result = product.classify(record, [injection(record, prp_ml=Decimal("4"), concentrate_ml=Decimal("4"))])
    assert result.paw_code.value == f"P2-B{BETA}"
    assert (
        result.depa.value["dose_grade"],
        result.depa.value["efficiency_grade"],
        result.depa.value["purity_grade"],
    ) == (
        "C",
        "C",
        "B",
    )
    assert round(result.depa.value["efficiency_pct"], 2) == 43.99
    # 25 x 10^6 nucleated cells/mL x 4 mL; 25 over an aspirate of 12.5.
    assert (result.cell_dose.value, result.concentration_factor.value) == (100_000_000, 2.0)


def test_activation_adds_the_x_and_neutrophils_are_left_out_when_one_side_is_missing(clinic: Clinic) -> None:
    counts = {**COUNTS, "prp_neutrophils": None}
    record = unsaved(clinic, **counts, activation="calcium_chloride")
    assert product.classify(record, []).paw_code.value == "P2-x-B"


def test_each_missing_input_is_named_instead_of_a_zero(clinic: Clinic) -> None:
    record = unsaved(clinic, prp_platelets=Decimal("357.33"))
    result = product.classify(record, [])
    assert (
        result.paw_code.reason == "Needs: whole-blood platelets, whole-blood white cells, PRP white cells, activation."
    )
    assert result.cell_dose.reason == "Needs: concentrate nucleated cells, concentrate injected."
    assert (result.paw_code.value, result.cell_dose.value, result.depa.value) == (None, None, None)


def test_more_prp_injected_than_prepared_is_a_reason_not_a_grade(clinic: Clinic) -> None:
    record = unsaved(clinic, **COUNTS, blood_volume_ml=Decimal("13.5"), prp_volume_ml=Decimal("2"), activation="none")
    result = product.classify(record, [injection(record, prp_ml=Decimal("3"))])
    assert (result.depa.value, result.depa.reason) == (None, "More PRP was injected than was prepared.")
    assert product.stored_fields(result)["depa"] == {"not_computed": "More PRP was injected than was prepared."}


def test_an_aspirate_count_of_zero_gives_no_factor(clinic: Clinic) -> None:
    record = unsaved(clinic, concentrate_tnc=Decimal("25"), aspirate_tnc=Decimal("0"))
    result = product.classify(record, [])
    assert (result.concentration_factor.value, result.concentration_factor.reason) == (
        None,
        "The aspirate count is zero, so there is nothing to compare with.",
    )


def test_dose_sums_every_injection(clinic: Clinic) -> None:
    record = unsaved(clinic, concentrate_tnc=Decimal("32.5"))
    doses = [injection(record, concentrate_ml=Decimal("1.5")), injection(record, concentrate_ml=Decimal("1.0"))]
    assert product.classify(record, doses).cell_dose.value == 81_250_000


# --- MIBO ----------------------------------------------------------------------------------------


def lines(record: ProcedureRecord) -> dict[str, tuple[list[str], list[str]]]:
    injections = list(record.injections.order_by("injected_at"))
    return {
        line.product: ([i.code for i in line.missing], [i.code for i in line.not_recordable])
        for line in product.mibo_lines(record, injections)
    }


def test_a_whole_record_is_mibo_complete_but_for_what_it_cannot_hold(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    assert lines(record) == {
        "prp": ([], ["BOTH-03", "BOTH-09"]),
        "cells": ([], ["BOTH-03", "CELL-11", "BOTH-09"]),
    }
    cells = product.mibo_lines(record, list(record.injections.all()))[1]
    assert (cells.complete, cells.not_recordable_fields) == (
        True,
        ["how long the condition has lasted", "cell surface markers", "local anaesthetic at the injection site"],
    )


def test_a_new_record_lists_what_is_missing_in_checklist_order(clinic: Clinic) -> None:
    record = start(clinic)
    missing_prp, _ = lines(record)["prp"]
    assert missing_prp == [
        "BOTH-04",
        "PRP-01",
        "PRP-02",
        "PRP-03",
        "PRP-04",
        "PRP-05",
        "PRP-06",
        "PRP-07",
        "PRP-08",
        "PRP-09",
        "BOTH-05",
        "BOTH-06",
        "BOTH-07",
        "BOTH-08",
        "BOTH-10",
        "BOTH-11",
    ]


def test_the_chart_gives_age_sex_severity_and_prior_treatments(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic))
    Patient.objects.filter(pk=clinic.rosa.pk).update(sex="unknown")
    CandidacyAssessment.objects.filter(episode=clinic.episode).update(
        kellgren_lawrence_grade=None, failed_conservative_care=[]
    )
    record = ProcedureRecord.objects.select_related("episode__patient", "episode__candidacy").get(pk=record.pk)
    missing, not_recordable = lines(record)["cells"]
    assert (missing, not_recordable) == (["BOTH-01", "BOTH-02", "BOTH-03"], ["CELL-11", "BOTH-09"])


def test_a_bmac_without_cfu_f_or_viability_misses_those_items(clinic: Clinic) -> None:
    record = fill(clinic, start(clinic), counts={"cfu_f": None, "viability_pct": None})
    assert lines(record)["cells"][0] == ["CELL-09", "CELL-10"]
    assert lines(record)["prp"][0] == []


def test_every_mibo_field_is_mapped_or_declared_not_recordable(clinic: Clinic) -> None:
    from procedures import mibo

    record = fill(clinic, start(clinic))
    injections = list(record.injections.all())
    filled = product.mibo_filled(record, injections, product="cells") | product.mibo_filled(
        record, injections, product="prp"
    )
    assert sorted(set(mibo.FIELDS) - filled - product.NOT_RECORDABLE) == []

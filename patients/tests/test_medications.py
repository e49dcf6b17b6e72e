"""The drug-class classifier: every name in the data files, and what people really type."""

import re
from pathlib import Path

import pytest

from patients import medications
from patients.medications import DATA_DIR, FILES, DrugClass, classify, generic_names, normalise


def listed() -> list[tuple[str, str, DrugClass]]:
    """(file, name, class) for every name of every line of every data file."""
    rows = []
    for filename, drug_class in FILES:
        for line in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                generic, _colon, others = line.partition(":")
                rows += [(filename, name.strip(), drug_class) for name in [generic, *others.split(",")] if name.strip()]
    return rows


@pytest.mark.parametrize(("filename", "name", "drug_class"), listed())
def test_every_listed_name_is_classified_as_its_file_says(filename: str, name: str, drug_class: DrugClass) -> None:
    assert classify(name) == drug_class
    assert classify(name.upper() + " 10 mg daily") == drug_class


def test_each_file_names_its_sources_in_its_header() -> None:
    for filename, _drug_class in FILES:
        header = [
            line for line in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines() if line.startswith("#")
        ]
        assert any("Sources" in line for line in header), filename
        assert any("https://medlineplus.gov/" in line for line in header), filename


@pytest.mark.parametrize(
    ("typed", "drug_class"),
    [
        # What the issue names.
        ("Eliquis 5 mg twice a day", DrugClass.ANTICOAGULANT),
        ("warfarin", DrugClass.ANTICOAGULANT),
        ("Coumadin 2.5mg", DrugClass.ANTICOAGULANT),
        ("Jantoven", DrugClass.ANTICOAGULANT),
        ("Lovenox 40 mg injection", DrugClass.ANTICOAGULANT),
        ("heparin flush", DrugClass.ANTICOAGULANT),
        ("fondaparinux", DrugClass.ANTICOAGULANT),
        ("Aspirin 81 mg", DrugClass.ANTIPLATELET),
        ("baby aspirin", DrugClass.ANTIPLATELET),
        ("low-dose aspirin", DrugClass.ANTIPLATELET),
        ("ASA 81", DrugClass.ANTIPLATELET),
        ("Plavix 75", DrugClass.ANTIPLATELET),
        ("ibuprofeno 400 mg cada 8 horas", DrugClass.NSAID),
        ("Advil PM", DrugClass.NSAID),
        ("Motrin IB", DrugClass.NSAID),
        ("Aleve as needed", DrugClass.NSAID),
        ("Voltaren gel", DrugClass.NSAID),
        ("Mobic 15mg", DrugClass.NSAID),
        ("prednisone taper", DrugClass.CORTICOSTEROID),
        ("Medrol dose pack", DrugClass.CORTICOSTEROID),
        # Accents, case, punctuation, trademark signs, a dose written onto the name.
        ("ÁCIDO ACETILSALICÍLICO 100 mg", DrugClass.ANTIPLATELET),
        ("acido acetilsalicilico", DrugClass.ANTIPLATELET),
        ("apixabán", DrugClass.ANTICOAGULANT),
        ("Xarelto®", DrugClass.ANTICOAGULANT),
        ("Eliquis5mg", DrugClass.ANTICOAGULANT),
        ("  eLiQuIs  ", DrugClass.ANTICOAGULANT),
        ("naproxeno sódico", DrugClass.NSAID),
        ("Alka-Seltzer", DrugClass.ANTIPLATELET),
        ("alka seltzer", DrugClass.ANTIPLATELET),
        ("St. Joseph 81mg", DrugClass.ANTIPLATELET),
        ("Goody's powder", DrugClass.ANTIPLATELET),
        # Several medicines on one line: the one that matters most for bleeding.
        ("aspirin and warfarin", DrugClass.ANTICOAGULANT),
        ("prednisone, ibuprofen", DrugClass.NSAID),
        ("Aggrenox (aspirin/dipyridamole)", DrugClass.ANTIPLATELET),
        ("hydrocodone/ibuprofen", DrugClass.NSAID),
        # Said to be absent.
        ("Excedrin aspirin-free", DrugClass.OTHER),
        ("Excedrin Aspirin Free", DrugClass.OTHER),
        ("analgésico sin aspirina", DrugClass.OTHER),
        ("non-aspirin pain reliever", DrugClass.OTHER),
        # Not one of the classes.
        ("Tylenol", DrugClass.OTHER),
        ("acetaminophen 500 mg", DrugClass.OTHER),
        ("paracetamol", DrugClass.OTHER),
        ("metformin 500 mg", DrugClass.OTHER),
        ("lisinopril", DrugClass.OTHER),
        ("aspirinate", DrugClass.OTHER),
        ("Celexa", DrugClass.OTHER),
        ("", DrugClass.OTHER),
        ("   ", DrugClass.OTHER),
        ("81 mg", DrugClass.OTHER),
        ("—", DrugClass.OTHER),
    ],
)
def test_what_people_type_is_classified(typed: str, drug_class: DrugClass) -> None:
    assert classify(typed) == drug_class


def test_a_name_never_leaks_into_a_longer_word_or_a_neighbour() -> None:
    assert (classify("heparinoid cream"), classify("prednisolone"), classify("prednisone")) == (
        DrugClass.OTHER,
        DrugClass.CORTICOSTEROID,
        DrugClass.CORTICOSTEROID,
    )


def test_generic_names_say_which_medicines_were_found_in_order() -> None:
    assert generic_names("Eliquis 5 mg and baby aspirin, then Eliquis again") == ["apixaban", "aspirin"]
    assert generic_names("Tylenol") == []
    assert generic_names("Excedrin aspirin free") == []


def test_normalise_drops_accents_case_and_punctuation_and_parts_letters_from_digits() -> None:
    assert normalise("Ácido Acetilsalicílico 100mg/día®") == ("acido", "acetilsalicilico", "100", "mg", "dia")


def test_the_version_names_the_rules_and_the_data_and_fits_the_field() -> None:
    assert re.fullmatch(r"drug-classes-1:[0-9a-f]{12}", medications.VERSION)
    assert len(medications.VERSION) <= 40


def test_a_long_line_is_classified_quickly_and_correctly() -> None:
    typed = "vitamin d " * 500 + "Xarelto 20 mg"
    assert classify(typed) == DrugClass.ANTICOAGULANT


def test_no_name_is_listed_under_two_classes() -> None:
    seen: dict[tuple[str, ...], DrugClass] = {}
    for _filename, name, drug_class in listed():
        assert seen.setdefault(normalise(name), drug_class) == drug_class, name


def test_data_files_are_where_the_module_says() -> None:
    assert sorted(path.name for path in Path(DATA_DIR).glob("*.txt")) == sorted(name for name, _c in FILES)

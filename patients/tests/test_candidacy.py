"""The candidacy rules, one by one: pure functions of what they are given (no database)."""

from types import SimpleNamespace
from typing import Any

from patients import candidacy
from patients.candidacy import Severity, Suggestion

ANTICOAGULANT_TEXT = (
    "Takes an anticoagulant or antiplatelet ({names}): the harvest and the injection need a plan for it, "
    "agreed with the prescriber."
)


def medication(name: str, drug_class: str, *, active: bool = True) -> Any:
    return SimpleNamespace(name=name, drug_class=drug_class, is_active=active)


def history(**fields: Any) -> Any:
    return SimpleNamespace(**{"cancer_history": None, "bleeding_disorder": None, **fields})


def intake(**screening: Any) -> Any:
    return SimpleNamespace(answers={"screening": screening})


def suggest(**changes: Any) -> list[Suggestion]:
    """Suggestions for a clean osteoarthritis case (KL 2, physical therapy tried, nothing in the chart), changed."""
    arguments: dict[str, Any] = {
        "indication": "osteoarthritis",
        "kl_grade": 2,
        "tear_type": "",
        "sprain_grade": None,
        "failed_care": ["physical_therapy"],
        "medications": [],
        "history": None,
        "intake": None,
    }
    arguments.update(changes)
    return candidacy.suggest(**arguments)


def codes(found: list[Suggestion]) -> list[tuple[str, str]]:
    return [(s.code, str(s.severity)) for s in found]


def test_a_clean_case_suggests_nothing() -> None:
    assert suggest() == []


def test_an_anticoagulant_or_antiplatelet_needs_a_plan() -> None:
    found = suggest(
        medications=[
            medication("Eliquis 5 mg", "anticoagulant"),
            medication("Aspirin 81 mg", "antiplatelet"),
            medication("Lisinopril", "other"),
        ]
    )
    assert found == [
        Suggestion("anticoagulant", Severity.CAUTION, ANTICOAGULANT_TEXT.format(names="Aspirin 81 mg, Eliquis 5 mg"))
    ]


def test_a_blood_thinner_reported_at_intake_but_not_listed_needs_a_plan_too() -> None:
    assert codes(suggest(intake=intake(anticoagulant="yes"))) == [("anticoagulant", "caution")]
    assert codes(suggest(intake=intake(anticoagulant="unsure"))) == [("anticoagulant", "caution")]
    # Listed: the medication names it (one suggestion, not two).
    found = suggest(intake=intake(anticoagulant="yes"), medications=[medication("Plavix", "antiplatelet")])
    assert found == [Suggestion("anticoagulant", Severity.CAUTION, ANTICOAGULANT_TEXT.format(names="Plavix"))]


def test_the_rules_read_the_intakes_own_screening_questions() -> None:
    from patients.intake import SCREENING

    assert set(candidacy.SCREENING_KEYS) <= {name for name, _label, _field in SCREENING}


def test_a_stopped_medication_does_not_count() -> None:
    assert suggest(medications=[medication("Warfarin", "anticoagulant", active=False)]) == []


def test_an_nsaid_is_a_note() -> None:
    assert codes(suggest(medications=[medication("Ibuprofen", "nsaid")])) == [("nsaid", "info")]


def test_a_history_of_cancer_stops_the_case() -> None:
    assert suggest(history=history(cancer_history=True)) == [
        Suggestion("cancer_history", Severity.STOP, "A history of cancer is recorded: the practice does not go ahead.")
    ]


def test_cancer_reported_at_intake_stops_the_case_unless_a_clinician_recorded_no() -> None:
    assert codes(suggest(intake=intake(cancer="yes"))) == [("cancer_history", "stop")]
    assert suggest(intake=intake(cancer="yes"), history=history(cancer_history=False)) == []


def test_an_active_infection_at_intake_stops_the_case() -> None:
    assert suggest(intake=intake(infection="yes")) == [
        Suggestion(
            "active_infection",
            Severity.STOP,
            "The patient reported an active infection at intake: no harvest or injection until it has cleared.",
        )
    ]


def test_a_fever_at_intake_stops_the_case() -> None:
    assert codes(suggest(intake=intake(fever=True))) == [("fever", "stop")]


def test_not_sure_about_an_infection_or_a_fever_is_a_caution_to_ask() -> None:
    assert codes(suggest(intake=intake(infection="unsure", fever="Unsure"))) == [
        ("active_infection_unsure", "caution"),
        ("fever_unsure", "caution"),
    ]


def test_no_at_intake_suggests_nothing() -> None:
    answers = {key: "no" for key in candidacy.SCREENING_KEYS}
    assert suggest(intake=intake(**answers)) == []


def test_pregnancy_is_a_caution() -> None:
    assert suggest(intake=intake(pregnancy="yes")) == [
        Suggestion(
            "pregnancy",
            Severity.CAUTION,
            "The patient reported a pregnancy at intake: the procedure is usually put off.",
        )
    ]
    assert codes(suggest(intake=intake(pregnancy="unsure"))) == [("pregnancy", "caution")]


def test_a_steroid_injection_at_the_site_in_6_weeks_is_a_caution() -> None:
    assert codes(suggest(intake=intake(steroid_injection="yes"))) == [("steroid_recent", "caution")]


def test_a_bleeding_disorder_is_a_caution() -> None:
    assert codes(suggest(history=history(bleeding_disorder=True))) == [("bleeding_disorder", "caution")]
    assert codes(suggest(intake=intake(bleeding_disorder="yes"))) == [("bleeding_disorder", "caution")]
    assert suggest(intake=intake(bleeding_disorder="yes"), history=history(bleeding_disorder=False)) == []


def test_kellgren_lawrence_4_is_beyond_mild_to_moderate() -> None:
    assert suggest(kl_grade=4) == [
        Suggestion(
            "kl_4", Severity.CAUTION, "Kellgren-Lawrence grade 4 is beyond \u201cmild to moderate\u201d osteoarthritis."
        )
    ]
    assert suggest(kl_grade=3) == []


def test_osteoarthritis_without_a_grade_is_a_note() -> None:
    assert codes(suggest(kl_grade=None)) == [("kl_missing", "info")]


def test_a_full_thickness_tear_is_not_a_partial_tear() -> None:
    found = suggest(indication="rotator_cuff", kl_grade=None, tear_type="full")
    assert found == [
        Suggestion(
            "full_thickness_tear",
            Severity.CAUTION,
            "A full-thickness tear is not a partial tear: consider a surgical opinion.",
        )
    ]
    assert suggest(indication="rotator_cuff", kl_grade=None, tear_type="partial") == []
    assert codes(suggest(indication="rotator_cuff", kl_grade=None)) == [("tear_type_missing", "info")]


def test_a_grade_3_sprain_is_a_complete_tear() -> None:
    assert codes(suggest(indication="knee_ligament", kl_grade=None, sprain_grade=3)) == [("sprain_grade_3", "caution")]
    assert suggest(indication="knee_ligament", kl_grade=None, sprain_grade=2) == []


def test_no_failed_conservative_care_is_noted() -> None:
    assert suggest(failed_care=[]) == [
        Suggestion(
            "no_conservative_care",
            Severity.INFO,
            "No failed conservative care is noted (physical therapy, medicines, other injections...).",
        )
    ]
    # Unknown codes are not care.
    assert codes(suggest(failed_care=["magic"])) == [("no_conservative_care", "info")]


def test_the_most_serious_come_first() -> None:
    found = suggest(
        kl_grade=4,
        failed_care=[],
        medications=[medication("Xarelto", "anticoagulant")],
        history=history(cancer_history=True),
    )
    assert codes(found) == [
        ("cancer_history", "stop"),
        ("anticoagulant", "caution"),
        ("kl_4", "caution"),
        ("no_conservative_care", "info"),
    ]


def test_an_intake_without_screening_reads_as_no_answers() -> None:
    assert candidacy.screening_answers(SimpleNamespace(answers={"concerns": {}})) == {}
    assert candidacy.screening_answers(SimpleNamespace(answers={"screening": "nonsense"})) == {}
    assert candidacy.screening_answers(None) == {}


def test_suggestions_store_as_code_severity_and_text() -> None:
    assert [s.as_json() for s in suggest(kl_grade=4)] == [
        {
            "code": "kl_4",
            "severity": "caution",
            "text": "Kellgren-Lawrence grade 4 is beyond \u201cmild to moderate\u201d osteoarthritis.",
        }
    ]


def test_the_rules_have_a_version_and_the_details_belong_to_their_indication() -> None:
    assert candidacy.VERSION == "candidacy-1"
    assert candidacy.DETAIL_FIELDS == {
        "osteoarthritis": ("kl_grade",),
        "rotator_cuff": ("tear_type",),
        "knee_ligament": ("sprain_grade",),
    }
    assert [code for code, _label in candidacy.CONSERVATIVE_CARE] == [
        "physical_therapy",
        "nsaids",
        "cortisone",
        "hyaluronic_acid",
        "earlier_prp",
        "bracing",
        "activity_change",
        "weight_loss",
    ]

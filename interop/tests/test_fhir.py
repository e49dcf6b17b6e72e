"""The FHIR R4B export: a patient's bundle and the practice's NDJSON, parsed back and checked against value sets.

The canary patient (see conftest) has her right-knee episode with a signed consent, a
signed procedure with its product, baseline and 6-week answers with their scores, two
adverse events and identifiers in every field that can hold one. Here she also gets a
second consent she withdrew and a 3-month NRS that could not be scored. Every resource is
parsed back with `fhir.resources` (which checks structure and cardinality, not bindings)
and walked by `valuesets.check_bindings` (which checks the codes).
"""

import io
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from accounts.models import AuditEvent
from accounts.tests.audit import audit_clear
from interop import fhir, valuesets
from interop.tests.conftest import CANARY, DAY, FIRST, LAST, NOTE, Canary, scored, treatment
from outcomes import instruments
from outcomes.models import Response, Score, Timepoint
from patients.models import ConsentSignature, Patient
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.tests.conftest import INJECTION, at, signed_consent

pytestmark = pytest.mark.django_db

NOT_SCORABLE = "The NRS item is unanswered."
THREE_MONTHS = DAY + timedelta(days=91)


@pytest.fixture
def chart(canary: Canary) -> Canary:
    """The canary with a withdrawn second consent and a 3-month NRS that could not be scored."""
    withdrawn = signed_consent(canary.clinic.episode, text="An earlier version I agreed to.")
    ConsentSignature.objects.filter(pk=withdrawn.pk).update(
        withdrawn_at=at("09:00", DAY + timedelta(days=30)), withdrawn_reason=NOTE
    )
    # Signed under her canary name (the clinic's consent was signed before she got it).
    ConsentSignature.objects.filter(episode=canary.clinic.episode).update(printed_name=f"{FIRST} {LAST}")
    scored(
        canary.record,
        Timepoint.MONTH_3,
        submitted_at=at("19:00", THREE_MONTHS),
        scores={"NRS": None},
        reason=NOT_SCORABLE,
    )
    return canary


def entries(bundle: Bundle) -> list[Any]:
    assert bundle.entry is not None
    return list(bundle.entry)


def resources(bundle: Bundle) -> list[dict[str, Any]]:
    return [entry.resource.model_dump(mode="json") for entry in entries(bundle)]


def of_type(bundle: Bundle, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources(bundle) if r["resourceType"] == resource_type]


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def extension(resource: dict[str, Any], name: str) -> dict[str, Any]:
    url = f"{fhir.STRUCTURE_DEFINITION}/{name}"
    return next(e for e in resource["extension"] if e["url"] == url)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def codes(concept: dict[str, Any]) -> list[tuple[str, str]]:
    return [(coding["system"], coding["code"]) for coding in concept.get("coding", [])]


# --- The bundle as a whole ------------------------------------------------------------------------------------


def test_the_bundle_parses_back_to_what_was_written(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)
    written = bundle.model_dump_json()

    again = Bundle.model_validate_json(written)

    assert again.model_dump() == bundle.model_dump()
    assert json.loads(again.model_dump_json()) == json.loads(written)
    assert bundle.type == "collection"
    # Each resource parses on its own too, with the class its resourceType names.
    for resource in resources(bundle):
        model = get_fhir_model_class(resource["resourceType"])
        assert model.model_validate(resource).model_dump(mode="json") == resource


def test_the_bundle_holds_one_resource_per_record(chart: Canary) -> None:
    episode = chart.clinic.episode
    responses = Response.objects.filter(follow_up__episode=episode, status=Response.Status.SUBMITTED)
    bundle = fhir.patient_bundle(chart.patient)

    assert Counter(r["resourceType"] for r in resources(bundle)) == {
        "Patient": 1,
        "Practitioner": 1,
        "Encounter": 1,
        "Procedure": 1,
        "Consent": 2,
        "Questionnaire": len({r.instrument for r in responses}),
        "QuestionnaireResponse": responses.count(),
        "Observation": Score.objects.filter(episode=episode).count(),
        "AdverseEvent": 2,
    }


def test_every_id_is_the_records_uuid_never_a_key_or_a_name(chart: Canary) -> None:
    episode = chart.clinic.episode
    bundle = fhir.patient_bundle(chart.patient)
    ids = {(r["resourceType"], r["id"]) for r in resources(bundle)}

    assert all(str(uuid.UUID(resource_id)) == resource_id for _type, resource_id in ids)
    assert {i for t, i in ids if t == "Patient"} == {str(chart.patient.uuid)}
    assert {i for t, i in ids if t == "Procedure"} == {str(chart.record.uuid)}
    assert {i for t, i in ids if t == "Consent"} == {str(c.uuid) for c in episode.consents.all()}
    assert {i for t, i in ids if t == "AdverseEvent"} == {str(e.uuid) for e in episode.adverse_events.all()}
    assert {i for t, i in ids if t == "QuestionnaireResponse"} == {
        str(r.uuid) for r in Response.objects.filter(follow_up__episode=episode)
    }
    assert chart.record.signed_by is not None
    assert {i for t, i in ids if t == "Practitioner"} == {str(chart.record.signed_by.uuid)}
    assert [entry.fullUrl for entry in entries(bundle)] == [
        f"{fhir.BASE}/{entry.resource.get_resource_type()}/{entry.resource.id}" for entry in entries(bundle)
    ]


def test_every_reference_resolves_within_the_bundle(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)
    present = {f"{r['resourceType']}/{r['id']}" for r in resources(bundle)}
    urls = {r["url"] for r in of_type(bundle, "Questionnaire")}

    found = set(references(resources(bundle)))

    assert found and found <= present
    assert {r["questionnaire"] for r in of_type(bundle, "QuestionnaireResponse")} == urls


def test_every_code_is_in_its_value_set(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)

    assert [problem for r in resources(bundle) for problem in valuesets.check_bindings(r)] == []
    assert valuesets.check_bindings(bundle.model_dump(mode="json")) == []


def test_no_identifier_of_the_patient_leaves_outside_her_patient_resource(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)
    identifiers = [FIRST, LAST, CANARY["email"], CANARY["phone"], CANARY["mrn"], CANARY["street"], "1958-07-19"]
    others = [json.dumps(r) for r in resources(bundle) if r["resourceType"] != "Patient"]
    (patient,) = [json.dumps(r) for r in of_type(bundle, "Patient")]

    assert [(i, text[:80]) for text in others for i in identifiers if i in text] == []
    assert all(i in patient for i in identifiers)
    # Free text typed about her (notes, descriptions, reasons) is not exported at all.
    assert not any("Juniper" in text for text in others)


# --- Each resource ---------------------------------------------------------------------------------------------


def test_the_patient_carries_her_chart_details(chart: Canary) -> None:
    (patient,) = of_type(fhir.patient_bundle(chart.patient), "Patient")

    assert patient["name"] == [{"use": "official", "family": LAST, "given": [FIRST]}]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "1958-07-19"
    assert patient["identifier"] == [{"use": "usual", "system": fhir.MRN_SYSTEM, "value": CANARY["mrn"]}]
    assert patient["telecom"] == [
        {"system": "phone", "value": CANARY["phone"]},
        {"system": "email", "value": CANARY["email"]},
    ]
    assert patient["address"][0]["line"] == [CANARY["street"]]
    assert patient["address"][0]["postalCode"] == CANARY["postal_code"]


def test_the_procedure_carries_site_side_time_and_the_product(chart: Canary) -> None:
    record = ProcedureRecord.objects.get(pk=chart.record.pk)
    (procedure,) = of_type(fhir.patient_bundle(chart.patient), "Procedure")
    (encounter,) = of_type(fhir.patient_bundle(chart.patient), "Encounter")

    assert procedure["status"] == "completed"
    assert moment(procedure["performedDateTime"]) == INJECTION["injected_at"]
    assert procedure["encounter"] == {"reference": f"Encounter/{encounter['id']}"}
    (site,) = procedure["bodySite"]
    assert codes(site) == [(valuesets.SNOMED, "49076000"), (valuesets.BODY_SITE, "knee")]
    laterality = next(e for e in site["extension"] if e["url"] == fhir.LATERALITY)
    assert codes(laterality["valueCodeableConcept"]) == [(valuesets.SNOMED, "24028007"), (valuesets.SIDE, "right")]
    assert site["text"] == "Right knee"
    assert extension(procedure, "paw-code") == {
        "url": f"{fhir.STRUCTURE_DEFINITION}/paw-code",
        "valueString": record.paw_code,
    }
    assert extension(procedure, "cell-dose")["valueQuantity"]["value"] == record.cell_dose
    assert extension(procedure, "concentration-factor")["valueDecimal"] == record.concentration_factor
    assert extension(procedure, "platelet-factor")["valueDecimal"] == record.platelet_factor
    assert extension(procedure, "classification-version")["valueString"] == record.classification_version
    assert extension(procedure, "kit-lot")["valueString"] == "LOT-42"
    assert extension(procedure, "device")["valueString"] == "Centrifuge X"
    assert codes(extension(procedure, "harvest-site")["valueCodeableConcept"]) == [
        (valuesets.HARVEST_SITE, "posterior_iliac_crest")
    ]
    assert extension(procedure, "aspirate-volume")["valueQuantity"] == {
        "value": 60.0,
        "unit": "mL",
        "system": valuesets.UCUM,
        "code": "mL",
    }
    depa = {e["url"]: e for e in extension(procedure, "depa")["extension"]}
    assert depa["doseGrade"]["valueString"] == record.depa["dose_grade"]
    assert depa["purityPct"]["valueDecimal"] == pytest.approx(record.depa["purity_pct"])


def test_a_consent_is_active_until_withdrawn_and_names_the_text_signed_by_its_hash(chart: Canary) -> None:
    consents = {c["id"]: c for c in of_type(fhir.patient_bundle(chart.patient), "Consent")}
    signed, withdrawn = (
        chart.clinic.episode.consents.filter(withdrawn_at__isnull=True).get(),
        chart.clinic.episode.consents.filter(withdrawn_at__isnull=False).get(),
    )

    assert consents[str(signed.uuid)]["status"] == "active"
    assert consents[str(withdrawn.uuid)]["status"] == "inactive"
    consent = consents[str(signed.uuid)]
    assert codes(consent["scope"]) == [(valuesets.CONSENT_SCOPE, "treatment")]
    assert codes(consent["category"][0]) == [(valuesets.LOINC, "59284-0")]
    assert moment(consent["dateTime"]) == signed.signed_at
    assert extension(consent, "signed-text-sha256")["valueString"] == signed.text_sha256
    assert moment(consents[str(withdrawn.uuid)]["provision"]["period"]["end"]) == withdrawn.withdrawn_at


def test_a_questionnaire_has_the_instruments_items_and_answer_codes(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)
    questionnaires = {q["url"]: q for q in of_type(bundle, "Questionnaire")}
    koos = instruments.get("KOOS")
    questionnaire = questionnaires[fhir.questionnaire_url("KOOS")]

    assert [item["linkId"] for item in questionnaire["item"]] == [item.code for item in koos.items]
    first = questionnaire["item"][0]
    assert first["type"] == "choice"
    assert [option["valueCoding"]["code"] for option in first["answerOption"]] == [
        str(option.code) for option in koos.items[0].options
    ]
    nrs = questionnaires[fhir.questionnaire_url("NRS")]["item"][0]
    assert nrs["type"] == "integer"
    assert [(c["system"], c["code"]) for c in questionnaire["code"]] == [(valuesets.LOINC, "72091-2")]


def test_a_questionnaire_response_answers_with_the_codes_given(chart: Canary) -> None:
    response = Response.objects.get(
        follow_up__episode=chart.clinic.episode, follow_up__timepoint=Timepoint.WEEK_6, instrument="KOOS"
    )
    answered = {r["id"]: r for r in of_type(fhir.patient_bundle(chart.patient), "QuestionnaireResponse")}
    exported = answered[str(response.uuid)]

    assert exported["status"] == "completed"
    assert exported["questionnaire"] == fhir.questionnaire_url("KOOS")
    assert moment(exported["authored"]) == response.submitted_at
    assert exported["subject"] == {"reference": f"Patient/{chart.patient.uuid}"}
    assert {item["linkId"]: item["answer"][0]["valueCoding"]["code"] for item in exported["item"]} == {
        code: str(value) for code, value in response.answers.items()
    }
    nrs = Response.objects.get(
        follow_up__episode=chart.clinic.episode, follow_up__timepoint=Timepoint.WEEK_6, instrument="NRS"
    )
    assert answered[str(nrs.uuid)]["item"] == [{"linkId": "NRS", "answer": [{"valueInteger": nrs.answers["NRS"]}]}]


def test_a_score_with_a_loinc_is_an_observation_coded_with_it(chart: Canary) -> None:
    score = Score.objects.select_related("response").get(
        episode=chart.clinic.episode, timepoint=Timepoint.WEEK_6, code="NRS"
    )
    observations = of_type(fhir.patient_bundle(chart.patient), "Observation")
    (observation,) = [o for o in observations if o["derivedFrom"][0]["reference"].endswith(str(score.response.uuid))]

    assert observation["status"] == "final"
    assert codes(observation["category"][0]) == [(valuesets.OBSERVATION_CATEGORY, "survey")]
    assert codes(observation["code"]) == [(valuesets.LOINC, "72514-3"), (valuesets.SCORE, "NRS.NRS")]
    assert observation["valueQuantity"]["value"] == score.value
    assert moment(observation["effectiveDateTime"]) == score.response.submitted_at
    assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{score.response.uuid}"}]
    assert observation["id"] == str(fhir.score_uuid(score.response.uuid, score.code))


def test_a_score_without_a_loinc_has_the_practices_own_code_only(chart: Canary) -> None:
    without = [
        (definition_of.code, d.code)
        for definition_of in map(instruments.get, {"KOOS", "PGIC"})
        for d in definition_of.scores
        if not d.loinc
    ]
    assert without, "the knee's instruments should have a score without a LOINC"
    observations = of_type(fhir.patient_bundle(chart.patient), "Observation")
    local = {f"{instrument}.{code}" for instrument, code in without}

    found = [o for o in observations if codes(o["code"])[0][1] in local]

    assert found and all(len(o["code"]["coding"]) == 1 for o in found)
    assert all(o["code"]["coding"][0]["system"] == valuesets.SCORE for o in found)


def test_a_score_that_could_not_be_computed_is_absent_with_the_reason(chart: Canary) -> None:
    score = Score.objects.select_related("response").get(episode=chart.clinic.episode, timepoint=Timepoint.MONTH_3)
    observations = {o["id"]: o for o in of_type(fhir.patient_bundle(chart.patient), "Observation")}
    observation = observations[str(fhir.score_uuid(score.response.uuid, "NRS"))]

    assert "valueQuantity" not in observation
    assert codes(observation["dataAbsentReason"]) == [(valuesets.DATA_ABSENT_REASON, "unknown")]
    assert observation["note"] == [{"text": NOT_SCORABLE}]


def test_an_adverse_event_is_graded_judged_and_points_at_the_procedure(chart: Canary) -> None:
    event = chart.clinic.episode.adverse_events.get(kind=AdverseEvent.Kind.HARVEST_SITE_PAIN)
    events = {e["id"]: e for e in of_type(fhir.patient_bundle(chart.patient), "AdverseEvent")}
    exported = events[str(event.uuid)]

    assert exported["actuality"] == "actual"
    assert exported["event"]["text"] == "Pain at the harvest site"
    assert codes(exported["seriousness"]) == [(valuesets.SERIOUSNESS, "non-serious")]
    assert codes(exported["severity"]) == [(valuesets.SEVERITY, "mild")]
    assert exported["date"] == str(event.onset_date)
    (suspect,) = exported["suspectEntity"]
    assert suspect["instance"] == {"reference": f"Procedure/{chart.record.uuid}"}
    assert [c["productRelatedness"] for c in suspect["causality"]] == ["harvest", "injection", "product"]
    assert [c["assessment"]["text"] for c in suspect["causality"]] == ["Not yet judged"] * 3
    # The "other" kind's own words can name the patient: the event says "Other" and no more.
    other = events[str(chart.clinic.episode.adverse_events.get(kind=AdverseEvent.Kind.OTHER).uuid)]
    assert other["event"]["text"] == "Other"


@pytest.mark.parametrize(
    ("grade", "severity"), [(1, "mild"), (2, "moderate"), (3, "severe"), (4, "severe"), (5, "severe")]
)
def test_the_ctcae_grade_gives_the_severity(grade: int, severity: str) -> None:
    assert fhir.severity_of(grade) == severity


# --- The value sets catch what the library lets through --------------------------------------------------------


def test_check_bindings_names_each_code_outside_its_value_set(chart: Canary) -> None:
    bundle = fhir.patient_bundle(chart.patient)
    (procedure,) = of_type(bundle, "Procedure")
    (patient,) = of_type(bundle, "Patient")
    (event, _other) = of_type(bundle, "AdverseEvent")
    observation = of_type(bundle, "Observation")[0]

    procedure["status"] = "done"
    procedure["bodySite"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "7771001"
    patient["gender"] = "woman"
    event["severity"]["coding"][0]["code"] = "grave"
    observation["category"][0]["coding"][0]["code"] = "questionnaire"

    assert valuesets.check_bindings(procedure) == [
        "Procedure.status: 'done' is not in http://hl7.org/fhir/ValueSet/event-status",
        "Procedure.bodySite[0].extension[0].valueCodeableConcept.coding[0]: http://snomed.info/sct#7771001 "
        "is not in https://regenclinic.example/fhir/ValueSet/laterality",
    ]
    assert valuesets.check_bindings(patient) == [
        "Patient.gender: 'woman' is not in http://hl7.org/fhir/ValueSet/administrative-gender"
    ]
    assert valuesets.check_bindings(event) == [
        "AdverseEvent.severity.coding[0]: http://terminology.hl7.org/CodeSystem/adverse-event-severity#grave "
        "is not in http://hl7.org/fhir/ValueSet/adverse-event-severity"
    ]
    assert valuesets.check_bindings(observation) == [
        "Observation.category[0].coding[0]: http://terminology.hl7.org/CodeSystem/observation-category#questionnaire "
        "is not in http://hl7.org/fhir/ValueSet/observation-category"
    ]
    # The library itself parses every one of them: only the value sets see the mistakes.
    for resource in (procedure, patient, event, observation):
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_check_bindings_finds_a_wrong_code_inside_a_bundle_and_an_unknown_answer_code(chart: Canary) -> None:
    written = fhir.patient_bundle(chart.patient).model_dump(mode="json")
    written["type"] = "bag"
    index, response = next(
        (i, e["resource"])
        for i, e in enumerate(written["entry"])
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
        and e["resource"]["questionnaire"] == fhir.questionnaire_url("KOOS")
    )
    response["item"][0]["answer"][0]["valueCoding"]["code"] = "9"

    assert valuesets.check_bindings(written) == [
        "Bundle.type: 'bag' is not in http://hl7.org/fhir/ValueSet/bundle-type",
        f"Bundle.entry[{index}].resource.item[0].answer[0].valueCoding: {valuesets.answer_system('KOOS')}#9 "
        f"is not a code of {valuesets.answer_system('KOOS')}",
    ]


# --- The practice's NDJSON -------------------------------------------------------------------------------------


def ndjson(directory: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(directory.glob("*.ndjson"))
    }


def test_bulk_export_writes_one_file_per_type_with_the_counts_it_returns(chart: Canary, tmp_path: Path) -> None:
    treatment(chart.clinic)
    calls: list[tuple[int, int]] = []
    patients = Patient.objects.filter(merged_into__isnull=True).count()

    counts = fhir.bulk_export(tmp_path, progress=lambda done, total: calls.append((done, total)))

    files = ndjson(tmp_path)
    assert {name: len(lines) for name, lines in files.items()} == counts
    assert counts["Patient"] == patients
    assert calls == [(n, patients) for n in range(1, patients + 1)]
    # Definitions shared by patients are written once.
    assert len({r["id"] for r in files["Practitioner"]}) == counts["Practitioner"]
    assert len({r["url"] for r in files["Questionnaire"]}) == counts["Questionnaire"]
    for name, lines in files.items():
        model = get_fhir_model_class(name)
        for resource in lines:
            assert resource["resourceType"] == name
            assert model.model_validate(resource).model_dump(mode="json") == resource
            assert valuesets.check_bindings(resource) == []
    # Every reference resolves somewhere in the export.
    present = {f"{r['resourceType']}/{r['id']}" for lines in files.values() for r in lines}
    assert set(references(files)) <= present


def test_bulk_export_reads_the_same_number_of_queries_for_one_patient_or_three(chart: Canary, tmp_path: Path) -> None:
    Patient.objects.exclude(pk=chart.patient.pk).update(merged_into=chart.patient)
    with CaptureQueriesContext(connection) as one:
        fhir.bulk_export(tmp_path / "one")
    for _ in range(2):
        record = treatment(chart.clinic)
        scored(record, Timepoint.WEEK_6, submitted_at=at("10:00", DAY + timedelta(weeks=6)), scores={"NRS": 3.0})

    with CaptureQueriesContext(connection) as three:
        counts = fhir.bulk_export(tmp_path / "three")

    assert counts["Patient"] == 3
    assert len(three) == len(one)


def test_export_fhir_writes_the_files_and_prints_the_counts(chart: Canary, tmp_path: Path) -> None:
    out = io.StringIO()

    audit_clear()
    call_command("export_fhir", "--out", str(tmp_path), stdout=out)

    # One audit row, as every export writes, naming the command line as who did it.
    assert list(AuditEvent.objects.values_list("actor", "role", "action", "object_type", "object_ref", "patient")) == [
        (None, "command line", "export", "research_export", "fhir:command:all", None)
    ]
    counts = {name: len(lines) for name, lines in ndjson(tmp_path).items()}
    assert out.getvalue() == "FHIR R4B NDJSON in {}: {}\n".format(
        tmp_path, ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    )

"""FHIR R4B export as pure mapping: a patient's records in, `fhir.resources` R4B resources out.

`patient_bundle(patient)` is one patient's collection Bundle; `bulk_export(directory)` is
the whole practice as NDJSON, one file per resource type, read a chunk of patients at a
time and written line by line. Every resource is built as JSON and parsed by its
`fhir.resources` class, so nothing leaves that the library would refuse; the codes are
held to their value sets by `interop.valuesets.check_bindings` (the library does not).

What each record becomes:

- Patient: the chart (name, record number, sex, birth date, contact, language).
- Practitioner: the physician of an episode and the signer of a procedure (`Provider`).
- Encounter: each procedure visit (one `ProcedureRecord`), finished once signed.
- Procedure: each signed record. FHIR R4B's Procedure has no component, so the product
  (PAW code, DEPA, cell dose, concentration and platelet factors, the version that
  classified it, harvest site and side, device, kit and lot, volumes) goes as extensions
  under `https://regenclinic.example/fhir/StructureDefinition/`; body site and side as a
  SNOMED CT body structure where one is vetted (`valuesets.SNOMED_BODY_SITES`) with a
  laterality extension (SNOMED CT qualifier values).
- Consent: each signature, active, or inactive once withdrawn (the provision's period
  ends then); scope treatment, category LOINC 59284-0; the consent version signed as its
  policy. The SHA-256 of the text and of the PDF signed go as extensions: FHIR's
  `Attachment.hash` is a base64 SHA-1, and an identifier would not be unique (two
  patients signing the same text share its hash).
- Questionnaire: one per instrument (items by their printed code, answer codes as the
  scoring guide numbers them), canonical `https://regenclinic.example/fhir/Questionnaire/<code>`.
- QuestionnaireResponse: each submitted response, pointing at its Questionnaire.
- Observation: each score, coded with its LOINC where the instrument defines one and
  always with the practice's own code; a score that could not be computed has a
  dataAbsentReason and the reason as a note, never a value.
- AdverseEvent: each event, seriousness and severity (from the CTCAE grade) coded, the
  procedure as the suspect with the physician's three judgements of relatedness.

Ids are the records' public UUIDs, never database keys or names. A score has no UUID of
its own: its Observation's id is a UUID5 of its response's UUID and its code, so it is
the same in every export. Definitions (Questionnaire) get a UUID5 of their canonical URL.

Free text typed about the patient (history, notes, an event's description or its "other"
kind, the rehabilitation protocol, a withdrawal's reason, the printed name) is not
exported, as in the research CSV (`interop.exports`): it can hold anything, names
included, and the patient's identifiers belong in her Patient resource only.
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any, cast

from django.db.models import Prefetch, QuerySet
from django.utils import timezone, translation
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from interop import valuesets as vs
from outcomes import instruments
from outcomes.instruments.base import Instrument
from outcomes.models import FollowUp, Response, Score, Timepoint
from patients.models import BodySite, ConsentSignature, Episode, Indication, Patient, Side
from procedures.models import AdverseEvent, Injection, ProcedureRecord
from scheduling.models import Provider

BASE = vs.LOCAL
STRUCTURE_DEFINITION = f"{BASE}/StructureDefinition"
LATERALITY = f"{STRUCTURE_DEFINITION}/laterality"
TIMEPOINT = f"{STRUCTURE_DEFINITION}/timepoint"
MRN_SYSTEM = f"{BASE}/sid/mrn"
APPOINTMENT_SYSTEM = f"{BASE}/sid/appointment"
# Patients are read, and their records prefetched, this many at a time.
CHUNK_SIZE = 200
# Definitions several patients share, written once in a bulk export.
SHARED = ("Practitioner", "Questionnaire")

SEX_TO_GENDER: dict[str, str] = {
    Patient.Sex.FEMALE: "female",
    Patient.Sex.MALE: "male",
    Patient.Sex.OTHER: "other",
    Patient.Sex.UNKNOWN: "unknown",
}
OUTCOME: dict[str, str] = {
    AdverseEvent.Outcome.RECOVERED: "resolved",
    AdverseEvent.Outcome.RECOVERING: "recovering",
    AdverseEvent.Outcome.NOT_RECOVERED: "ongoing",
    AdverseEvent.Outcome.SEQUELAE: "resolvedWithSequelae",
    AdverseEvent.Outcome.FATAL: "fatal",
    AdverseEvent.Outcome.UNKNOWN: "unknown",
}
# The physician's judgement in WHO-UMC terms where one matches; "not related" and "not yet
# judged" have none (WHO-UMC's "unassessable" means judged impossible to assess).
CAUSALITY: dict[str, str] = {
    AdverseEvent.Relatedness.DEFINITE: "certain",
    AdverseEvent.Relatedness.PROBABLE: "probably-likely",
    AdverseEvent.Relatedness.POSSIBLE: "possible",
    AdverseEvent.Relatedness.UNLIKELY: "unlikely",
}
SIGNED = (ProcedureRecord.Status.SIGNED, ProcedureRecord.Status.AMENDED)


def severity_of(grade: int) -> str:
    """The FHIR severity of a CTCAE grade: 1 mild, 2 moderate, 3 and above (3 severe, 4, 5) severe."""
    if grade <= 1:
        return "mild"
    return "moderate" if grade == 2 else "severe"


def questionnaire_url(instrument: str) -> str:
    return f"{BASE}/Questionnaire/{vs.slug(instruments.get(instrument).code)}"


def score_uuid(response_uuid: uuid.UUID, code: str) -> uuid.UUID:
    """A score's stable id: derived from its response's public UUID and its code."""
    return uuid.uuid5(response_uuid, code)


# --- Reading -------------------------------------------------------------------------------------


def with_records(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """`patients` with everything the export maps, in a fixed number of queries per chunk."""
    return patients.select_related("merged_into").prefetch_related(
        Prefetch("episodes", queryset=Episode.objects.select_related("physician").order_by("opened_at", "pk")),
        Prefetch(
            "episodes__consents",
            queryset=ConsentSignature.objects.select_related("document")
            .defer("pdf", "signature_png", "rendered_text")
            .order_by("signed_at", "pk"),
        ),
        Prefetch(
            "episodes__procedures",
            queryset=ProcedureRecord.objects.select_related("signed_by", "appointment")
            .defer("signed_content")
            .order_by("procedure_date", "started_at", "pk"),
        ),
        Prefetch("episodes__procedures__injections", queryset=Injection.objects.order_by("injected_at", "pk")),
        Prefetch("episodes__follow_ups", queryset=FollowUp.objects.order_by("target_date", "pk")),
        Prefetch(
            "episodes__follow_ups__responses",
            queryset=Response.objects.filter(status=Response.Status.SUBMITTED).order_by("submitted_at", "pk"),
        ),
        Prefetch("episodes__follow_ups__responses__scores", queryset=Score.objects.order_by("code", "pk")),
        Prefetch("episodes__adverse_events", queryset=AdverseEvent.objects.order_by("onset_date", "reported_at", "pk")),
    )


# --- One patient -----------------------------------------------------------------------------------


def patient_bundle(patient: Patient, *, now: datetime | None = None) -> Bundle:
    """One patient's records as a FHIR R4B collection Bundle (each definition once)."""
    loaded = with_records(Patient.objects.filter(pk=patient.pk)).get()
    entries, seen = [], set()
    for resource in patient_resources(loaded):
        key = (resource.get_resource_type(), resource.id)
        if key in seen:
            continue
        seen.add(key)
        entries.append({"fullUrl": f"{BASE}/{key[0]}/{key[1]}", "resource": resource})
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": _instant(now or timezone.now()),
            "entry": entries,
        }
    )


def patient_resources(patient: Patient) -> list[Resource]:
    """A patient loaded `with_records`, as parsed R4B resources: the Patient first, then each episode's."""
    with translation.override("en"):
        data = list(_patient_data(patient))
    return [cast(Resource, get_fhir_model_class(item["resourceType"]).model_validate(item)) for item in data]


def _patient_data(patient: Patient) -> Iterator[dict[str, Any]]:
    yield patient_json(patient)
    for episode in patient.episodes.all():
        records = list(episode.procedures.all())
        signed = {record.pk for record in records if record.status in SIGNED}
        yield practitioner_json(episode.physician)
        for consent in episode.consents.all():
            yield consent_json(consent, patient)
        for record in records:
            if record.signed_by is not None:
                yield practitioner_json(record.signed_by)
            yield encounter_json(record, episode, patient)
            if record.pk in signed:
                yield procedure_json(record, episode, patient)
        for follow_up in episode.follow_ups.all():
            for response in follow_up.responses.all():
                yield questionnaire_json(response.instrument)
                yield questionnaire_response_json(response, follow_up, patient)
                for score in response.scores.all():
                    yield observation_json(score, response, follow_up, patient)
        for event in episode.adverse_events.all():
            yield adverse_event_json(event, patient, records={r.pk: r for r in records}, signed=signed)


# --- The resources, as JSON --------------------------------------------------------------------------


def patient_json(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.uuid),
        "active": patient.merged_into_id is None,
        "name": [{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        "gender": SEX_TO_GENDER.get(patient.sex, "unknown"),
        "birthDate": patient.date_of_birth.isoformat(),
        "communication": [{"language": _language(patient.preferred_language), "preferred": True}],
    }
    if patient.mrn:
        resource["identifier"] = [{"use": "usual", "system": MRN_SYSTEM, "value": patient.mrn}]
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    telecom += [{"system": "email", "value": patient.email}] if patient.email else []
    if telecom:
        resource["telecom"] = telecom
    address = {
        "line": [patient.street] if patient.street else None,
        "city": patient.city or None,
        "state": patient.state or None,
        "postalCode": patient.postal_code or None,
    }
    if any(address.values()):
        resource["address"] = [{"use": "home", **_present(address), "country": "US"}]
    if patient.merged_into is not None:
        resource["link"] = [{"other": _ref("Patient", patient.merged_into.uuid), "type": "replaced-by"}]
    return resource


def practitioner_json(provider: Provider) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(provider.uuid),
        "active": provider.is_active,
        "name": [{"text": provider.name}],
    }


def encounter_json(record: ProcedureRecord, episode: Episode, patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(record.uuid),
        "status": "finished" if record.status in SIGNED else "in-progress",
        "class": {"system": vs.V3_ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": _ref("Patient", patient.uuid),
        "participant": [{"individual": _ref("Practitioner", episode.physician.uuid)}],
        "period": {"start": _instant(record.started_at)},
        "reasonCode": [_indication(episode.indication)],
    }
    if record.appointment is not None:
        resource["identifier"] = [{"system": APPOINTMENT_SYSTEM, "value": str(record.appointment.uuid)}]
    return resource


def procedure_json(record: ProcedureRecord, episode: Episode, patient: Patient) -> dict[str, Any]:
    injections = list(record.injections.all())
    sites = list(dict.fromkeys((i.site, i.side) for i in injections)) or [(episode.site, episode.side)]
    injected = [
        name for name, present in (("BMAC", record.concentrate_volume_ml), ("PRP", record.prp_volume_ml)) if present
    ]
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": str(record.uuid),
        "extension": product_extensions(record),
        "status": "completed",
        "code": {
            "coding": [
                {
                    "system": vs.PROCEDURE,
                    "code": vs.PROCEDURE_CODE,
                    "display": "Same-day autologous BMAC/PRP procedure",
                }
            ],
            "text": f"{' and '.join(injected) or 'BMAC/PRP'} injection",
        },
        "subject": _ref("Patient", patient.uuid),
        "encounter": _ref("Encounter", record.uuid),
        "performedDateTime": _instant(injections[0].injected_at) if injections else record.procedure_date.isoformat(),
        "reasonCode": [_indication(episode.indication)],
        "bodySite": [body_site(site, side) for site, side in sites],
    }
    if record.signed_by is not None:
        resource["performer"] = [{"actor": _ref("Practitioner", record.signed_by.uuid)}]
    return resource


def product_extensions(record: ProcedureRecord) -> list[dict[str, Any]]:
    """The product and how it was made, as extensions (R4B's Procedure has nowhere else for them)."""
    extensions: list[dict[str, Any]] = []

    def add(name: str, kind: str, value: Any) -> None:
        if value not in (None, ""):
            extensions.append({"url": f"{STRUCTURE_DEFINITION}/{name}", kind: value})

    add("paw-code", "valueString", record.paw_code)
    depa = record.depa or {}
    parts = [
        {"url": name, kind: value}
        for name, kind, value in (
            ("doseBillions", "valueDecimal", _decimal(depa.get("dose_billions"))),
            ("efficiencyPct", "valueDecimal", _decimal(depa.get("efficiency_pct"))),
            ("purityPct", "valueDecimal", _decimal(depa.get("purity_pct"))),
            ("doseGrade", "valueString", depa.get("dose_grade")),
            ("efficiencyGrade", "valueString", depa.get("efficiency_grade")),
            ("purityGrade", "valueString", depa.get("purity_grade")),
            # Why it could not be classified (the counts it needs), as the classification said.
            ("notComputed", "valueString", depa.get("not_computed")),
        )
        if value not in (None, "")
    ]
    if parts:
        add("depa", "extension", parts)
    if record.cell_dose is not None:
        add("cell-dose", "valueQuantity", _quantity(record.cell_dose, "cells", "{cells}"))
    add("concentration-factor", "valueDecimal", _decimal(record.concentration_factor))
    add("platelet-factor", "valueDecimal", _decimal(record.platelet_factor))
    add("classification-version", "valueString", record.classification_version)
    if record.harvest_site:
        site: dict[str, Any] = {
            "coding": [
                {
                    "system": vs.HARVEST_SITE,
                    "code": record.harvest_site,
                    "display": str(record.get_harvest_site_display()),
                }
            ],
            "text": str(record.get_harvest_site_display()),
        }
        if record.harvest_side:
            site = {"extension": [laterality(record.harvest_side)], **site}
        add("harvest-site", "valueCodeableConcept", site)
    add("device", "valueString", record.device)
    add("kit", "valueString", record.kit)
    add("kit-lot", "valueString", record.kit_lot)
    for name, volume in (
        ("blood-volume", record.blood_volume_ml),
        ("aspirate-volume", record.aspirate_volume_ml),
        ("concentrate-volume", record.concentrate_volume_ml),
        ("prp-volume", record.prp_volume_ml),
    ):
        if volume is not None:
            add(name, "valueQuantity", _quantity(volume, "mL", "mL"))
    return extensions


def body_site(site: str, side: str) -> dict[str, Any]:
    coding = [{"system": vs.BODY_SITE, "code": site, "display": str(BodySite(site).label)}]
    if site in vs.SNOMED_BODY_SITES:
        code, display = vs.SNOMED_BODY_SITES[site]
        coding.insert(0, {"system": vs.SNOMED, "code": code, "display": display})
    return {
        "extension": [laterality(side)],
        "coding": coding,
        "text": f"{Side(side).label} {str(BodySite(site).label).lower()}",
    }


def laterality(side: str) -> dict[str, Any]:
    coding = [{"system": vs.SIDE, "code": side, "display": str(Side(side).label)}]
    if side in vs.SNOMED_LATERALITY:
        code, display = vs.SNOMED_LATERALITY[side]
        coding.insert(0, {"system": vs.SNOMED, "code": code, "display": display})
    return {"url": LATERALITY, "valueCodeableConcept": {"coding": coding, "text": str(Side(side).label)}}


def consent_json(consent: ConsentSignature, patient: Patient) -> dict[str, Any]:
    period = {"start": _instant(consent.signed_at)}
    if consent.withdrawn_at is not None:
        period["end"] = _instant(consent.withdrawn_at)
    code, display = vs.CONSENT_CATEGORY
    return {
        "resourceType": "Consent",
        "id": str(consent.uuid),
        "extension": [
            {"url": f"{STRUCTURE_DEFINITION}/signed-text-sha256", "valueString": consent.text_sha256},
            {"url": f"{STRUCTURE_DEFINITION}/signed-pdf-sha256", "valueString": consent.pdf_sha256},
        ],
        "status": "inactive" if consent.withdrawn_at is not None else "active",
        "scope": {"coding": [{"system": vs.CONSENT_SCOPE, "code": "treatment", "display": "Treatment"}]},
        "category": [{"coding": [{"system": vs.LOINC, "code": code, "display": display}]}],
        "patient": _ref("Patient", patient.uuid),
        "dateTime": _instant(consent.signed_at),
        "performer": [_ref("Patient", patient.uuid)],
        # The consent version signed is the policy the patient agreed to.
        "policy": [{"uri": f"urn:uuid:{consent.document.uuid}"}],
        "provision": {"type": "permit", "period": period},
    }


def questionnaire_json(code: str) -> dict[str, Any]:
    return _questionnaire(instruments.get(code).code)


@cache
def _questionnaire(code: str) -> dict[str, Any]:
    # An instrument is fixed data: its Questionnaire is made once per process.
    instrument = instruments.get(code)
    url = questionnaire_url(code)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
        "language": "en",
        "url": url,
        "name": "".join(part.capitalize() for part in vs.slug(code).split("-")),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.licence,
        "item": [_question(instrument, item) for item in instrument.items],
    }
    if instrument.loinc:
        resource["code"] = [{"system": vs.LOINC, "code": instrument.loinc}]
    return resource


def _question(instrument: Instrument, item: Any) -> dict[str, Any]:
    question: dict[str, Any] = {"linkId": item.code, "prefix": item.code, "text": item.text.get("en", "")}
    if item.options:
        question["type"] = "choice"
        question["answerOption"] = [{"valueCoding": _answer(instrument, item, o.code)} for o in item.options]
    else:
        question["type"] = "integer"
        question["extension"] = [
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": item.low},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": item.high},
        ]
    return question


def _answer(instrument: Instrument, item: Any, code: int) -> dict[str, Any]:
    text = next((o.text.get("en", "") for o in item.options if o.code == code), "")
    return {"system": vs.answer_system(instrument.code), "code": str(code), "display": text}


def questionnaire_response_json(response: Response, follow_up: FollowUp, patient: Patient) -> dict[str, Any]:
    instrument = instruments.get(response.instrument)
    items = []
    for item in instrument.items:
        given = response.answers.get(item.code)
        if given is None:
            continue
        chosen = [given] if isinstance(given, int) else list(given)
        answers: list[dict[str, Any]] = (
            [{"valueCoding": _answer(instrument, item, c)} for c in chosen]
            if item.options
            else [{"valueInteger": c} for c in chosen]
        )
        items.append({"linkId": item.code, "answer": answers})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.uuid),
        "language": response.language,
        "extension": [_timepoint(follow_up.timepoint)],
        "questionnaire": questionnaire_url(instrument.code),
        "status": "completed" if response.status == Response.Status.SUBMITTED else "in-progress",
        "subject": _ref("Patient", patient.uuid),
        "source": _ref("Patient", patient.uuid),
    }
    if response.submitted_at is not None:
        resource["authored"] = _instant(response.submitted_at)
    if items:
        resource["item"] = items
    return resource


def observation_json(score: Score, response: Response, follow_up: FollowUp, patient: Patient) -> dict[str, Any]:
    instrument = instruments.get(score.instrument)
    definition = next((d for d in instrument.scores if d.code == score.code), None)
    label = definition.label.get("en", score.code) if definition else score.code
    coding = [{"system": vs.SCORE, "code": vs.score_code(instrument.code, score.code), "display": label}]
    if definition is not None and definition.loinc:
        coding.insert(0, {"system": vs.LOINC, "code": definition.loinc})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(score_uuid(response.uuid, score.code)),
        "extension": [_timepoint(follow_up.timepoint)],
        "status": "final",
        "category": [{"coding": [{"system": vs.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": coding, "text": label},
        "subject": _ref("Patient", patient.uuid),
        "issued": _instant(score.computed_at),
        # The scoring rules the value was computed with.
        "method": {"text": f"Scoring version {score.scoring_version}"},
        "derivedFrom": [_ref("QuestionnaireResponse", response.uuid)],
    }
    if response.submitted_at is not None:
        resource["effectiveDateTime"] = _instant(response.submitted_at)
    if score.value is None:
        resource["dataAbsentReason"] = {
            "coding": [{"system": vs.DATA_ABSENT_REASON, "code": "unknown", "display": "Unknown"}],
            "text": "Not scorable",
        }
        resource["note"] = [{"text": score.reason or "Not scorable."}]
    else:
        resource["valueQuantity"] = _quantity(score.value, "score", "{score}")
    return resource


def adverse_event_json(
    event: AdverseEvent, patient: Patient, *, records: dict[int, ProcedureRecord], signed: set[int]
) -> dict[str, Any]:
    """`records`: the episode's procedure records by key (the event may name one); `signed`: those signed."""
    kind = str(event.get_kind_display())
    serious = "serious" if event.serious else "non-serious"
    severity = severity_of(event.grade)
    outcome = OUTCOME.get(event.outcome, "unknown")
    resource: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": str(event.uuid),
        "extension": [{"url": f"{STRUCTURE_DEFINITION}/ctcae-grade", "valueInteger": event.grade}],
        "actuality": "actual",
        "event": {"coding": [{"system": vs.ADVERSE_EVENT_KIND, "code": event.kind, "display": kind}], "text": kind},
        "subject": _ref("Patient", patient.uuid),
        "date": event.onset_date.isoformat(),
        "recordedDate": _instant(event.reported_at),
        "seriousness": {"coding": [{"system": vs.SERIOUSNESS, "code": serious, "display": serious.capitalize()}]},
        "severity": {"coding": [{"system": vs.SEVERITY, "code": severity, "display": severity.capitalize()}]},
        "outcome": {"coding": [{"system": vs.ADVERSE_EVENT_OUTCOME, "code": outcome}]},
    }
    procedure = records.get(event.procedure_id) if event.procedure_id is not None else None
    if procedure is not None:
        resource["encounter"] = _ref("Encounter", procedure.uuid)
    # The suspect is the Procedure, which exists once the record is signed.
    if procedure is not None and procedure.pk in signed:
        resource["suspectEntity"] = [
            {
                "instance": _ref("Procedure", procedure.uuid),
                "causality": [
                    _causality("harvest", event.related_to_harvest),
                    _causality("injection", event.related_to_injection),
                    _causality("product", event.related_to_product),
                ],
            }
        ]
    return resource


def _causality(part: str, judged: str) -> dict[str, Any]:
    assessment: dict[str, Any] = {"text": str(AdverseEvent.Relatedness(judged).label)}
    if judged in CAUSALITY:
        assessment = {"coding": [{"system": vs.CAUSALITY, "code": CAUSALITY[judged]}], **assessment}
    return {"assessment": assessment, "productRelatedness": part}


# --- The whole practice ----------------------------------------------------------------------------


def bulk_export(directory: str | Path, *, progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Every patient's resources as NDJSON in `directory` (`Patient.ndjson`, ...); the count of each type.

    Patients merged into another chart are left out (their records live on the survivor).
    Practitioners and Questionnaires are written once however many patients they serve.
    `progress(done, total)` is called after each patient.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    patients = Patient.objects.filter(merged_into__isnull=True).order_by("pk")
    total = patients.count()
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    with ExitStack() as files:
        handles: dict[str, IO[str]] = {}
        for done, patient in enumerate(with_records(patients).iterator(chunk_size=CHUNK_SIZE), start=1):
            for resource in patient_resources(patient):
                kind = resource.get_resource_type()
                if kind in SHARED:
                    if (kind, str(resource.id)) in seen:
                        continue
                    seen.add((kind, str(resource.id)))
                if kind not in handles:
                    handles[kind] = files.enter_context((out / f"{kind}.ndjson").open("w", encoding="utf-8"))
                handles[kind].write(resource.model_dump_json() + "\n")
                counts[kind] = counts.get(kind, 0) + 1
            if progress is not None:
                progress(done, total)
    return counts


# --- Small pieces ----------------------------------------------------------------------------------


def _ref(kind: str, public_id: uuid.UUID) -> dict[str, str]:
    return {"reference": f"{kind}/{public_id}"}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    # repr() of a float is its shortest exact form: 1.48 stays 1.48, not 1.4799999...
    return value if isinstance(value, Decimal) else Decimal(repr(value))


def _quantity(value: Any, unit: str, code: str) -> dict[str, Any]:
    return {"value": _decimal(value), "unit": unit, "system": vs.UCUM, "code": code}


def _indication(indication: str) -> dict[str, Any]:
    label = str(Indication(indication).label)
    return {"coding": [{"system": vs.INDICATION, "code": indication, "display": label}], "text": label}


def _language(code: str) -> dict[str, Any]:
    name = vs.LANGUAGES.get(code, code)
    return {"coding": [{"system": vs.BCP47, "code": code, "display": name}], "text": name}


def _timepoint(timepoint: str) -> dict[str, Any]:
    label = str(Timepoint(timepoint).label)
    return {"url": TIMEPOINT, "valueCoding": {"system": vs.TIMEPOINT, "code": timepoint, "display": label}}


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}

"""The code systems and value sets the FHIR export uses, and `check_bindings`, which holds every resource to them.

`fhir.resources` checks a resource's structure (types, cardinality, required elements)
but not its bindings: it parses `Patient.gender = "woman"`. So the value sets of every
coded element we write are held here, and `check_bindings` walks a resource (as JSON)
and names each code outside its set. The tests run it on everything exported.

Where the codes come from:

- FHIR R4B (4.3.0) required bindings, whole: administrative-gender, bundle-type,
  event-status (Procedure), encounter-status, observation-status,
  questionnaire-answers-status, publication-status, item-type, consent-state-codes,
  consent-provision-type, adverse-event-actuality, adverse-event-severity,
  adverse-event-outcome, and the datatype ones (contact-point-system, name-use,
  address-use, identifier-use, link-type).
- HL7 Terminology (terminology.hl7.org) code systems bound with weaker strength, held
  whole: observation-category, data-absent-reason, consentscope,
  adverse-event-seriousness, adverse-event-causality-assess (WHO-UMC).
- Large external systems, held only as far as this export uses them, each code vetted:
  LOINC (the consent category 59284-0 "Patient Consent", and the instruments' panel and
  score codes in `outcomes.instruments`), SNOMED CT (body structures and laterality
  qualifiers, below), UCUM (mL and two annotations), BCP-47 (en, es), v3 ActCode (AMB).
- The practice's own code systems under `https://regenclinic.example/fhir/CodeSystem/`,
  made from the models' choices: indication, body site, side, harvest site, procedure,
  time point, adverse-event kind, score (one code per instrument score, "KOOS.PAIN"),
  and one answer system per instrument whose codes are the scoring guide's numeric
  answer codes (their wording depends on the item, as on the paper form).

A value set held here may be narrower than the spec's (an extensible or example
binding, a subset of SNOMED): the check then reports a code the spec would allow but
this export never writes, which is the point.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from outcomes import instruments
from outcomes.models import Timepoint
from patients.models import BodySite, Indication, Side
from procedures.models import AdverseEvent, ProcedureRecord

FHIR_VALUE_SET = "http://hl7.org/fhir/ValueSet"
THO = "http://terminology.hl7.org/CodeSystem"
LOCAL = "https://regenclinic.example/fhir"
LOCAL_CODE_SYSTEM = f"{LOCAL}/CodeSystem"
LOCAL_VALUE_SET = f"{LOCAL}/ValueSet"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
BCP47 = "urn:ietf:bcp:47"
V3_ACT_CODE = f"{THO}/v3-ActCode"
OBSERVATION_CATEGORY = f"{THO}/observation-category"
DATA_ABSENT_REASON = f"{THO}/data-absent-reason"
CONSENT_SCOPE = f"{THO}/consentscope"
SERIOUSNESS = f"{THO}/adverse-event-seriousness"
SEVERITY = f"{THO}/adverse-event-severity"
ADVERSE_EVENT_OUTCOME = f"{THO}/adverse-event-outcome"
CAUSALITY = f"{THO}/adverse-event-causality-assess"

INDICATION = f"{LOCAL_CODE_SYSTEM}/indication"
BODY_SITE = f"{LOCAL_CODE_SYSTEM}/body-site"
SIDE = f"{LOCAL_CODE_SYSTEM}/side"
HARVEST_SITE = f"{LOCAL_CODE_SYSTEM}/harvest-site"
PROCEDURE = f"{LOCAL_CODE_SYSTEM}/procedure"
TIMEPOINT = f"{LOCAL_CODE_SYSTEM}/timepoint"
ADVERSE_EVENT_KIND = f"{LOCAL_CODE_SYSTEM}/adverse-event-kind"
SCORE = f"{LOCAL_CODE_SYSTEM}/score"

# The one procedure the practice performs, whatever it injects (BMAC, PRP or both): no
# SNOMED CT concept for an autologous BMAC/PRP injection could be vetted, so it is ours.
PROCEDURE_CODE = "bmac-prp"

# SNOMED CT body structures, each checked against at least two independent published
# mappings (FHIR examples, DICOM CID 4031 tables, clinical terminology catalogues).
# Sites without a single fitting, vetted concept (wrist or hand, hamstring, ankle or
# foot, other) go as text and the practice's own code only.
SNOMED_BODY_SITES: dict[str, tuple[str, str]] = {
    BodySite.KNEE: ("49076000", "Knee joint structure"),
    BodySite.HIP: ("24136001", "Hip joint structure"),
    BodySite.SHOULDER: ("31398001", "Joint structure of shoulder region"),
    BodySite.ELBOW: ("16953009", "Elbow joint structure"),
    BodySite.LUMBAR_SPINE: ("122496007", "Lumbar spine structure"),
    BodySite.CERVICAL_SPINE: ("122494005", "Cervical spine structure"),
}
# SNOMED CT laterality qualifier values, as in HL7 mCODE's LateralityQualifierVS. FHIR R4's
# own bodysite-laterality value set lists 419161000/419465000, which SNOMED CT has since
# made inactive, so those are not used. Midline has no qualifier here: it goes as our code.
SNOMED_LATERALITY: dict[str, tuple[str, str]] = {
    Side.LEFT: ("7771000", "Left"),
    Side.RIGHT: ("24028007", "Right"),
    Side.BILATERAL: ("51440002", "Right and left"),
}
CONSENT_CATEGORY = ("59284-0", "Patient Consent")
UCUM_CODES = frozenset({"mL", "{score}", "{cells}"})
LANGUAGES = {"en": "English", "es": "Spanish"}


def slug(code: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")


def answer_system(instrument: str) -> str:
    """The code system of an instrument's answer codes, e.g. `.../CodeSystem/koos-answer`."""
    return f"{LOCAL_CODE_SYSTEM}/{slug(instruments.get(instrument).code)}-answer"


def score_code(instrument: str, code: str) -> str:
    return f"{instruments.get(instrument).code}.{code}"


@dataclass(frozen=True)
class ValueSet:
    """A value set as (system, code) pairs; system None for an element of type `code`."""

    url: str
    codes: frozenset[tuple[str | None, str]]
    # A required binding on a CodeableConcept needs a coding from the set, not just text.
    required: bool = False
    systems: frozenset[str | None] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "systems", frozenset(system for system, _code in self.codes))


def _codes(name: str, *codes: str) -> ValueSet:
    return ValueSet(f"{FHIR_VALUE_SET}/{name}", frozenset((None, code) for code in codes))


def _coded(url: str, pairs: Iterable[tuple[str, str]], *, required: bool = False) -> ValueSet:
    return ValueSet(url, frozenset(pairs), required=required)


def _system(system: str, codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(system, code) for code in codes]


def _choices(choices: Any) -> list[str]:
    return [str(value) for value in choices.values]


SEVERITY_CODES = ("mild", "moderate", "severe")
SERIOUSNESS_CODES = ("serious", "non-serious")
OUTCOME_CODES = ("resolved", "recovering", "ongoing", "resolvedWithSequelae", "fatal", "unknown")
CAUSALITY_CODES = (
    "certain",
    "probably-likely",
    "possible",
    "unlikely",
    "conditional-classified",
    "unassessable-unclassifiable",
)
OBSERVATION_CATEGORIES = (
    "social-history",
    "vital-signs",
    "imaging",
    "laboratory",
    "procedure",
    "survey",
    "exam",
    "therapy",
    "activity",
)
DATA_ABSENT_REASONS = (
    "unknown",
    "asked-unknown",
    "temp-unknown",
    "not-asked",
    "asked-declined",
    "masked",
    "not-applicable",
    "unsupported",
    "as-text",
    "error",
    "not-a-number",
    "negative-infinity",
    "positive-infinity",
    "not-performed",
    "not-permitted",
)
CONSENT_SCOPES = ("adr", "research", "patient-privacy", "treatment")

# Whole code systems (and the used parts of large ones) that a coding anywhere must belong to.
CODE_SYSTEMS: dict[str, frozenset[str]] = {
    OBSERVATION_CATEGORY: frozenset(OBSERVATION_CATEGORIES),
    DATA_ABSENT_REASON: frozenset(DATA_ABSENT_REASONS),
    CONSENT_SCOPE: frozenset(CONSENT_SCOPES),
    SERIOUSNESS: frozenset(SERIOUSNESS_CODES),
    SEVERITY: frozenset(SEVERITY_CODES),
    ADVERSE_EVENT_OUTCOME: frozenset(OUTCOME_CODES),
    CAUSALITY: frozenset(CAUSALITY_CODES),
    INDICATION: frozenset(_choices(Indication)),
    BODY_SITE: frozenset(_choices(BodySite)),
    SIDE: frozenset(_choices(Side)),
    HARVEST_SITE: frozenset(_choices(ProcedureRecord.HarvestSite)),
    PROCEDURE: frozenset({PROCEDURE_CODE}),
    TIMEPOINT: frozenset(_choices(Timepoint)),
    ADVERSE_EVENT_KIND: frozenset(_choices(AdverseEvent.Kind)),
    SCORE: frozenset(score_code(i.code, d.code) for i in instruments.INSTRUMENTS.values() for d in i.scores),
    **{
        answer_system(i.code): frozenset(str(o.code) for item in i.items for o in item.options)
        for i in instruments.INSTRUMENTS.values()
    },
}
# Systems too large to hold: only the codes vetted for this export.
VETTED: dict[str, frozenset[str]] = {
    SNOMED: frozenset(code for code, _display in [*SNOMED_BODY_SITES.values(), *SNOMED_LATERALITY.values()]),
    LOINC: frozenset(
        {CONSENT_CATEGORY[0]}
        | {i.loinc for i in instruments.INSTRUMENTS.values() if i.loinc}
        | {d.loinc for i in instruments.INSTRUMENTS.values() for d in i.scores if d.loinc}
    ),
    UCUM: UCUM_CODES,
    BCP47: frozenset(LANGUAGES),
    V3_ACT_CODE: frozenset({"AMB"}),
}

LATERALITY_VALUE_SET = _coded(
    f"{LOCAL_VALUE_SET}/laterality",
    [*((SNOMED, code) for code, _display in SNOMED_LATERALITY.values()), *_system(SIDE, _choices(Side))],
)
BODY_SITE_VALUE_SET = _coded(
    f"{LOCAL_VALUE_SET}/body-site",
    [*((SNOMED, code) for code, _display in SNOMED_BODY_SITES.values()), *_system(BODY_SITE, _choices(BodySite))],
)
LANGUAGE_CODES = _codes("languages", *LANGUAGES)
INDICATION_VALUE_SET = _coded(f"{LOCAL_VALUE_SET}/indication", _system(INDICATION, _choices(Indication)))

# Element paths (resource type, then element names; an extension's elements under its URL).
BINDINGS: dict[str, ValueSet] = {
    "Bundle.type": _codes(
        "bundle-type",
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    ),
    "Patient.gender": _codes("administrative-gender", "male", "female", "other", "unknown"),
    "Patient.identifier.use": _codes("identifier-use", "usual", "official", "temp", "secondary", "old"),
    "Patient.name.use": _codes("name-use", "usual", "official", "temp", "nickname", "anonymous", "old", "maiden"),
    "Patient.telecom.system": _codes("contact-point-system", "phone", "fax", "email", "pager", "url", "sms", "other"),
    "Patient.address.use": _codes("address-use", "home", "work", "temp", "old", "billing"),
    "Patient.link.type": _codes("link-type", "replaced-by", "replaces", "refer", "seealso"),
    "Patient.communication.language": _coded(f"{FHIR_VALUE_SET}/languages", _system(BCP47, LANGUAGES), required=True),
    "Encounter.status": _codes(
        "encounter-status",
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "finished",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
    # Extensible to v3 ActEncounterCode; an office visit is ambulatory.
    "Encounter.class": _coded(f"{FHIR_VALUE_SET}/v3-ActEncounterCode", [(V3_ACT_CODE, "AMB")]),
    "Encounter.reasonCode": INDICATION_VALUE_SET,
    "Procedure.status": _codes(
        "event-status",
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    ),
    "Procedure.code": _coded(f"{LOCAL_VALUE_SET}/procedure", [(PROCEDURE, PROCEDURE_CODE)], required=True),
    "Procedure.reasonCode": INDICATION_VALUE_SET,
    "Procedure.bodySite": BODY_SITE_VALUE_SET,
    f"{LOCAL}/StructureDefinition/laterality.valueCodeableConcept": LATERALITY_VALUE_SET,
    f"{LOCAL}/StructureDefinition/harvest-site.valueCodeableConcept": _coded(
        f"{LOCAL_VALUE_SET}/harvest-site", _system(HARVEST_SITE, _choices(ProcedureRecord.HarvestSite)), required=True
    ),
    f"{LOCAL}/StructureDefinition/timepoint.valueCoding": _coded(
        f"{LOCAL_VALUE_SET}/timepoint", _system(TIMEPOINT, _choices(Timepoint))
    ),
    "Observation.status": _codes(
        "observation-status",
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
    "Observation.category": _coded(
        f"{FHIR_VALUE_SET}/observation-category", _system(OBSERVATION_CATEGORY, OBSERVATION_CATEGORIES)
    ),
    "Observation.dataAbsentReason": _coded(
        f"{FHIR_VALUE_SET}/data-absent-reason", _system(DATA_ABSENT_REASON, DATA_ABSENT_REASONS)
    ),
    "Questionnaire.status": _codes("publication-status", "draft", "active", "retired", "unknown"),
    "Questionnaire.language": LANGUAGE_CODES,
    "Questionnaire.subjectType": _codes("resource-types", "Patient"),
    "Questionnaire.item.type": _codes(
        "item-type",
        "group",
        "display",
        "boolean",
        "decimal",
        "integer",
        "date",
        "dateTime",
        "time",
        "string",
        "text",
        "url",
        "choice",
        "open-choice",
        "attachment",
        "reference",
        "quantity",
    ),
    "QuestionnaireResponse.status": _codes(
        "questionnaire-answers-status", "in-progress", "completed", "amended", "entered-in-error", "stopped"
    ),
    "QuestionnaireResponse.language": LANGUAGE_CODES,
    "Consent.status": _codes(
        "consent-state-codes", "draft", "proposed", "active", "rejected", "inactive", "entered-in-error"
    ),
    "Consent.scope": _coded(f"{FHIR_VALUE_SET}/consent-scope", _system(CONSENT_SCOPE, CONSENT_SCOPES), required=True),
    # Extensible; of its members this export uses the LOINC "Patient Consent" only.
    "Consent.category": _coded(f"{FHIR_VALUE_SET}/consent-category", [(LOINC, CONSENT_CATEGORY[0])], required=True),
    "Consent.provision.type": _codes("consent-provision-type", "deny", "permit"),
    "AdverseEvent.actuality": _codes("adverse-event-actuality", "actual", "potential"),
    "AdverseEvent.event": _coded(
        f"{LOCAL_VALUE_SET}/adverse-event-kind", _system(ADVERSE_EVENT_KIND, _choices(AdverseEvent.Kind))
    ),
    "AdverseEvent.seriousness": _coded(
        f"{FHIR_VALUE_SET}/adverse-event-seriousness", _system(SERIOUSNESS, SERIOUSNESS_CODES), required=True
    ),
    "AdverseEvent.severity": _coded(
        f"{FHIR_VALUE_SET}/adverse-event-severity", _system(SEVERITY, SEVERITY_CODES), required=True
    ),
    "AdverseEvent.outcome": _coded(
        f"{FHIR_VALUE_SET}/adverse-event-outcome", _system(ADVERSE_EVENT_OUTCOME, OUTCOME_CODES), required=True
    ),
    "AdverseEvent.suspectEntity.causality.assessment": _coded(
        f"{FHIR_VALUE_SET}/adverse-event-causality-assess", _system(CAUSALITY, CAUSALITY_CODES)
    ),
}


def check_bindings(resource: Mapping[str, Any]) -> list[str]:
    """Every coded element of `resource` (JSON, a Bundle's entries included) outside its value set, by location.

    Three checks: an element bound here (by path) holds a code of its value set; a
    required CodeableConcept has a coding from it; and any coding of a code system held
    here (whole, or the vetted part of a large one) is one of its codes.
    """
    problems: list[str] = []
    kind = str(resource.get("resourceType", "?"))
    _walk(resource, kind, kind, problems)
    return problems


def _walk(node: Mapping[str, Any], path: str, where: str, problems: list[str]) -> None:
    for key, value in node.items():
        if key == "resourceType":
            continue
        many = isinstance(value, list)
        for index, item in enumerate(value if many else [value]):
            at = f"{where}.{key}[{index}]" if many else f"{where}.{key}"
            if isinstance(item, Mapping) and "resourceType" in item:
                # A resource inside another (Bundle.entry.resource, contained): its own paths.
                _walk(item, str(item["resourceType"]), at, problems)
                continue
            child = f"{path}.{key}"
            if key in ("extension", "modifierExtension") and isinstance(item, Mapping) and "url" in item:
                child = str(item["url"])
            _check(child, item, at, problems)
            if isinstance(item, Mapping):
                _walk(item, child, at, problems)


def _check(path: str, item: Any, at: str, problems: list[str]) -> None:
    bound = BINDINGS.get(path)
    if isinstance(item, str):
        if bound is not None and None in bound.systems and (None, item) not in bound.codes:
            problems.append(f"{at}: {item!r} is not in {bound.url}")
        return
    if not isinstance(item, Mapping):
        return
    if "coding" in item and bound is not None and bound.required:
        tried = [c for c in item["coding"] if isinstance(c, Mapping) and c.get("system") in bound.systems]
        if not tried:
            problems.append(f"{at}: has no code from {bound.url}")
    if "system" in item and "code" in item:
        # A Coding (or a Quantity's unit), bound here directly or through its CodeableConcept.
        if bound is None and path.endswith(".coding"):
            bound = BINDINGS.get(path.removesuffix(".coding"))
        system, code = item["system"], item["code"]
        if bound is not None and system in bound.systems:
            if (system, code) not in bound.codes:
                problems.append(f"{at}: {system}#{code} is not in {bound.url}")
        elif system in CODE_SYSTEMS and code not in CODE_SYSTEMS[system]:
            problems.append(f"{at}: {system}#{code} is not a code of {system}")
        elif system in VETTED and code not in VETTED[system]:
            problems.append(f"{at}: {system}#{code} is not among the codes of {system} vetted for this export")

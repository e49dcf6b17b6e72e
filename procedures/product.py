"""The product of one procedure record, computed from what the record holds: classification and MIBO completeness.

`classify` turns the record's lab-sheet counts into the units `procedures.classification`
takes and returns the PAW code, DEPA, cell dose and the two concentration factors; each
value it cannot compute comes with the reason (what is missing, or what the inputs got
wrong), never a made-up 0. `stored_fields` is what the services write back on the record,
with `CLASSIFICATION_VERSION`.

`mibo` maps the record's fields to `procedures.mibo.FIELDS` and returns, per checklist
(PRP and cells), the items still missing. A few MIBO items ask for something this record
has no field for (`NOT_RECORDABLE`); they are listed apart, never counted as filled.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures import classification, mibo
from procedures.models import Activation, Injection, ProcedureRecord

# The version of the computation stored with its results: the classification module's rules as
# of this release, applied by `classify`. A change to either gets a new name.
CLASSIFICATION_VERSION = "paw2012-depa2016-v1"

# Inputs by the names the reasons speak of.
INPUT_LABELS = {
    "baseline_platelets": gettext_lazy("whole-blood platelets"),
    "baseline_wbc": gettext_lazy("whole-blood white cells"),
    "prp_platelets": gettext_lazy("PRP platelets"),
    "prp_wbc": gettext_lazy("PRP white cells"),
    "prp_rbc": gettext_lazy("PRP red cells"),
    "activation": gettext_lazy("activation"),
    "blood_volume_ml": gettext_lazy("blood drawn"),
    "prp_volume_ml": gettext_lazy("PRP volume"),
    "injected_prp_ml": gettext_lazy("PRP injected"),
    "concentrate_tnc": gettext_lazy("concentrate nucleated cells"),
    "aspirate_tnc": gettext_lazy("aspirate nucleated cells"),
    "injected_concentrate_ml": gettext_lazy("concentrate injected"),
}


@dataclass(frozen=True, slots=True)
class Value:
    """A computed value, or why there is none (`reason`)."""

    value: Any = None
    reason: str = ""

    @property
    def computed(self) -> bool:
        return self.value is not None


@dataclass(frozen=True, slots=True)
class Product:
    paw_code: Value
    depa: Value
    cell_dose: Value
    concentration_factor: Value
    platelet_factor: Value
    injected_prp_ml: Decimal
    injected_concentrate_ml: Decimal


def _missing(names: Sequence[str]) -> str:
    return _("Needs: %(inputs)s.") % {"inputs": ", ".join(str(INPUT_LABELS[name]) for name in names)}


def _number(value: Decimal) -> float:
    return float(value)


def _per_ml_from_millions(value: Decimal) -> float:
    """Nucleated cells printed in 10^6/mL as cells per mL (the digits shifted, no float noise)."""
    return float(value.scaleb(6))


def injected_totals(injections: Sequence[Injection]) -> tuple[Decimal, Decimal]:
    """mL of PRP and of concentrate injected, over all the record's injections."""
    prp = sum((i.prp_ml or Decimal(0) for i in injections), Decimal(0))
    concentrate = sum((i.concentrate_ml or Decimal(0) for i in injections), Decimal(0))
    return prp, concentrate


def classify(record: ProcedureRecord, injections: Sequence[Injection]) -> Product:
    """Everything `procedures.classification` can say of this record's product (see the module docstring)."""
    prp_ml, concentrate_ml = injected_totals(injections)
    inputs: dict[str, Any] = {
        "baseline_platelets": record.baseline_platelets,
        "baseline_wbc": record.baseline_wbc,
        "prp_platelets": record.prp_platelets,
        "prp_wbc": record.prp_wbc,
        "prp_rbc": record.prp_rbc,
        "activation": record.activation or None,
        "blood_volume_ml": record.blood_volume_ml,
        "prp_volume_ml": record.prp_volume_ml,
        "injected_prp_ml": prp_ml or None,
        "concentrate_tnc": record.concentrate_tnc,
        "aspirate_tnc": record.aspirate_tnc,
        "injected_concentrate_ml": concentrate_ml or None,
    }

    def absent(*names: str) -> list[str]:
        return [name for name in names if inputs[name] is None]

    k = classification.per_ul_from_thousands
    m = classification.per_ul_from_millions

    paw = Value(reason=_missing(absent("baseline_platelets", "prp_platelets", "baseline_wbc", "prp_wbc", "activation")))
    platelet_factor = Value(reason=_missing(absent("baseline_platelets", "prp_platelets")))
    if not absent("baseline_platelets", "prp_platelets"):
        try:
            platelet_factor = Value(
                classification.platelet_concentration_factor(
                    prp_platelets=k(_number(record.prp_platelets)),
                    baseline_platelets=k(_number(record.baseline_platelets)),
                )
            )
        except ValueError as error:
            platelet_factor = Value(reason=str(error))
    if not absent("baseline_platelets", "prp_platelets", "baseline_wbc", "prp_wbc", "activation"):
        neutrophils: dict[str, float] = {}
        # Neutrophils count only when both sides were counted (PAW leaves them out otherwise).
        if record.baseline_neutrophils is not None and record.prp_neutrophils is not None:
            neutrophils = {
                "baseline_neutrophils": k(_number(record.baseline_neutrophils)),
                "prp_neutrophils": k(_number(record.prp_neutrophils)),
            }
        paw = Value(
            classification.paw_code(
                baseline_platelets=k(_number(record.baseline_platelets)),
                prp_platelets=k(_number(record.prp_platelets)),
                activated=record.activation != Activation.NONE,
                baseline_wbc=k(_number(record.baseline_wbc)),
                prp_wbc=k(_number(record.prp_wbc)),
                **neutrophils,
            )
        )

    depa_needs = ("baseline_platelets", "blood_volume_ml", "prp_platelets", "prp_volume_ml", "injected_prp_ml")
    depa = Value(reason=_missing(absent(*depa_needs, "prp_wbc", "prp_rbc")))
    if not absent(*depa_needs, "prp_wbc", "prp_rbc"):
        try:
            depa = Value(
                dict(
                    classification.depa(
                        blood_platelets=k(_number(record.baseline_platelets)),
                        blood_volume_ml=_number(record.blood_volume_ml),
                        prp_platelets=k(_number(record.prp_platelets)),
                        prp_volume_ml=_number(record.prp_volume_ml),
                        injected_volume_ml=_number(prp_ml),
                        prp_wbc=k(_number(record.prp_wbc)),
                        prp_rbc=m(_number(record.prp_rbc)),
                    )
                )
            )
        except ValueError as error:
            depa = Value(reason=_depa_problem(error))

    dose = Value(reason=_missing(absent("concentrate_tnc", "injected_concentrate_ml")))
    if not absent("concentrate_tnc", "injected_concentrate_ml"):
        dose = Value(
            classification.cell_dose(
                tnc_per_ml=_per_ml_from_millions(record.concentrate_tnc),
                volume_ml=_number(concentrate_ml),
            )
        )

    factor = Value(reason=_missing(absent("concentrate_tnc", "aspirate_tnc")))
    if not absent("concentrate_tnc", "aspirate_tnc"):
        try:
            factor = Value(
                classification.concentration_factor(
                    concentrate_tnc_per_ml=_per_ml_from_millions(record.concentrate_tnc),
                    aspirate_tnc_per_ml=_per_ml_from_millions(record.aspirate_tnc),
                )
            )
        except ValueError:
            factor = Value(reason=_("The aspirate count is zero, so there is nothing to compare with."))

    return Product(
        paw_code=paw,
        depa=depa,
        cell_dose=dose,
        concentration_factor=factor,
        platelet_factor=platelet_factor,
        injected_prp_ml=prp_ml,
        injected_concentrate_ml=concentrate_ml,
    )


def _depa_problem(error: ValueError) -> str:
    text = str(error)
    if "exceeds" in text:
        return _("More PRP was injected than was prepared.")
    if "blood_platelets" in text or "blood_volume_ml" in text:
        return _("The whole-blood platelet count and the blood drawn must be above zero.")
    return _("The PRP has no platelets, white or red cells counted.")


def stored_fields(product: Product) -> dict[str, Any]:
    """The record's computed fields, as the services store them (a value not computed is empty, with its reason)."""
    return {
        "paw_code": product.paw_code.value or "",
        "depa": product.depa.value if product.depa.computed else {"not_computed": product.depa.reason},
        "cell_dose": product.cell_dose.value,
        "concentration_factor": product.concentration_factor.value,
        "platelet_factor": product.platelet_factor.value,
        "classification_version": CLASSIFICATION_VERSION,
    }


COMPUTED_FIELDS = (
    "paw_code",
    "depa",
    "cell_dose",
    "concentration_factor",
    "platelet_factor",
    "classification_version",
)


# --- MIBO ----------------------------------------------------------------------------------------

# MIBO asks for these, and neither this record nor the chart has a field for them yet.
NOT_RECORDABLE_LABELS = {
    "indication.duration_months": gettext_lazy("how long the condition has lasted"),
    "injection.local_anaesthetic": gettext_lazy("local anaesthetic at the injection site"),
    "characterization.surface_markers": gettext_lazy("cell surface markers"),
}
NOT_RECORDABLE = frozenset(NOT_RECORDABLE_LABELS)
PRODUCTS = (("prp", gettext_lazy("PRP")), ("cells", gettext_lazy("BMAC")))


@dataclass(frozen=True, slots=True)
class MiboLine:
    product: str
    label: str
    missing: list[mibo.MiboItem] = field(default_factory=list)
    not_recordable: list[mibo.MiboItem] = field(default_factory=list)
    # What those items ask that no field holds yet, in words.
    not_recordable_fields: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def mibo_filled(record: ProcedureRecord, injections: Sequence[Injection], *, product: str) -> set[str]:
    """The MIBO fields (`procedures.mibo.FIELDS`) this record fills, for "prp" or "cells"."""
    episode = record.episode
    patient = episode.patient
    candidacy = getattr(episode, "candidacy", None)
    spins = [spin for spin in record.spins if isinstance(spin, dict)] if isinstance(record.spins, list) else []
    facts = {
        "patient.age": patient.date_of_birth is not None,
        "patient.sex": patient.sex not in ("", "unknown"),
        "indication.diagnosis": _filled(episode.indication),
        "indication.severity": candidacy is not None
        and any(
            _filled(value) for value in (candidacy.kellgren_lawrence_grade, candidacy.tear_type, candidacy.sprain_grade)
        ),
        "indication.prior_treatments": candidacy is not None and bool(candidacy.failed_conservative_care),
        "medications.interfering": record.timeout_anticoagulants_reviewed,
        "blood_draw.volume_ml": _filled(record.blood_volume_ml),
        "blood_draw.anticoagulant": _filled(record.blood_anticoagulant),
        "blood_draw.anticoagulant_volume_ml": _filled(record.blood_anticoagulant_ml)
        or record.blood_anticoagulant == "none",
        # The record is of a bone-marrow harvest: the tissue is stated once the harvest is.
        "harvest.tissue": _filled(record.harvest_site),
        "harvest.site": _filled(record.harvest_site) and _filled(record.harvest_side),
        "harvest.technique": _filled(record.needle) and _filled(record.punctures),
        "harvest.volume_ml": _filled(record.aspirate_volume_ml),
        "harvest.anticoagulant": _filled(record.harvest_anticoagulant),
        "processing.device": _filled(record.device) or _filled(record.kit),
        "processing.spins": bool(spins),
        "processing.spin_force_g": bool(spins) and all(_filled(spin.get("g")) for spin in spins),
        "processing.spin_minutes": bool(spins) and all(_filled(spin.get("minutes")) for spin in spins),
        "processing.final_volume_ml": _filled(
            record.prp_volume_ml if product == "prp" else record.concentrate_volume_ml
        ),
        # Stated (yes or no) once the processing section is saved.
        "processing.culture_expanded": record.processing_by_id is not None,
        "counts.baseline_platelets": _filled(record.baseline_platelets),
        "counts.prp_platelets": _filled(record.prp_platelets),
        "counts.baseline_wbc": _filled(record.baseline_wbc),
        "counts.prp_wbc": _filled(record.prp_wbc),
        "counts.baseline_neutrophils": _filled(record.baseline_neutrophils),
        "counts.prp_neutrophils": _filled(record.prp_neutrophils),
        "counts.prp_rbc": _filled(record.prp_rbc),
        "counts.aspirate_tnc_per_ml": _filled(record.aspirate_tnc),
        "counts.tnc_per_ml": _filled(record.concentrate_tnc),
        "counts.cfu_f": _filled(record.cfu_f),
        "counts.viability_pct": _filled(record.viability_pct),
        "activation.agent": _filled(record.activation),
        "injection.site": bool(injections)
        and all(_filled(i.target_structure) and i.site and i.side for i in injections),
        "injection.volume_ml": bool(injections)
        and all(_filled(i.prp_ml if product == "prp" else i.concentrate_ml) for i in injections),
        "injection.image_guidance": bool(injections) and all(_filled(i.guidance) for i in injections),
        "injection.count": bool(injections),
        # One visit's injections; the interval to an earlier procedure of the episode is in its dates.
        "injection.interval_days": bool(injections),
        "injection.adjuncts": bool(injections) and all(_filled(i.carrier) for i in injections),
        "aftercare.rehabilitation": _filled(record.rehabilitation_protocol),
        # Complications are the episode's adverse events, recorded against this procedure (none is an answer).
        "safety.adverse_events": True,
    }
    return {name for name, filled in facts.items() if filled}


def mibo_lines(record: ProcedureRecord, injections: Sequence[Injection]) -> list[MiboLine]:
    """One line per checklist: the items still missing, and those this record cannot hold yet."""
    lines = []
    for product, label in PRODUCTS:
        filled = mibo_filled(record, injections, product=product)
        missing, not_recordable, words = [], [], []
        for item in mibo.mibo_missing(filled, product=product):
            gaps = [name for name in item.fields if name not in filled]
            if set(gaps) <= NOT_RECORDABLE:
                not_recordable.append(item)
                words += [
                    str(NOT_RECORDABLE_LABELS[name]) for name in gaps if str(NOT_RECORDABLE_LABELS[name]) not in words
                ]
            else:
                missing.append(item)
        lines.append(
            MiboLine(
                product=product,
                label=str(label),
                missing=missing,
                not_recordable=not_recordable,
                not_recordable_fields=words,
            )
        )
    return lines

"""The MIBO reporting checklist as data: what a PRP or cell-therapy record must say.

Murray IR, Geeslin AG, Goudie EB, Petrigliano FA, LaPrade RF. Minimum Information for
Studies Evaluating Biologics in Orthopaedics (MIBO): Platelet-Rich Plasma and Mesenchymal
Stem Cells. J Bone Joint Surg Am 2017;99(10):809-819. Two Delphi-consensus checklists,
one for PRP and one for cell therapies (here: bone-marrow aspirate concentrate, BMAC).

Only the items one procedure can satisfy are kept: who was treated and for what, how the
product was made and what it contained, how and where it was delivered, and aftercare.
Study-level items (design, randomisation, outcome measures, follow-up) belong to a study,
not to a procedure record, and are left out. Item texts are our own short wording and the
codes are ours (the paper numbers its items differently); read the paper before quoting.

NOT YET VERIFIED: the published checklists (the paper's tables and appendix) could not be
read when this was written. The items below are a reconstruction from the categories the
paper and later adherence reviews describe (patient, preparation, composition,
activation, delivery, aftercare; 23 PRP items in 12 categories) and must be checked
against the checklist, item by item, before this drives a "complete" badge.

FIELDS is the vocabulary the procedure model must provide: an item is satisfied when every
field it names is filled. A field holding "none" (no activation, no guidance, no adjunct)
is filled: MIBO asks that it be stated, not that it be present.
"""

from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum


class Part(StrEnum):
    """Which checklist an item belongs to."""

    PRP = "prp"
    CELLS = "cells"
    BOTH = "both"


@dataclass(frozen=True)
class MiboItem:
    """One checklist item and the record fields that, all filled, satisfy it."""

    code: str
    text: str
    part: Part
    fields: tuple[str, ...]


FIELDS: tuple[str, ...] = (
    # The patient and the condition treated.
    "patient.age",
    "patient.sex",
    "indication.diagnosis",
    "indication.severity",
    "indication.duration_months",
    "indication.prior_treatments",
    "medications.interfering",
    # PRP: the blood draw.
    "blood_draw.volume_ml",
    "blood_draw.anticoagulant",
    "blood_draw.anticoagulant_volume_ml",
    # Cells: the harvest.
    "harvest.tissue",
    "harvest.site",
    "harvest.technique",
    "harvest.volume_ml",
    "harvest.anticoagulant",
    # Processing, for either product.
    "processing.device",
    "processing.spins",
    "processing.spin_force_g",
    "processing.spin_minutes",
    "processing.final_volume_ml",
    "processing.culture_expanded",
    # What the product contained, per µL (cells: per mL).
    "counts.baseline_platelets",
    "counts.prp_platelets",
    "counts.baseline_wbc",
    "counts.prp_wbc",
    "counts.baseline_neutrophils",
    "counts.prp_neutrophils",
    "counts.prp_rbc",
    "counts.aspirate_tnc_per_ml",
    "counts.tnc_per_ml",
    "counts.cfu_f",
    "counts.viability_pct",
    "characterization.surface_markers",
    "activation.agent",
    # Delivery.
    "injection.site",
    "injection.volume_ml",
    "injection.image_guidance",
    "injection.count",
    "injection.interval_days",
    "injection.local_anaesthetic",
    "injection.adjuncts",
    # After the procedure.
    "aftercare.rehabilitation",
    "safety.adverse_events",
)

ITEMS: tuple[MiboItem, ...] = (
    MiboItem("BOTH-01", "Patient age and sex.", Part.BOTH, ("patient.age", "patient.sex")),
    MiboItem(
        "BOTH-02",
        "The condition treated and how severe it is (grade or stage).",
        Part.BOTH,
        ("indication.diagnosis", "indication.severity"),
    ),
    MiboItem(
        "BOTH-03",
        "How long the condition has lasted and what was tried before.",
        Part.BOTH,
        ("indication.duration_months", "indication.prior_treatments"),
    ),
    MiboItem(
        "BOTH-04",
        "Medicines that may blunt the biologic (anti-inflammatories, antiplatelets, steroids) and when stopped.",
        Part.BOTH,
        ("medications.interfering",),
    ),
    MiboItem(
        "PRP-01",
        "Volume of whole blood drawn.",
        Part.PRP,
        ("blood_draw.volume_ml",),
    ),
    MiboItem(
        "PRP-02",
        "Anticoagulant used for the draw, and how much.",
        Part.PRP,
        ("blood_draw.anticoagulant", "blood_draw.anticoagulant_volume_ml"),
    ),
    MiboItem(
        "PRP-03",
        "The preparation system (commercial device, or the manual method).",
        Part.PRP,
        ("processing.device",),
    ),
    MiboItem(
        "PRP-04",
        "Centrifugation: number of spins, and the force and time of each.",
        Part.PRP,
        ("processing.spins", "processing.spin_force_g", "processing.spin_minutes"),
    ),
    MiboItem(
        "PRP-05",
        "Final volume of PRP obtained.",
        Part.PRP,
        ("processing.final_volume_ml",),
    ),
    MiboItem(
        "PRP-06",
        "Platelet count of the whole blood and of the PRP.",
        Part.PRP,
        ("counts.baseline_platelets", "counts.prp_platelets"),
    ),
    MiboItem(
        "PRP-07",
        "White-cell count of the whole blood and of the PRP, with neutrophils.",
        Part.PRP,
        ("counts.baseline_wbc", "counts.prp_wbc", "counts.baseline_neutrophils", "counts.prp_neutrophils"),
    ),
    MiboItem(
        "PRP-08",
        "Red-cell content of the PRP.",
        Part.PRP,
        ("counts.prp_rbc",),
    ),
    MiboItem(
        "PRP-09",
        "Whether the PRP was activated before injection, and with what.",
        Part.PRP,
        ("activation.agent",),
    ),
    MiboItem(
        "CELL-01",
        "Source tissue of the cells (bone marrow, fat, ...), autologous or not.",
        Part.CELLS,
        ("harvest.tissue",),
    ),
    MiboItem(
        "CELL-02",
        "Harvest site (for marrow: which iliac crest, anterior or posterior).",
        Part.CELLS,
        ("harvest.site",),
    ),
    MiboItem(
        "CELL-03",
        "Harvest technique: needle or device, punctures and passes.",
        Part.CELLS,
        ("harvest.technique",),
    ),
    MiboItem(
        "CELL-04",
        "Volume harvested and the anticoagulant used.",
        Part.CELLS,
        ("harvest.volume_ml", "harvest.anticoagulant"),
    ),
    MiboItem(
        "CELL-05",
        "How the cells were concentrated: device or method, and centrifugation.",
        Part.CELLS,
        ("processing.device", "processing.spins"),
    ),
    MiboItem(
        "CELL-06",
        "Whether the cells were used the same day or culture-expanded.",
        Part.CELLS,
        ("processing.culture_expanded",),
    ),
    MiboItem(
        "CELL-07",
        "Final volume of concentrate obtained.",
        Part.CELLS,
        ("processing.final_volume_ml",),
    ),
    MiboItem(
        "CELL-08",
        "Nucleated-cell count of the aspirate and of the concentrate.",
        Part.CELLS,
        ("counts.aspirate_tnc_per_ml", "counts.tnc_per_ml"),
    ),
    MiboItem(
        "CELL-09",
        "Progenitor content measured by colony-forming units (CFU-F).",
        Part.CELLS,
        ("counts.cfu_f",),
    ),
    MiboItem(
        "CELL-10",
        "Share of the cells that were alive.",
        Part.CELLS,
        ("counts.viability_pct",),
    ),
    MiboItem(
        "CELL-11",
        "Surface markers used to characterise the cells.",
        Part.CELLS,
        ("characterization.surface_markers",),
    ),
    MiboItem(
        "CELL-12",
        "Number of cells delivered (computed from the count and the volume injected).",
        Part.CELLS,
        ("counts.tnc_per_ml", "injection.volume_ml"),
    ),
    MiboItem("BOTH-05", "Where the product was delivered (tissue, joint, side).", Part.BOTH, ("injection.site",)),
    MiboItem("BOTH-06", "Volume delivered.", Part.BOTH, ("injection.volume_ml",)),
    MiboItem(
        "BOTH-07",
        "How the needle was guided (landmarks, ultrasound, fluoroscopy).",
        Part.BOTH,
        ("injection.image_guidance",),
    ),
    MiboItem(
        "BOTH-08",
        "How many injections, and the interval between them.",
        Part.BOTH,
        ("injection.count", "injection.interval_days"),
    ),
    MiboItem(
        "BOTH-09",
        "Local anaesthetic used at the treated site, if any.",
        Part.BOTH,
        ("injection.local_anaesthetic",),
    ),
    MiboItem(
        "BOTH-10",
        "Anything given with the product (carrier, scaffold, PRP with cells) or surgery done at the same time.",
        Part.BOTH,
        ("injection.adjuncts",),
    ),
    MiboItem(
        "BOTH-11",
        "Rehabilitation and activity advice after the procedure.",
        Part.BOTH,
        ("aftercare.rehabilitation",),
    ),
    MiboItem("BOTH-12", "Complications and adverse events.", Part.BOTH, ("safety.adverse_events",)),
)

_KNOWN_FIELDS = frozenset(FIELDS)
_PRODUCTS = {Part.PRP.value: Part.PRP, Part.CELLS.value: Part.CELLS}


def mibo_missing(filled: Set[str], *, product: str) -> list[MiboItem]:
    """The items of the `product` checklist ("prp" or "cells") that `filled` does not satisfy.

    Items come in checklist order; an item is satisfied when all its fields are filled. A
    field name outside FIELDS is a ValueError, so a misspelling cannot pass for a gap.
    """
    part = _PRODUCTS.get(product)
    if part is None:
        raise ValueError(f"product must be one of {sorted(_PRODUCTS)}, got {product!r}")
    unknown = set(filled) - _KNOWN_FIELDS
    if unknown:
        raise ValueError(f"fields not in the MIBO vocabulary: {sorted(unknown)}")
    return [
        item for item in ITEMS if item.part in (part, Part.BOTH) and not all(field in filled for field in item.fields)
    ]

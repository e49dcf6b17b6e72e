"""KOOS, HOOS and FAOS (five subscales each) and HSS's KOOS JR and HOOS JR.

The wording lives in `data/<instrument>.json` (items, answer labels, section headings and
instructions as printed, keyed by language); this module adds the scoring rules and sources.

Subscales (KOOS Scoring 2012, HOOS Scoring 2013, koos.nu): each item scores 0 (no problems) to 4
(extreme problems); a subscale is 100 - mean(answered items) x 100 / 4, computed "as long as at least
50% of the subscale items are answered", else not scored. "If two boxes are marked, that which
indicates the more severe problem is chosen": every item is coded so that the higher code is the
more severe answer (S4/S5 "Always" is 0), so the rule is the highest code ticked. A mark outside a
box is resolved to the closest box by whoever enters the paper form; it never reaches us.

KOOS JR and HOOS JR (HSS): the raw sum of the items (0-28, 0-24) is converted to an interval score
(100 = perfect joint health) by HSS's published table. HSS publishes no imputation rule, and a raw
sum over fewer items has no row in the table, so a JR score needs every item answered. A full KOOS
or HOOS carries the JR items, so it reports the JR score too, from the same table.
"""

import json
from collections.abc import Sequence
from pathlib import Path

from outcomes.instruments import register
from outcomes.instruments.base import (
    Answers,
    Instrument,
    Item,
    Option,
    ScoreDefinition,
    ScoreResult,
    Section,
    Threshold,
)

DATA = Path(__file__).with_name("data")


def _load(name: str) -> tuple[tuple[Item, ...], tuple[Section, ...]]:
    """Items and sections from one wording file; the form's own instructions open the first section."""
    doc = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    option_sets = {key: tuple(Option(code, label) for code, label in rows) for key, rows in doc["option_sets"].items()}
    items: list[Item] = []
    sections: list[Section] = []
    for index, section in enumerate(doc["sections"]):
        instructions = dict(section["instructions"])
        if index == 0:
            instructions = {
                lang: "\n\n".join(part for part in (text, instructions.get(lang, "")) if part)
                for lang, text in doc["instructions"].items()
            }
        items.extend(
            Item(code=code, text=text, options=option_sets[options]) for code, options, text in section["items"]
        )
        sections.append(
            Section(
                code=section["code"],
                title=section["title"],
                instructions={lang: text for lang, text in instructions.items() if text},
                items=tuple(code for code, _, _ in section["items"]),
            )
        )
    return tuple(items), tuple(sections)


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


# (score code, label used in reasons, item codes); item codes as printed on the forms.
Subscales = tuple[tuple[str, str, tuple[str, ...]], ...]


def _codes(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{number}" for number in range(1, count + 1))


KOOS_SUBSCALES: Subscales = (
    ("SYMPTOMS", "Symptoms", _codes("S", 7)),
    ("PAIN", "Pain", _codes("P", 9)),
    ("ADL", "ADL", _codes("A", 17)),
    ("SPORT_REC", "Sport/Rec", _codes("SP", 5)),
    ("QOL", "QOL", _codes("Q", 4)),
)
HOOS_SUBSCALES: Subscales = (
    ("SYMPTOMS", "Symptoms", _codes("S", 5)),
    ("PAIN", "Pain", _codes("P", 10)),
    ("ADL", "ADL", _codes("A", 17)),
    ("SPORT_REC", "Sport/Rec", _codes("SP", 4)),
    ("QOL", "QOL", _codes("Q", 4)),
)
# KOOS JR items 1-7 are KOOS S6, P2, P3, P6, P9, A3, A5; HOOS JR items 1-6 are HOOS P5, P10, A3, A5,
# A12, A14 (Lyman et al. 2016; the same mapping in Stanford CHOIR's KOOS JR / HOOS JR surveys).
KOOS_JR_FROM_KOOS = ("S6", "P2", "P3", "P6", "P9", "A3", "A5")
HOOS_JR_FROM_HOOS = ("P5", "P10", "A3", "A5", "A12", "A14")

# HSS raw summed score -> interval score, indexed by the raw sum.
KOOS_JR_TABLE = (
    100.000, 91.975, 84.600, 79.914, 76.332, 73.342, 70.704, 68.284, 65.994, 63.776,
    61.583, 59.381, 57.140, 54.840, 52.465, 50.012, 47.487, 44.905, 42.281, 39.625,
    36.931, 34.174, 31.307, 28.251, 24.875, 20.941, 15.939, 8.291, 0.000,
)  # fmt: skip
HOOS_JR_TABLE = (
    100.000, 92.340, 85.257, 80.550, 76.776, 73.472, 70.426, 67.516, 64.664, 61.815,
    58.930, 55.985, 52.965, 49.858, 46.652, 43.335, 39.902, 36.363, 32.735, 29.009,
    25.103, 20.805, 15.633, 8.104, 0.000,
)  # fmt: skip


# One subscale's scoring, computed once: its score code, its items, and every possible result
# indexed [items answered][sum of their codes], so that scoring a response allocates no result.
Plan = tuple[tuple[str, tuple[str, ...], tuple[tuple[ScoreResult, ...], ...]], ...]


def _subscale_plan(subscales: Subscales, guide: str) -> Plan:
    plan = []
    for code, label, items in subscales:
        count = len(items)
        # "At least 50%": 5 of 9, 4 of 7, 9 of 17, 3 of 5, 2 of 4 (KOOS); 3 of 5, 5 of 10, 2 of 4 (HOOS).
        needed = (count + 1) // 2
        by_answered = []
        for answered in range(count + 1):
            if answered < needed:
                refused = ScoreResult(
                    None,
                    f"Only {answered} of {count} {label} items answered; the {guide} guide needs at least {needed}.",
                )
                by_answered.append((refused,) * (4 * answered + 1))
            else:
                # 100 - mean x 100/4, as one division so each value is the exact one rounded once.
                by_answered.append(
                    tuple(ScoreResult(100.0 - total * 25.0 / answered) for total in range(4 * answered + 1))
                )
        plan.append((code, items, tuple(by_answered)))
    return tuple(plan)


def _score_subscales(answers: Answers, plan: Plan) -> dict[str, ScoreResult]:
    results: dict[str, ScoreResult] = {}
    get = answers.get
    for code, items, by_answered in plan:
        total = 0
        answered = 0
        for item in items:
            answer = get(item)
            if answer is not None:
                answered += 1
                try:
                    total += answer  # type: ignore[operator]
                except TypeError:
                    # Two boxes ticked: the more severe, i.e. the higher code.
                    total += max(answer)  # type: ignore[arg-type]
        results[code] = by_answered[answered][total]
    return results


def _jr_results(table: tuple[float, ...]) -> tuple[ScoreResult, ...]:
    return tuple(ScoreResult(value) for value in table)


def _score_jr(
    answers: Answers, items: tuple[str, ...], results: tuple[ScoreResult, ...], name: str, of: str
) -> ScoreResult:
    raw = 0
    get = answers.get
    for item in items:
        answer = get(item)
        if answer is None:
            break
        try:
            raw += answer  # type: ignore[operator]
        except TypeError:
            raw += max(answer)  # type: ignore[arg-type]
    else:
        return results[raw]
    missing = [item for item in items if get(item) is None]
    verb = "is" if len(missing) == 1 else "are"
    if of:
        return ScoreResult(
            None,
            f"{name} needs all {len(items)} of its {of} items ({', '.join(items)}); {_and(missing)} {verb} unanswered.",
        )
    noun = "item" if len(missing) == 1 else "items"
    return ScoreResult(None, f"{name} needs all {len(items)} items answered; {noun} {_and(missing)} {verb} unanswered.")


_KOOS_PLAN = _subscale_plan(KOOS_SUBSCALES, "KOOS")
_HOOS_PLAN = _subscale_plan(HOOS_SUBSCALES, "HOOS")
_FAOS_PLAN = _subscale_plan(KOOS_SUBSCALES, "FAOS")
_KOOS_JR_RESULTS = _jr_results(KOOS_JR_TABLE)
_HOOS_JR_RESULTS = _jr_results(HOOS_JR_TABLE)
_KOOS_JR_ITEMS = _codes("", 7)
_HOOS_JR_ITEMS = _codes("", 6)


def score_koos(answers: Answers) -> dict[str, ScoreResult]:
    results = _score_subscales(answers, _KOOS_PLAN)
    results["KOOS_JR"] = _score_jr(answers, KOOS_JR_FROM_KOOS, _KOOS_JR_RESULTS, "KOOS JR", "KOOS")
    return results


def score_hoos(answers: Answers) -> dict[str, ScoreResult]:
    results = _score_subscales(answers, _HOOS_PLAN)
    results["HOOS_JR"] = _score_jr(answers, HOOS_JR_FROM_HOOS, _HOOS_JR_RESULTS, "HOOS JR", "HOOS")
    return results


def score_faos(answers: Answers) -> dict[str, ScoreResult]:
    return _score_subscales(answers, _FAOS_PLAN)


def score_koos_jr(answers: Answers) -> dict[str, ScoreResult]:
    return {"KOOS_JR": _score_jr(answers, _KOOS_JR_ITEMS, _KOOS_JR_RESULTS, "KOOS JR", "")}


def score_hoos_jr(answers: Answers) -> dict[str, ScoreResult]:
    return {"HOOS_JR": _score_jr(answers, _HOOS_JR_ITEMS, _HOOS_JR_RESULTS, "HOOS JR", "")}


# --- Sources ---------------------------------------------------------------------------------

KOOS_SCORING_2012 = (
    "KOOS Scoring 2012 (E. M. Roos, koos.nu, August 2012; copy at scribd.com/document/404984174): "
    "scores 0-4 (None ... Extreme), subscale = 100 - mean x 100/4, at least 50% of a subscale's items "
    "(Pain 5, Symptoms 4, ADL 9, Sport/Rec 3, QOL 2), two boxes -> the more severe. Roos EM, Lohmander LS. "
    "The Knee injury and Osteoarthritis Outcome Score (KOOS): from joint injury to osteoarthritis. Health "
    "Qual Life Outcomes 2003;1:64."
)
HOOS_SCORING_2013 = (
    "HOOS Scoring 2013 (koos.nu, June 2013; copies at scribd.com/document/431613370 and UW Health "
    "uconnect.wisc.edu clinical tools): same formula and rules, at least 50% (Pain 5, Symptoms 3, ADL 9, "
    "Sport/Rec 2, QOL 2). Nilsdotter AK, Lohmander LS, Klassbo M, Roos EM. Hip disability and osteoarthritis "
    "outcome score (HOOS) - validity and responsiveness in total hip replacement. BMC Musculoskelet Disord "
    "2003;4:10."
)
KOOS_JR_SCORING = (
    "HSS KOOS, JR. scoring: raw sum of the 7 items (0-28) converted to an interval score (0 = total knee "
    "disability, 100 = perfect knee health) by HSS's table. Lyman S, Lee YY, Franklin PD, Li W, Cross MB, "
    "Padgett DE. Validation of the KOOS, JR: A Short-form Knee Arthroplasty Outcomes Survey. Clin Orthop Relat "
    "Res 2016;474(6):1461-1471. Table transcribed from Stanford CHOIR (TotalJointSurveyService.java, "
    "KOOSJRScoreProvider, whose comment reproduces HSS's instruction) and checked row by row against three "
    "further open implementations citing HSS's official table."
)
HOOS_JR_SCORING = (
    "HSS HOOS, JR. scoring: raw sum of the 6 items (0-24) converted to an interval score (0 = total hip "
    "disability, 100 = perfect hip health) by HSS's table. Lyman S, Lee YY, Franklin PD, Li W, Mayman DJ, "
    "Padgett DE. Validation of the HOOS, JR: A Short-form Hip Replacement Survey. Clin Orthop Relat Res "
    "2016;474(6):1472-1482. Table transcribed from Stanford CHOIR (TotalJointSurveyService.java) and checked "
    "row by row against two further open implementations citing HSS's official table."
)
CHOIR = "Stanford CHOIR total-joint surveys (github.com/chamtrain/choir-d, src/main/resources/shc/totaljoint/xml)"

KOOS_JR_PASS = Threshold(
    value=63.7,
    source=(
        "Kunze KN, Fontana MA, MacLean CH, Lyman S, McLawhorn AS. Defining the Patient Acceptable Symptom State "
        "for the HOOS JR and KOOS JR after Primary Total Joint Arthroplasty. J Bone Joint Surg Am 2020: KOOS JR "
        "PASS 63.7 (ROC, 2-year satisfaction anchor, 4,036 primary TKAs)."
    ),
)
HOOS_JR_PASS = Threshold(
    value=76.7,
    source=(
        "Kunze KN, Fontana MA, MacLean CH, Lyman S, McLawhorn AS. Defining the Patient Acceptable Symptom State "
        "for the HOOS JR and KOOS JR after Primary Total Joint Arthroplasty. J Bone Joint Surg Am 2020: HOOS JR "
        "PASS 76.7 (ROC, 2-year satisfaction anchor, 5,216 primary THAs)."
    ),
)
# KOOS MCID, reviewed: no consensus value per subscale was found. The KOOS systematic review
# (Collins NJ, Prinsen CAC, Christensen R, Bartels EM, Terwee CB, Roos EM. Osteoarthritis Cartilage
# 2016;24(8):1317-1329) pools no MIC and reports an individual minimal detectable change of 14.3-19.6
# points in younger and >= 20 in older people, so one patient's change near these MCIDs may be noise.
# A 2025 predictive-modelling MIC in 131 non-surgical mild-to-moderate knee OA patients (PubMed
# 41367621: Pain 11.3, Symptoms 12.1, ADL 10.2, Sport/Rec 15.5, QOL 13.2) could not be cited in full
# (authors and journal not available to us). The anchor-based values below, from a non-operative knee
# OA cohort like the practice's patients, are kept until a better-established source is adopted.
_MOSTAFAEE = (
    "Mostafaee N, Nourollahi F, Mostamand J, Negahban H. Responsiveness and the minimal important change of "
    "Knee injury and Osteoarthritis Outcome Score in Persian patients with knee osteoarthritis following "
    "physiotherapy intervention. Physiother Theory Pract 2021 (anchor-based ROC MIC for improvement, 146 "
    "patients with knee OA after 4 weeks of non-operative treatment): "
)


def _koos_mcid(value: float, subscale: str) -> Threshold:
    return Threshold(value=value, source=f"{_MOSTAFAEE}{subscale} {value:g} points.")


def _definition(
    code: str, label: str, loinc: str = "", mcid: Threshold | None = None, pass_: Threshold | None = None
) -> ScoreDefinition:
    return ScoreDefinition(
        code=code,
        label={"en": label},
        low=0,
        high=100,
        higher_is_better=True,
        loinc=loinc,
        mcid=mcid,
        pass_threshold=pass_,
    )


SUBSCALES_RULE = (
    "A subscale is scored when at least half of its items are answered (the guide's 50% rule), as the mean of "
    "the answered items; otherwise it is not scored. Two boxes ticked on one item: the more severe counts. "
    "Subscales are independent: one not scored leaves the others."
)
JR_RULE = (
    "Every JR item must be answered: HSS gives no rule for missing items and the table converts only a "
    "complete raw sum. Two boxes ticked: the more severe counts (the KOOS/HOOS rule for the same items)."
)

_items, _sections = _load("koos")
KOOS = register(
    Instrument(
        code="KOOS",
        name="Knee injury and Osteoarthritis Outcome Score",
        items=_items,
        sections=_sections,
        scores=(
            _definition("SYMPTOMS", "KOOS Symptoms", "72101-9", _koos_mcid(12.5, "Symptoms")),
            _definition("PAIN", "KOOS Pain", "72102-7", _koos_mcid(15, "Pain")),
            _definition("ADL", "KOOS Function in daily living (ADL)", "72100-1", _koos_mcid(15.5, "ADL")),
            _definition(
                "SPORT_REC",
                "KOOS Function in sport and recreation (Sport/Rec)",
                "72099-5",
                _koos_mcid(17.5, "Sport/Rec"),
            ),
            _definition("QOL", "KOOS Knee-related quality of life (QOL)", "72098-7", _koos_mcid(12.5, "QOL")),
            _definition("KOOS_JR", "KOOS JR interval score (from the KOOS items)", "82332-8", pass_=KOOS_JR_PASS),
        ),
        scoring=score_koos,
        scoring_version="koos-2012.1",
        languages=("en",),
        source=(
            "KOOS English version LK1.0 (Roos EM et al., koos.nu). Wording checked against the PhenX Toolkit "
            "protocol 250401 (phenxtoolkit.org/protocols/view/250401, which reproduces the koos.nu form), "
            "thecalculator.co's KOOS item list, rheumakit.com's KOOS section instructions and "
            f"{CHOIR} (KOOSKnee*.xml). Where they differ the majority wording is kept: S7 'after sitting' (CHOIR: "
            "'during sitting'), A5 'pick up an object' (CHOIR: 'and object'), Q2 'avoid potentially damaging "
            "activities to your knee' (several transcriptions: 'avoid activities potentially damaging')."
        ),
        scoring_source=f"{KOOS_SCORING_2012} KOOS JR: {KOOS_JR_SCORING}",
        licence=(
            "Free to use: 'This protocol is freely available; permission not required for use' (PhenX 250401); "
            "'Without copyright' (Mapi ePROVIDE). KOOS JR is (c) Hospital for Special Surgery."
        ),
        loinc="72091-2",
        missing_rule=f"{SUBSCALES_RULE} KOOS JR: {JR_RULE}",
        body_region="knee",
    )
)

# HOOS MCID, reviewed (issue 8): no value is adopted, so HOOS change is not judged against an MCID.
# Found, and why not used for the practice's non-operative patients:
# - Paulsen et al., Acta Orthop 2014 (DOI 10.3109/17453674.2013.867782; 1,335 total hip arthroplasties, 1
#   year after surgery, anchor-based): MCII Pain 24, QOL 17 and PASS Pain 91, QOL 83. These measure
#   the change surgery brings (38-55 % of the baseline), far beyond what marks a meaningful change
#   after an injection; no value for Symptoms, ADL or Sport/Rec.
# - J Arthroplasty 2024 (PMID 38331359; 4,184 arthroplasties): distribution-based MCIDs (Pain 8.35),
#   not anchored on what patients call meaningful.
# - A hip OA exercise trial (160 patients, anchor-based predictive MIC) gives only a range for the five
#   subscales (6-10 points) in what we could read; Cheng et al., Am J Sports Med 2025 (PMID 40123108,
#   non-arthritic hip pain, non-operative) only ADL 4 and Sport/Rec 13. A per-subscale value from a
#   non-operative hip OA cohort, read in full, is what would be adopted.
_items, _sections = _load("hoos")
HOOS = register(
    Instrument(
        code="HOOS",
        name="Hip disability and Osteoarthritis Outcome Score",
        items=_items,
        sections=_sections,
        scores=(
            _definition("SYMPTOMS", "HOOS Symptoms", "72096-1"),
            _definition("PAIN", "HOOS Pain", "72097-9"),
            _definition("ADL", "HOOS Function in daily living (ADL)", "72095-3"),
            _definition("SPORT_REC", "HOOS Function in sport and recreation (Sport/Rec)", "72094-6"),
            _definition("QOL", "HOOS Hip-related quality of life (QOL)", "72093-8"),
            _definition("HOOS_JR", "HOOS JR interval score (from the HOOS items)", "82323-7", pass_=HOOS_JR_PASS),
        ),
        scoring=score_hoos,
        scoring_version="hoos-2013.1",
        languages=("en",),
        source=(
            "HOOS English version LK2.0 (Nilsdotter AK, Roos EM et al., koos.nu). Wording checked against "
            f"{CHOIR} (HOOSHip*.xml), the HOOS form at prohealthsys.com (orthoscores plugin), swiftpath.com's "
            "HOOS hip survey and the koos.nu-format form at api.leadconnectorhq.com/widget/form/oH8L34PlAqEL6ecwTsJZ."
        ),
        scoring_source=f"{HOOS_SCORING_2013} HOOS JR: {HOOS_JR_SCORING}",
        licence="Free to use (koos.nu). HOOS JR is (c) Hospital for Special Surgery.",
        # LOINC 72092-0 for the HOOS panel: mirahealth.care's HOOS glossary, and listed beside the KOOS
        # panel 72091-2 in an open FHIR query of assessment panels.
        loinc="72092-0",
        missing_rule=f"{SUBSCALES_RULE} HOOS JR: {JR_RULE}",
        body_region="hip",
    )
)

# FAOS MCID, reviewed (issue 8): no value is adopted. Found: hallux valgus surgery, Foot Ankle Int 2019;
# 40(6):694-701 (PMID 30873859), ranges only (Pain 5.8-10.2, Symptoms 0.3-6.9, ADL 8.3-10.3, QOL 7.4-11.1,
# Sport/Rec 7.0-15.7, anchor and distribution methods mixed); ankle fracture, Foot Ankle Int 2021
# (DOI 10.1177/10711007211002811), one value of 14 for the whole FAOS, which has no total; a 10-point
# difference predefined, not derived, in a reference-value study (Larsen et al.). None is a subscale's
# MIC for improvement in a population like the practice's (non-operative foot and ankle OA or tendinopathy).
_items, _sections = _load("faos")
FAOS = register(
    Instrument(
        code="FAOS",
        name="Foot and Ankle Outcome Score",
        items=_items,
        sections=_sections,
        scores=(
            _definition("SYMPTOMS", "FAOS Symptoms"),
            _definition("PAIN", "FAOS Pain"),
            _definition("ADL", "FAOS Function in daily living (ADL)"),
            _definition("SPORT_REC", "FAOS Function in sport and recreation (Sport/Rec)"),
            _definition("QOL", "FAOS Foot and ankle-related quality of life (QOL)"),
        ),
        scoring=score_faos,
        scoring_version="faos-2012.1",
        languages=("en",),
        source=(
            "Roos EM, Brandsson S, Karlsson J. Validation of the foot and ankle outcome score for ankle ligament "
            "reconstruction. Foot Ankle Int 2001;22(10):788-794. Wording as in the US-format FAOS form "
            "(sections I-V) transcribed in an open FAOS form schema (FAOS_SCHEMA, 'Foot and Ankle Outcome Score "
            "(FAOS)'). A second search found that schema again in a second file of the same project (a copy, not "
            "an independent source) and no other open English FAOS text, so the wording rests on one "
            "transcription. What koos.nu's FAOS page (koos.nu/faospres.html) does confirm: five subscales (Pain, "
            "other Symptoms, ADL, Sport/Rec, QOL), the last week as recall period, five Likert boxes scored 0-4, "
            "a normalized 0-100 score per subscale with 100 = no symptoms. Every answer label and item matches "
            "the KOOS item with 'knee' read as 'foot/ankle' except for small differences of the transcription "
            "(S2 and S7 commas, S7 'joint', P5/A6 'a flat', A5 'the floor', Q2 'lifestyle ... activities "
            "potentially damaging'), kept as transcribed since the FAOS form itself was not available to us."
        ),
        scoring_source=(
            "FAOS subscales are scored as the KOOS (koos.nu: 'FAOS content is based on the KOOS ... A normalized "
            f"score (100 indicating no symptoms and 0 indicating extreme symptoms) is calculated for each "
            f"subscale'). {KOOS_SCORING_2012}"
        ),
        licence="Free to use (koos.nu).",
        missing_rule=(
            f"{SUBSCALES_RULE} The FAOS User's Guide was not available to us; the rule is the KOOS Scoring 2012 "
            "rule, which koos.nu applies across the KOOS family."
        ),
        body_region="foot_ankle",
    )
)

_items, _sections = _load("koos_jr")
KOOS_JR = register(
    Instrument(
        code="KOOS_JR",
        name="Knee injury and Osteoarthritis Outcome Score for Joint Replacement (KOOS, JR.)",
        items=_items,
        sections=_sections,
        scores=(_definition("KOOS_JR", "KOOS JR interval score", "82332-8", pass_=KOOS_JR_PASS),),
        scoring=score_koos_jr,
        scoring_version="koos-jr-2016.1",
        languages=("en",),
        source=(
            "HSS KOOS, JR. survey (Lyman et al. 2016). Wording checked against the KOOS, JR. survey at "
            "swiftpath.com (dr101 KOOS survey page) and the PACIO KOOS JR Questionnaire "
            "(github.com/paciowg/sample-data-fsh, LOINC panel 82324-5; rendered at build.fhir.org/ig/paciowg/"
            "sample-data-fsh/Questionnaire-KOOSJRQuestionnaire.html), items numbered 1-7 as on the HSS form. "
            "PACIO prints item 7 as 'Bending to floor/picking up an object'; the KOOS A5 wording the JR item is "
            "taken from ('pick up') is kept."
        ),
        scoring_source=KOOS_JR_SCORING,
        licence="(c) Hospital for Special Surgery; used unaltered.",
        loinc="82324-5",
        missing_rule=JR_RULE,
        body_region="knee",
    )
)

_items, _sections = _load("hoos_jr")
HOOS_JR = register(
    Instrument(
        code="HOOS_JR",
        name="Hip disability and Osteoarthritis Outcome Score for Joint Replacement (HOOS, JR.)",
        items=_items,
        sections=_sections,
        scores=(_definition("HOOS_JR", "HOOS JR interval score", "82323-7", pass_=HOOS_JR_PASS),),
        scoring=score_hoos_jr,
        scoring_version="hoos-jr-2016.1",
        languages=("en",),
        source=(
            "HSS HOOS, JR. survey (Lyman et al. 2016). Item wording checked against nhoc.com/hoos (HOOS JR form) "
            "and the PACIO HOOS JR Questionnaire (github.com/paciowg/sample-data-fsh, LOINC panel 82316-1; "
            "rendered at build.fhir.org/ig/paciowg/sample-data-fsh/Questionnaire-HOOSJRQuestionnaire.html); "
            "section instructions as on the HOOS form; items numbered 1-6. PACIO shortens item 5 to 'Lying in "
            "bed' and prints item 4 as 'Bending to the floor/picking up an object'; the HOOS A12/A5 wording the "
            "JR items are taken from is kept."
        ),
        scoring_source=HOOS_JR_SCORING,
        licence="(c) Hospital for Special Surgery; used unaltered.",
        loinc="82316-1",
        missing_rule=JR_RULE,
        body_region="hip",
    )
)

del _items, _sections

__all__ = ["FAOS", "HOOS", "HOOS_JR", "KOOS", "KOOS_JR"]

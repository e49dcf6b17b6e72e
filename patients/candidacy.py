"""What the chart says about a candidacy: suggestions, each with its reason, for the clinician to weigh.

`suggest` is pure: it reads what it is given (the assessment's details, the patient's
medications, medical history and intake) and returns `Suggestion`s, most serious first.
It never decides: the clinician does, and the assessment stores the suggestions shown
with `VERSION`, so a later change of a rule never rewrites what an assessment was told.

Each rule is a small function of `Facts`; a new rule is one more function in `RULES`
(and a new `VERSION`).

Severity: STOP (a contraindication the practice does not treat through: active
infection, fever, a history of cancer), CAUTION (needs a plan or a second look before
a "candidate" decision), INFO (worth knowing).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from patients.models import Indication, Medication

VERSION = "candidacy-1"

# The conservative care a patient may have tried without lasting relief (stored as codes).
CONSERVATIVE_CARE: list[tuple[str, Any]] = [
    ("physical_therapy", gettext_lazy("Physical therapy")),
    ("nsaids", gettext_lazy("NSAIDs (anti-inflammatory medicines)")),
    ("cortisone", gettext_lazy("Cortisone injection")),
    ("hyaluronic_acid", gettext_lazy("Hyaluronic acid injection")),
    ("earlier_prp", gettext_lazy("Earlier PRP")),
    ("bracing", gettext_lazy("Bracing")),
    ("activity_change", gettext_lazy("Activity change")),
    ("weight_loss", gettext_lazy("Weight loss")),
]
CARE_CODES = frozenset(code for code, _label in CONSERVATIVE_CARE)

# The details that decide candidacy, by the indication they belong to.
DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    Indication.OSTEOARTHRITIS: ("kl_grade",),
    Indication.ROTATOR_CUFF: ("tear_type",),
    Indication.KNEE_LIGAMENT: ("sprain_grade",),
}

# The screening questions of the intake (`patients.intake.SCREENING`) the rules read, and the answers that count.
SCREENING_KEYS = (
    "infection",
    "fever",
    "cancer",
    "bleeding_disorder",
    "anticoagulant",
    "pregnancy",
    "steroid_injection",
)
YES = frozenset({"yes", True})
NOT_SURE = frozenset({"unsure", "not_sure"})


class Severity(StrEnum):
    STOP = "stop"
    CAUTION = "caution"
    INFO = "info"


SEVERITY_ORDER = {Severity.STOP: 0, Severity.CAUTION: 1, Severity.INFO: 2}
SEVERITY_LABELS = {
    Severity.STOP: pgettext_lazy("candidacy suggestion", "Stop"),
    Severity.CAUTION: pgettext_lazy("candidacy suggestion", "Caution"),
    Severity.INFO: pgettext_lazy("candidacy suggestion", "Note"),
}


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One thing the data suggests: a stable `code`, how serious it is, and why (shown to the clinician)."""

    code: str
    severity: Severity
    text: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": str(self.severity), "text": self.text}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read: the assessment's details and what the chart holds."""

    indication: str
    kl_grade: int | None
    tear_type: str
    sprain_grade: int | None
    failed_care: tuple[str, ...]
    medications: tuple[Any, ...]
    history: Any
    screening: Mapping[str, Any]

    def answer(self, question: str) -> str:
        """The intake's answer to a screening question: "yes", "not_sure" or "" (no, or not asked)."""
        assert question in SCREENING_KEYS, question
        value = self.screening.get(question)
        if isinstance(value, str):
            value = value.strip().lower()
        if value in YES:
            return "yes"
        if value in NOT_SURE:
            return "not_sure"
        return ""


Rule = Callable[[Facts], Iterable[Suggestion]]


def _names(medications: Iterable[Any]) -> str:
    return ", ".join(sorted({str(m.name) for m in medications}))


def _blood_thinners(facts: Facts) -> Iterable[Suggestion]:
    thinners = [
        m
        for m in facts.medications
        if m.drug_class in (Medication.DrugClass.ANTICOAGULANT, Medication.DrugClass.ANTIPLATELET)
    ]
    if thinners:
        yield Suggestion(
            "anticoagulant",
            Severity.CAUTION,
            _(
                "Takes an anticoagulant or antiplatelet (%(names)s): the harvest and the injection need a plan "
                "for it, agreed with the prescriber."
            )
            % {"names": _names(thinners)},
        )
    elif facts.answer("anticoagulant"):
        yield Suggestion(
            "anticoagulant",
            Severity.CAUTION,
            _(
                "The patient reported taking a blood thinner at intake (or was not sure), and none is on the "
                "medication list: find out which, and plan for it."
            ),
        )


def _nsaids(facts: Facts) -> Iterable[Suggestion]:
    nsaids = [m for m in facts.medications if m.drug_class == Medication.DrugClass.NSAID]
    if nsaids:
        yield Suggestion(
            "nsaid",
            Severity.INFO,
            _("Takes an NSAID (%(names)s): it affects platelets; decide whether to pause it around the procedure.")
            % {"names": _names(nsaids)},
        )


def _cancer(facts: Facts) -> Iterable[Suggestion]:
    history = facts.history
    # The history, once recorded, outweighs what the patient ticked at intake.
    if history is not None and history.cancer_history is True:
        yield Suggestion(
            "cancer_history", Severity.STOP, _("A history of cancer is recorded: the practice does not go ahead.")
        )
    elif (history is None or history.cancer_history is None) and facts.answer("cancer") == "yes":
        yield Suggestion(
            "cancer_history",
            Severity.STOP,
            _("The patient reported a history of cancer at intake: the practice does not go ahead."),
        )


def _infection(facts: Facts) -> Iterable[Suggestion]:
    for question, code, stop_text, unsure_text in (
        (
            "infection",
            "active_infection",
            _("The patient reported an active infection at intake: no harvest or injection until it has cleared."),
            _("The patient was not sure about an active infection at intake: ask before deciding."),
        ),
        (
            "fever",
            "fever",
            _("The patient reported a fever at intake: no harvest or injection until its cause is known and gone."),
            _("The patient was not sure about a fever at intake: ask before deciding."),
        ),
    ):
        answer = facts.answer(question)
        if answer == "yes":
            yield Suggestion(code, Severity.STOP, stop_text)
        elif answer == "not_sure":
            yield Suggestion(f"{code}_unsure", Severity.CAUTION, unsure_text)


def _bleeding(facts: Facts) -> Iterable[Suggestion]:
    recorded = getattr(facts.history, "bleeding_disorder", None)
    # A clinician's "no" in the history outweighs what the patient ticked at intake.
    if recorded is True or (recorded is None and facts.answer("bleeding_disorder") == "yes"):
        yield Suggestion(
            "bleeding_disorder",
            Severity.CAUTION,
            _("A bleeding disorder is recorded or reported: the harvest needs a plan for it."),
        )


def _pregnancy(facts: Facts) -> Iterable[Suggestion]:
    answer = facts.answer("pregnancy")
    if answer:
        text = (
            _("The patient reported a pregnancy at intake: the procedure is usually put off.")
            if answer == "yes"
            else _("The patient was not sure about a pregnancy at intake: ask before deciding.")
        )
        yield Suggestion("pregnancy", Severity.CAUTION, text)


def _steroid(facts: Facts) -> Iterable[Suggestion]:
    if facts.answer("steroid_injection") == "yes":
        yield Suggestion(
            "steroid_recent",
            Severity.CAUTION,
            _("A steroid injection at the site in the last 6 weeks was reported: consider waiting."),
        )


def _kellgren_lawrence(facts: Facts) -> Iterable[Suggestion]:
    if facts.indication != Indication.OSTEOARTHRITIS:
        return
    if facts.kl_grade is None:
        yield Suggestion(
            "kl_missing",
            Severity.INFO,
            _("No Kellgren-Lawrence grade: the grade tells whether the osteoarthritis is mild to moderate."),
        )
    elif facts.kl_grade >= 4:
        yield Suggestion(
            "kl_4",
            Severity.CAUTION,
            _("Kellgren-Lawrence grade 4 is beyond “mild to moderate” osteoarthritis."),
        )


def _tear(facts: Facts) -> Iterable[Suggestion]:
    if facts.indication != Indication.ROTATOR_CUFF:
        return
    if facts.tear_type == "full":
        yield Suggestion(
            "full_thickness_tear",
            Severity.CAUTION,
            _("A full-thickness tear is not a partial tear: consider a surgical opinion."),
        )
    elif not facts.tear_type:
        yield Suggestion(
            "tear_type_missing", Severity.INFO, _("The tear is not yet known to be partial or full-thickness.")
        )


def _sprain(facts: Facts) -> Iterable[Suggestion]:
    if facts.indication == Indication.KNEE_LIGAMENT and facts.sprain_grade == 3:
        yield Suggestion(
            "sprain_grade_3",
            Severity.CAUTION,
            _("A grade III sprain is a complete tear of the ligament: consider a surgical opinion."),
        )


def _conservative_care(facts: Facts) -> Iterable[Suggestion]:
    if not facts.failed_care:
        yield Suggestion(
            "no_conservative_care",
            Severity.INFO,
            _("No failed conservative care is noted (physical therapy, medicines, other injections...)."),
        )


RULES: tuple[Rule, ...] = (
    _cancer,
    _infection,
    _blood_thinners,
    _bleeding,
    _pregnancy,
    _steroid,
    _kellgren_lawrence,
    _tear,
    _sprain,
    _conservative_care,
    _nsaids,
)


def suggest(
    *,
    indication: str,
    kl_grade: int | None,
    tear_type: str,
    sprain_grade: int | None,
    failed_care: Iterable[str],
    medications: Iterable[Any],
    history: Any,
    intake: Any,
) -> list[Suggestion]:
    """The suggestions the data gives, most serious first (then in the order of `RULES`).

    `medications` are the patient's active medications (objects with `name` and
    `drug_class`); `history` their MedicalHistory or None; `intake` their Intake (its
    "screening" answers are read) or None.
    """
    facts = Facts(
        indication=indication,
        kl_grade=kl_grade,
        tear_type=tear_type or "",
        sprain_grade=sprain_grade,
        failed_care=tuple(code for code in failed_care if code in CARE_CODES),
        medications=tuple(m for m in medications if getattr(m, "is_active", True)),
        history=history,
        screening=screening_answers(intake),
    )
    found = [suggestion for rule in RULES for suggestion in rule(facts)]
    return sorted(found, key=lambda s: SEVERITY_ORDER[s.severity])


def screening_answers(intake: Any) -> Mapping[str, Any]:
    """The screening section of an intake's answers ({} when there is none)."""
    answers = getattr(intake, "answers", None) or {}
    screening = answers.get("screening") if isinstance(answers, dict) else None
    return screening if isinstance(screening, dict) else {}


def care_labels(codes: Iterable[str]) -> list[str]:
    """The labels of conservative-care codes, in the list's order."""
    wanted = set(codes)
    return [str(label) for code, label in CONSERVATIVE_CARE if code in wanted]

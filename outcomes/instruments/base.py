"""What an outcome instrument is, as data: items, answers and their codes, scores, sources, one scoring function.

An instrument's wording, answer codes and scoring rules come from its official form and
scoring guide, recorded in `source` and `scoring_source`. The scoring function is pure
(answers in, scores out), so that `manage.py score`, the survey and `manage.py rescore`
all compute the same numbers; `scoring_version` names the rules a stored score was
computed with, and changes whenever the function's results could change.

A licensed instrument (WOMAC, QuickDASH, EQ-5D, PROMIS) is added by a practice that holds
the licence: one module defining an `Instrument` with its data and scoring function,
registered in `outcomes/instruments/__init__.py`. Nothing else changes.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

# One answer as it arrives: the answer's numeric code as the guide assigns it, None when
# unanswered, or several codes when the person ticked more than one box (each
# instrument's guide says which one counts).
Answer = int | Sequence[int] | None
Answers = Mapping[str, Answer]


class InvalidAnswers(ValueError):
    """The answers cannot belong to this instrument: an unknown item code, or a code the item does not have."""


@dataclass(frozen=True, slots=True)
class Option:
    """One answer box: its numeric code (as the scoring guide assigns it) and its label per language."""

    code: int
    text: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Item:
    """One question. `code` is as printed on the official form (KOOS "P1", ODI "1").

    Either `options` (boxes to tick) or a numeric scale from `low` to `high` (an NRS
    0-10, SANE 0-100), with `anchors` labelling its ends.
    """

    code: str
    text: Mapping[str, str]
    options: tuple[Option, ...] = ()
    low: int | None = None
    high: int | None = None
    anchors: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    def allows(self, code: int) -> bool:
        if self.options:
            return any(option.code == code for option in self.options)
        return self.low is not None and self.high is not None and self.low <= code <= self.high


@dataclass(frozen=True, slots=True)
class Section:
    """A group of items shown on one screen, with its heading and instructions per language."""

    code: str
    title: Mapping[str, str]
    instructions: Mapping[str, str]
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Threshold:
    """A published threshold (MCID or PASS) for one score, with where it was published."""

    value: float
    source: str
    # "points" (change or level on the score's own scale) or "percent" (change relative to baseline).
    unit: str = "points"


@dataclass(frozen=True, slots=True)
class ScoreDefinition:
    """One number the instrument yields (a subscale, a total, an interval score)."""

    code: str
    label: Mapping[str, str]
    low: float
    high: float
    higher_is_better: bool
    loinc: str = ""
    mcid: Threshold | None = None
    pass_threshold: Threshold | None = None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A computed score, or None with the reason it could not be computed (never 0 for "missing")."""

    value: float | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    name: str
    items: tuple[Item, ...]
    sections: tuple[Section, ...]
    scores: tuple[ScoreDefinition, ...]
    scoring: Callable[[Answers], dict[str, ScoreResult]]
    scoring_version: str
    # Languages whose validated text is shipped; the survey shows the instrument only in these.
    languages: tuple[str, ...]
    source: str
    scoring_source: str
    licence: str
    loinc: str = ""
    missing_rule: str = ""
    # e.g. "knee", "hip", "shoulder", "lower_limb", "foot_ankle", "back", "any".
    body_region: str = "any"
    # Each item's allowed codes, computed once: `validate` runs on every response scored in bulk.
    _allowed: Mapping[str, frozenset[int] | range] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        allowed: dict[str, frozenset[int] | range] = {}
        for item in self.items:
            if item.options:
                allowed[item.code] = frozenset(option.code for option in item.options)
            elif item.low is not None and item.high is not None:
                allowed[item.code] = range(item.low, item.high + 1)
            else:
                allowed[item.code] = frozenset()
        object.__setattr__(self, "_allowed", allowed)

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def validate(self, answers: Answers) -> None:
        """Raise `InvalidAnswers` naming the first unknown item or impossible code."""
        for code, answer in answers.items():
            allowed = self._allowed.get(code)
            if allowed is None:
                raise InvalidAnswers(f"{self.code} has no item {code!r}.")
            if answer is None:
                continue
            # The common case first: one plain int (not a bool) that the item has.
            if type(answer) is int and answer in allowed:
                continue
            codes = [answer] if isinstance(answer, int) else list(answer)
            if not codes or any(isinstance(c, bool) or not isinstance(c, int) or c not in allowed for c in codes):
                raise InvalidAnswers(f"{self.code} item {code}: {answer!r} is not one of its answer codes.")

    def score(self, answers: Answers) -> dict[str, ScoreResult]:
        """Every score of the instrument for one response (validated first)."""
        self.validate(answers)
        return self.scoring(answers)

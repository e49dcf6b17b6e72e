"""How well the guard does on a labelled corpus: recall, specificity, and the same for urgency.

A corpus is a JSON-lines file, one message a line: text, language ("en", "es" or "mix"),
medical, after_procedure, urgent, urgent_signs and kind (what sort of message it is, to
count misses by class). lib/tests/guard_corpus.jsonl is the tuning set and
lib/tests/guard_holdout.jsonl the held-out one.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lib.guard.rules import assess

CORPORA = Path(__file__).resolve().parent.parent / "tests"
TUNING = CORPORA / "guard_corpus.jsonl"
HOLDOUT = CORPORA / "guard_holdout.jsonl"


@dataclass(frozen=True)
class Example:
    """One labelled message."""

    text: str
    language: str
    medical: bool
    after_procedure: bool
    urgent: bool
    urgent_signs: tuple[str, ...]
    kind: str


def load_corpus(path: Path) -> list[Example]:
    """The examples of a JSON-lines corpus file."""
    examples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            examples.append(
                Example(
                    text=row["text"],
                    language=row["language"],
                    medical=bool(row["medical"]),
                    after_procedure=bool(row["after_procedure"]),
                    urgent=bool(row["urgent"]),
                    urgent_signs=tuple(row.get("urgent_signs", ())),
                    kind=row.get("kind", ""),
                )
            )
    return examples


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


@dataclass
class Figures:
    """The guard's figures on one corpus, with the messages it got wrong."""

    medical: int = 0
    other: int = 0
    found: int = 0  # medical messages flagged
    spared: int = 0  # non-medical messages left alone
    urgent: int = 0
    urgent_found: int = 0
    urgent_flagged: int = 0
    false_negatives: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    urgent_misses: list[str] = field(default_factory=list)
    urgent_false_alarms: list[str] = field(default_factory=list)
    misses_by_kind: Counter[str] = field(default_factory=Counter)
    false_alarms_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return _ratio(self.found, self.medical)

    @property
    def specificity(self) -> float:
        return _ratio(self.spared, self.other)

    @property
    def urgent_recall(self) -> float:
        return _ratio(self.urgent_found, self.urgent)

    @property
    def urgent_precision(self) -> float:
        return _ratio(self.urgent_found, self.urgent_flagged)


def measure(examples: list[Example]) -> Figures:
    """Assess every example and count what the guard got right and wrong."""
    figures = Figures()
    for example in examples:
        assessment = assess(example.text)
        kind = example.kind
        if example.after_procedure and kind != "after_procedure":
            kind += "/after_procedure"
        if example.medical:
            figures.medical += 1
            if assessment.medical:
                figures.found += 1
            else:
                figures.false_negatives.append(example.text)
                figures.misses_by_kind[kind] += 1
        else:
            figures.other += 1
            if assessment.medical:
                figures.false_positives.append(example.text)
                figures.false_alarms_by_kind[kind] += 1
            else:
                figures.spared += 1
        figures.urgent += example.urgent
        figures.urgent_flagged += assessment.urgent
        if example.urgent and assessment.urgent:
            figures.urgent_found += 1
        elif example.urgent:
            figures.urgent_misses.append(example.text)
        elif assessment.urgent:
            figures.urgent_false_alarms.append(example.text)
    return figures

"""Which drug class a medication belongs to, from its name as a patient or a clinician typed it.

The harvest and PRP care about three classes (`Medication.FLAGGED`): anticoagulants,
antiplatelets (aspirin among them, at any dose) and NSAIDs; corticosteroids are recorded
too. The names live in data files, one per class, under `patients/data/drug_classes/`
(generic names, their Spanish spellings and US and Spanish-speaking brand names, with
the sources in each file's header); this module only reads them and matches.

Matching is forgiving where people are: case, accents ("apixabán"), punctuation and
trademark signs ("Xarelto®"), a dose or directions written after the name ("Eliquis 5 mg
twice a day", "Eliquis5mg"), several words ("ácido acetilsalicílico"). A name counts only
as whole words, so "aspirin" is not found in "aspirinate". "Aspirin-free" and "sin
aspirina" rule that medicine out. When one line names medicines of several classes, the
one that matters most for bleeding wins (anticoagulant, then antiplatelet, then NSAID).

`VERSION` names the rules and the exact content of the data files: a medication stores
it (`Medication.classified_by`) with the class it computed, so a later list can tell
which rows were classified by an older one.
"""

import hashlib
import re
import unicodedata
from functools import cache
from pathlib import Path

from patients.models import Medication

DrugClass = Medication.DrugClass

DATA_DIR = Path(__file__).resolve().parent / "data" / "drug_classes"
# The files and the classes they list, most important for bleeding first (the order decides ties).
FILES = (
    ("anticoagulants.txt", DrugClass.ANTICOAGULANT),
    ("antiplatelets.txt", DrugClass.ANTIPLATELET),
    ("nsaids.txt", DrugClass.NSAID),
    ("corticosteroids.txt", DrugClass.CORTICOSTEROID),
)
RULES_VERSION = "drug-classes-1"
# Words that, next to a medicine's name, say it is absent: "aspirin free", "sin aspirina", "non-aspirin".
ABSENT_AFTER = frozenset({"free", "libre"})
ABSENT_BEFORE = frozenset({"sin", "non", "no"})


def normalise(text: str) -> tuple[str, ...]:
    """`text` as lower-case words without accents or punctuation; letters and digits written together are parted."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", plain)
    return tuple(re.findall(r"[a-z0-9]+", spaced))


@cache
def _table() -> tuple[dict[tuple[str, ...], tuple[int, str]], int]:
    """Each listed name (as words) -> (its class's rank, its generic name); and the longest name's length."""
    names: dict[tuple[str, ...], tuple[int, str]] = {}
    for rank, (filename, _drug_class) in enumerate(FILES):
        for line in (DATA_DIR / filename).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            generic, _colon, others = line.partition(":")
            for name in [generic, *others.split(",")]:
                words = normalise(name)
                if words:
                    # A name listed under two classes would make the result depend on file order.
                    assert names.get(words, (rank, generic))[0] == rank, f"{name!r} is listed under two classes"
                    names[words] = (rank, generic.strip())
    return names, max(len(words) for words in names)


def _version() -> str:
    digest = hashlib.sha256()
    for filename, _drug_class in FILES:
        digest.update((DATA_DIR / filename).read_bytes())
    return f"{RULES_VERSION}:{digest.hexdigest()[:12]}"


def _found(words: tuple[str, ...]) -> list[tuple[int, str]]:
    """(rank, generic) of each medicine named in `words`, leaving out those said to be absent."""
    names, longest = _table()
    present: list[tuple[int, str]] = []
    absent: set[str] = set()
    for start in range(len(words)):
        for length in range(min(longest, len(words) - start), 0, -1):
            hit = names.get(words[start : start + length])
            if hit is None:
                continue
            before = words[start - 1] if start else ""
            after = words[start + length] if start + length < len(words) else ""
            if before in ABSENT_BEFORE or after in ABSENT_AFTER:
                absent.add(hit[1])
            else:
                present.append(hit)
            break
    return [hit for hit in present if hit[1] not in absent]


def classify(name: str) -> DrugClass:
    """The drug class of the medication `name` names (OTHER when no listed medicine is named)."""
    found = _found(normalise(name))
    if not found:
        return DrugClass.OTHER
    return FILES[min(rank for rank, _generic in found)][1]


def generic_names(name: str) -> list[str]:
    """The listed medicines `name` names, by generic name, in the order they appear (for showing why it was flagged)."""
    seen: list[str] = []
    for _rank, generic in _found(normalise(name)):
        if generic not in seen:
            seen.append(generic)
    return seen


VERSION = _version()

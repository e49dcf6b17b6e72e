"""Reads of patients: matching a person to a chart, the staff's search, and charts that may be one person."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Lower, Replace

from patients.models import Patient

SEARCH_LIMIT = 20


def patient_match(*, email: str, date_of_birth: date, last_name: str) -> Patient | None:
    """The patient on file with this email, date of birth and last name (the oldest if several), or None.

    Three facts together: knowing an email alone must not attach a booking to someone's chart.
    """
    return (
        Patient.objects.filter(email__iexact=email, date_of_birth=date_of_birth, last_name__iexact=last_name)
        .order_by("pk")
        .first()
    )


def patient_search(*, name: str, date_of_birth: date | None) -> list[Patient]:
    """Patients whose first or last name holds every word of `name`, born on `date_of_birth` if given."""
    found = Patient.objects.all()
    for word in name.split():
        found = found.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if date_of_birth is not None:
        found = found.filter(date_of_birth=date_of_birth)
    return list(found.order_by("last_name", "first_name", "date_of_birth", "pk")[:SEARCH_LIMIT])


# --- The staff's patient search ------------------------------------------------------------------

# What people put between the digits of a phone number; the search compares the digits only.
PHONE_PUNCTUATION = (" ", "(", ")", "-", ".", "+", "/", "\N{NO-BREAK SPACE}")
# The practice's numbers are "RC" and six digits at least (`patients.services.mrn_for`).
MRN_PREFIX = "RC"
MRN_DIGITS = 6


def phone_digits(value: str) -> str:
    """The digits of a phone number, less the US country code of 11 digits: "+1 (310) 555-0100" -> 3105550100."""
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _digits_of(field: str) -> Any:
    """A database expression: the column with the usual punctuation taken out (the same on SQLite and PostgreSQL)."""
    expression: Any = F(field)
    for mark in PHONE_PUNCTUATION:
        expression = Replace(expression, Value(mark), Value(""))
    return expression


# The accented letters of Spanish and their plain letter, in both cases: names are compared without
# accents and case on every database (SQLite's LIKE folds the case of ASCII only). Fourteen nested
# REPLACEs stay within SQLite's parser depth; a longer list overflows it.
PLAIN_LETTERS = dict(zip("áéíóúüñÁÉÍÓÚÜÑ", "aeiouunaeiouun", strict=True))
# The same folding for what was typed, so both sides of the comparison are folded alike.
PLAIN_TABLE = str.maketrans(PLAIN_LETTERS)


def plain(text: str) -> str:
    """`text` lower-case, without accents: "López" -> "lopez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _plain_of(field: str) -> Any:
    """A database expression: the column lower-case, without the accents of `PLAIN_LETTERS` (what `plain` does)."""
    expression: Any = F(field)
    for accented, letter in PLAIN_LETTERS.items():
        expression = Replace(expression, Value(accented), Value(letter))
    return Lower(expression)


def mrn_spellings(typed: str) -> set[str]:
    """The medical record numbers `typed` may mean: as typed, with "RC" added, and its number padded: 42 -> RC000042."""
    plain = "".join(typed.split()).upper().replace("-", "")
    number = plain.removeprefix(MRN_PREFIX)
    if not number:
        return set()
    spellings = {plain, MRN_PREFIX + number}
    if number.isdigit():
        spellings.add(f"{MRN_PREFIX}{int(number):0{MRN_DIGITS}d}")
    return spellings


@dataclass(frozen=True, slots=True)
class Found:
    """A chart the search found: `patient` is the chart to open (a merged chart's survivor), `via` the merged charts
    that matched and lead to it."""

    patient: Patient
    via: tuple[Patient, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchResults:
    found: list[Found]
    # More charts matched than the page shows: the person should narrow the search.
    more: bool


def patient_find(*, name: str = "", date_of_birth: date | None = None, mrn: str = "", phone: str = "") -> SearchResults:
    """The charts matching every term given, in one query; a merged chart leads to the chart it was merged into.

    `name`: every word in the first or the last name, accents and case aside; `mrn`: exact, any case, with or
    without "RC"; `phone`: the digits compared, the number on file ending with those typed
    (so a number typed without its area code, or on file with "+1", still matches).
    """
    found = Patient.objects.select_related("merged_into")
    if name.split():
        found = found.annotate(first_plain=_plain_of("first_name"), last_plain=_plain_of("last_name"))
    for word in name.lower().translate(PLAIN_TABLE).split():
        found = found.filter(Q(first_plain__contains=word) | Q(last_plain__contains=word))
    if date_of_birth is not None:
        found = found.filter(date_of_birth=date_of_birth)
    if mrn.strip():
        spellings = mrn_spellings(mrn)
        match = Q(pk__in=[])
        for spelling in spellings:
            match |= Q(mrn__iexact=spelling)
        found = found.filter(match)
    digits = phone_digits(phone)
    if digits:
        found = found.annotate(phone_digits=_digits_of("phone")).filter(phone_digits__endswith=digits)
    rows = list(found.order_by("last_name", "first_name", "date_of_birth", "pk")[: SEARCH_LIMIT + 1])
    results: dict[int, Found] = {}
    for patient in rows[:SEARCH_LIMIT]:
        survivor = patient.merged_into if patient.merged_into_id is not None else patient
        assert survivor is not None
        earlier = results.get(survivor.pk, Found(patient=survivor))
        via = (*earlier.via, patient) if survivor is not patient else earlier.via
        results[survivor.pk] = Found(patient=survivor, via=via)
    return SearchResults(found=list(results.values()), more=len(rows) > SEARCH_LIMIT)


# --- Possible duplicates -------------------------------------------------------------------------


class Likeness(StrEnum):
    """Why two charts may be one person (they always share the date of birth)."""

    LAST_NAME = "last_name"
    PHONE = "phone"
    EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Duplicate:
    patient: Patient
    reasons: tuple[Likeness, ...]


def _name_words(value: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", plain(value)))


def possible_duplicates(patient: Patient) -> list[Duplicate]:
    """Other charts, not merged, that may be the same person: one query.

    The same date of birth, and one more thing in common: a last name that shares a word
    with theirs (accents and case aside: "García López" and "Garcia"), the same phone
    number (digits compared: the person who booked again online with a new email, or took
    a new last name), or the same email (a typo in the name). A chart merged away is never
    offered.
    """
    others = (
        Patient.objects.filter(date_of_birth=patient.date_of_birth, merged_into__isnull=True)
        .exclude(pk=patient.pk)
        .order_by("created_at", "pk")
    )
    words = _name_words(patient.last_name)
    digits = phone_digits(patient.phone)
    email = patient.email.strip().casefold()
    duplicates = []
    for other in others:
        reasons = []
        if words & _name_words(other.last_name):
            reasons.append(Likeness.LAST_NAME)
        if digits and phone_digits(other.phone) == digits:
            reasons.append(Likeness.PHONE)
        if email and other.email.strip().casefold() == email:
            reasons.append(Likeness.EMAIL)
        if reasons:
            duplicates.append(Duplicate(patient=other, reasons=tuple(reasons)))
    return duplicates

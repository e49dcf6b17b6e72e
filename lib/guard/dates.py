"""Dates that read as a date of birth: a full date before 2010, or any date near a birth word."""

import re

# A full date with a year before this reads as a date of birth, not an appointment.
FIRST_NON_BIRTH_YEAR = 2010

_MONTH = (
    r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"

# Full dates, each with the year in a group named "year" (or y1..y3).
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?P<first>\d{1,2})[/.-](?P<second>\d{1,2})[/.-](?P<year>\d{4}|\d{2})(?![\w/-]|\.\d)"
)
_ISO_DATE = re.compile(r"(?<![\w/.-])(?P<year>\d{4})-\d{1,2}-\d{1,2}(?![\w/-]|\.\d)")
_WORDED_DATE = re.compile(
    rf"\b(?:{_MONTH}\.?\s+{_DAY},?\s+(?P<y1>\d{{4}})"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH}\.?,?\s+(?P<y2>\d{{4}})"
    rf"|\d{{1,2}}\s+de\s+{_MONTH}\s+(?:de|del)\s+(?P<y3>\d{{4}}))\b"
)
# Anything date-like that makes a nearby birth word a birth date: a date, a year, a month.
# "may" on its own is left out: "May I ask whether you need my date of birth?" has no date.
DATE_PART = re.compile(
    r"(?<![\w/.-])\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?(?![\w/-]|\.\d)"
    r"|\b(?:19|20)\d{2}\b"
    r"|\b(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre)\b"
    rf"|\b{_MONTH}\.?\s+\d{{1,2}}\b"
)


def _full_year(year: str) -> int:
    """A four-digit year; two digits read as 2000-2029 or 1930-1999."""
    value = int(year)
    if len(year) == 4:
        return value
    return 2000 + value if value < 30 else 1900 + value


def _is_old(year: str) -> bool:
    return 1900 <= _full_year(year) < FIRST_NON_BIRTH_YEAR


def has_old_date(plain: str) -> bool:
    """True if lower-cased text holds a full date from before 2010, such as 04/12/1957 or march 5, 1949."""
    for match in _NUMERIC_DATE.finditer(plain):
        first, second = int(match["first"]), int(match["second"])
        plausible = 1 <= first <= 31 and 1 <= second <= 31 and min(first, second) <= 12
        if plausible and _is_old(match["year"]):
            return True
    if any(_is_old(match["year"]) for match in _ISO_DATE.finditer(plain)):
        return True
    for match in _WORDED_DATE.finditer(plain):
        year = match["y1"] or match["y2"] or match["y3"]
        if year and _is_old(year):
            return True
    return False

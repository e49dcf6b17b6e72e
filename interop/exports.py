"""The research CSV as pure mapping: rows read by `interop.queries` in, one tidy long table out.

De-identified by default, by HIPAA's Safe Harbor method (45 CFR 164.514(b)(2)): no name,
contact detail, address or geographic unit smaller than a state, record number, public id
or date of the patient's leaves. Instead:

- each patient gets a random study id (`secrets`, never derived from the patient), the same
  on every row of one export and a new one in the next, so two exports cannot be joined;
  each episode gets one too (a patient can have several);
- every date becomes whole days from the treatment (its procedure is day 0): the answer's
  day in the office's time zone, the surgery's, the adverse event's onset;
- the age at treatment is in whole years up to 89, and "90+" from 90 (ages over 89 are
  identifiers themselves);
- free text (notes, descriptions, details, the kind of "other" event) is left out, since it
  can hold anything, names included. What remains are codes, numbers and the staff's
  own names: the office (the practice's location, not the patient's) and the physician.

One row per fact, told apart by `record`: "episode" (the treatment, its product and any
conversion to surgery), "score" (one score of one instrument at one follow-up, or not
scorable with the reason), "adverse_event". Every row repeats the episode's columns, so
any row can be read on its own.

The identified export (an administrator's, with a written reason) is the same table
with the record number, names, date of birth and the dates themselves beside the days.
"""

import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings

from interop import queries

T = TypeVar("T")

EPISODE, SCORE, ADVERSE_EVENT = "episode", "score", "adverse_event"
# Safe Harbor: ages over 89 are aggregated into one category.
OLDEST_EXACT_AGE = 89
OLDER = "90+"
CHUNK_SIZE = 500
# A cell a spreadsheet would run as a formula starts with one of these: it is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

DEIDENTIFIED_COLUMNS = (
    "record",
    "study_id",
    "study_episode",
    "indication",
    "site",
    "side",
    "office",
    "physician",
    "age_at_procedure",
    "sex",
    "paw_code",
    "cell_dose",
    "concentration_factor",
    "platelet_factor",
    "classification_version",
    "surgery_day",
    "surgery_procedure",
    "timepoint",
    "answer_day",
    "instrument",
    "score_code",
    "value",
    "not_scorable_reason",
    "scoring_version",
    "ae_kind",
    "ae_grade",
    "ae_serious",
    "ae_related_to_harvest",
    "ae_related_to_injection",
    "ae_related_to_product",
    "ae_outcome",
    "ae_onset_day",
)
# The identified export's extra columns, each placed after the column named.
_IDENTIFIED_AFTER = {
    "study_episode": ("mrn", "last_name", "first_name", "date_of_birth", "procedure_date"),
    "surgery_day": ("surgery_date",),
    "answer_day": ("answer_date",),
    "ae_onset_day": ("ae_onset_date",),
}
IDENTIFIED_COLUMNS = tuple(
    name for column in DEIDENTIFIED_COLUMNS for name in (column, *_IDENTIFIED_AFTER.get(column, ()))
)


class StudyIds:
    """Random ids for one export: the same key gets the same id within it; the next export draws new ones.

    Drawn with `secrets` (never a hash of the patient's id, which anyone with the ids could
    recompute); a letter first, so a spreadsheet never reads one as a number.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._ids: dict[Any, str] = {}
        self._drawn: set[str] = set()

    def __call__(self, key: Any) -> str:
        if key not in self._ids:
            drawn = self.prefix + secrets.token_hex(6)
            while drawn in self._drawn:
                drawn = self.prefix + secrets.token_hex(6)
            self._drawn.add(drawn)
            self._ids[key] = drawn
        return self._ids[key]


def age_on(born: date, day: date) -> int:
    """Whole years from `born` to `day` (a birthday on 29 February comes on 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_band(age: int) -> int | str:
    """The age as Safe Harbor lets it out: exact to 89, "90+" from 90."""
    return OLDER if age > OLDEST_EXACT_AGE else age


def days_from(day: date | None, procedure: date) -> int | str:
    """Whole days from the procedure (day 0) to `day`: negative before it; blank for no date."""
    return "" if day is None else (day - procedure).days


def columns(*, identified: bool) -> tuple[str, ...]:
    return IDENTIFIED_COLUMNS if identified else DEIDENTIFIED_COLUMNS


def rows(selection: queries.Selection, *, identified: bool, chunk_size: int = CHUNK_SIZE) -> Iterator[list[Any]]:
    """The header, then every row of the selection; the database is read `chunk_size` episodes at a time.

    One query for the treatments (fetched a chunk at a time), and two per chunk whatever its
    size: its scores and its adverse events.
    """
    names = columns(identified=identified)
    patients, episodes = StudyIds("P"), StudyIds("E")
    yield list(names)
    treatments = queries.treatment_rows(selection, identified=identified, chunk_size=chunk_size)
    for chunk in _chunks(treatments, chunk_size):
        episode_ids = [treatment["episode_id"] for treatment in chunk]
        scores = _by_episode(queries.scores_of(episode_ids))
        events = _by_episode(queries.adverse_events_of(episode_ids))
        for treatment in chunk:
            facts = episode_cells(treatment, patients=patients, episodes=episodes, identified=identified)
            procedure, zone = treatment["procedure_date"], _zone(treatment)
            yield _row(names, facts)
            for score in scores.get(treatment["episode_id"], []):
                yield _row(names, {**facts, **score_cells(score, procedure, zone, identified=identified)})
            for event in events.get(treatment["episode_id"], []):
                yield _row(names, {**facts, **adverse_event_cells(event, procedure, identified=identified)})


def episode_cells(
    treatment: Mapping[str, Any], *, patients: StudyIds, episodes: StudyIds, identified: bool
) -> dict[str, Any]:
    """The columns every row of an episode carries (`record` is "episode" until a score or event replaces it)."""
    procedure: date = treatment["procedure_date"]
    born: date = treatment["episode__patient__date_of_birth"]
    surgery: date | None = treatment["episode__surgery__surgery_date"]
    age = age_on(born, procedure)
    cells: dict[str, Any] = {
        "record": EPISODE,
        "study_id": patients(treatment["episode__patient_id"]),
        "study_episode": episodes(treatment["episode_id"]),
        "indication": treatment["episode__indication"],
        "site": treatment["episode__site"],
        "side": treatment["episode__side"],
        "office": treatment["appointment__office__name"] or "",
        "physician": treatment["episode__physician__name"],
        "age_at_procedure": age if identified else age_band(age),
        "sex": treatment["episode__patient__sex"],
        "paw_code": treatment["paw_code"],
        "cell_dose": treatment["cell_dose"],
        "concentration_factor": treatment["concentration_factor"],
        "platelet_factor": treatment["platelet_factor"],
        "classification_version": treatment["classification_version"],
        "surgery_day": days_from(surgery, procedure),
        "surgery_procedure": treatment["episode__surgery__procedure"] or "",
    }
    if identified:
        cells |= {
            "mrn": treatment["episode__patient__mrn"] or "",
            "last_name": treatment["episode__patient__last_name"],
            "first_name": treatment["episode__patient__first_name"],
            "date_of_birth": born,
            "procedure_date": procedure,
            "surgery_date": surgery,
        }
    return cells


def score_cells(score: Mapping[str, Any], procedure: date, zone: ZoneInfo, *, identified: bool) -> dict[str, Any]:
    submitted: datetime | None = score["response__submitted_at"]
    answered = submitted.astimezone(zone).date() if submitted is not None else None
    cells: dict[str, Any] = {
        "record": SCORE,
        "timepoint": score["timepoint"],
        "answer_day": days_from(answered, procedure),
        "instrument": score["instrument"],
        "score_code": score["code"],
        "value": score["value"],
        "not_scorable_reason": score["reason"] if score["value"] is None else "",
        "scoring_version": score["scoring_version"],
    }
    if identified:
        cells["answer_date"] = answered
    return cells


def adverse_event_cells(event: Mapping[str, Any], procedure: date, *, identified: bool) -> dict[str, Any]:
    cells: dict[str, Any] = {
        "record": ADVERSE_EVENT,
        "ae_kind": event["kind"],
        "ae_grade": event["grade"],
        "ae_serious": "true" if event["serious"] else "false",
        "ae_related_to_harvest": event["related_to_harvest"],
        "ae_related_to_injection": event["related_to_injection"],
        "ae_related_to_product": event["related_to_product"],
        "ae_outcome": event["outcome"],
        "ae_onset_day": days_from(event["onset_date"], procedure),
    }
    if identified:
        cells["ae_onset_date"] = event["onset_date"]
    return cells


def _row(names: Sequence[str], cells: Mapping[str, Any]) -> list[Any]:
    return [_cell(cells.get(name)) for name in names]


def _cell(value: Any) -> Any:
    """Numbers as numbers, dates in ISO form (identified exports only), text never a spreadsheet formula."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _zone(treatment: Mapping[str, Any]) -> ZoneInfo:
    """The time zone the episode's days are counted in: its office's, else the practice's."""
    return ZoneInfo(treatment["appointment__office__time_zone"] or settings.TIME_ZONE)


def _by_episode(found: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in found:
        grouped[row["episode_id"]].append(row)
    return grouped


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk

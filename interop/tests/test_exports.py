"""The de-identified research CSV: what it holds, what it never holds, days, ages, study ids, selections.

Downloaded through its page as a researcher (rhea), read back with `csv`. The canary
patient (see conftest) carries identifiers in every field that can hold one; none of
them, and no date at all, may appear in any cell.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.testing import sign_in
from interop import exports
from interop.tests.conftest import CANARY, DAY, FIRST, LAST, LATE_EVENING, NOTE, SIX_WEEKS, Canary, scored, treatment
from outcomes.models import Score, Timepoint
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.tests.conftest import HARVEST, PROCESSING, Clinic
from scheduling.tests.conftest import LA_ZONE

pytestmark = pytest.mark.django_db

EXPORT = "/staff/exports/deidentified.csv"
# Any date written the ISO way (1958-07-19, 2031-03-05T...), whatever it is the date of.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def body(client: Client, **params: str) -> str:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def table(client: Client, **params: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(client, **params))))


def of(rows: list[dict[str, str]], record: str) -> list[dict[str, str]]:
    return [row for row in rows if row["record"] == record]


def researcher() -> Client:
    from accounts.models import Role, User

    return signed_in(User.objects.create_user("rhea", password="rhea-password-1", role=Role.RESEARCHER))


# --- The canary: no identifier in any cell --------------------------------------------------------------------


def identifiers(canary: Canary) -> list[str]:
    """Everything that identifies the canary, as the chart holds it and as it is commonly written."""
    patient, record = canary.patient, canary.record
    born = CANARY["date_of_birth"]
    return [
        FIRST,
        LAST,
        f"{FIRST} {LAST}",
        CANARY["email"],
        "canary.example",
        CANARY["phone"],
        "555-0187",
        "2135550187",
        CANARY["mrn"],
        "7731",
        born.isoformat(),
        born.strftime("%m/%d/%Y"),
        f"{born.month}/{born.day}/{born.year}",
        born.strftime("%d %B %Y"),
        born.strftime("%B %d, %Y"),
        "1958",
        CANARY["street"],
        "Juniper",
        CANARY["city"],
        CANARY["postal_code"],
        str(patient.uuid),
        str(canary.clinic.episode.uuid),
        str(record.uuid),
        # The procedure's date, and other dates in the record, in other spellings.
        "03/05/2031",
        "2031",
        # What people typed: notes, labels, lots (free text is never exported).
        NOTE[:40],
        HARVEST["harvest_sample_label"],
        PROCESSING["kit_lot"],
        "Crutches",
        "medial compartment",
    ]


def test_no_identifier_of_the_canary_is_in_any_cell_of_the_deidentified_csv(canary: Canary) -> None:
    text = body(signed_in(canary.researcher))
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    wanted = identifiers(canary)
    found = {needle: [cell for cell in cells if needle.lower() in cell.lower()] for needle in wanted}
    assert found == {needle: [] for needle in wanted}
    assert ISO_DATE.findall(text) == []
    # The canary's rows are there (else the search above could not fail): her episode, scores, events.
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["record"] for row in rows} == {"episode", "score", "adverse_event"}
    assert len({row["study_id"] for row in rows}) == 1


def test_the_csv_has_exactly_the_de_identified_columns(canary: Canary) -> None:
    header = next(csv.reader(io.StringIO(body(signed_in(canary.researcher)))))
    assert header == list(exports.DEIDENTIFIED_COLUMNS)
    assert not {"mrn", "first_name", "last_name", "date_of_birth", "procedure_date"} & set(header)


def test_the_canary_s_episode_row_holds_codes_numbers_and_days(canary: Canary) -> None:
    rows = table(signed_in(canary.researcher))
    record = canary.record
    episode_rows = of(rows, "episode")
    assert len(episode_rows) == 1
    row = episode_rows[0]
    assert re.fullmatch(r"P[0-9a-f]{12}", row["study_id"])
    assert re.fullmatch(r"E[0-9a-f]{12}", row["study_episode"])
    expected = dict.fromkeys(exports.DEIDENTIFIED_COLUMNS, "") | {
        "record": "episode",
        "study_id": row["study_id"],
        "study_episode": row["study_episode"],
        "indication": "osteoarthritis",
        "site": "knee",
        "side": "right",
        "office": "Los Angeles",
        "physician": "Dr. Bob Example",
        # Born 19 July 1958, treated 5 March 2031: 72, the birthday not yet come.
        "age_at_procedure": "72",
        "sex": "female",
        "paw_code": record.paw_code,
        "cell_dose": str(record.cell_dose),
        "concentration_factor": str(record.concentration_factor),
        "platelet_factor": str(record.platelet_factor),
        "classification_version": record.classification_version,
        "surgery_day": "300",
        "surgery_procedure": "knee_replacement",
    }
    assert row == expected
    # Every row repeats the episode's columns.
    episode_columns = exports.DEIDENTIFIED_COLUMNS[1 : exports.DEIDENTIFIED_COLUMNS.index("surgery_procedure") + 1]
    assert {tuple(r[c] for c in episode_columns) for r in rows} == {tuple(row[c] for c in episode_columns)}


def test_scores_are_counted_in_days_from_the_procedure_in_the_office_s_time_zone(canary: Canary) -> None:
    """The baseline a week before is day -7; the 6-week answers at 23:30 on 16 April (the 17th in UTC) day 42."""
    assert LATE_EVENING.astimezone(UTC).date() == SIX_WEEKS + timedelta(days=1)
    rows = of(table(signed_in(canary.researcher)), "score")
    days: dict[str, str] = {Timepoint.BASELINE: "-7", Timepoint.WEEK_6: "42"}
    stored = Score.objects.filter(episode=canary.clinic.episode).order_by(
        "response__follow_up__target_date", "instrument", "code"
    )
    assert stored.count() > 2
    assert [
        (r["timepoint"], r["answer_day"], r["instrument"], r["score_code"], r["value"], r["not_scorable_reason"])
        for r in rows
    ] == [
        (s.timepoint, days[s.timepoint], s.instrument, s.code, "" if s.value is None else str(s.value), s.reason)
        for s in stored
    ]


def test_adverse_events_are_codes_grades_and_an_onset_day(canary: Canary) -> None:
    rows = of(table(signed_in(canary.researcher)), "adverse_event")
    assert [
        [r[c] for c in exports.DEIDENTIFIED_COLUMNS[exports.DEIDENTIFIED_COLUMNS.index("ae_kind") :]] for r in rows
    ] == [
        [kind, "1", "false", "not_assessed", "not_assessed", "not_assessed", "recovering", "1"]
        for kind in (AdverseEvent.Kind.HARVEST_SITE_PAIN, AdverseEvent.Kind.OTHER)
    ]
    assert {(r["timepoint"], r["score_code"]) for r in rows} == {("", "")}


# --- Ages, days, study ids ------------------------------------------------------------------------------------


def test_ages_over_89_are_grouped_as_90_plus_and_younger_ones_exact(clinic: Clinic) -> None:
    for born in (date(1941, 3, 6), date(1941, 3, 5), date(1936, 1, 1), date(1960, 3, 5)):
        treatment(clinic, born=born)
    rows = of(table(researcher()), "episode")
    # 89 the day before the 90th birthday; 90 on it; 95; 71 on the birthday itself.
    assert [row["age_at_procedure"] for row in rows] == ["89", "90+", "90+", "71"]


def test_age_counts_whole_years_and_a_leap_day_birthday_comes_on_1_march() -> None:
    assert [
        exports.age_on(date(1960, 2, 29), date(2031, 2, 28)),
        exports.age_on(date(1960, 2, 29), date(2031, 3, 1)),
        exports.age_on(date(1960, 2, 29), date(2032, 2, 29)),
    ] == [70, 71, 72]
    assert [exports.age_band(age) for age in (0, 89, 90, 104)] == [0, 89, "90+", "90+"]


def test_days_from_the_procedure_are_exact_before_on_and_after_it(clinic: Clinic) -> None:
    """Without a visit the practice's zone counts: 23:59 on the day is day 0, 00:01 the next day 1."""
    record = treatment(clinic)
    moments = {
        Timepoint.BASELINE: datetime.combine(DAY - timedelta(days=1), time(0, 1), tzinfo=LA_ZONE),
        Timepoint.WEEK_6: datetime.combine(DAY, time(23, 59), tzinfo=LA_ZONE),
        Timepoint.MONTH_3: datetime.combine(DAY + timedelta(days=1), time(0, 1), tzinfo=LA_ZONE),
        Timepoint.MONTH_12: datetime.combine(date(2032, 3, 5), time(9), tzinfo=LA_ZONE),
    }
    for timepoint, moment in moments.items():
        scored(record, timepoint, submitted_at=moment, scores={"NRS": 4.0})
    rows = of(table(researcher()), "score")
    assert [(row["timepoint"], row["answer_day"]) for row in rows] == [
        ("baseline", "-1"),
        ("6w", "0"),
        ("3m", "1"),
        ("12m", "366"),
    ]
    assert [exports.days_from(None, DAY), exports.days_from(DAY, DAY)] == ["", 0]


def test_a_score_that_could_not_be_computed_is_blank_with_its_reason_never_0(clinic: Clinic) -> None:
    record = treatment(clinic)
    moment = datetime.combine(DAY, time(9), tzinfo=LA_ZONE)
    scored(record, Timepoint.BASELINE, submitted_at=moment, scores={"NRS": None}, reason="No answer to the item.")
    [row] = of(table(researcher()), "score")
    assert (row["value"], row["not_scorable_reason"]) == ("", "No answer to the item.")


def test_study_ids_are_stable_within_one_export_and_new_in_the_next(clinic: Clinic) -> None:
    first = treatment(clinic)
    treatment(clinic, patient=first.episode.patient, side="right")
    treatment(clinic)
    client = researcher()
    exported = [of(table(client), "episode") for _ in range(2)]
    for rows in exported:
        ids = [row["study_id"] for row in rows]
        assert ids[0] == ids[1] != ids[2]
        assert len({row["study_episode"] for row in rows}) == 3
    once, again = ({row["study_id"] for row in rows} for rows in exported)
    assert once & again == set()
    assert {row["study_episode"] for row in exported[0]} & {row["study_episode"] for row in exported[1]} == set()


def test_a_study_id_drawn_twice_in_one_export_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["aaaaaaaaaaaa", "aaaaaaaaaaaa", "bbbbbbbbbbbb"])
    monkeypatch.setattr(exports.secrets, "token_hex", lambda n: next(drawn))
    ids = exports.StudyIds("P")
    assert [ids(1), ids(2), ids(1)] == ["Paaaaaaaaaaaa", "Pbbbbbbbbbbbb", "Paaaaaaaaaaaa"]


# --- Which episodes ---------------------------------------------------------------------------------------------


def test_the_selection_is_by_indication_and_the_date_of_the_first_signed_procedure(clinic: Clinic) -> None:
    treatment(clinic, day=date(2031, 3, 5))
    treatment(clinic, day=date(2031, 3, 20), indication="tendon_injury", site="elbow")
    treatment(clinic, day=date(2031, 5, 1))
    treatment(clinic, day=date(2031, 3, 6), status=ProcedureRecord.Status.IN_PROGRESS)
    # Treated in February, injected again in March: exported once, from February.
    february = treatment(clinic, day=date(2031, 2, 1))
    treatment(clinic, episode=february.episode, day=date(2031, 3, 10))
    client = researcher()

    def episodes(**params: str) -> int:
        return len(of(table(client, **params), "episode"))

    march = {"procedure_from": "2031-03-01", "procedure_to": "2031-03-31"}
    assert {
        "all": episodes(),
        "osteoarthritis": episodes(indication="osteoarthritis"),
        "march": episodes(**march),
        "osteoarthritis in march": episodes(indication="osteoarthritis", **march),
        "from april": episodes(procedure_from="2031-04-01"),
        "until 5 march": episodes(procedure_to="2031-03-05"),
    } == {
        "all": 4,
        "osteoarthritis": 3,
        "march": 2,
        "osteoarthritis in march": 1,
        "from april": 1,
        "until 5 march": 2,
    }


def test_the_download_asks_the_same_queries_for_1_and_3_episodes(clinic: Clinic) -> None:
    client = researcher()
    moment = datetime.combine(DAY, time(9), tzinfo=LA_ZONE)
    counts = []
    for more in (1, 2):
        for _ in range(more):
            scored(treatment(clinic), Timepoint.BASELINE, submitted_at=moment, scores={"NRS": 3.0, "NRS_worst": 5.0})
        with CaptureQueriesContext(connection) as queries:
            rows = table(client)
        counts.append((len(of(rows, "episode")), len(of(rows, "score")), len(queries)))
    assert [(episodes, scores) for episodes, scores, _queries in counts] == [(1, 2), (3, 6)]
    assert counts[0][2] == counts[1][2]


def test_a_name_that_starts_like_a_formula_is_written_as_text_and_days_stay_numbers(clinic: Clinic) -> None:
    record = treatment(clinic)
    formula = '=HYPERLINK("http://example.com")'
    clinic.schedule.doctor.name = formula
    clinic.schedule.doctor.save(update_fields=["name"])
    moment = datetime.combine(DAY - timedelta(days=3), time(9), tzinfo=LA_ZONE)
    scored(record, Timepoint.BASELINE, submitted_at=moment, scores={"NRS": 3.0})
    rows = table(researcher())
    assert {row["physician"] for row in rows} == {"'" + formula}
    assert of(rows, "score")[0]["answer_day"] == "-3"

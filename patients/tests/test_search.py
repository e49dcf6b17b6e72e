"""The staff's patient search at /staff/patients/: by name, date of birth, MRN or phone, by POST only;
one query for the results and one audit row for the page; merged charts lead to their survivor."""

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.testing import sign_in
from accounts.tests.audit import CHAIN_QUERIES
from patients.models import Patient
from patients.queries import SEARCH_LIMIT, mrn_spellings, patient_find, patient_search, phone_digits
from patients.tests.test_chart import last_audit_id, new_audit_rows, own_queries, text, with_mrn
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db

SEARCH = "/staff/patients/"
BORN = date(1958, 3, 14)


def patient(first: str, last: str, **fields: Any) -> Patient:
    values: dict[str, Any] = {"first_name": first, "last_name": last, "date_of_birth": BORN}
    values.update(fields)
    return with_mrn(Patient.objects.create(**values))


def found(**terms: Any) -> list[str]:
    return [f"{f.patient.first_name} {f.patient.last_name}" for f in patient_find(**terms).found]


@pytest.fixture
def desk(client: Client, alice: User) -> Client:
    sign_in(client, alice)
    return client


@pytest.fixture
def charts(db: Any) -> dict[str, Patient]:
    rosa = patient("Rosa", "García López", phone="(310) 555-0100")
    # A number of its own, whatever the database's sequences (PostgreSQL's never go back after a test).
    Patient.objects.filter(pk=rosa.pk).update(mrn="RC000001")
    rosa.refresh_from_db()
    return {
        "rosa": rosa,
        "maria": patient("María", "Garcia", phone="+1 818-555-0199", date_of_birth=date(1961, 7, 2)),
        "luis": patient("Luis", "Lopez", phone="310.555.0142"),
    }


# --- The reads -----------------------------------------------------------------------------------


def test_every_word_of_the_name_must_be_in_the_first_or_last_name(charts: dict[str, Patient]) -> None:
    assert found(name="rosa") == ["Rosa García López"]
    assert found(name="luis") == ["Luis Lopez"]
    assert found(name="LÓPEZ ROSA") == ["Rosa García López"]
    assert found(name="Rosa Garcia") == ["Rosa García López"]
    assert found(name="maria") == ["María Garcia"]
    assert found(name="Rosa Luis") == []


def test_names_are_found_without_accents_or_case(charts: dict[str, Patient]) -> None:
    assert found(name="GARCÍA") == ["María Garcia", "Rosa García López"]
    assert found(name="garcia") == ["María Garcia", "Rosa García López"]
    assert found(name="ÑANDÚ") == []
    patient("Iñaki", "Muñoz")
    assert found(name="inaki munoz") == ["Iñaki Muñoz"]
    assert found(name="MUÑOZ") == ["Iñaki Muñoz"]


def test_the_date_of_birth_narrows_the_search(charts: dict[str, Patient]) -> None:
    assert found(date_of_birth=BORN) == ["Rosa García López", "Luis Lopez"]
    assert found(name="lu", date_of_birth=BORN) == ["Luis Lopez"]
    assert found(name="maría", date_of_birth=BORN) == []


@pytest.mark.parametrize("typed", ["RC000001", "rc000001", "000001", "1", "RC1", " rc 000001 ", "RC-000001"])
def test_the_mrn_is_found_with_or_without_rc_in_any_case(charts: dict[str, Patient], typed: str) -> None:
    assert charts["rosa"].mrn == "RC000001"
    assert found(mrn=typed) == ["Rosa García López"]


def test_an_mrn_never_matches_part_of_another(charts: dict[str, Patient]) -> None:
    assert found(mrn="RC00000") == []
    assert found(mrn="0000012") == []


@pytest.mark.parametrize(
    ("typed", "names"),
    [
        ("3105550100", ["Rosa García López"]),
        ("(310) 555-0100", ["Rosa García López"]),
        ("+1 310 555 0100", ["Rosa García López"]),
        ("555-0100", ["Rosa García López"]),
        ("8185550199", ["María Garcia"]),
        ("0142", ["Luis Lopez"]),
        ("310", []),
    ],
)
def test_phones_are_compared_by_their_digits(charts: dict[str, Patient], typed: str, names: list[str]) -> None:
    assert found(phone=typed) == names


def test_phone_digits_drop_the_us_country_code_only() -> None:
    assert (phone_digits("+1 (310) 555-0100"), phone_digits("310-555-0100"), phone_digits("44 20 7946 0958")) == (
        "3105550100",
        "3105550100",
        "442079460958",
    )


def test_mrn_spellings() -> None:
    assert mrn_spellings("rc42") == {"RC42", "RC000042"}
    assert mrn_spellings("RC") == set()
    assert mrn_spellings("ab-12") == {"AB12", "RCAB12"}


def test_all_terms_given_must_match(charts: dict[str, Patient]) -> None:
    assert found(name="rosa", phone="3105550100", mrn="RC000001", date_of_birth=BORN) == ["Rosa García López"]
    assert found(name="rosa", phone="8185550199") == []


def test_a_merged_chart_leads_to_its_survivor(charts: dict[str, Patient]) -> None:
    old = patient("Rosa", "Garcia", phone="310 555 0100")
    Patient.objects.filter(pk=old.pk).update(merged_into=charts["rosa"])
    results = patient_find(phone="3105550100").found
    assert [(r.patient, [v.mrn for v in r.via]) for r in results] == [(charts["rosa"], [old.mrn])]
    # Only the merged chart matches: its survivor is shown.
    assert [(r.patient, r.via) for r in patient_find(mrn=str(old.mrn)).found] == [(charts["rosa"], (old,))]


def test_the_results_stop_at_the_limit_and_say_there_are_more(db: Any) -> None:
    for n in range(SEARCH_LIMIT + 1):
        patient(f"Name{n:02d}", "Example")
    results = patient_find(name="example")
    assert (len(results.found), results.more) == (SEARCH_LIMIT, True)


def test_the_calendar_s_search_still_works_as_before(charts: dict[str, Patient]) -> None:
    assert [p.first_name for p in patient_search(name="lopez", date_of_birth=None)] == ["Luis"]
    assert [p.first_name for p in patient_search(name="lópez", date_of_birth=None)] == ["Rosa"]
    assert [p.first_name for p in patient_search(name="", date_of_birth=date(1961, 7, 2))] == ["María"]


# --- The page ------------------------------------------------------------------------------------


def test_the_empty_form_shows_nothing_and_records_nothing(desk: Client, charts: dict[str, Patient]) -> None:
    since = last_audit_id()
    response = desk.get(SEARCH)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert text(response) == (
        "Find a patient Find a patient Fill in any of these; a chart must match all you type. "
        "Name First name, last name or both. Date of birth Medical record number With or without “RC”. "
        "Phone Search"
    )
    assert new_audit_rows(since) == []


def test_searching_shows_the_charts_found_and_leaves_one_row_naming_how_many(
    desk: Client, charts: dict[str, Patient]
) -> None:
    since = last_audit_id()
    response = desk.post(SEARCH, {"name": "rosa garcia", "date_of_birth": "", "mrn": "", "phone": ""})
    assert response.status_code == 200
    assert text(response).split("Search ")[1] == (
        "1 chart found García López, Rosa MRN RC000001 Date of birth 03/14/1958 Phone (310) 555-0100"
    )
    assert f'href="/staff/patients/{charts["rosa"].uuid}/"' in response.content.decode()
    assert new_audit_rows(since) == [("alice", "view", "patient_search", "results:1", None, "allowed")]


def test_the_terms_never_travel_in_the_url(desk: Client, charts: dict[str, Patient]) -> None:
    response = desk.post(SEARCH, {"name": "Rosa"})
    page = response.content.decode()
    assert '<form method="post" action="/staff/patients/"' in page
    assert "Rosa" not in response.request["PATH_INFO"] and response.request.get("QUERY_STRING", "") == ""
    # A GET with terms in its query string is not a search.
    assert desk.get(SEARCH + "?name=Rosa").context["results"] is None


@pytest.mark.parametrize("rows", [1, 3])
def test_the_results_take_one_query(desk: Client, db: Any, rows: int) -> None:
    for n in range(rows):
        patient(f"Name{n}", "Example")
    desk.post(SEARCH, {"name": "example"})
    with CaptureQueriesContext(connection) as queries:
        response = desk.post(SEARCH, {"name": "example"})
    assert len(response.context["results"].found) == rows
    reads = [q["sql"] for q in queries if 'FROM "patients_patient"' in q["sql"]]
    assert len(reads) == 1
    own = own_queries(queries)
    # session, user, the results.
    assert len(own) == 2 + CHAIN_QUERIES, own


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({}, {"__all__": ["Type a name, a date of birth, a medical record number or a phone number."]}),
        ({"name": "r"}, {"name": ["Type at least two letters of the name."]}),
        (
            {"date_of_birth": "1958-02-31"},
            {"date_of_birth": ["Please check the date of birth, for example 03/14/1958."]},
        ),
        ({"mrn": "RC"}, {"mrn": ["Please check the medical record number, for example RC000042."]}),
        ({"phone": "12"}, {"phone": ["Type at least the last four digits of the phone number."]}),
        ({"name": "x" * 81}, {"name": ["Ensure this value has at most 80 characters (it has 81)."]}),
    ],
)
def test_bad_input_is_named_next_to_its_field_never_a_500_and_searches_nothing(
    desk: Client, charts: dict[str, Patient], data: dict[str, str], errors: dict[str, list[str]]
) -> None:
    since = last_audit_id()
    response = desk.post(SEARCH, data)
    assert response.status_code == 200
    assert dict(response.context["form"].errors.items()) == errors
    assert response.context["results"] is None
    assert new_audit_rows(since) == []


def test_no_chart_found_says_so(desk: Client, charts: dict[str, Patient]) -> None:
    response = desk.post(SEARCH, {"name": "Nobody"})
    assert text(response).split("Search ")[1] == (
        "0 charts found No chart matches. Check the spelling, or search by date of birth or phone instead."
    )


@pytest.mark.parametrize("role", [Role.MANAGER, Role.RESEARCHER])
def test_roles_without_the_chart_are_refused_the_search(client: Client, db: Any, role: str) -> None:
    sign_in(client, User.objects.create_user("someone", password="someone-password-1", role=role))
    assert (client.get(SEARCH).status_code, client.post(SEARCH, {"name": "Rosa"}).status_code) == (403, 403)


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    assert client.get(SEARCH)["Location"] == f"/accounts/sign-in/?next={SEARCH}"


def test_the_technician_may_search_to_check_who_the_patient_is(
    client: Client, schedule: Schedule, charlie: User
) -> None:
    sign_in(client, charlie)
    assert len(client.post(SEARCH, {"name": "Patient1"}).context["results"].found) == 1

"""The export page and its two CSVs: who may download which, the one audit row each, the identified export's reason.

Personas: rhea (researcher) and ada (administrator) from the canary's practice, and staff
of every other role made here.
"""

import csv
import html
import io
import re
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from accounts.access import Act, Record, can
from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from interop import exports
from interop.forms import REASON_MESSAGE
from interop.models import IdentifiedExport
from interop.tests.conftest import CANARY, Canary

pytestmark = pytest.mark.django_db

PAGE = "/staff/exports/"
DEIDENTIFIED = "/staff/exports/deidentified.csv"
IDENTIFIED = "/staff/exports/identified.csv"
REASON = "Knee registry submission, approved by the IRB (protocol 31-07)."


def signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def staff(role: str) -> User:
    return User.objects.create_user(f"user-{role}", password="a-password-for-tests", role=role, is_staff=True)


def audit_rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("seq").values_list(
            "actor__username", "role", "action", "object_type", "object_ref", "patient", "outcome"
        )
    )


def streamed(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def identified(**fields: str) -> dict[str, str]:
    return {f"identified-{name}": value for name, value in {"reason": REASON, **fields}.items()}


def field_error(response: Any, name: str) -> str:
    """The message shown beside the field `name` (its error list's text)."""
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', response.content.decode(), re.S)
    assert found is not None, f"no message beside {name}"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


# --- Who may -----------------------------------------------------------------------------------------------------


def test_the_policy_gives_the_de_identified_csv_to_the_clinicians_managers_researchers_and_admins() -> None:
    def roles(act: Act) -> list[str]:
        return sorted(role for role in Role.values if can(_user(role), act, Record.RESEARCH_EXPORT))

    assert roles(Act.EXPORT) == sorted(
        [Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.MANAGER, Role.RESEARCHER, Role.ADMIN]
    )
    assert roles(Act.OVERRIDE) == [Role.ADMIN]


def _user(role: str) -> User:
    return User(username=f"unsaved-{role}", role=role, is_active=True)


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
def test_the_front_desk_and_the_technician_get_neither_the_page_nor_the_csv(canary: Canary, role: str) -> None:
    client = signed_in(staff(role))
    audit_clear()
    assert [client.get(PAGE).status_code, client.get(DEIDENTIFIED).status_code] == [403, 403]
    denied = (f"user-{role}", role, "export", "research_export", "", None, "denied")
    assert audit_rows() == [denied, denied]
    # The staff home (or, for the front desk, the calendar it sends them on to) offers no link to them.
    home = client.get("/staff/", follow=True)
    assert (home.status_code, "Signed in as" in home.content.decode()) == (200, True)
    assert 'href="/staff/exports/"' not in home.content.decode()


def test_the_staff_bar_links_the_exports_for_those_who_may(canary: Canary) -> None:
    page = signed_in(canary.researcher).get("/staff/")
    assert '<a href="/staff/exports/">Exports</a>' in page.content.decode()


# --- The page ----------------------------------------------------------------------------------------------------


def _inputs(page: str, form_action: str) -> set[str]:
    form = re.search(rf'<form method="\w+" action="{re.escape(form_action)}".*?</form>', page, re.S)
    assert form is not None
    return set(re.findall(r'name="([^"]+)"', form.group(0)))


def test_the_page_asks_only_an_indication_and_treatment_dates_and_the_identified_form_is_the_admin_s(
    canary: Canary,
) -> None:
    researcher = signed_in(canary.researcher).get(PAGE).content.decode()
    admin = signed_in(canary.admin).get(PAGE).content.decode()
    assert _inputs(researcher, DEIDENTIFIED) == {"indication", "procedure_from", "procedure_to"}
    assert 'method="get" action="/staff/exports/deidentified.csv"' in researcher
    assert IDENTIFIED not in researcher
    assert _inputs(admin, IDENTIFIED) == {
        "csrfmiddlewaretoken",
        "identified-indication",
        "identified-procedure_from",
        "identified-procedure_to",
        "identified-reason",
    }


# --- The de-identified CSV ----------------------------------------------------------------------------------------


def test_the_de_identified_csv_streams_as_an_attachment_named_by_its_indication_only(canary: Canary) -> None:
    response = signed_in(canary.researcher).get(DEIDENTIFIED, {"indication": "osteoarthritis"})
    assert isinstance(response, StreamingHttpResponse)
    assert (response.status_code, response["Content-Type"], response["Content-Disposition"]) == (
        200,
        "text/csv; charset=utf-8",
        'attachment; filename="regenclinic-deidentified-osteoarthritis.csv"',
    )
    assert "no-store" in response["Cache-Control"]
    assert len(streamed(response)) > 1


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.MANAGER, Role.RESEARCHER, Role.ADMIN])
def test_each_de_identified_export_leaves_exactly_one_audit_row_naming_what_was_exported(
    canary: Canary, role: str
) -> None:
    client = signed_in(staff(role))
    audit_clear()
    response = client.get(
        DEIDENTIFIED, {"indication": "osteoarthritis", "procedure_from": "2031-03-01", "procedure_to": "2031-03-31"}
    )
    rows = streamed(response)
    assert (response.status_code, len({row["study_id"] for row in rows})) == (200, 1)
    assert audit_rows() == [
        (
            f"user-{role}",
            role,
            "export",
            "research_export",
            "csv:deidentified:osteoarthritis:2031-03-01..2031-03-31",
            None,
            "allowed",
        )
    ]


def test_an_export_of_everything_is_named_all_and_an_open_range_keeps_its_open_end(canary: Canary) -> None:
    client = signed_in(canary.researcher)
    audit_clear()
    for params in ({}, {"procedure_from": "2031-01-01"}, {"procedure_to": "2031-12-31", "indication": ""}):
        streamed(client.get(DEIDENTIFIED, params))
    assert [row[4] for row in audit_rows()] == [
        "csv:deidentified:all",
        "csv:deidentified:all:2031-01-01..",
        "csv:deidentified:all:..2031-12-31",
    ]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"procedure_from": "5 March"}, "procedure_from", "Enter a date, e.g. 2031-01-31."),
        (
            {"procedure_from": "2031-03-31", "procedure_to": "2031-03-01"},
            "procedure_to",
            "The end of the range is before its start.",
        ),
        ({"indication": "knees"}, "indication", "Choose an indication from the list."),
    ],
)
def test_a_selection_that_is_not_valid_exports_nothing_and_says_why_beside_the_field(
    canary: Canary, params: dict[str, str], field: str, message: str
) -> None:
    client = signed_in(canary.researcher)
    audit_clear()
    response = client.get(DEIDENTIFIED, params)
    assert (response.status_code, response["Content-Type"], field_error(response, field)) == (
        400,
        "text/html; charset=utf-8",
        message,
    )
    # What the person typed is kept.
    assert all(f'value="{value}"' in response.content.decode() for key, value in params.items() if key != "indication")
    assert audit_rows() == []


def test_a_head_request_exports_nothing(canary: Canary) -> None:
    client = signed_in(canary.researcher)
    audit_clear()
    assert client.head(DEIDENTIFIED).status_code == 405
    assert audit_rows() == []


# --- The identified CSV -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "            ", "too short"])
def test_the_identified_export_is_refused_without_a_reason_of_ten_characters(canary: Canary, reason: str) -> None:
    client = signed_in(canary.admin)
    audit_clear()
    response = client.post(IDENTIFIED, identified(reason=reason, indication="osteoarthritis"))
    assert (response.status_code, response["Content-Type"]) == (400, "text/html; charset=utf-8")
    assert field_error(response, "identified-reason") == REASON_MESSAGE
    # The reason and the selection are kept as typed, and nothing was exported or recorded.
    page = response.content.decode()
    assert f">\n{reason}</textarea>" in page
    assert '<option value="osteoarthritis" selected>' in page
    assert (audit_rows(), IdentifiedExport.objects.count()) == ([], 0)


@pytest.mark.parametrize(
    "role", [Role.FRONT_DESK, Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.TECHNICIAN, Role.MANAGER, Role.RESEARCHER]
)
def test_the_identified_export_is_refused_for_everyone_but_administrators(canary: Canary, role: str) -> None:
    client = signed_in(staff(role))
    audit_clear()
    response = client.post(IDENTIFIED, identified())
    assert response.status_code == 403
    # The policy helper's one refusal row (a refused override is recorded as a change, as every override is).
    assert audit_rows() == [(f"user-{role}", role, "change", "research_export", "", None, "denied")]
    assert IdentifiedExport.objects.count() == 0


def test_the_identified_export_carries_names_and_dates_and_is_audited_once_with_its_reason(canary: Canary) -> None:
    client = signed_in(canary.admin)
    audit_clear()
    response = client.post(IDENTIFIED, identified(reason=f"  {REASON}  "))
    rows = streamed(response)
    assert (response.status_code, response["Content-Disposition"]) == (
        200,
        'attachment; filename="regenclinic-identified-all.csv"',
    )
    assert list(rows[0]) == list(exports.IDENTIFIED_COLUMNS)
    episode = rows[0]
    assert {name: episode[name] for name in ("record", "mrn", "last_name", "first_name", "date_of_birth")} == {
        "record": "episode",
        "mrn": CANARY["mrn"],
        "last_name": CANARY["last_name"],
        "first_name": CANARY["first_name"],
        "date_of_birth": "1958-07-19",
    }
    assert (episode["procedure_date"], episode["surgery_date"], episode["surgery_day"]) == (
        "2031-03-05",
        "2031-12-30",
        "300",
    )
    answers = {(row["timepoint"], row["answer_date"], row["answer_day"]) for row in rows if row["record"] == "score"}
    assert answers == {("baseline", "2031-02-26", "-7"), ("6w", "2031-04-16", "42")}
    onsets = {(row["ae_onset_date"], row["ae_onset_day"]) for row in rows if row["record"] == "adverse_event"}
    assert onsets == {("2031-03-06", "1")}
    # No contact details even here: the minimum necessary.
    assert not {CANARY["email"], CANARY["phone"], CANARY["street"], CANARY["postal_code"]} & {
        cell for row in rows for cell in row.values()
    }
    [event] = AuditEvent.objects.all()
    assert audit_rows() == [("ada", "admin", "export", "research_export", "csv:identified:all", None, "allowed")]
    assert list(
        IdentifiedExport.objects.values_list("reason", "audit_uuid", "exported_by__username", "indication")
    ) == [(REASON, event.uuid, "ada", "")]


def test_an_identified_export_is_in_the_access_report_of_each_patient_it_holds_and_no_other(canary: Canary) -> None:
    from accounts.audit import access_report
    from interop.tests.conftest import treatment
    from patients.models import Patient

    knee = treatment(canary.clinic, indication="osteoarthritis")
    back = treatment(canary.clinic, indication="back_pain", site="lumbar_spine", side="")
    client = signed_in(canary.admin)
    audit_clear()

    streamed(client.post(IDENTIFIED, identified(reason=REASON, indication="osteoarthritis")))
    streamed(client.get(DEIDENTIFIED, {"indication": "osteoarthritis"}))

    [event, _deidentified] = AuditEvent.objects.order_by("seq")
    # One audit row for the export, as every export writes; the patients it held beside it.
    for patient in (canary.patient, Patient.objects.get(pk=knee.episode.patient_id)):
        entries = access_report(patient=patient)
        assert [(e.who, e.action, e.record, e.record_ref) for e in entries] == [
            ("ada", "Exported", "a research export that names them", "csv:identified:osteoarthritis")
        ]
        assert entries[0].at == event.at
    # The de-identified export names no one, and a patient outside the selection is in neither.
    assert access_report(patient=Patient.objects.get(pk=back.episode.patient_id)) == []

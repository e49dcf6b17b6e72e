"""A patient's access report (accounts.views): who opened their record, when and how; the page, its CSV, who may.

The browser test (screenshots at 360 and 1280 px, axe, print) is marked `browser`.
"""

import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.audit import AccessEntry, access_report, audit_record, audit_verify
from accounts.links import LinkGone, link_issue, link_open
from accounts.models import AuditEvent, PatientLink, Role, User
from accounts.testing import second_step, sign_in
from accounts.tests.audit import audit_clear
from patients.models import Patient

pytestmark = pytest.mark.django_db

NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def make_patient(first: str, **extra: Any) -> Patient:
    return Patient.objects.create(first_name=first, last_name="Example", date_of_birth=date(1958, 3, 14), **extra)


@pytest.fixture
def rosa(db: Any) -> Patient:
    return make_patient("Rosa", mrn="RC-000101")


@pytest.fixture
def desk(alice: User) -> User:
    alice.first_name, alice.last_name = "Alice", "Front"
    alice.save()
    return alice


def page(client: Client, patient: Patient) -> Any:
    return client.get(f"/staff/patients/{patient.uuid}/access/")


def download(client: Client, patient: Patient) -> Any:
    return client.get(f"/staff/patients/{patient.uuid}/access/report.csv")


def lines(entries: list[AccessEntry]) -> list[tuple[str, str, str, str, str]]:
    return [(e.who, e.role, e.action, e.record, e.outcome) for e in entries]


def history_of(rosa: Patient, bob: User) -> None:
    """A booking online, a physician's reads, the patient's own link, a refusal; and rows of another patient."""
    bob.first_name, bob.last_name = "Bob", "Lee"
    bob.save()
    luis = make_patient("Luis")
    audit_record(actor=None, action="create", object_type="appointment", object_ref="a-1", patient=rosa)
    audit_record(actor=bob, action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa)
    audit_record(actor=bob, action="view", object_type="appointment", object_ref="a-2", patient=luis)
    _, token = link_issue(purpose=PatientLink.Purpose.INTAKE, patient=rosa, target="intake-1")
    request = RequestFactory().get("/")
    request.session = SessionStore()
    link_open(request, token, purpose=PatientLink.Purpose.INTAKE)
    audit_record(
        actor=None, action="change", object_type="intake", object_ref="intake-1", patient=rosa, request=request
    )
    manager = User.objects.create_user("mona", password="mona-password-1", role=Role.MANAGER)
    # A refused attempt at the chart by its id: it names no patient, only the chart's id.
    audit_record(actor=manager, action="view", object_type="patient", object_ref=str(rosa.uuid), outcome="denied")
    audit_record(actor=bob, action="sign", object_type="consent", object_ref="c-1", patient=rosa)


# --- What the report says ----------------------------------------------------------------------------


def test_the_report_lists_every_row_that_names_the_patient_oldest_first(rosa: Patient, bob: User) -> None:
    history_of(rosa, bob)
    assert lines(access_report(patient=rosa)) == [
        ("The website", "", "Created", "an appointment", "Allowed"),
        ("Bob Lee", "Physician", "Viewed", "the patient's chart", "Allowed"),
        ("The patient, from their link", "Patient", "Viewed", "the intake link", "Allowed"),
        ("The patient, from their link", "Patient", "Changed", "the intake", "Allowed"),
        ("mona", "Practice manager", "Viewed", "the patient's chart", "Refused"),
        ("Bob Lee", "Physician", "Signed", "a consent", "Allowed"),
    ]


def test_a_refused_visit_with_a_used_link_is_someone_with_the_link(rosa: Patient) -> None:
    _, token = link_issue(purpose=PatientLink.Purpose.CONSENT, patient=rosa, target="episode-1")
    for visit in range(2):
        request = RequestFactory().get("/")
        request.session = SessionStore()
        if visit == 0:
            link_open(request, token, purpose=PatientLink.Purpose.CONSENT)
        else:
            with pytest.raises(LinkGone):
                link_open(request, token, purpose=PatientLink.Purpose.CONSENT)
    assert lines(access_report(patient=rosa)) == [
        ("The patient, from their link", "Patient", "Viewed", "the consent link", "Allowed"),
        ("Someone with the patient's link", "", "Viewed", "the consent link", "Refused"),
    ]


def test_the_rows_of_a_duplicate_chart_merged_into_this_one_are_in_the_report(rosa: Patient, bob: User) -> None:
    duplicate = make_patient("Rosie")
    audit_record(actor=bob, action="view", object_type="patient", object_ref=str(duplicate.uuid), patient=duplicate)
    Patient.objects.filter(pk=duplicate.pk).update(merged_into=rosa)
    audit_record(actor=bob, action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa)
    assert [e.record_ref for e in access_report(patient=rosa)] == [str(duplicate.uuid), str(rosa.uuid)]


def test_the_page_shows_the_lines_in_office_time(client: Client, desk: User, rosa: Patient, bob: User) -> None:
    history_of(rosa, bob)
    sign_in(client, desk)
    response = page(client, rosa)
    body = response.content.decode()
    assert response.status_code == 200
    entries = response.context["entries"]
    # The six above, and this very reading of the report.
    assert lines(entries)[-1] == ("Alice Front", "Front desk", "Viewed", "this access report", "Allowed")
    assert len(entries) == 7
    first = timezone.localtime(entries[0].at)
    assert f'<time datetime="{first.isoformat()}">' in body
    assert first.utcoffset() in {timedelta(hours=-8), timedelta(hours=-7)}
    assert "7 entries" in body
    assert "Rosa Example" in body and "RC-000101" in body
    assert 'class="refused"' in body


def test_a_patient_nobody_opened_gets_a_report_of_just_its_own_reading(
    client: Client, desk: User, rosa: Patient
) -> None:
    sign_in(client, desk)
    response = page(client, rosa)
    assert lines(response.context["entries"]) == [
        ("Alice Front", "Front desk", "Viewed", "this access report", "Allowed")
    ]


# --- The audit of the report itself -------------------------------------------------------------------


def test_reading_the_report_leaves_exactly_one_view_row_naming_the_patient(
    client: Client, desk: User, rosa: Patient
) -> None:
    sign_in(client, desk)
    audit_clear()
    assert page(client, rosa).status_code == 200
    assert list(
        AuditEvent.objects.values_list("actor", "role", "action", "object_type", "object_ref", "patient", "outcome")
    ) == [(desk.pk, "front_desk", "view", "access_report", str(rosa.uuid), rosa.pk, "allowed")]


def test_downloading_the_csv_leaves_exactly_one_export_row(client: Client, desk: User, rosa: Patient) -> None:
    sign_in(client, desk)
    audit_clear()
    assert download(client, rosa).status_code == 200
    assert list(
        AuditEvent.objects.values_list("actor", "role", "action", "object_type", "object_ref", "patient", "outcome")
    ) == [(desk.pk, "front_desk", "export", "access_report", str(rosa.uuid), rosa.pk, "allowed")]
    assert audit_verify().ok is True


# --- The CSV ---------------------------------------------------------------------------------------


def test_the_csv_has_the_same_lines_as_the_page_named_by_the_charts_id(
    client: Client, desk: User, rosa: Patient, bob: User
) -> None:
    history_of(rosa, bob)
    sign_in(client, desk)
    response = download(client, rosa)
    assert (response["Content-Type"], response["Content-Disposition"], response["Cache-Control"]) == (
        "text/csv; charset=utf-8",
        f'attachment; filename="access-report-{rosa.uuid}.csv"',
        NO_STORE,
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["When (office time)", "Who", "Role", "What", "Record", "Record id", "Outcome"]
    events = list(AuditEvent.objects.filter(pk__in=[e.pk for e in _report_rows(rosa)]).order_by("at", "id"))
    assert [row[0] for row in rows[1:]] == [timezone.localtime(e.at).isoformat(timespec="seconds") for e in events]
    assert [tuple(row[1:]) for row in rows[1:]] == [
        ("The website", "", "Created", "an appointment", "a-1", "Allowed"),
        ("Bob Lee", "Physician", "Viewed", "the patient's chart", str(rosa.uuid), "Allowed"),
        ("The patient, from their link", "Patient", "Viewed", "the intake link", rows[3][5], "Allowed"),
        ("The patient, from their link", "Patient", "Changed", "the intake", "intake-1", "Allowed"),
        ("mona", "Practice manager", "Viewed", "the patient's chart", str(rosa.uuid), "Refused"),
        ("Bob Lee", "Physician", "Signed", "a consent", "c-1", "Allowed"),
        ("Alice Front", "Front desk", "Exported", "this access report", str(rosa.uuid), "Allowed"),
    ]


def _report_rows(patient: Patient) -> list[AuditEvent]:
    from accounts.audit import access_report_rows

    return list(access_report_rows(patient=patient))


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_as_text(
    client: Client, desk: User, rosa: Patient
) -> None:
    rogue = User.objects.create_user("rogue", first_name="=HYPERLINK(1)", last_name="x", role=Role.PHYSICIAN)
    audit_record(actor=rogue, action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa)
    sign_in(client, desk)
    rows = list(csv.reader(io.StringIO(download(client, rosa).content.decode())))
    assert rows[1][1] == "'=HYPERLINK(1) x"


# --- Who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.FRONT_DESK, 200),
        (Role.PHYSICIAN, 200),
        (Role.PHYSICIAN_ASSISTANT, 200),
        (Role.ADMIN, 200),
        (Role.TECHNICIAN, 404),
        (Role.MANAGER, 404),
        (Role.RESEARCHER, 404),
    ],
)
def test_the_roles_that_keep_records_may_produce_it_and_the_others_get_a_404(
    client: Client, rosa: Patient, role: str, status: int
) -> None:
    sign_in(client, User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role))
    audit_clear()
    assert (page(client, rosa).status_code, download(client, rosa).status_code) == (status, status)
    if status == 404:
        # Each refusal is audited, naming what was asked for and no patient.
        assert list(AuditEvent.objects.values_list("outcome", "object_type", "object_ref", "patient")) == [
            ("denied", "access_report", str(rosa.uuid), None),
            ("denied", "access_report", str(rosa.uuid), None),
        ]


def test_an_unknown_or_malformed_patient_id_is_a_404(client: Client, desk: User, rosa: Patient) -> None:
    sign_in(client, desk)
    nobody = uuid.uuid4()
    assert client.get(f"/staff/patients/{nobody}/access/").status_code == 404
    assert client.get(f"/staff/patients/{nobody}/access/report.csv").status_code == 404
    assert client.get("/staff/patients/not-a-uuid/access/").status_code == 404


def test_another_patients_id_shows_that_patients_report_never_this_ones(
    client: Client, desk: User, rosa: Patient, bob: User
) -> None:
    history_of(rosa, bob)
    luis = Patient.objects.get(first_name="Luis")
    sign_in(client, desk)
    entries = page(client, luis).context["entries"]
    assert {e.record_ref for e in entries} == {"a-2", str(luis.uuid)}


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(client: Client, rosa: Patient) -> None:
    response = page(client, rosa)
    assert (response.status_code, response["Location"]) == (
        302,
        f"/accounts/sign-in/?next=/staff/patients/{rosa.uuid}/access/",
    )
    assert AuditEvent.objects.count() == 0


def test_the_report_is_read_only_and_never_cached(client: Client, desk: User, rosa: Patient) -> None:
    sign_in(client, desk)
    assert client.post(f"/staff/patients/{rosa.uuid}/access/").status_code == 405
    assert page(client, rosa)["Cache-Control"] == NO_STORE


# --- Queries --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/staff/patients/{}/access/", "/staff/patients/{}/access/report.csv"])
def test_the_report_reads_its_rows_in_one_query_for_1_or_3_rows(
    client: Client, desk: User, rosa: Patient, bob: User, url: str
) -> None:
    sign_in(client, desk)
    page(client, rosa)  # the session is read and written once before counting

    def queries_with(rows: int) -> int:
        audit_clear()
        for _ in range(rows - 1):
            audit_record(actor=bob, action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url.format(rosa.uuid))
        assert response.status_code == 200
        reads = [q["sql"] for q in queries if "accounts_auditevent" in q["sql"] and "INSERT" not in q["sql"]]
        # The head of the chain (for this reading's own row), then the report's rows in one query.
        assert len(reads) == 2
        return len(queries)

    assert queries_with(1) == queries_with(3)


# --- In the browser --------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_report_reads_prints_and_passes_axe_at_360_and_1280_px(
    page: Any, live_server: Any, alice: User, bob: User
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    from conftest import screenshot

    rosa = make_patient("Rosa", mrn="RC-000101")
    history_of(rosa, bob)
    site = str(live_server.url)
    path = f"/staff/patients/{rosa.uuid}/access/"
    page.goto(site + path)
    assert page.url == f"{site}/accounts/sign-in/?next={path}"
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("main button[type=submit]")
    second_step(page, User.objects.get(username="alice"))
    assert page.url == site + path
    assert page.locator("h1").inner_text() == "Access report"
    assert page.locator(".access-table tbody tr").count() == 7
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"accounts-access-report-{width}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        violations = Axe().run(page).response["violations"]
        assert [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations] == []
        screenshot(page, f"accounts-access-report-{width}")
    # Print: the button opens the browser's print (stubbed here), and paper shows the report alone.
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    page.click("#access-print")
    assert page.evaluate("document.body.dataset.printed") == "yes"
    page.emulate_media(media="print")
    assert page.locator(".site-header").is_visible() is False
    assert page.locator("#access-print").is_visible() is False
    screenshot(page, "accounts-access-report-print")
    with page.expect_download() as download:
        page.emulate_media(media="screen")
        page.click("text=Download as CSV")
    assert download.value.suggested_filename == f"access-report-{rosa.uuid}.csv"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_sign_in_page_says_why_an_idle_session_ended(page: Any, live_server: Any, alice: User) -> None:
    from axe_playwright_python.sync_playwright import Axe

    from accounts.middleware import SEEN_AT
    from conftest import screenshot

    site = str(live_server.url)
    page.goto(site + "/accounts/sign-in/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    page.click("main button[type=submit]")
    second_step(page, User.objects.get(username="alice"))
    key = next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=key)
    session[SEEN_AT] = timezone.now().timestamp() - 16 * 60
    session.save()
    page.goto(site + "/staff/inquiries/")
    assert page.url == f"{site}/accounts/sign-in/?next=/staff/inquiries/"
    assert page.locator(".flash").inner_text() == (
        "You were signed out after 15 minutes without activity. Please sign in again."
    )
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        violations = Axe().run(page).response["violations"]
        assert [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations] == []
        screenshot(page, f"accounts-signed-out-idle-{width}")

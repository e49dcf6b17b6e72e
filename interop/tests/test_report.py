"""The outcomes report: its figures (aggregates, checked against independent computations), its PDF
(read back with pypdf: the sections, the N, no canary identifier), and who may download it, with one audit row each."""

import io
import re
import statistics
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from pypdf import PdfReader
from scipy.stats import beta

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from interop import report
from interop.report import Tally
from interop.tests.conftest import CANARY, NOTE, Canary
from outcomes.tests.factories import treated
from patients.models import CandidacyAssessment
from procedures.models import AdverseEvent, ProcedureRecord

pytestmark = pytest.mark.django_db

FROM, TO = date(2025, 1, 1), date(2025, 12, 31)
DOSES = [80_000_000, 100_000_000, 150_000_000, 205_000_000, 260_000_000]
URL = "/staff/exports/report.pdf"
QUERY = {"indication": "osteoarthritis", "date_from": "2025-01-01", "date_to": "2025-12-31"}


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def staff(role: str) -> Client:
    client = Client()
    sign_in(client, User.objects.create_user(f"user-{role}", password="a-password-for-tests", role=role, is_staff=True))
    return client


def rows() -> list[tuple[str, str, str, str]]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", "object_type", "object_ref", "outcome"))


@pytest.fixture
def selection() -> list[ProcedureRecord]:
    """Five knee osteoarthritis treatments in 2025 (one lost at 6 weeks); one in 2024 and a back pain, not selected."""
    made = []
    for index, dose in enumerate(DOSES):
        answered = index != 4
        built = treated(
            indication="osteoarthritis",
            site="knee",
            on=date(2025, 3 + index, 3),
            nrs={"baseline": 7, "6w": 4 - (index % 2)} if answered else {"baseline": 6},
            missed=() if answered else ("6w",),
            dose=dose,
            paw="P2-Bβ" if index < 3 else "P3-A\N{GREEK SMALL LETTER ALPHA}",
        )
        made.append(built.procedure)
    ProcedureRecord.objects.filter(pk__in=[p.pk for p in made[:3]]).update(
        harvest_site=ProcedureRecord.HarvestSite.POSTERIOR_ILIAC_CREST,
        aspirate_volume_ml=Decimal("60.00"),
        concentration_factor=4.5,
    )
    doctor = User.objects.create_user("doc", password="a-password-for-tests", role=Role.PHYSICIAN, is_staff=True)
    for procedure, grade in ((made[0], 3), (made[1], 2)):
        CandidacyAssessment.objects.create(
            patient=procedure.episode.patient,
            indication="osteoarthritis",
            site="knee",
            side="right",
            kellgren_lawrence_grade=grade,
            decision=CandidacyAssessment.Decision.CANDIDATE,
            reason="Failed conservative care.",
            decided_by=doctor,
            episode=procedure.episode,
        )
    AdverseEvent.objects.create(
        episode=made[2].episode,
        procedure=made[2],
        kind=AdverseEvent.Kind.HARVEST_SITE_PAIN,
        onset_date=date(2025, 5, 4),
        grade=2,
        serious=False,
    )
    treated(indication="osteoarthritis", site="knee", on=date(2024, 12, 31), nrs={"baseline": 8}, dose=999)
    treated(indication="back_pain", site="back", on=date(2025, 6, 2), nrs={"baseline": 8}, dose=999)
    return made


def test_the_figures_count_the_selection_and_its_doses_median_and_quartiles(selection: list[ProcedureRecord]) -> None:
    figures = report.report_figures("osteoarthritis", FROM, TO, today=date(2026, 12, 1))
    q1, median, q3 = statistics.quantiles(DOSES, n=4, method="inclusive")
    assert (figures.episodes, figures.patients, figures.procedures, figures.outcomes.treated) == (5, 5, 5, 5)
    assert figures.cell_dose == report.Spread(
        "Cell dose (nucleated cells injected)", 5, statistics.median(DOSES), q1, q3
    )
    assert median == statistics.median(DOSES)
    # Born 1 January 1955: 70 on each procedure day in 2025.
    assert [t for t in figures.ages if t.n] == [Tally("70-79", 5)]
    assert figures.kl_grades == [Tally("grade 2", 1), Tally("grade 3", 1), Tally("not recorded", 3)]
    assert figures.harvest_sites == [Tally("Posterior iliac crest", 3), Tally("not recorded", 2)]
    assert figures.paw_classes == [Tally("P2", 3), Tally("P3", 2)]
    factors = [4.5, 4.5, 4.5]
    assert (figures.concentration_factor.n, figures.concentration_factor.median) == (3, statistics.median(factors))
    aspirate = next(s for s in figures.volumes if s.label.startswith("Marrow"))
    assert (aspirate.n, aspirate.median, aspirate.q1, aspirate.q3) == (3, 60.0, 60.0, 60.0)


def test_the_figures_carry_completeness_and_adverse_event_rates_of_the_selection(
    selection: list[ProcedureRecord],
) -> None:
    figures = report.report_figures("osteoarthritis", FROM, TO, today=date(2026, 12, 1))
    six_weeks = next(row for row in figures.outcomes.completeness if row.timepoint == "6w")
    assert (six_weeks.answered, six_weeks.due) == (4, 5)
    any_event = figures.outcomes.safety[0]
    # Clopper-Pearson for 1 of 5, from the beta distribution directly.
    assert (any_event.share.n, any_event.share.estimate) == (5, 0.2)
    assert any_event.share.low == pytest.approx(beta.ppf(0.025, 1, 5))
    assert any_event.share.high == pytest.approx(beta.ppf(0.975, 2, 4))
    assert [(kind.label, kind.by_grade, kind.total) for kind in figures.events] == [
        (str(AdverseEvent.Kind.HARVEST_SITE_PAIN.label), [0, 1, 0, 0, 0], 1)
    ]
    assert (figures.events_total, figures.events_serious, figures.event_grade_totals) == (1, 0, [0, 1, 0, 0, 0])
    nrs = next(line for line in figures.outcomes.changes if line.instrument == "NRS")
    change = next(row for row in nrs.rows if row.timepoint == "6w")
    # 4 - 7, 3 - 7, 4 - 7, 3 - 7.
    assert (change.change.n, change.change.estimate) == (4, -3.5)


def test_the_figures_refuse_a_range_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        report.report_figures("osteoarthritis", TO, FROM)


def test_the_pdf_has_each_mibo_section_with_its_n(selection: list[ProcedureRecord]) -> None:
    content = report.report_pdf(report.report_figures("osteoarthritis", FROM, TO, today=date(2026, 12, 1)))
    text = text_of(content)
    assert content.startswith(b"%PDF-")
    for expected in (
        "Outcomes report: Osteoarthritis",
        "2025-01-01 to 2025-12-31",
        "N = 5 episodes (5 patients, 5 procedures)",
        "1. Population",
        "2. Intervention",
        "3. Outcomes",
        "Follow-up completeness",
        "Change from baseline",
        "Surgery-free survival",
        "4. Adverse events",
        "5. Limitations",
        "no comparison group",
        "1.50 \N{MULTIPLICATION SIGN} 10^8",
    ):
        assert expected in text, expected


def test_the_pdf_names_no_patient(canary: Canary) -> None:
    figures = report.report_figures("osteoarthritis", date(2031, 1, 1), date(2031, 12, 31))
    text = text_of(report.report_pdf(figures))
    html, _css = report.report_html(figures)
    assert figures.episodes == 1
    assert "N = 1 episode (1 patient, 1 procedure)" in text
    born = CANARY["date_of_birth"]
    identifiers = [
        CANARY["first_name"],
        CANARY["last_name"],
        CANARY["mrn"],
        CANARY["email"],
        CANARY["phone"],
        CANARY["street"],
        CANARY["postal_code"],
        born.isoformat(),
        born.strftime("%m/%d/%Y"),
        "July 19, 1958",
        NOTE[:20],
    ]
    assert [i for i in identifiers if i in text or i in html] == []


def test_a_researcher_downloads_the_pdf_with_one_audit_row_naming_the_selection(
    selection: list[ProcedureRecord],
) -> None:
    client = staff(Role.RESEARCHER)
    audit_clear()
    response = client.get(URL, QUERY)
    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    assert response["Content-Disposition"] == 'attachment; filename="regenclinic-report-osteoarthritis.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    assert rows() == [("export", "research_export", "pdf:report:osteoarthritis:2025-01-01..2025-12-31", "allowed")]


def test_the_form_page_opens_for_a_researcher_and_writes_no_row() -> None:
    client = staff(Role.RESEARCHER)
    audit_clear()
    response = client.get("/staff/exports/report/")
    assert response.status_code == 200
    assert b'action="/staff/exports/report.pdf"' in response.content
    assert rows() == []


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
@pytest.mark.parametrize("path", [URL, "/staff/exports/report/"])
def test_the_front_desk_and_the_technician_are_refused_with_one_denied_row(role: str, path: str) -> None:
    client = staff(role)
    audit_clear()
    response = client.get(path, QUERY)
    assert response.status_code == 403
    assert rows() == [("export", "research_export", "", "denied")]


def test_a_range_ending_before_it_starts_is_refused_beside_the_field_keeping_what_was_typed() -> None:
    client = staff(Role.RESEARCHER)
    audit_clear()
    response = client.get(URL, {**QUERY, "date_from": "2025-12-31", "date_to": "2025-01-01"})
    page = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_date_to_error"><li>The end of the range is before its start\.</li>', page)
    assert 'value="2025-12-31"' in page and 'value="2025-01-01"' in page
    assert 'value="osteoarthritis" selected' in page
    assert rows() == []


def test_missing_or_unknown_input_is_named_beside_each_field() -> None:
    client = staff(Role.RESEARCHER)
    response = client.get(URL, {"indication": "gout", "date_from": "31/12/2025"})
    page = response.content.decode()
    assert response.status_code == 400
    for field, message in (
        ("indication", "Choose an indication from the list."),
        ("date_from", "Enter a date, e.g. 2031-01-31."),
        ("date_to", "Enter the last day of the range."),
    ):
        assert f'id="id_{field}_error"><li>{message}</li>' in page, field
    assert 'value="31/12/2025"' in page
    assert AuditEvent.objects.filter(action="export", outcome="allowed").count() == 0


def test_a_head_request_writes_no_row() -> None:
    client = staff(Role.RESEARCHER)
    audit_clear()
    assert client.head(URL, QUERY).status_code == 405
    assert rows() == []

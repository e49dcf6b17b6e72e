"""The outcomes dashboard's figures, from real rows, against values worked out here by hand.

Each episode is built as the practice would hold it: a signed procedure with its product,
follow-ups with their windows, the patient's NRS (and SANE) answers scored by the real
scoring code. NRS and SANE score as the number the patient gave, so the expected changes
are plain arithmetic; the intervals are checked against their closed forms (t, Wilson)
and the exact beta quantiles (Clopper-Pearson), written out in this file.
"""

import math
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scipy.stats import beta, norm, t

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from outcomes import dashboard, queries
from outcomes.dashboard import Filters
from outcomes.models import FollowUp, Response, Score, SurgeryConversion, Timepoint
from outcomes.tests.factories import treated
from procedures.models import AdverseEvent
from scheduling.models import Provider

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 1)


def t_interval(values: list[float]) -> tuple[float, float, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def wilson(k: int, n: int) -> tuple[float, float]:
    z = norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = 0.0 if k == 0 else beta.ppf(0.025, k, n - k + 1)
    high = 1.0 if k == n else beta.ppf(0.975, k + 1, n - k)
    return low, high


def change_row(figures: dashboard.Figures, code: str, timepoint: str) -> dashboard.ChangeRow:
    line = next(c for c in figures.changes if c.code == code)
    return next(r for r in line.rows if r.timepoint == timepoint)


def test_change_from_baseline_mean_interval_and_mcid_share() -> None:
    # NRS baseline -> 6 weeks: 8 -> 4 (-50 %), 6 -> 6 (0 %), 4 -> 3 (-25 %); the MCID is a 30 % reduction.
    treated(nrs={"baseline": 8, "6w": 4})
    treated(nrs={"baseline": 6, "6w": 6})
    treated(nrs={"baseline": 4, "6w": 3})
    figures = dashboard.figures("back_pain", today=TODAY)
    row = change_row(figures, "NRS.NRS", "6w")
    mean, low, high = t_interval([-4, 0, -1])
    assert (row.scored, row.change.n) == (3, 3)
    assert row.change.estimate == pytest.approx(mean, abs=1e-12)
    assert (row.change.low, row.change.high) == (pytest.approx(low, abs=1e-9), pytest.approx(high, abs=1e-9))
    assert row.mcid is not None and (row.mcid.n, row.mcid.estimate) == (3, pytest.approx(1 / 3))
    assert (row.mcid.low, row.mcid.high) == tuple(pytest.approx(v, abs=1e-9) for v in wilson(1, 3))
    # No answer at 3 months: N is 0 and nothing is estimated.
    later = change_row(figures, "NRS.NRS", "3m")
    assert (later.scored, later.change.n, later.change.estimate) == (0, 0, None)
    assert figures.treated == 3


def test_a_follow_up_without_a_baseline_counts_as_scored_but_not_as_a_change() -> None:
    treated(nrs={"baseline": 7, "6w": 3})
    treated(nrs={"6w": 2})
    row = change_row(dashboard.figures("back_pain", today=TODAY), "NRS.NRS", "6w")
    assert (row.scored, row.change.n, row.change.estimate) == (2, 1, -4)
    assert row.change.low is None and row.change.high is None


def test_completeness_counts_answered_over_due_and_keeps_open_windows_apart() -> None:
    on = date(2026, 9, 1)  # 6 weeks: window closed by TODAY; 3 months (1 December): still open.
    treated(on=on, nrs={"baseline": 5, "6w": 4}, open_now=("3m",))
    treated(on=on, nrs={"baseline": 5, "6w": 5})
    treated(on=on, nrs={"baseline": 6}, missed=("6w",))
    figures = dashboard.figures("back_pain", today=TODAY)
    by_time = {c.timepoint: c for c in figures.completeness}
    six_weeks = by_time["6w"]
    assert (six_weeks.answered, six_weeks.due, six_weeks.open) == (2, 3, 0)
    assert (six_weeks.share.low, six_weeks.share.high) == tuple(pytest.approx(v, abs=1e-9) for v in wilson(2, 3))
    three_months = by_time["3m"]
    assert (three_months.answered, three_months.due, three_months.open) == (0, 0, 1)
    assert three_months.share.estimate is None
    assert [c.timepoint for c in figures.completeness] == ["6w", "3m", "6m", "12m", "24m"]


def test_filters_select_by_physician_site_product_and_date() -> None:
    other = Provider.objects.create(name="Dr. Other Example")
    treated(on=date(2025, 1, 10), nrs={"baseline": 8, "6w": 2}, paw="P2-x-Bβ", dose=100)
    treated(on=date(2025, 3, 10), nrs={"baseline": 8, "6w": 6}, paw="P3-Bβ", dose=200, physician=other)
    treated(indication="osteoarthritis", site="knee", on=date(2025, 5, 10), nrs={"baseline": 8, "6w": 7}, dose=300)

    def changes(**chosen: object) -> list[float | None]:
        figures = dashboard.figures("back_pain", filters=Filters(**chosen), today=TODAY)  # type: ignore[arg-type]
        row = change_row(figures, "NRS.NRS", "6w") if figures.changes else None
        return [] if row is None else [row.change.n, row.change.estimate]

    assert changes() == [2, -4]
    assert changes(physician=other.pk) == [1, -2]
    assert changes(paw_class="P2") == [1, -6]
    assert changes(date_from=date(2025, 2, 1)) == [1, -2]
    assert changes(date_to=date(2025, 2, 1)) == [1, -6]
    assert changes(site="knee") == []
    knee = dashboard.figures("osteoarthritis", filters=Filters(site="knee"), today=TODAY)
    assert change_row(knee, "NRS.NRS", "6w").change.estimate == -1


def test_dose_tertiles_and_paw_classes_compare_the_change_at_six_months() -> None:
    # Doses 1, 2, 3 (x 10^8): the cuts are the 2nd and 3rd of the sorted doses, one procedure per third.
    treated(nrs={"baseline": 8, "6m": 2}, dose=100_000_000, paw="P2-x-Bβ")
    treated(nrs={"baseline": 8, "6m": 4}, dose=200_000_000, paw="P2-Bβ")
    treated(nrs={"baseline": 8, "6m": 7}, dose=300_000_000, paw="P3-x-Bβ")
    figures = dashboard.figures("back_pain", today=TODAY)
    assert figures.dose_cuts == (200_000_000, 300_000_000)
    assert [(g.group, g.change.n, g.change.estimate) for g in figures.by_dose] == [
        ("low", 1, -6),
        ("middle", 1, -4),
        ("high", 1, -1),
    ]
    assert [(g.group, g.change.n, g.change.estimate) for g in figures.by_paw] == [("P2", 2, -5), ("P3", 1, -1)]
    assert figures.product_score.startswith("NRS")
    high = dashboard.figures("back_pain", filters=Filters(dose_band="high"), today=TODAY)
    assert high.treated == 1


def test_surgery_free_survival_counts_from_the_procedure_and_censors_at_the_last_answer() -> None:
    on = date(2024, 1, 1)
    # Surgery at day 100; one followed to 12 months (censored there); one to 24 months.
    first = treated(on=on, nrs={"baseline": 8, "6w": 7})
    SurgeryConversion.objects.create(
        episode=first.episode,
        surgery_date=on + timedelta(days=100),
        procedure=SurgeryConversion.Procedure.SPINE_SURGERY,
        source=SurgeryConversion.Source.STAFF,
    )
    treated(on=on, nrs={"baseline": 8, "12m": 4})
    treated(on=on, nrs={"baseline": 8, "24m": 4})
    survival = dashboard.figures("back_pain", today=TODAY).survival
    assert (survival.n, survival.events) == (3, 1)
    # Product-limit: 2/3 after day 100, and no event after; at day 365 two are still at risk.
    assert survival.at[365].estimate == pytest.approx(2 / 3)
    at_risk = {row.day: row.at_risk for row in survival.at_risk}
    twelve_months = (FollowUp.objects.get(timepoint="12m").target_date - on).days
    assert at_risk[0] == 3
    assert at_risk[365] == (2 if twelve_months >= 365 else 1)


def test_adverse_events_are_shares_of_procedures_with_exact_intervals() -> None:
    built = [treated(nrs={"baseline": 5}) for _ in range(4)]
    AdverseEvent.objects.create(
        episode=built[0].episode,
        procedure=built[0].procedure,
        kind=AdverseEvent.Kind.INFECTION,
        onset_date=date(2025, 6, 5),
        grade=3,
        serious=True,
        related_to_injection=AdverseEvent.Relatedness.PROBABLE,
    )
    for _ in range(2):  # Two events on one procedure count it once.
        AdverseEvent.objects.create(
            episode=built[1].episode,
            procedure=built[1].procedure,
            kind=AdverseEvent.Kind.HARVEST_SITE_PAIN,
            onset_date=date(2025, 6, 3),
            grade=1,
            serious=False,
            related_to_harvest=AdverseEvent.Relatedness.UNLIKELY,
        )
    safety = dashboard.figures("back_pain", today=TODAY).safety
    assert [row.label for row in safety] == [
        "Any adverse event",
        "Related (possibly, probably or definitely)",
        "Serious",
        "Serious and related",
    ]
    rows = {row.code: row.share for row in safety}
    expected = {"any": 2, "related": 1, "serious": 1, "serious_related": 1}
    for code, k in expected.items():
        share = rows[code]
        assert (share.n, share.estimate) == (4, pytest.approx(k / 4))
        assert (share.low, share.high) == tuple(pytest.approx(v, abs=1e-9) for v in clopper_pearson(k, 4))


def test_omeract_oarsi_responders_for_osteoarthritis() -> None:
    # NRS 8 -> 3 is a high improvement in pain (62.5 %, 50 points on 0-100): a responder.
    treated(indication="osteoarthritis", site="knee", nrs={"baseline": 8, "6w": 3}, sane={"baseline": 40, "6w": 45})
    # NRS 5 -> 5 and SANE 50 -> 50: pain and global unimproved, so whatever function did, not a responder.
    treated(indication="osteoarthritis", site="knee", nrs={"baseline": 5, "6w": 5}, sane={"baseline": 50, "6w": 50})
    # Only the baseline at 6 weeks' place: no status, left out of N.
    treated(indication="osteoarthritis", site="knee", nrs={"baseline": 5})
    figures = dashboard.figures("osteoarthritis", today=TODAY)
    by_time = {timepoint: share for timepoint, _label, share in figures.omeract}
    assert (by_time["6w"].n, by_time["6w"].estimate) == (2, 0.5)
    assert by_time["3m"].n == 0
    assert dashboard.figures("back_pain", today=TODAY).omeract == []


def test_omeract_oarsi_reads_function_from_one_instrument_per_episode_as_the_episode_page_does() -> None:
    """An episode with two function instruments (its site was corrected from hip to knee after its
    baseline HOOS): KOOS ADL, the first in preference, at 6 weeks only, HOOS ADL at both.

    Reading function per time point would compare HOOS at baseline (75 on the 0-100 worse-higher
    scale) with KOOS at 6 weeks (10): a "high improvement" between two instruments. The episode's
    function is KOOS, which has no baseline, so with pain unchanged its status is unknown.
    """
    built = treated(indication="osteoarthritis", site="knee", nrs={"baseline": 8, "6w": 8})
    follow_ups = {f.timepoint: f for f in FollowUp.objects.filter(episode=built.episode)}
    for instrument, code, timepoint, value in (
        ("HOOS", "ADL", Timepoint.BASELINE, 25.0),
        ("HOOS", "ADL", Timepoint.WEEK_6, 25.0),
        ("KOOS", "ADL", Timepoint.WEEK_6, 90.0),
    ):
        due = follow_ups[timepoint]
        response = Response.objects.create(
            follow_up=due, instrument=instrument, answers={}, status=Response.Status.SUBMITTED,
            submitted_at=due.completed_at,
        )  # fmt: skip
        Score.objects.create(
            response=response, episode=built.episode, timepoint=timepoint, instrument=instrument, code=code,
            value=value, scoring_version="test", computed_at=response.started_at,
        )  # fmt: skip
    assert queries.episode_progress(built.episode).responder["6w"] is None
    by_time = {
        timepoint: share for timepoint, _label, share in dashboard.figures("osteoarthritis", today=TODAY).omeract
    }
    assert (by_time["6w"].n, by_time["6w"].estimate) == (0, None)


def test_the_number_of_queries_does_not_grow_with_the_data() -> None:
    for n in range(3):
        treated(nrs={"baseline": 8, "6w": 4}, dose=n + 1, paw="P2-Bβ")
    with CaptureQueriesContext(connection) as small:
        dashboard.figures("back_pain", today=TODAY)
    for n in range(12):
        treated(nrs={"baseline": 8, "6w": n % 9, "3m": 3, "6m": 2}, dose=n * 10, paw=f"P{1 + n % 3}-Bβ")
    with CaptureQueriesContext(connection) as large:
        dashboard.figures("back_pain", today=TODAY)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_headline_is_the_dashboards_own_figures_for_what_our_results_shows() -> None:
    for n in range(5):
        built = treated(nrs={"baseline": 8, "6w": n + 2, "12m": n}, sane={"baseline": 40, "6w": 50 + n})
    AdverseEvent.objects.create(
        episode=built.episode,
        procedure=built.procedure,
        kind=AdverseEvent.Kind.INFECTION,
        onset_date=date(2025, 6, 5),
        grade=2,
        serious=False,
        related_to_injection=AdverseEvent.Relatedness.POSSIBLE,
    )
    with CaptureQueriesContext(connection) as whole:
        full = dashboard.figures("back_pain", today=TODAY)
    with CaptureQueriesContext(connection) as few:
        headline = dashboard.headline("back_pain", today=TODAY)
    assert headline.treated == full.treated == 5
    assert headline.completeness == full.completeness
    assert [line.code for line in headline.changes] == ["NRS.NRS"]
    assert headline.changes[0].rows == next(line for line in full.changes if line.code == "NRS.NRS").rows
    assert headline.survival == full.survival
    assert headline.safety == full.safety
    assert (headline.by_dose, headline.by_paw, headline.omeract) == ([], [], [])
    assert len(few.captured_queries) < len(whole.captured_queries)
    with pytest.raises(ValueError):
        dashboard.headline("not_a_condition", today=TODAY)


def test_an_unknown_indication_is_refused() -> None:
    with pytest.raises(ValueError):
        dashboard.figures("not_a_condition", today=TODAY)


def test_timepoints_are_the_follow_ups_after_treatment() -> None:
    assert dashboard.AFTER == [
        Timepoint.WEEK_6,
        Timepoint.MONTH_3,
        Timepoint.MONTH_6,
        Timepoint.MONTH_12,
        Timepoint.MONTH_24,
    ]


# --- The page ---------------------------------------------------------------------------------------------------


def _manager() -> User:
    return User.objects.create_user("manager", password="a-password-for-tests", role=Role.MANAGER, is_staff=True)


def test_the_page_shows_the_figures_with_their_n_and_names_no_one(client: Client) -> None:
    first = treated(nrs={"baseline": 8, "6w": 4})
    treated(nrs={"baseline": 6, "6w": 6})
    sign_in(client, _manager())
    audit_clear()
    response = client.get(reverse("outcomes:dashboard"), {"indication": "back_pain"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert '<dd id="treated">2 episodes</dd>' in html
    # Both 6-week follow-ups (the only ones these episodes have) were answered.
    assert '<tr><th scope="row">6 weeks</th><td>2 / 2</td>' in html
    assert "Pain NRS (0-10)" in html
    assert first.episode.patient.first_name not in html
    assert str(first.episode.patient.uuid) not in html
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "patient")) == [
        ("view", "outcomes_dashboard", "dashboard:back_pain", None)
    ]


def test_a_bad_selection_is_explained_beside_its_field_and_keeps_what_was_typed(client: Client) -> None:
    sign_in(client, _manager())
    response = client.get(
        reverse("outcomes:dashboard"),
        {"indication": "back_pain", "date_from": "2025-06-01", "date_to": "2025-01-01", "site": "elbow"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end of the range is before its start." in html
    assert 'value="2025-06-01"' in html and 'value="2025-01-01"' in html
    assert 'id="treated"' not in html
    unknown = client.get(reverse("outcomes:dashboard"), {"indication": "gout"})
    assert unknown.status_code == 200
    assert "Choose a condition from the list." in unknown.content.decode()


def test_roles_without_the_dashboard_are_refused(client: Client) -> None:
    for role in (Role.FRONT_DESK, Role.TECHNICIAN):
        sign_in(client, User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role))
        assert client.get(reverse("outcomes:dashboard")).status_code == 403


def test_the_region_questionnaires_come_in_the_body_sites_order_then_those_every_site_asks() -> None:
    assert dashboard.instrument_codes("osteoarthritis") == ["KOOS", "HOOS", "ASES", "FAOS", "NRS", "SANE", "PGIC"]
    assert dashboard.instrument_codes("osteoarthritis", "hip") == ["HOOS", "NRS", "SANE", "PGIC"]

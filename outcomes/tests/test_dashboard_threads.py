"""The dashboard's figures computed on worker threads (`DASHBOARD_WORKERS`), each with its own connection.

These tests commit their rows (transaction=True): a worker's connection sees only what is
committed. Inside a transaction the figures are computed in the caller's thread, which
sees the transaction's own rows.
"""

import threading
from datetime import date
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import translation

from outcomes import dashboard
from outcomes.models import SurgeryConversion, Timepoint
from outcomes.tests.factories import treated
from procedures.models import AdverseEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("from_the_first_episode")]


@pytest.fixture
def from_the_first_episode(settings: Any) -> None:
    """Parallel whatever the number of episodes (by default only from DASHBOARD_PARALLEL_FROM)."""
    settings.DASHBOARD_PARALLEL_FROM = 0


TODAY = date(2026, 12, 1)


def practice() -> None:
    """Episodes touching every figure: changes, OMERACT-OARSI, survival, safety, dose and product."""
    for n in range(9):
        built = treated(
            indication="osteoarthritis",
            site="knee",
            nrs={"baseline": 8, "6w": n % 7, "3m": 2 + n % 4, "6m": 1 + n % 5},
            sane={"baseline": 40, "6w": 45 + n * 5},
            missed=("12m",) if n % 3 == 0 else (),
            dose=(n + 1) * 1000,
            paw=f"P{1 + n % 3}-Bβ",
        )
        if n == 4:
            AdverseEvent.objects.create(
                episode=built.episode,
                procedure=built.procedure,
                kind=AdverseEvent.Kind.INFECTION,
                onset_date=date(2025, 6, 5),
                grade=3,
                serious=True,
                related_to_harvest=AdverseEvent.Relatedness.PROBABLE,
            )
        if n == 7:
            SurgeryConversion.objects.create(
                episode=built.episode,
                surgery_date=date(2025, 11, 3),
                procedure=SurgeryConversion.Procedure.KNEE_REPLACEMENT,
                source=SurgeryConversion.Source.STAFF,
            )


def test_the_figures_on_worker_threads_equal_the_figures_in_one_thread() -> None:
    practice()
    with override_settings(DASHBOARD_WORKERS=1):
        alone = dashboard.figures("osteoarthritis", today=TODAY)
        alone_filtered = dashboard.figures("osteoarthritis", filters=dashboard.Filters(dose_band="high"), today=TODAY)
    with override_settings(DASHBOARD_WORKERS=2):
        shared = dashboard.figures("osteoarthritis", today=TODAY)
        shared_filtered = dashboard.figures("osteoarthritis", filters=dashboard.Filters(dose_band="high"), today=TODAY)
    assert shared == alone
    assert shared_filtered == alone_filtered
    # The figures are not empty: each part found its rows.
    assert alone.treated == 9
    assert alone.survival.events == 1
    assert alone_filtered.treated == 3
    assert next(row for row in alone.safety if row.code == "serious").share.estimate == pytest.approx(1 / 9)
    # At 3 months two episodes (NRS 8 -> 5, a moderate improvement in pain alone, function and
    # global unknown) have no status.
    assert [share.n for _t, _label, share in alone.omeract][:2] == [9, 7]
    assert alone.by_dose and alone.by_paw


def test_the_parts_run_on_worker_threads_outside_a_transaction_and_in_the_callers_inside_one() -> None:
    here = threading.current_thread().name
    calls = {name: (lambda: threading.current_thread().name) for name in ("a", "b", "c")}
    with override_settings(DASHBOARD_WORKERS=2):
        outside = dashboard.run_parts(calls)
        with transaction.atomic():
            inside = dashboard.run_parts(calls)
    with override_settings(DASHBOARD_WORKERS=1):
        alone = dashboard.run_parts(calls)
    assert list(outside) == ["a", "b", "c"]
    assert all(name.startswith("dashboard") for name in outside.values())
    assert set(inside.values()) == set(alone.values()) == {here}


def test_inside_a_transaction_the_figures_see_its_own_rows() -> None:
    with override_settings(DASHBOARD_WORKERS=2), transaction.atomic():
        treated(nrs={"baseline": 8, "6w": 4})
        figures = dashboard.figures("back_pain", today=TODAY)
    assert figures.treated == 1
    # The change was read in the caller's thread, which holds the uncommitted rows.
    row = next(r for r in figures.changes[0].rows if r.timepoint == Timepoint.WEEK_6)
    assert (row.scored, row.change.estimate) == (1, -4)


def test_a_worker_speaks_the_callers_language() -> None:
    practice()
    with translation.override("es"):
        expected = str(dashboard.LABELS[Timepoint.WEEK_6])
        with override_settings(DASHBOARD_WORKERS=2):
            figures = dashboard.figures("osteoarthritis", today=TODAY)
    with translation.override("en"):
        english = str(dashboard.LABELS[Timepoint.WEEK_6])
    assert expected != english
    assert figures.completeness[0].label == expected
    assert figures.omeract[0][1] == expected


def test_a_small_selection_is_computed_in_the_callers_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.DASHBOARD_PARALLEL_FROM = 3
    here = threading.current_thread().name
    calls = {"where": lambda: threading.current_thread().name}
    treated(nrs={"baseline": 8, "6w": 4})
    treated(nrs={"baseline": 7, "6w": 4})
    seen: list[str] = []
    real = dashboard.run_parts

    def watched(parts: dict[str, Any], *, parallel: bool = True) -> dict[str, Any]:
        seen.append("parallel" if parallel else "alone")
        return real(parts, parallel=parallel)

    with override_settings(DASHBOARD_WORKERS=2):
        assert dashboard.run_parts(calls, parallel=False) == {"where": here}
        monkeypatch.setattr(dashboard, "run_parts", watched)
        dashboard.figures("back_pain", today=TODAY)  # 2 episodes
        treated(nrs={"baseline": 6, "6w": 4})
        dashboard.figures("back_pain", today=TODAY)  # 3
    assert seen == ["alone", "parallel"]


def test_an_error_in_a_part_reaches_the_caller() -> None:
    def broken() -> None:
        raise ZeroDivisionError("a part failed")

    with override_settings(DASHBOARD_WORKERS=2), pytest.raises(ZeroDivisionError, match="a part failed"):
        dashboard.run_parts({"fine": lambda: 1, "broken": broken})

""" "Our results": minimum-N suppression, versions a physician publishes, the public page and the therapy page.

Episodes are built as the practice holds them (`outcomes.tests.factories.treated`: a
signed procedure, answered follow-ups scored by the real scoring code). Pain is the NRS,
whose MCID is a 30 % reduction: 8 -> 4 is meaningfully better, 8 -> 7 is not.
"""

from datetime import date
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from scipy.stats import beta

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from outcomes.tests.factories import treated
from procedures.models import AdverseEvent
from website import results
from website.models import ResultsVersion

pytestmark = pytest.mark.django_db

ON = date(2025, 6, 2)


def cohort(n: int, *, better: int) -> None:
    """`n` back-pain episodes answered at 6 weeks; the first `better` meaningfully better."""
    for index in range(n):
        treated(on=ON, nrs={"baseline": 8, "6w": 4 if index < better else 7})


def physician() -> User:
    return User.objects.create_user("dr", password="a-password-for-tests", role=Role.PHYSICIAN, is_staff=True)


def test_nineteen_patients_show_nothing_twenty_show_their_figures() -> None:
    cohort(19, better=12)
    nineteen = results.draft("back_pain")
    assert (nineteen["treated"], nineteen["follow_ups"], nineteen["adverse_events"]) == (None, [], None)
    cohort(1, better=1)
    twenty = results.draft("back_pain")
    assert twenty["treated"] == 20
    six_weeks = next(row for row in twenty["follow_ups"] if row["timepoint"] == "6w")
    assert (six_weeks["answered"], six_weeks["due"]) == (20, 20)
    assert six_weeks["pain_improved"]["n"] == 20
    assert six_weeks["pain_improved"]["estimate"] == pytest.approx(13 / 20)
    assert twenty["adverse_events"]["procedures"] == 20
    assert twenty["adverse_events"]["any"]["estimate"] == 0.0
    # No 3-month follow-up was ever due for these episodes: no row, rather than "0 of 0".
    assert [row["timepoint"] for row in twenty["follow_ups"]] == ["6w"]


def test_a_time_point_with_fewer_than_the_minimum_due_is_left_out() -> None:
    cohort(20, better=10)
    for _ in range(5):
        treated(on=ON, nrs={"baseline": 8, "3m": 2})
    snapshot = results.draft("back_pain")
    assert snapshot["treated"] == 25
    assert [row["timepoint"] for row in snapshot["follow_ups"]] == ["6w"]


@override_settings(RESULTS_MIN_N=5)
def test_the_minimum_is_never_below_eleven() -> None:
    assert results.min_n() == 11
    cohort(10, better=10)
    assert results.draft("back_pain")["treated"] is None
    cohort(1, better=1)
    assert results.draft("back_pain")["treated"] == 11


@override_settings(RESULTS_MIN_N=30)
def test_the_minimum_can_be_raised() -> None:
    cohort(25, better=25)
    assert results.draft("back_pain")["treated"] is None


def test_publishing_keeps_who_and_when_and_the_public_page_waits_for_the_next_version(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    cohort(20, better=10)
    dr = physician()
    audit_clear()
    with django_capture_on_commit_callbacks(execute=True):
        version = results.publish(indication="back_pain", by=dr)
    assert (version.published_by, version.min_n, version.figures["treated"]) == (dr, 20, 20)
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref")) == [
        ("change", "public_results", f"results:back_pain:{version.pk}")
    ]
    page = client.get(reverse("website:results")).content.decode()
    assert "<dd>20</dd>" in page
    assert "50%" in page
    # New data arrives: the public page does not change until a physician publishes again.
    cohort(5, better=5)
    assert "<dd>20</dd>" in client.get(reverse("website:results")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        results.publish(indication="back_pain", by=dr)
    page = client.get(reverse("website:results")).content.decode()
    assert "<dd>25</dd>" in page and "60%" in page
    assert ResultsVersion.objects.filter(indication="back_pain").count() == 2


def test_the_public_page_is_in_spanish_too(client: Client) -> None:
    cohort(20, better=10)
    results.publish(indication="back_pain", by=physician())
    with translation.override("es"):
        url = reverse("website:results")
    page = client.get(url).content.decode()
    assert url == "/es/results/"
    assert "Nuestros resultados" in page
    assert "Pacientes tratados" in page


def test_the_therapy_page_shows_the_practices_own_adverse_event_rate_beside_its_words(
    client: Client, practice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cohort(20, better=10)
    first = treated(on=ON, nrs={"baseline": 8, "6w": 4})
    AdverseEvent.objects.create(
        episode=first.episode,
        procedure=first.procedure,
        kind=AdverseEvent.Kind.POST_INJECTION_FLARE,
        onset_date=ON,
        grade=1,
        serious=False,
        related_to_injection=AdverseEvent.Relatedness.PROBABLE,
    )
    before = client.get(reverse("website:stem_cells")).content.decode()
    assert "In our practice" not in before
    with django_capture_on_commit_callbacks(execute=True):
        results.publish(indication=results.ALL, by=physician())
    page = client.get(reverse("website:stem_cells")).content.decode()
    # 1 of 21, with its exact interval: the beta quantiles, rounded to whole percents as the page writes them.
    low, high = beta.ppf(0.025, 1, 21), beta.ppf(0.975, 2, 20)
    share = f"{round(100 / 21)}% ({round(low * 100)}% to {round(high * 100)}%)"
    assert f"Of 21 procedures, {share} were followed by a side effect" in page
    assert f"{share} were judged related to the procedure; 0% (0% to {round(beta.ppf(0.975, 1, 21) * 100)}%)" in page


def test_only_physicians_publish(client: Client) -> None:
    cohort(20, better=10)
    manager = User.objects.create_user("m", password="a-password-for-tests", role=Role.MANAGER, is_staff=True)
    sign_in(client, manager)
    assert client.get(reverse("website:results_staff")).status_code == 200
    assert client.post(reverse("website:results_publish"), {"indication": "back_pain"}).status_code == 403
    assert not ResultsVersion.objects.exists()
    sign_in(client, physician())
    response = client.post(reverse("website:results_publish"), {"indication": "back_pain"})
    assert response.status_code == 302
    assert ResultsVersion.objects.get().published_at <= timezone.now()
    refused = client.post(reverse("website:results_publish"), {"indication": "gout"}, follow=True)
    assert "Choose a condition to publish from the list." in refused.content.decode()
    assert ResultsVersion.objects.count() == 1

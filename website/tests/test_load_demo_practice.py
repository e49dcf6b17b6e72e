"""The demo practice command: idempotent, and no "(example)" inside names (the banner says so)."""

import io

import pytest
from django.core.management import call_command

from scheduling.models import Provider
from website.models import Office, Practice, TherapyPage

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("load_demo_practice", "--no-staff", stdout=out)
    return out.getvalue().strip()


def test_it_builds_the_practice_once() -> None:
    first, second = run(), run()
    assert (
        first
        == "load_demo_practice: RegenClinic, offices Los Angeles and Encino, 4 page(s) added, 0 staff login(s) added"
    )
    assert (
        second
        == "load_demo_practice: RegenClinic, offices Los Angeles and Encino, 0 page(s) added, 0 staff login(s) added"
    )
    assert (Practice.objects.count(), Office.objects.count()) == (1, 2)
    assert TherapyPage.objects.count() == 4


def test_it_drops_the_example_label_an_earlier_demo_wrote_into_names() -> None:
    Practice.objects.create(
        name="RegenClinic", legal_name="RegenClinic Orthopedics (example)", notification_email="a@b.c"
    )
    Provider.objects.create(name="Dr. Dana Lee (example)", credentials="MD")
    run()
    call_command("load_demo_schedule", stdout=io.StringIO())
    assert Practice.objects.get().legal_name == "RegenClinic Orthopedics"
    assert list(Provider.objects.order_by("name").values_list("name", flat=True)) == ["Dr. Dana Lee", "Pat Kim, PA-C"]

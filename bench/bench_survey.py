"""The questionnaire page's cost: `bench survey_page_vs_bare_view <ratio> ratio`.

One patient's questionnaire session (opened from a link, as the emailed one is) asks for
its first KOOS page again and again, through the whole Django stack in process (sessions,
the patient-link check, the page's audit row, the template); so does a bare view
(`/healthz`, no database). The ratio is requests per second of the page over those of the
bare view, each from REQUESTS timed requests after a warm-up, measured in one run so the
machine's speed cancels out. `survey_page_p95_ms` is the page's 95th percentile.

The page writes one audit row per view (it shows the patient their own answers), so the
figure includes the hash-chained insert. `run()` expects Django set up on a migrated
database with the demo practice (bench/run.py provides one); run this file alone for a
throwaway database of its own.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 300
WARM = 30


def _timed(client: object, path: str) -> list[float]:
    took = []
    for n in range(WARM + REQUESTS):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"bench_survey: {path} answered {response.status_code}")
        if n >= WARM:
            took.append(elapsed)
    return took


def run() -> list[tuple[str, float, str]]:
    from django.test import Client

    from accounts import links
    from accounts.models import PatientLink
    from outcomes import services
    from outcomes.models import FollowUp, Timepoint
    from patients.models import Episode, Patient
    from scheduling.models import Provider

    patient = Patient.objects.create(
        first_name="Bench", last_name="Survey", date_of_birth=date(1960, 1, 1), email="bench.survey@example.com"
    )
    physician = Provider.objects.get_or_create(name="Dr. Bench")[0]
    episode = Episode.objects.create(
        patient=patient, indication="osteoarthritis", site="knee", side="right", physician=physician
    )
    follow_up = services.baseline_open(episode=episode)
    assert follow_up.timepoint == Timepoint.BASELINE and follow_up.status == FollowUp.Status.OPEN
    _link, token = links.link_issue(purpose=PatientLink.Purpose.QUESTIONNAIRE, patient=patient, target=follow_up.uuid)
    client = Client(HTTP_HOST="127.0.0.1")
    if client.get(f"/questionnaire/{token}/").status_code != 302:
        raise SystemExit("bench_survey: the link did not open the questionnaire")
    bare = _timed(Client(HTTP_HOST="127.0.0.1"), "/healthz")
    page = _timed(client, "/questionnaire/step/1/")
    bare_again = _timed(Client(HTTP_HOST="127.0.0.1"), "/healthz")
    bare_rps = 2 * REQUESTS / (sum(bare) + sum(bare_again))
    page_rps = REQUESTS / sum(page)
    print(
        f"bench_survey: {REQUESTS} requests each in process; bare view {bare_rps:.0f}/s, "
        f"questionnaire page {page_rps:.0f}/s",
        file=sys.stderr,
    )
    return [
        ("survey_page_vs_bare_view", page_rps / bare_rps, "ratio"),
        ("survey_page_p95_ms", statistics.quantiles(page, n=20)[-1] * 1000, "ms"),
    ]


if __name__ == "__main__":
    tmp = tempfile.mkdtemp(prefix="regenclinic-bench-survey-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(VAR_DIR=tmp, SQLITE_PATH=str(Path(tmp) / "bench.sqlite3"), ALLOWED_HOSTS="127.0.0.1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_demo_practice", "--no-staff", stdout=open(os.devnull, "w"))  # noqa: SIM115
    for name, value, unit in run():
        print(f"bench {name} {value:.3g} {unit}")

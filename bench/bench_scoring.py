"""Scoring stored responses in bulk, as `manage.py rescore` does.

    bench score_throughput <n> responses/s        SQLite, `outcomes.scoring.rescore`
    bench score_throughput_pg <n> responses/s     PostgreSQL, the same
    bench score_pure_python <n> responses/s       the instruments' scoring alone, no database
    bench score_throughput_vs_pure_python <r> ratio

The method:

- Each database is a throwaway one with the app's own settings (no PRAGMA or setting of
  the bench's): SQLite, a file in a temporary directory; PostgreSQL, `regenclinic_bench`
  at 127.0.0.1 (or BENCH_POSTGRES_URL), dropped before and after, never the dev database.
  When PostgreSQL does not answer, its figure is left out and stderr says why. Each runs
  in a process of its own (this file run as `bench_scoring.py measure`), so that the
  other bench modules' database stays as they expect it.
- RESPONSES submitted responses are stored untimed with bulk_create: treated episodes
  spread over the indications and sites the practice treats, each answering its
  instrument set (`outcomes.services.instruments_for`, the shipped sets) at baseline and
  five follow-ups; one knee or hip episode in five answers KOOS JR or HOOS JR instead of
  the full KOOS or HOOS. Answers are drawn with a fixed seed around a level of severity
  per episode: an item left unanswered one time in 30, two boxes ticked one time in 200,
  so that some scores are not scorable and carry their reason.
- Timed: `rescore()` over all of them, once on a table with no scores yet (the figure),
  then once more replacing those scores (said on stderr). Afterwards every stored score
  is checked against the scoring functions' own results, and stderr shows a SHA-256 of
  the stored scores (value and reason of each, in order), the same on every database and
  run as long as the scoring does not change.
- score_pure_python: the same answers scored by `Instrument.score` in a plain loop, best
  of 3; the ratio says how much of that speed the bulk path keeps, whatever the machine.

`run()` returns the figures; run this file alone (`python bench/bench_scoring.py`) to print
just these.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as served  # bench/run.py: the app's environment, how figures are printed

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/regenclinic_bench")
RESPONSES = int(os.environ.get("BENCH_SCORE_RESPONSES", "100000"))
SEED = 2027
UNANSWERED = 1 / 30
TWO_BOXES = 1 / 200
SHORT_FORM = 1 / 5
# (indication, site, side, weight): roughly the practice's mix; every shipped set is reached.
CASES = (
    ("osteoarthritis", "knee", "right", 30),
    ("osteoarthritis", "hip", "left", 10),
    ("osteoarthritis", "shoulder", "right", 5),
    ("osteoarthritis", "ankle_foot", "left", 3),
    ("tendon_injury", "knee", "left", 3),
    ("tendon_injury", "shoulder", "right", 4),
    ("tendon_injury", "ankle_foot", "right", 3),
    ("tendon_injury", "hip", "left", 2),
    ("tendon_injury", "hamstring", "left", 2),
    ("tendon_injury", "elbow", "right", 3),
    ("rotator_cuff", "shoulder", "right", 8),
    ("back_pain", "lumbar_spine", "midline", 10),
    ("knee_ligament", "knee", "left", 4),
    ("patellar_tendonitis", "knee", "right", 4),
    ("hamstring", "hamstring", "right", 2),
    ("hand_knee_foot_pain", "wrist_hand", "left", 2),
    ("hand_knee_foot_pain", "knee", "bilateral", 2),
    ("cartilage", "knee", "right", 3),
)
SHORT_FORMS = {"KOOS": "KOOS_JR", "HOOS": "HOOS_JR"}

Figures = list[tuple[str, float, str]]


# --- The stored responses -----------------------------------------------------------------------


def _codes(item: Any) -> list[int]:
    if item.options:
        return sorted(option.code for option in item.options)
    return list(range(item.low, item.high + 1))


def _answers(instrument: Any, severity: float, rng: random.Random) -> dict[str, Any]:
    """One person's answers: each item near `severity` (0 best, 1 worst) of its range, a few left out."""
    answers: dict[str, Any] = {}
    visa_p_part = rng.choice(("8A", "8B", "8C"))
    for item in instrument.items:
        if item.code in ("8A", "8B", "8C") and item.code != visa_p_part:
            continue  # VISA-P: one of the three branches of question 8
        if rng.random() < UNANSWERED:
            answers[item.code] = None
            continue
        codes = _codes(item)
        # Higher codes mean worse on every item but the ones scored the other way round (SANE,
        # PGIC, VISA-P, LEFS); the level only spreads the answers, the direction does not matter here.
        at = min(len(codes) - 1, max(0, round(rng.gauss(severity, 0.2) * (len(codes) - 1))))
        if item.options and rng.random() < TWO_BOXES:
            answers[item.code] = sorted({codes[at], codes[min(at + 1, len(codes) - 1)], codes[max(at - 1, 0)]})[:2]
        else:
            answers[item.code] = codes[at]
    return answers


def _build() -> list[tuple[str, dict[str, Any]]]:
    """Store RESPONSES submitted responses (untimed); their (instrument, answers) in primary-key order."""
    from django.utils import timezone

    from outcomes import instruments, schedule
    from outcomes.models import FollowUp, Response, Timepoint
    from outcomes.services import instruments_for
    from patients.models import Episode, Patient
    from scheduling.models import Provider

    if Response.objects.exists():
        raise SystemExit("bench_scoring: the database already holds responses; it must be a throwaway one")
    rng = random.Random(SEED)
    physician = Provider.objects.create(name="Dr. Bench Scoring")
    timepoints = [choice.value for choice in Timepoint]
    sets = {
        (indication, site, timepoint): instruments_for(Episode(indication=indication, site=site), timepoint)
        for indication, site, _side, _weight in CASES
        for timepoint in timepoints
    }
    weights = [case[3] for case in CASES]
    planned: list[tuple[int, str, list[tuple[str, dict[str, Any]]]]] = []  # (case, timepoint, responses)
    total = 0
    while total < RESPONSES:
        case = rng.choices(range(len(CASES)), weights)[0]
        indication, site, _side, _weight = CASES[case]
        short = rng.random() < SHORT_FORM
        severity = rng.uniform(0.2, 0.8)
        for timepoint in timepoints:
            codes = [SHORT_FORMS.get(code, code) if short else code for code in sets[indication, site, timepoint]]
            answered = [(code, _answers(instruments.get(code), severity, rng)) for code in codes]
            planned.append((case, timepoint, answered[: RESPONSES - total]))
            total += len(planned[-1][2])
            severity = max(0.0, severity - rng.uniform(0.0, 0.1))  # most people get a little better
            if total >= RESPONSES:
                break
    episode_count = sum(1 for p in planned if p[1] == Timepoint.BASELINE)
    patients = Patient.objects.bulk_create(
        (Patient(first_name=f"S{n}", last_name="Bench", date_of_birth=date(1960, 1, 1)) for n in range(episode_count)),
        batch_size=2000,
    )
    treated = timezone.now()
    episodes = []
    for patient, case in zip(patients, [p[0] for p in planned if p[1] == Timepoint.BASELINE], strict=True):
        indication, site, side, _weight = CASES[case]
        episodes.append(
            Episode(
                patient=patient,
                indication=indication,
                site=site,
                side=side,
                physician=physician,
                status=Episode.Status.TREATED,
            )
        )
    Episode.objects.bulk_create(episodes, batch_size=2000)
    follow_ups = []
    procedure = date(2025, 1, 6)
    windows = {w.timepoint: w for w in [schedule.baseline_window(procedure), *schedule.follow_up_windows(procedure)]}
    episode = -1
    for _case, timepoint, _answered in planned:
        episode += timepoint == Timepoint.BASELINE
        window = windows[timepoint]
        follow_ups.append(
            FollowUp(
                episode=episodes[episode],
                timepoint=timepoint,
                target_date=window.target,
                opens_on=window.opens,
                closes_on=window.closes,
                status=FollowUp.Status.COMPLETED,
                completed_at=treated + timedelta(days=(window.target - procedure).days),
                schedule_version=schedule.VERSION,
            )
        )
    FollowUp.objects.bulk_create(follow_ups, batch_size=2000)
    responses = [
        Response(
            follow_up=follow_up,
            instrument=code,
            answers=answers,
            status=Response.Status.SUBMITTED,
            submitted_at=follow_up.completed_at,
        )
        for follow_up, (_case, _timepoint, answered) in zip(follow_ups, planned, strict=True)
        for code, answers in answered
    ]
    Response.objects.bulk_create(responses, batch_size=2000)
    return [(r.instrument, r.answers) for r in sorted(responses, key=lambda r: r.pk)]


# --- The measurements ---------------------------------------------------------------------------


def _pure_python(answered: list[tuple[str, dict[str, Any]]]) -> tuple[float, list[tuple[str, float | None, str]]]:
    """Responses per second scored by `Instrument.score` alone (best of 3), and the results in order."""
    from outcomes import instruments

    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for code, answers in answered:
            instruments.get(code).score(answers)
        best = min(best, time.perf_counter() - started)
    expected = [
        (score_code, result.value, result.reason[:300])
        for code, answers in answered
        for score_code, result in sorted(instruments.get(code).score(answers).items())
    ]
    return len(answered) / best, expected


def _stored() -> list[tuple[str, float | None, str]]:
    from outcomes.models import Score

    # Sorted here, not by the database: PostgreSQL's collation may order codes differently.
    rows = sorted(Score.objects.values_list("response_id", "code", "value", "reason"))
    return [(code, value, reason) for _response, code, value, reason in rows]


def _measure() -> dict[str, Any]:
    """On the database the environment names: store the responses, time rescore; the figures as JSON."""
    from django.core.management import call_command
    from django.db import connection

    from outcomes.models import Score
    from outcomes.scoring import rescore

    call_command("migrate", "--noinput", verbosity=0)
    started = time.perf_counter()
    answered = _build()
    served.say(f"bench_scoring: {len(answered)} responses stored in {time.perf_counter() - started:.1f}s")
    pure, expected = _pure_python(answered)
    connection.close()  # the timed part starts on a fresh connection, as `manage.py rescore` does

    started = time.perf_counter()
    done = rescore()
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = rescore()
    second = time.perf_counter() - started
    if done != again or done != len(answered):
        raise SystemExit(f"bench_scoring: rescore scored {done} then {again} of {len(answered)} responses")
    stored = _stored()
    if stored != expected:
        raise SystemExit("bench_scoring: the stored scores differ from the scoring functions' own results")
    digest = hashlib.sha256(repr(stored).encode()).hexdigest()
    not_scored = sum(1 for _code, value, _reason in stored if value is None)
    served.say(
        f"bench_scoring: {connection.vendor}: {done} responses, {Score.objects.count()} scores "
        f"({not_scored} not scorable) in {first:.2f}s; again, replacing them, in {second:.2f}s "
        f"({done / second:.0f} responses/s); scores sha256 {digest}"
    )
    return {"throughput": done / first, "pure_python": pure}


@contextmanager
def _postgres_database() -> Iterator[str | None]:
    """A fresh throwaway database (its URL), dropped afterwards; None when PostgreSQL does not answer."""
    import psycopg

    url = urlparse(POSTGRES_URL)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        served.say(f"bench_scoring: PostgreSQL at {url.hostname}:{url.port} is not reachable ({error}); no _pg figure")
        yield None
        return
    try:
        yield POSTGRES_URL
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure_on(database_url: str = "") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-scoring-") as tmp:
        result = subprocess.run(
            [served.PY, str(Path(__file__).resolve()), "measure"],
            cwd=ROOT,
            env=served.app_env(Path(tmp), database_url),
            stdout=subprocess.PIPE,
            text=True,
            check=False,
            timeout=900,
        )
    if result.returncode != 0:
        raise SystemExit("bench_scoring: the measuring process failed (its error is above)")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def run() -> Figures:
    sqlite = _measure_on()
    figures: Figures = [
        ("score_throughput", sqlite["throughput"], "responses/s"),
        ("score_pure_python", sqlite["pure_python"], "responses/s"),
        ("score_throughput_vs_pure_python", sqlite["throughput"] / sqlite["pure_python"], "ratio"),
    ]
    with _postgres_database() as url:
        if url:
            figures.insert(1, ("score_throughput_pg", _measure_on(url)["throughput"], "responses/s"))
    return figures


if __name__ == "__main__":
    if sys.argv[1:] == ["measure"]:  # the measuring process, on the database the environment names
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        print(json.dumps(_measure()))
    else:
        for name, value, unit in run():
            served.figure(name, value, unit)

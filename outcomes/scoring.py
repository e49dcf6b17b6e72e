"""Scores of stored responses: computed by the instruments' scoring functions, stored with their version.

`response_scores` scores one submitted response (replacing its scores); `rescore` does the
same for every stored response (or one instrument's) in bulk: it reads answers in
chunks as plain tuples, scores them in Python and writes the score rows with one
executemany per chunk, so that 100,000 responses take seconds, not minutes
(`bench score_throughput`). A score that cannot be computed is stored with value NULL
and its reason, never as 0.
"""

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from outcomes import instruments
from outcomes.models import Response, Score

CHUNK = 5_000


def version_of(instrument_code: str) -> str:
    instrument = instruments.get(instrument_code)
    return f"{instrument.code}-{instrument.scoring_version}"


def response_scores(response: Response, *, now: datetime | None = None) -> list[Score]:
    """Compute and store the scores of one response (in the caller's transaction), replacing earlier ones."""
    now = now or timezone.now()
    instrument = instruments.get(response.instrument)
    results = instrument.score(response.answers)
    follow_up = response.follow_up
    with transaction.atomic():
        Score.objects.filter(response=response).delete()
        scores = Score.objects.bulk_create(
            Score(
                response=response,
                episode_id=follow_up.episode_id,
                timepoint=follow_up.timepoint,
                instrument=instrument.code,
                code=code,
                value=result.value,
                reason=result.reason[:300],
                scoring_version=version_of(instrument.code),
                computed_at=now,
            )
            for code, result in results.items()
        )
    return scores


def rescore(*, instrument: str | None = None, now: datetime | None = None) -> int:
    """Recompute the scores of every submitted response (of `instrument`, if given). Returns how many responses."""
    now = now or timezone.now()
    found = Response.objects.filter(status=Response.Status.SUBMITTED)
    if instrument:
        found = found.filter(instrument=instruments.get(instrument).code)
    rows = (
        found.order_by("pk")
        .values_list("pk", "instrument", "answers", "follow_up__episode_id", "follow_up__timepoint")
        .iterator(chunk_size=CHUNK)
    )
    table = Score._meta.db_table
    insert = (
        f"INSERT INTO {table} (response_id, episode_id, timepoint, instrument, code, value, reason, "  # noqa: S608
        "scoring_version, computed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    done = 0
    stamp = connection.ops.adapt_datetimefield_value(now)
    for chunk in _chunks(rows, CHUNK):
        values: list[tuple[Any, ...]] = []
        for pk, code, answers, episode_id, timepoint in chunk:
            defined = instruments.get(code)
            version = f"{defined.code}-{defined.scoring_version}"
            for score_code, result in defined.score(answers).items():
                values.append(
                    (
                        pk,
                        episode_id,
                        timepoint,
                        defined.code,
                        score_code,
                        result.value,
                        result.reason[:300],
                        version,
                        stamp,
                    )
                )
        with transaction.atomic():
            Score.objects.filter(response_id__in=[row[0] for row in chunk]).delete()
            with connection.cursor() as cursor:
                cursor.executemany(insert, values)
        done += len(chunk)
    return done


def _chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk

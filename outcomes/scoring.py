"""Scores of stored responses: computed by the instruments' scoring functions, stored with their version.

`response_scores` scores one submitted response (replacing its scores); `rescore` does the
same for every stored response (or one instrument's) in bulk: it reads answers in
chunks as plain tuples, scores each distinct answer text once per chunk in Python and
writes the score rows with one executemany (PostgreSQL: one COPY) per chunk, so that
100,000 responses take seconds, not minutes (`bench score_throughput`). A score that
cannot be computed is stored with value NULL and its reason, never as 0. Both keep the
episodes' `ScoreSummary` rows in the same transaction (`outcomes.summary`).
"""

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from outcomes import instruments, summary
from outcomes.instruments.base import Instrument
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
        )  # which refreshes the episode's summary rows (ScoreQuerySet)
    return scores


def rescore(*, instrument: str | None = None, now: datetime | None = None) -> int:
    """Recompute the scores of every submitted response (of `instrument`, if given). Returns how many responses."""
    now = now or timezone.now()
    found = Response.objects.filter(status=Response.Status.SUBMITTED)
    if instrument:
        found = found.filter(instrument=instruments.get(instrument).code)
    # The ORM writes the query; its rows are read as the database gives them, because the
    # ORM's per-row converters cost as much as the scoring. The answers are decoded by the
    # field's own converter, and only once per distinct text (see `_ChunkScorer`).
    sql, params = (
        found.order_by("pk")
        .values_list("pk", "instrument", "answers", "follow_up__episode_id", "follow_up__timepoint")
        .query.sql_with_params()
    )
    scorer = _ChunkScorer(stamp=connection.ops.adapt_datetimefield_value(now))
    done = 0
    with connection.chunked_cursor() as rows:
        rows.execute(sql, params)
        while chunk := rows.fetchmany(CHUNK):
            values = scorer.rows(chunk)
            with transaction.atomic(), connection.cursor() as cursor:
                if _delete_scores(cursor, [row[0] for row in chunk]):
                    _insert_scores(cursor, values)
                    summary.refresh(cursor, [row[3] for row in chunk])
                else:
                    _store_new_scores(cursor, values)
            done += len(chunk)
    return done


class _ChunkScorer:
    """Score rows (as `_COLUMNS`) for (pk, instrument, answers as JSON text, episode_id, timepoint) rows.

    Scoring is pure, so identical stored answers have identical scores: a chunk computes each
    distinct (instrument, text) once. NRS, SANE and PGIC answers repeat all the time.
    """

    def __init__(self, *, stamp: Any) -> None:
        self.stamp = stamp
        field = Response._meta.get_field("answers")
        self.decode = field.from_db_value
        self.column = field.get_col(Response._meta.db_table)
        # By instrument code as stored: the instrument, and its version as the score rows record it.
        self.defined: dict[str, tuple[Instrument, str]] = {}

    def rows(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        values: list[tuple[Any, ...]] = []
        scored: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for pk, code, text, episode_id, timepoint in chunk:
            tails = scored.get((code, text))
            if tails is None:
                tails = scored[code, text] = self._tails(code, text)
            head = (pk, episode_id, timepoint)
            values.extend([head + tail for tail in tails])
        return values

    def _tails(self, code: str, text: str) -> list[tuple[Any, ...]]:
        """The columns after (response_id, episode_id, timepoint) of each score of one response."""
        if code not in self.defined:
            defined = instruments.get(code)
            self.defined[code] = (defined, f"{defined.code}-{defined.scoring_version}")
        defined, version = self.defined[code]
        answers = self.decode(text, self.column, connection)
        return [
            (defined.code, score_code, result.value, result.reason[:300], version, self.stamp)
            for score_code, result in defined.score(answers).items()
        ]


_COLUMNS = (
    "response_id",
    "episode_id",
    "timepoint",
    "instrument",
    "code",
    "value",
    "reason",
    "scoring_version",
    "computed_at",
)


def _delete_scores(cursor: Any, response_ids: list[int]) -> bool:
    """Delete the scores of these responses (ascending ids), in the caller's transaction; False if they had none."""
    table = connection.ops.quote_name(Score._meta.db_table)
    # A first scoring has nothing to delete: one probe of the index instead of the deletes.
    cursor.execute(
        f"SELECT 1 FROM {table} WHERE response_id BETWEEN %s AND %s LIMIT 1",  # noqa: S608
        [response_ids[0], response_ids[-1]],
    )
    if cursor.fetchone() is None:
        return False
    if connection.vendor == "postgresql":
        cursor.execute(f"DELETE FROM {table} WHERE response_id = ANY(%s)", [response_ids])  # noqa: S608
        return True
    step = connection.features.max_query_params or len(response_ids)
    for start in range(0, len(response_ids), step):
        part = response_ids[start : start + step]
        cursor.execute(f"DELETE FROM {table} WHERE response_id IN ({', '.join(['%s'] * len(part))})", part)  # noqa: S608
    return True


def _store_new_scores(cursor: Any, values: list[tuple[Any, ...]]) -> None:
    """Insert the score rows of responses that had none, and their cells of the episodes' summaries."""
    if not values:
        return
    _insert_scores(cursor, values)
    # Only these responses have scores between their lowest and highest id (a chunk that had
    # none, or a block of ids reserved for new responses).
    ids = [row[0] for row in values]
    summary.add(cursor, min(ids), max(ids))


def _insert_scores(cursor: Any, values: list[tuple[Any, ...]]) -> None:
    table = connection.ops.quote_name(Score._meta.db_table)
    columns = ", ".join(_COLUMNS)
    if connection.vendor == "postgresql" and _psycopg3():
        # COPY: PostgreSQL takes rows this way several times faster than by INSERT statements.
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    else:
        placeholders = ", ".join(["%s"] * len(_COLUMNS))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", values)  # noqa: S608


def _psycopg3() -> bool:
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)

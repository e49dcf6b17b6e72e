"""`ScoreSummary`: each episode's score at baseline and at every follow-up in one row, kept with the scores.

The dashboard's change from baseline, MCID, PASS, OMERACT-OARSI and product figures
aggregate these rows (one per episode and score) instead of joining every follow-up's
`Score` row to its baseline's. A row holds exactly what the score rows hold: the value of
the score at each time point, NULL where there is no score or it is not scorable.

Every writer of scores keeps the rows in the transaction that writes the scores:
- `outcomes.scoring` and `outcomes.registry`'s bulk path call `add` after inserting the
  scores of responses that had none (an upsert of the new cells, computed from the rows in
  hand), and `refresh` after replacing scores (the episodes' rows recomputed from their
  scores in one statement);
- any other write of a `Score` through the ORM (the admin, a shell, a test's fixture) is
  caught by the `post_save` and `post_delete` receivers `connect` registers, which refresh
  that episode.
Migration 0004 filled the rows for the scores stored before it, with `refresh`'s statement.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models.signals import post_delete, post_save

from outcomes.models import SUMMARY_COLUMNS, Score, ScoreSummary

COLUMNS = list(SUMMARY_COLUMNS.values())
_POSITION = {timepoint: n for n, timepoint in enumerate(SUMMARY_COLUMNS)}


def _table() -> str:
    return connection.ops.quote_name(ScoreSummary._meta.db_table)


def add(cursor: Any, scores: Sequence[tuple[Any, ...]]) -> None:
    """Record the cells of newly stored scores: rows as `outcomes.scoring._COLUMNS` orders them.

    Only for scores of responses that had none: each cell they fill was empty, so an
    existing row keeps its other time points (an episode's responses may come in several
    chunks) and takes the new ones.
    """
    cells: dict[tuple[Any, str, str], list[Any]] = {}
    for _response, episode_id, timepoint, instrument, code, value, *_rest in scores:
        row = cells.get((episode_id, instrument, code))
        if row is None:
            row = cells[episode_id, instrument, code] = [None] * len(COLUMNS)
        row[_POSITION[timepoint]] = value
    if not cells:
        return
    table = _table()
    names = ", ".join(COLUMNS)
    marks = ", ".join(["%s"] * (3 + len(COLUMNS)))
    keep = ", ".join(f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in COLUMNS)
    cursor.executemany(
        f"INSERT INTO {table} (episode_id, instrument, code, {names}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT (episode_id, instrument, code) DO UPDATE SET {keep}",
        [(*key, *values) for key, values in cells.items()],
    )


def refresh(cursor: Any, episode_ids: Iterable[Any]) -> None:
    """Recompute these episodes' rows from their score rows (after scores were replaced or deleted)."""
    ids = sorted(set(episode_ids))
    # In parts that stay under SQLite's 999 parameters (the time points' six included).
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        marks = ", ".join(["%s"] * len(part))
        cursor.execute(f"DELETE FROM {_table()} WHERE episode_id IN ({marks})", part)  # noqa: S608
        sql, params = refresh_sql(f"episode_id IN ({marks})")
        cursor.execute(sql, [*params, *part])


def refresh_sql(where: str) -> tuple[str, list[str]]:
    """INSERT ... SELECT of the rows of the scores `where` selects (its parameters after these)."""
    score = connection.ops.quote_name(Score._meta.db_table)
    pivots = ", ".join("MAX(CASE WHEN timepoint = %s THEN value END)" for _ in COLUMNS)
    sql = (
        f"INSERT INTO {_table()} (episode_id, instrument, code, {', '.join(COLUMNS)}) "  # noqa: S608
        f"SELECT episode_id, instrument, code, {pivots} FROM {score} WHERE {where} "
        "GROUP BY episode_id, instrument, code"
    )
    return sql, [str(timepoint) for timepoint in SUMMARY_COLUMNS]


def _score_written(sender: Any, instance: Score, **kwargs: Any) -> None:
    with connection.cursor() as cursor:
        refresh(cursor, [instance.episode_id])


def connect() -> None:
    """Keep the rows right after a `Score` is saved or deleted through the ORM (see the module)."""
    post_save.connect(_score_written, sender=Score, dispatch_uid="outcomes.summary.saved")
    post_delete.connect(_score_written, sender=Score, dispatch_uid="outcomes.summary.deleted")

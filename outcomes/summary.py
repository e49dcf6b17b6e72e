"""`ScoreSummary`: each episode's score at baseline and at every follow-up in one row, kept with the scores.

The dashboard's change from baseline, MCID, PASS, OMERACT-OARSI and product figures
aggregate these rows (one per episode and score) instead of joining every follow-up's
`Score` row to its baseline's. A row holds exactly what the score rows hold: the value of
the score at each time point, NULL where there is no score or it is not scorable.

Every writer of scores keeps the rows in the transaction that writes the scores:
- `outcomes.scoring` and `outcomes.registry`'s bulk path call `add` after inserting the
  scores of responses that had none (an upsert of the new cells, pivoted by the database),
  and `refresh` after replacing scores (the episodes' rows recomputed from their scores);
  each is one statement, so scoring keeps its speed (`bench score_throughput`);
- any other write of a `Score` through the ORM (the admin, a shell, a test's fixture) is
  caught by the `post_save` and `post_delete` receivers `connect` registers, which refresh
  that episode (and the one a save moved it from); `QuerySet.update`, `bulk_update` and
  `bulk_create`, which send no signal, by `models.ScoreQuerySet`, whose `delete` gathers
  the receivers' episodes and refreshes each once (`refreshed_once`).
Migration 0004 filled the rows for the scores stored before it, with `refresh`'s statement.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import connection, connections
from django.db.models.signals import post_delete, post_save

from outcomes.models import SUMMARY_COLUMNS, Score, ScoreSummary

COLUMNS = list(SUMMARY_COLUMNS.values())
# While set, the receivers add the episodes to it instead of refreshing them (`refreshed_once`).
_deferred: ContextVar[set[Any] | None] = ContextVar("outcomes_summary_deferred", default=None)


def _table() -> str:
    return connection.ops.quote_name(ScoreSummary._meta.db_table)


def add(cursor: Any, first: int, last: int) -> None:
    """Record the cells of the scores just stored for responses `first` to `last` (ids), which had none.

    Each cell they fill was empty, so an existing row keeps its other time points (an
    episode's responses may come in several chunks) and takes the new ones. One statement:
    the database pivots the new score rows (found by the score index) and upserts them.
    """
    table = _table()
    sql, params = refresh_sql("response_id BETWEEN %s AND %s")
    keep = ", ".join(f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in COLUMNS)
    cursor.execute(f"{sql} ON CONFLICT (episode_id, instrument, code) DO UPDATE SET {keep}", [*params, first, last])


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


@contextmanager
def refreshed_once(using: str) -> Iterator[None]:
    """Scores written inside refresh their episodes' rows once, at the end (not if it raises)."""
    episodes: set[Any] = set()
    token = _deferred.set(episodes)
    try:
        yield
    finally:
        _deferred.reset(token)
    with connections[using].cursor() as cursor:
        refresh(cursor, episodes)


def _score_written(sender: Any, instance: Score, **kwargs: Any) -> None:
    # The episode it is in, and the one it was loaded from if the save moved it.
    episodes = {instance.episode_id, instance.stored_episode_id} - {None}
    instance.stored_episode_id = instance.episode_id
    waiting = _deferred.get()
    if waiting is not None:
        waiting |= episodes
        return
    with connection.cursor() as cursor:
        refresh(cursor, episodes)


def connect() -> None:
    """Keep the rows right after a `Score` is saved or deleted through the ORM (see the module)."""
    post_save.connect(_score_written, sender=Score, dispatch_uid="outcomes.summary.saved")
    post_delete.connect(_score_written, sender=Score, dispatch_uid="outcomes.summary.deleted")

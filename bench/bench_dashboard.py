"""The outcomes dashboard at scale, against a hand-written DuckDB query over the same rows.

    bench dashboard_ms_<size> <ms> ms                 one indication's full dashboard (outcomes.dashboard.figures)
    bench dashboard_vs_duckdb_<size> <ratio> ratio     that time over DuckDB's for the same figures

The method:

- For each size (stored responses: 10k, 100k and 1M by default; BENCH_DASHBOARD_SIZES, e.g.
  "10000,100000", to choose), a throwaway SQLite database with the app's own settings is
  filled untimed by `manage.py make_registry` (a synthetic practice: about 12.5 responses per
  episode), in a process of its own (this file run as `bench_dashboard.py measure N`).
- Timed: `dashboard.figures("osteoarthritis")`, every figure of the page (completeness,
  change from baseline with MCID and PASS, OMERACT-OARSI, Kaplan-Meier, adverse events,
  dose and product), on a fresh connection, its parts on `DASHBOARD_WORKERS` threads (2 by
  default, as served); best of 3 after one warm-up run. The same on one thread is said on
  stderr, for comparison.
- The reference: the same rows (scores, follow-ups, procedures, surgeries, adverse events)
  exported untimed to Parquet, and one hand-written DuckDB query per figure computing the
  same sums, then the same intervals (`outcomes.stats`); best of 3 after one warm-up. The
  two sets of figures are compared before any time is printed: a difference stops the bench.
- stderr says the sizes reached and where the dashboard's time goes (per figure).

`run()` returns the figures; run this file alone (`python bench/bench_dashboard.py`) to print
just these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as served  # bench/run.py: the app's environment, how figures are printed

ROOT = Path(__file__).resolve().parent.parent
SIZES = [int(n) for n in os.environ.get("BENCH_DASHBOARD_SIZES", "10000,100000,1000000").split(",") if n]
INDICATION = "osteoarthritis"
RESPONSES_PER_EPISODE = 12.5  # what make_registry averages
Figures = list[tuple[str, float, str]]


def _label(size: int) -> str:
    """The size as issue 9 names it: 10k, 100k, 1M."""
    return f"{size // 1_000_000}M" if size % 1_000_000 == 0 else f"{size // 1000}k"


def _best(function: Any, rounds: int = 3) -> tuple[float, Any]:
    function()  # warm-up: caches, imports, the database's pages
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def _comparable(figures: Any) -> dict[str, Any]:
    """The numbers both sides must agree on (rounded: sums in another order differ in the last bits)."""

    def r(value: Any) -> Any:
        return None if value is None else round(float(value), 6)

    return {
        "treated": figures.treated,
        "completeness": [(c.timepoint, c.answered, c.due, c.open) for c in figures.completeness],
        "changes": sorted(
            (line.code, row.timepoint, row.scored, row.change.n, r(row.change.estimate))
            for line in figures.changes
            for row in line.rows
        ),
        "mcid": sorted(
            (line.code, row.timepoint, r(row.mcid.estimate) if row.mcid else None)
            for line in figures.changes
            for row in line.rows
        ),
        "omeract": [(t, share.n, r(share.estimate)) for t, _label, share in figures.omeract],
        "survival": (figures.survival.n, figures.survival.events, r(figures.survival.at[365].estimate)),
        "safety": [(row.label, row.share.n, r(row.share.estimate)) for row in figures.safety],
        "by_dose": [(g.group, g.change.n, r(g.change.estimate)) for g in figures.by_dose],
        "by_paw": [(g.group, g.change.n, r(g.change.estimate)) for g in figures.by_paw],
    }


def _export(directory: Path) -> None:
    """The rows the figures read, as Parquet files (untimed), through DuckDB from the app's database."""
    import duckdb
    import pandas
    from django.db import connection

    tables = {
        "scores": "SELECT episode_id, timepoint, instrument, code, value FROM outcomes_score",
        "follow_ups": "SELECT episode_id, timepoint, status, closes_on, completed_at FROM outcomes_followup",
        "procedures": (
            "SELECT p.id, p.episode_id, p.status, p.procedure_date, p.cell_dose, p.paw_code, e.indication "
            "FROM procedures_procedurerecord p JOIN patients_episode e ON e.id = p.episode_id"
        ),
        "surgeries": "SELECT episode_id, surgery_date FROM outcomes_surgeryconversion",
        "adverse_events": (
            "SELECT procedure_id, serious, related_to_harvest, related_to_injection, related_to_product "
            "FROM procedures_adverseevent"
        ),
    }
    duck = duckdb.connect()
    for name, sql in tables.items():
        with connection.cursor() as cursor:
            cursor.execute(sql)
            columns = [c[0] for c in cursor.description]
            frame = pandas.DataFrame.from_records(cursor.fetchall(), columns=columns)
        for column in ("closes_on", "completed_at", "procedure_date", "surgery_date"):
            if column in frame:
                frame[column] = pandas.to_datetime(frame[column], utc=column == "completed_at")
        duck.register("frame", frame)
        duck.execute(f"COPY (SELECT * FROM frame) TO '{directory / name}.parquet' (FORMAT parquet)")
        duck.unregister("frame")
    duck.close()


def _one(duck: Any, sql: str) -> tuple[Any, ...]:
    row = duck.execute(sql).fetchone()
    assert row is not None
    return tuple(row)


def _duckdb_figures(directory: Path, today: Any) -> Any:
    """The dashboard's figures from the Parquet files: hand-written DuckDB SQL, the same intervals."""
    import duckdb

    from outcomes import dashboard, instruments, responders, stats
    from outcomes.dashboard import AFTER, LABELS, ChangeRow, Figures, GroupRow, SafetyRow, ScoreChange

    def p(name: str) -> str:
        return f"read_parquet('{directory / name}.parquet')"

    duck = duckdb.connect()
    codes = dashboard.instrument_codes(INDICATION)
    duck.execute(
        f"CREATE TEMP VIEW sel AS SELECT * FROM {p('procedures')} "
        f"WHERE status IN ('signed', 'amended') AND indication = '{INDICATION}'"
    )
    duck.execute(f"CREATE TEMP VIEW s AS SELECT * FROM {p('scores')} WHERE episode_id IN (SELECT episode_id FROM sel)")
    treated = _one(duck, "SELECT count(DISTINCT episode_id) FROM sel")[0]
    rows = duck.execute(
        f"""SELECT timepoint, count(*) FILTER (WHERE status = 'completed'),
                   count(*) FILTER (WHERE status = 'completed' OR closes_on < DATE '{today}'),
                   count(*) FILTER (WHERE status = 'open' AND closes_on >= DATE '{today}')
            FROM {p("follow_ups")} WHERE episode_id IN (SELECT episode_id FROM sel) AND timepoint <> 'baseline'
            GROUP BY timepoint"""
    ).fetchall()
    found = {t: (a, d, o) for t, a, d, o in rows}
    completeness = [
        dashboard.Completeness(
            t, str(LABELS[t]), *found.get(t, (0, 0, 0)), share=stats.wilson(*found.get(t, (0, 0))[:2])
        )
        for t in AFTER
    ]
    changes = []
    for code in codes:
        for definition in instruments.get(code).scores:
            gain = "(s.value - b.value)" if definition.higher_is_better else "(b.value - s.value)"
            mcid = "NULL"
            if definition.mcid is not None:
                value = definition.mcid.value
                mcid = (
                    f"(b.value <> 0 AND {gain} * 100 >= {value} * abs(b.value))"
                    if definition.mcid.unit == "percent"
                    else f"({gain} >= {value})"
                )
            passed = "NULL"
            if definition.pass_threshold is not None:
                sign = ">=" if definition.higher_is_better else "<="
                passed = f"(s.value {sign} {definition.pass_threshold.value})"
            result = duck.execute(
                f"""SELECT s.timepoint, count(*), count(b.value), sum(s.value - b.value),
                           sum((s.value - b.value) * (s.value - b.value)),
                           count(*) FILTER (WHERE b.value IS NOT NULL AND {mcid}),
                           count(*) FILTER (WHERE {passed})
                    FROM s LEFT JOIN s b ON b.episode_id = s.episode_id AND b.instrument = s.instrument
                         AND b.code = s.code AND b.timepoint = 'baseline' AND b.value IS NOT NULL
                    WHERE s.instrument = ? AND s.code = ? AND s.timepoint <> 'baseline' AND s.value IS NOT NULL
                    GROUP BY s.timepoint""",
                [code, definition.code],
            ).fetchall()
            sums = {row[0]: row[1:] for row in result}
            line = ScoreChange(instrument=code, definition=definition)
            for t in AFTER:
                scored, paired, total, total_sq, hits, pass_hits = sums.get(t, (0, 0, 0.0, 0.0, 0, 0))
                line.rows.append(
                    ChangeRow(
                        t,
                        str(LABELS[t]),
                        scored,
                        stats.mean_ci(paired, total or 0.0, total_sq or 0.0),
                        stats.wilson(hits, paired) if definition.mcid is not None else None,
                        stats.wilson(pass_hits, scored) if definition.pass_threshold is not None else None,
                    )
                )
            if any(row.scored for row in line.rows):
                changes.append(line)
    # OMERACT-OARSI: each domain per episode and time point, decided by the same rule; a domain is one
    # instrument per episode, the first candidate the episode has a score of.
    domains = dashboard._domains(codes)
    pivots = ", ".join(
        f"max(value) FILTER (WHERE instrument = '{i}' AND code = '{c}') AS d{n}, "
        f"count(*) FILTER (WHERE instrument = '{i}' AND code = '{c}') AS c{n}"
        for n, (_d, i, c) in enumerate(domains)
    )
    definitions = [dashboard._definition(i, c) for _d, i, c in domains]
    rows_of: dict[Any, list[tuple[str, list[Any]]]] = {}
    for episode_id, timepoint, *values in duck.execute(
        f"SELECT episode_id, timepoint, {pivots} FROM s GROUP BY episode_id, timepoint"
    ).fetchall():
        rows_of.setdefault(episode_id, []).append((timepoint, values))
    per_episode: dict[Any, dict[str, dict[str, float | None]]] = {}
    for episode_id, rows in rows_of.items():
        has = [any(values[2 * n + 1] for _t, values in rows) for n in range(len(domains))]
        chosen: dict[str, int] = {}
        for n, (name, _i, _c) in enumerate(domains):
            if has[n] and name not in chosen:
                chosen[name] = n
        per_episode[episode_id] = {
            timepoint: {name: responders.to_omeract_scale(definitions[n], values[2 * n]) for name, n in chosen.items()}
            for timepoint, values in rows
        }
    omeract = dashboard.responder_shares(per_episode)  # the same rule decides each episode
    # Survival: days to surgery, or to the last answered follow-up (in the practice's zone).
    durations, events = [], []
    for treated_on, surgery, seen in duck.execute(
        f"""SELECT max(sel.procedure_date), max(g.surgery_date),
                   max(timezone('America/Los_Angeles', f.completed_at)) FILTER (
                       WHERE f.status = 'completed' AND f.timepoint <> 'baseline')
            FROM sel LEFT JOIN {p("surgeries")} g ON g.episode_id = sel.episode_id
                     LEFT JOIN {p("follow_ups")} f ON f.episode_id = sel.episode_id
            GROUP BY sel.episode_id"""
    ).fetchall():
        if surgery is not None:
            durations.append(max(0, (surgery - treated_on).days))
            events.append(True)
        else:
            seen_day = seen.date() if seen is not None else treated_on.date()
            durations.append(max(0, (seen_day - treated_on.date()).days))
            events.append(False)
    survival = stats.kaplan_meier(durations, events)
    related = (
        "a.related_to_harvest IN ('possible', 'probable', 'definite') OR "
        "a.related_to_injection IN ('possible', 'probable', 'definite') OR "
        "a.related_to_product IN ('possible', 'probable', 'definite')"
    )
    n, any_event, serious, related_n, serious_related = _one(
        duck,
        f"""SELECT count(*), count(*) FILTER (WHERE k > 0), count(*) FILTER (WHERE ks > 0),
                   count(*) FILTER (WHERE kr > 0), count(*) FILTER (WHERE ksr > 0)
            FROM (SELECT sel.id, count(a.procedure_id) AS k, count(*) FILTER (WHERE a.serious) AS ks,
                         count(*) FILTER (WHERE {related}) AS kr,
                         count(*) FILTER (WHERE a.serious AND ({related})) AS ksr
                  FROM sel LEFT JOIN {p("adverse_events")} a ON a.procedure_id = sel.id GROUP BY sel.id)""",
    )
    safety = [
        SafetyRow("any", "Any adverse event", stats.clopper_pearson(any_event, n)),
        SafetyRow("related", "Related (possibly, probably or definitely)", stats.clopper_pearson(related_n, n)),
        SafetyRow("serious", "Serious", stats.clopper_pearson(serious, n)),
        SafetyRow("serious_related", "Serious and related", stats.clopper_pearson(serious_related, n)),
    ]
    # Dose thirds (the same cut points: the sorted doses at n/3 and 2n/3) and PAW classes, change in pain at 6 months.
    doses = [
        d
        for (d,) in duck.execute("SELECT cell_dose FROM sel WHERE cell_dose IS NOT NULL ORDER BY cell_dose").fetchall()
    ]
    cuts = (doses[len(doses) // 3], doses[(2 * len(doses)) // 3]) if len(doses) >= 3 else None
    pair = """FROM sel JOIN s ON s.episode_id = sel.episode_id AND s.instrument = 'NRS' AND s.code = 'NRS'
                    AND s.timepoint = '6m'
               JOIN s b ON b.episode_id = sel.episode_id AND b.instrument = 'NRS' AND b.code = 'NRS'
                    AND b.timepoint = 'baseline'
               WHERE s.value IS NOT NULL AND b.value IS NOT NULL"""
    by_dose = []
    if cuts is not None:
        rows = duck.execute(
            f"""SELECT CASE WHEN sel.cell_dose < {cuts[0]} THEN 'low' WHEN sel.cell_dose < {cuts[1]} THEN 'middle'
                       ELSE 'high' END AS grp, count(*), sum(s.value - b.value), sum((s.value - b.value) ^ 2)
                {pair} AND sel.cell_dose IS NOT NULL GROUP BY grp"""
        ).fetchall()
        found_dose = {g: rest for g, *rest in rows}
        by_dose = [GroupRow(band, stats.mean_ci(*found_dose.get(band, (0, 0.0, 0.0)))) for band in dashboard.DOSE_BANDS]
    paw_rows = duck.execute(
        f"""SELECT CASE WHEN sel.paw_code IS NULL OR sel.paw_code = '' THEN 'not classified'
                   ELSE split_part(sel.paw_code, '-', 1) END AS grp,
                   count(*), sum(s.value - b.value), sum((s.value - b.value) ^ 2)
            {pair} GROUP BY grp ORDER BY grp"""
    ).fetchall()
    by_paw = [GroupRow(g, stats.mean_ci(int(k), float(t or 0), float(q or 0))) for g, k, t, q in paw_rows]
    duck.close()
    return Figures(
        indication=INDICATION,
        filters=dashboard.Filters(),
        drawn_on=today,
        treated=treated,
        completeness=completeness,
        changes=changes,
        omeract=omeract,
        survival=survival,
        safety=safety,
        product_score="NRS Pain",
        by_dose=by_dose,
        dose_cuts=cuts,
        by_paw=by_paw,
    )


def _measure(size: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from outcomes import dashboard
    from outcomes.models import Response

    call_command("migrate", "--noinput", verbosity=0)
    started = time.perf_counter()
    call_command("make_registry", "--episodes", str(max(1, round(size / RESPONSES_PER_EPISODE))), stdout=sys.stderr)
    responses = Response.objects.count()
    served.say(f"bench_dashboard: {responses} responses stored in {time.perf_counter() - started:.1f}s")
    today = timezone.localdate()
    connection.close()
    seconds, ours = _best(lambda: dashboard.figures(INDICATION, today=today))
    with override_settings(DASHBOARD_WORKERS=1):
        one_thread, alone = _best(lambda: dashboard.figures(INDICATION, today=today))
    if alone != ours:
        raise SystemExit("bench_dashboard: the figures on one thread and on several differ")
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-parquet-") as tmp:
        _export(Path(tmp))
        duck_seconds, theirs = _best(lambda: _duckdb_figures(Path(tmp), today))
    if _comparable(ours) != _comparable(theirs):
        mine, other = _comparable(ours), _comparable(theirs)
        differ = [key for key in mine if mine[key] != other[key]]
        raise SystemExit(f"bench_dashboard: the dashboard and DuckDB disagree on {differ}")
    served.say(
        f"bench_dashboard: {responses} responses, {ours.treated} {INDICATION} episodes: "
        f"dashboard {seconds * 1000:.0f} ms ({one_thread * 1000:.0f} ms on one thread), "
        f"DuckDB {duck_seconds * 1000:.0f} ms (figures equal)"
    )
    return {"responses": responses, "ms": seconds * 1000, "duckdb_ms": duck_seconds * 1000}


def _measure_in_process(size: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-dashboard-") as tmp:
        result = subprocess.run(
            [served.PY, str(Path(__file__).resolve()), "measure", str(size)],
            cwd=ROOT,
            env=served.app_env(Path(tmp)),
            stdout=subprocess.PIPE,
            text=True,
            check=False,
            timeout=3600,
        )
    if result.returncode != 0:
        raise SystemExit("bench_dashboard: the measuring process failed (its error is above)")
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def run() -> Figures:
    figures: Figures = []
    for size in SIZES:
        measured = _measure_in_process(size)
        label = _label(size)
        figures.append((f"dashboard_ms_{label}", measured["ms"], "ms"))
        figures.append((f"dashboard_vs_duckdb_{label}", measured["ms"] / measured["duckdb_ms"], "ratio"))
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["measure"]:  # the measuring process, on the database the environment names
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        print(json.dumps(_measure(int(sys.argv[2]))))
    else:
        for name, value, unit in run():
            served.figure(name, value, unit)

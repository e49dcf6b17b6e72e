"""The practice's outcomes for one indication, aggregated in the database: what the dashboard shows.

`figures(indication, filters=..., today=...)` answers (`ALL`: every condition together), in
a fixed number of queries whatever the number of responses:

- **N treated**: episodes of the indication with a signed procedure in the selection;
- **completeness** at each follow-up: answered / due, where a follow-up is due once its
  window has closed or it was answered (a window still open is counted apart, not as missed);
- **change from baseline** of every score at every follow-up: mean with its 95 % t interval
  and N, from the SQL sums of the paired changes (follow-up minus baseline of the same
  episode and score); with the share reaching the score's MCID and PASS (Wilson intervals);
- **OMERACT-OARSI responders** for osteoarthritis (pain, function, global, as
  `outcomes.queries` defines them): the database gives each episode's rows of those scores,
  `responders.omeract_oarsi_responder` decides (once per distinct set of inputs);
- **surgery-free survival**: Kaplan-Meier from the procedure to a conversion to surgery,
  censored at the last answered follow-up (the last day the practice knows the site had
  no surgery), from one row per episode;
- **adverse events**: the share of procedures with at least one event, by seriousness and
  by relatedness (exact Clopper-Pearson intervals);
- **dose and product**: change in pain (NRS) at 6 months (else the first score
  asked) by cell-dose tertile and by PAW class: descriptive, never an effect.

The score figures read `ScoreSummary` (`outcomes.summary`): one row per episode and score
holding its value at baseline and at every follow-up, so a change is a difference within a
row, never a join of score rows. Aggregates run in SQL on SQLite and PostgreSQL alike; only
aggregated rows, or the rows of one episode where a statistic needs it (survival,
OMERACT-OARSI), reach Python. The intervals
come from `outcomes.stats` (scipy, statsmodels, lifelines).

The parts are independent queries, so `figures` runs them on `DASHBOARD_WORKERS` threads
(`run_parts`), each with a connection of its own, which it closes: the database works on
as many queries at once (SQLite's readers do not block each other in WAL mode). Outside a
transaction each query reads the committed rows of its own moment whether the parts run
one after another or together; inside one (a test, a caller's `atomic`) they run in the
caller's thread, on its connection, since another connection cannot see its rows. A
worker speaks the caller's language and time zone.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from django.conf import settings
from django.db import connection, connections
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone, translation

from outcomes import instruments, responders, stats
from outcomes.instruments.base import ScoreDefinition
from outcomes.models import SUMMARY_COLUMNS, FollowUp, InstrumentSet, ScoreSummary, SurgeryConversion, Timepoint
from outcomes.queries import FUNCTION_SCORES
from outcomes.services import DEFAULT_SETS
from patients.models import BodySite, Indication
from procedures.models import AdverseEvent, ProcedureRecord

AFTER = [choice for choice, _label in Timepoint.choices if choice != Timepoint.BASELINE]
LABELS = dict(Timepoint.choices)
SIGNED = (ProcedureRecord.Status.SIGNED, ProcedureRecord.Status.AMENDED)
# The follow-up the product table compares at, as the issue asks (6 months).
PRODUCT_TIMEPOINT = Timepoint.MONTH_6
DOSE_BANDS = ("low", "middle", "high")
# `figures(ALL)`: every condition together (the practice's overall safety and survival).
ALL = ""


@dataclass(frozen=True, slots=True)
class Filters:
    """The dashboard's selection; every field optional (None or "" selects all)."""

    office: int | None = None
    physician: int | None = None
    site: str = ""
    paw_class: str = ""
    dose_band: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class Completeness:
    timepoint: str
    label: str
    answered: int
    due: int
    open: int
    share: stats.Interval


@dataclass(frozen=True, slots=True)
class ChangeRow:
    timepoint: str
    label: str
    scored: int
    change: stats.Interval
    mcid: stats.Interval | None
    passed: stats.Interval | None


@dataclass(slots=True)
class ScoreChange:
    instrument: str
    definition: ScoreDefinition
    rows: list[ChangeRow] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{self.instrument}.{self.definition.code}"

    @property
    def label(self) -> str:
        label = self.definition.label.get("en", self.definition.code)
        return label if self.instrument in label else f"{self.instrument} {label}"


@dataclass(frozen=True, slots=True)
class GroupRow:
    group: str
    change: stats.Interval


@dataclass(frozen=True, slots=True)
class SafetyRow:
    code: str  # "any", "related", "serious", "serious_related": what other code reads
    label: str
    share: stats.Interval


@dataclass(slots=True)
class Figures:
    indication: str
    filters: Filters
    drawn_on: date
    treated: int
    completeness: list[Completeness]
    changes: list[ScoreChange]
    omeract: list[tuple[str, str, stats.Interval]]
    survival: stats.Survival
    safety: list[SafetyRow]
    product_score: str
    by_dose: list[GroupRow]
    dose_cuts: tuple[int, int] | None
    by_paw: list[GroupRow]


# OMERACT-OARSI's inputs at one follow-up: pain, function and global, each at baseline and at the follow-up.
Domains = tuple[float | None, float | None, float | None, float | None, float | None, float | None]


def instrument_codes(indication: str, site: str = "") -> list[str]:
    """The instruments the indication asks (on `site`, or on any site), as staff set them, else the defaults."""
    rows = list(InstrumentSet.objects.filter(indication=indication).values_list("site", "instrument", "order"))
    if not rows:
        rows = [(s, code, order) for ind, s, code, _after, order in DEFAULT_SETS if ind == indication]
    # Region instruments first, in the body sites' order (knee, hip, shoulder...), then those of every site.
    sites = [code for code, _label in BodySite.choices]
    rows.sort(key=lambda row: (row[0] == "", sites.index(row[0]) if row[0] in sites else len(sites), row[2]))
    codes: list[str] = []
    for row_site, code, _order in rows:
        if (not site or row_site in ("", site)) and code in instruments.INSTRUMENTS and code not in codes:
            codes.append(code)
    return codes


def procedures(indication: str, filters: Filters, *, dose_cuts: tuple[int, int] | None = None) -> QuerySet:
    """The signed procedures of the selection (the first signed one of each episode is the treatment)."""
    # No ordering: the selection is a subquery of every figure's query, and a sort there costs.
    found = ProcedureRecord.objects.filter(status__in=SIGNED).order_by()
    if indication != ALL:
        found = found.filter(episode__indication=indication)
    if filters.office:
        found = found.filter(appointment__office_id=filters.office)
    if filters.physician:
        found = found.filter(episode__physician_id=filters.physician)
    if filters.site:
        found = found.filter(episode__site=filters.site)
    if filters.paw_class:
        found = found.filter(Q(paw_code=filters.paw_class) | Q(paw_code__startswith=f"{filters.paw_class}-"))
    if filters.date_from:
        found = found.filter(procedure_date__gte=filters.date_from)
    if filters.date_to:
        found = found.filter(procedure_date__lte=filters.date_to)
    if filters.dose_band and dose_cuts is not None:
        low, high = dose_cuts
        band = {"low": Q(cell_dose__lt=low), "middle": Q(cell_dose__gte=low, cell_dose__lt=high)}
        found = found.filter(band.get(filters.dose_band, Q(cell_dose__gte=high)))
    return found


def dose_tertiles(indication: str, filters: Filters) -> tuple[int, int] | None:
    """The cell doses cutting the selection's procedures into thirds (None with fewer than 3 doses).

    The sorted doses at positions n/3 and 2n/3 (from 0), found by one sort in the database
    (row numbers), so no database needs a percentile function.
    """
    doses = procedures(indication, dataclasses.replace(filters, dose_band="")).exclude(cell_dose=None)
    doses_sql, params = doses.values("cell_dose").query.sql_with_params()
    sql = f"""
        SELECT dose, n FROM (
            SELECT cell_dose AS dose, ROW_NUMBER() OVER (ORDER BY cell_dose) - 1 AS k, COUNT(*) OVER () AS n
            FROM ({doses_sql}) doses
        ) ranked
        WHERE k = n / 3 OR k = (2 * n) / 3
        ORDER BY k
    """  # noqa: S608 (the ORM's query and fixed expressions; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows or rows[0][1] < 3:
        return None
    return (rows[0][0], rows[1][0])


def _episodes_sql(selected: QuerySet) -> tuple[str, tuple]:
    sql, params = selected.values("episode_id").query.sql_with_params()
    return sql, tuple(params)


def completeness(selected: QuerySet, today: date) -> list[Completeness]:
    """Answered / due at each follow-up after treatment (one query)."""
    rows = (
        FollowUp.objects.filter(episode__in=selected.values("episode_id"), timepoint__in=AFTER)
        .values("timepoint")
        .annotate(
            answered=Count("pk", filter=Q(status=FollowUp.Status.COMPLETED)),
            due=Count("pk", filter=Q(status=FollowUp.Status.COMPLETED) | Q(closes_on__lt=today)),
            still_open=Count("pk", filter=Q(status=FollowUp.Status.OPEN, closes_on__gte=today)),
        )
    )
    by_time = {row["timepoint"]: row for row in rows}
    found = []
    for timepoint in AFTER:
        row = by_time.get(timepoint, {"answered": 0, "due": 0, "still_open": 0})
        found.append(
            Completeness(
                timepoint=timepoint,
                label=str(LABELS[timepoint]),
                answered=row["answered"],
                due=row["due"],
                open=row["still_open"],
                share=stats.wilson(row["answered"], row["due"]),
            )
        )
    return found


def _change_sums_sql(definition: ScoreDefinition, column: str, params: list[Any]) -> str:
    """The sums `changes` reads for one score at one time point (its summary column), with its parameters.

    Each follow-up value is paired with the baseline of the same row; the rules of
    `responders.meaningful_improvement` and `responders.reaches_pass`, in SQL.
    """
    after, base = f"s.{column}", "s.baseline"
    gain = f"({after} - {base})" if definition.higher_is_better else f"({base} - {after})"
    mcid, threshold = definition.mcid, definition.pass_threshold
    # Typed, so that every part of the UNION has the same column types (PostgreSQL).
    mcid_sql = pass_sql = "CAST(NULL AS BIGINT)"  # noqa: S105 (SQL, not a password)
    if mcid is not None:
        params.append(float(mcid.value))
        reached = f"{base} <> 0 AND {gain} * 100 >= %s * ABS({base})" if mcid.unit == "percent" else f"{gain} >= %s"
        mcid_sql = f"SUM(CASE WHEN {reached} THEN 1 ELSE 0 END)"
    if threshold is not None:
        params.append(float(threshold.value))
        pass_sql = f"SUM(CASE WHEN {after} {'>=' if definition.higher_is_better else '<='} %s THEN 1 ELSE 0 END)"
    return (
        f"COUNT({after}), COUNT({after} - {base}), SUM({after} - {base}), "
        f"SUM(({after} - {base}) * ({after} - {base})), {mcid_sql}, {pass_sql}"
    )


def changes(selected: QuerySet, codes: Iterable[str]) -> list[ScoreChange]:
    """Change from baseline of each score at each follow-up, with MCID and PASS shares (one query).

    Each follow-up score is paired with the same episode's baseline score of the same code
    (a score without a baseline still counts for PASS, not for change): both are in the
    episode's `ScoreSummary` row, so the database sums one row per episode and score.
    """
    definitions = [(code, d) for code in codes for d in instruments.get(code).scores]
    if not definitions:
        return []
    # One part per score, its rules as constants: a CASE over every score asked, evaluated on
    # each row, cost more than the sums. The selection is made once (a materialized CTE);
    # `+episode_id` keeps SQLite reading each score's rows in its index, checking the selection.
    table = connection.ops.quote_name(ScoreSummary._meta.db_table)
    episodes_sql, episodes_params = _episodes_sql(selected)
    params: list[Any] = list(episodes_params)  # in the order the statement reads them
    parts = []
    for code, definition in definitions:
        sums = ", ".join(_change_sums_sql(definition, SUMMARY_COLUMNS[t], params) for t in AFTER)
        parts.append(
            f"SELECT s.instrument, s.code, {sums} FROM {table} s "  # noqa: S608 (placeholders; values are parameters)
            "WHERE s.instrument = %s AND s.code = %s AND +s.episode_id IN (SELECT episode_id FROM selection) "
            "GROUP BY s.instrument, s.code"
        )
        params += [code, definition.code]
    sql = f"WITH selection AS MATERIALIZED ({episodes_sql}) {' UNION ALL '.join(parts)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Six sums per time point, after (instrument, code).
    found = {(r[0], r[1], t): r[2 + 6 * n : 8 + 6 * n] for r in rows for n, t in enumerate(AFTER)}
    result = []
    for code, definition in definitions:
        line = ScoreChange(instrument=code, definition=definition)
        for timepoint in AFTER:
            scored, paired, total, total_sq, mcid_hits, pass_hits = found.get(
                (code, definition.code, timepoint), (0, 0, 0.0, 0.0, 0, 0)
            )
            line.rows.append(
                ChangeRow(
                    timepoint=timepoint,
                    label=str(LABELS[timepoint]),
                    scored=scored,
                    change=stats.mean_ci(paired, total or 0.0, total_sq or 0.0),
                    mcid=stats.wilson(int(mcid_hits or 0), paired) if definition.mcid is not None else None,
                    passed=stats.wilson(int(pass_hits or 0), scored) if definition.pass_threshold is not None else None,
                )
            )
        if any(row.scored for row in line.rows):
            result.append(line)
    return result


def _domains(codes: list[str]) -> list[tuple[str, str, str]]:
    """(domain, instrument, score) OMERACT-OARSI reads (see `outcomes.queries`), among the instruments asked.

    Function has a candidate per region instrument: an episode answers the one of its site, and
    one that has several (its site corrected after an answer) is read by the first it has a score of.
    """
    found = []
    if "NRS" in codes:
        found.append(("pain", "NRS", "NRS"))
    found += [("function", i, c) for i, c in FUNCTION_SCORES if i in codes]
    if "SANE" in codes:
        found.append(("global", "SANE", "SANE"))
    return found


def omeract(selected: QuerySet, codes: list[str]) -> list[tuple[str, str, stats.Interval]]:
    """OMERACT-OARSI responders at each follow-up, with Wilson intervals (one query).

    The database gives each episode's `ScoreSummary` rows of the domains' scores (its
    value at every time point); an episode whose status stays unknown (domains missing)
    is left out of N.
    """
    domains = _domains(codes)
    if not domains:
        return []
    timepoints = [Timepoint.BASELINE, *AFTER]
    columns = ", ".join(SUMMARY_COLUMNS[t] for t in timepoints)
    episodes_sql, episodes_params = _episodes_sql(selected)
    table = connection.ops.quote_name(ScoreSummary._meta.db_table)
    scores = " OR ".join("(instrument = %s AND code = %s)" for _ in domains)
    sql = f"""
        WITH selection AS MATERIALIZED ({episodes_sql})
        SELECT episode_id, instrument, code, {columns}
        FROM {table}
        WHERE ({scores}) AND +episode_id IN (SELECT episode_id FROM selection)
    """  # noqa: S608 (table names and placeholders only; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*episodes_params, *(x for _n, i, c in domains for x in (i, c))])
        rows = cursor.fetchall()
    # By episode, its domains' rows in the domains' order: function's candidates in preference.
    order = {(i, c): n for n, (_name, i, c) in enumerate(domains)}
    definitions = [_definition(instrument, code) for _name, instrument, code in domains]
    found: dict[Any, list[tuple[int, tuple[Any, ...]]]] = {}
    for row in rows:
        entry = (order[row[1], row[2]], row)
        if row[0] in found:
            found[row[0]].append(entry)
        else:
            found[row[0]] = [entry]
    # Each domain's value on the OMERACT-OARSI scale, by (domain entry, value): scores repeat.
    scale: dict[tuple[int, float], float | None] = {}
    kinds = {"pain": 0, "function": 1, "global": 2}
    kind_of = [kinds[name] for name, _i, _c in domains]
    after = range(1, len(timepoints))
    columns_at = range(len(timepoints))

    def inputs() -> Iterable[tuple[int, Domains]]:
        for entries in found.values():
            entries.sort(key=lambda entry: entry[0])
            # Pain, function, global: each domain is one instrument for the whole episode, the first
            # candidate it has a row of (as `outcomes.queries` reads it), so a baseline is never
            # compared with another instrument's follow-up.
            known: list[list[float | None] | None] = [None] * len(kinds)
            for n, row in entries:
                if known[kind_of[n]] is not None:
                    continue
                domain: list[float | None] = [None] * len(timepoints)
                for t in columns_at:
                    value = row[t + 3]  # after episode, instrument and code
                    if value is not None:
                        on_scale = scale.get((n, value))
                        if on_scale is None:
                            on_scale = scale[n, value] = responders.to_omeract_scale(definitions[n], value)
                        domain[t] = on_scale
                known[kind_of[n]] = domain
            none = [None] * len(timepoints)
            pain, function, overall = (domain if domain is not None else none for domain in known)
            for t in after:
                # A time point without any domain is left out, as one without any score: its status is unknown.
                if pain[t] is not None or function[t] is not None or overall[t] is not None:
                    yield t - 1, (pain[0], pain[t], function[0], function[t], overall[0], overall[t])

    return _responder_tally(inputs())


def responder_shares(
    by_episode: dict[Any, dict[str, dict[str, float | None]]],
) -> list[tuple[str, str, stats.Interval]]:
    """OMERACT-OARSI responders at each follow-up from each episode's domains (0-100, worse higher) by time point."""

    def inputs() -> Iterable[tuple[int, Domains]]:
        for by_time in by_episode.values():
            base = by_time.get(Timepoint.BASELINE, {})
            for t, timepoint in enumerate(AFTER):
                later = by_time.get(timepoint)
                if later is not None:
                    yield (
                        t,
                        (
                            base.get("pain"),
                            later.get("pain"),
                            base.get("function"),
                            later.get("function"),
                            base.get("global"),
                            later.get("global"),
                        ),
                    )

    return _responder_tally(inputs())


def _responder_tally(inputs: Iterable[tuple[int, Domains]]) -> list[tuple[str, str, stats.Interval]]:
    """Responders over known statuses at each follow-up (by its index in AFTER), from each one's domains
    (pain, function and global: baseline and follow-up each)."""
    counts = [[0, 0] for _ in AFTER]
    # The rule is pure and its inputs repeat (scores take few values): each distinct one is decided once.
    decided: dict[Domains, bool | None] = {}
    for t, key in inputs:
        if key in decided:
            status = decided[key]
        else:
            status = decided[key] = responders.omeract_oarsi_responder(
                pain_baseline=key[0],
                pain_follow_up=key[1],
                function_baseline=key[2],
                function_follow_up=key[3],
                global_baseline=key[4],
                global_follow_up=key[5],
            )
        if status is not None:
            counts[t][1] += 1
            counts[t][0] += int(status)
    return [(timepoint, str(LABELS[timepoint]), stats.wilson(*counts[t])) for t, timepoint in enumerate(AFTER)]


def _definition(instrument: str, code: str) -> ScoreDefinition:
    return next(d for d in instruments.get(instrument).scores if d.code == code)


def survival(selected: QuerySet) -> stats.Survival:
    """Surgery-free survival from the first signed procedure (one query, one row per episode).

    Time is counted in days from the procedure to the surgery (an event), or to the last
    answered follow-up (censored: the last day the practice knew there had been none); an
    episode never followed after treatment is censored at day 0.
    """
    # Each episode's surgery and last answered follow-up looked up once (a covering index each),
    # not a join of its follow-ups grouped again; the rows straight from the cursor, as Django's
    # converters (and a time zone lookup per row) cost more than the query. SQLite gives ISO
    # text (the instant in UTC), PostgreSQL dates and aware datetimes.
    selection_sql, selection_params = selected.values("episode_id", "procedure_date").query.sql_with_params()
    surgeries = connection.ops.quote_name(SurgeryConversion._meta.db_table)
    follow_ups = connection.ops.quote_name(FollowUp._meta.db_table)
    sql = f"""
        SELECT MAX(p.procedure_date),
               (SELECT MAX(g.surgery_date) FROM {surgeries} g WHERE g.episode_id = p.episode_id),
               (SELECT MAX(f.completed_at) FROM {follow_ups} f
                WHERE f.episode_id = p.episode_id AND f.status = %s AND f.timepoint <> %s)
        FROM ({selection_sql}) p
        GROUP BY p.episode_id
    """  # noqa: S608 (table names and the ORM's query; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [FollowUp.Status.COMPLETED, Timepoint.BASELINE, *selection_params])
        found = cursor.fetchall()
    zone = timezone.get_current_timezone()
    durations, events = [], []
    for treated_value, surgery_value, seen in found:
        treated = _as_date(treated_value)
        if surgery_value is not None:
            durations.append(max(0, (_as_date(surgery_value) - treated).days))
            events.append(True)
            continue
        seen_day = _as_instant(seen).astimezone(zone).date() if seen is not None else treated
        durations.append(max(0, (seen_day - treated).days))
        events.append(False)
    return stats.kaplan_meier(durations, events)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_instant(value: datetime | str) -> datetime:
    # SQLite's text is the instant in UTC, with no offset (USE_TZ).
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value


def safety(selected: QuerySet) -> list[SafetyRow]:
    """The share of procedures with at least one adverse event of each kind of seriousness (one query)."""
    events = AdverseEvent.objects.filter(procedure=OuterRef("pk"))
    related = (
        Q(related_to_harvest__in=AdverseEvent.RELATED)
        | Q(related_to_injection__in=AdverseEvent.RELATED)
        | Q(related_to_product__in=AdverseEvent.RELATED)
    )
    counts = (
        selected.order_by()
        .annotate(
            has_any=Exists(events),
            has_serious=Exists(events.filter(serious=True)),
            has_related=Exists(events.filter(related)),
            has_serious_related=Exists(events.filter(related, serious=True)),
        )
        .aggregate(
            n=Count("pk"),
            any=Count("pk", filter=Q(has_any=True)),
            serious=Count("pk", filter=Q(has_serious=True)),
            related=Count("pk", filter=Q(has_related=True)),
            serious_related=Count("pk", filter=Q(has_serious_related=True)),
        )
    )
    n = counts["n"]
    return [
        SafetyRow("any", "Any adverse event", stats.clopper_pearson(counts["any"], n)),
        SafetyRow("related", "Related (possibly, probably or definitely)", stats.clopper_pearson(counts["related"], n)),
        SafetyRow("serious", "Serious", stats.clopper_pearson(counts["serious"], n)),
        SafetyRow("serious_related", "Serious and related", stats.clopper_pearson(counts["serious_related"], n)),
    ]


def _product_score(codes: list[str]) -> tuple[str, str] | None:
    """The score the product table compares: pain (NRS, one scale whatever the site), else the first asked."""
    if "NRS" in codes:
        return "NRS", "NRS"
    for code in codes:
        scores = instruments.get(code).scores
        if scores:
            return code, scores[0].code
    return None


def by_product(
    selected: QuerySet, codes: list[str], cuts: tuple[int, int] | None
) -> tuple[str, list[GroupRow], list[GroupRow]]:
    """Change at 6 months of one score by cell-dose tertile and by PAW class (one query each)."""
    chosen = _product_score(codes)
    if chosen is None:
        return "", [], []
    instrument, code = chosen
    table = connection.ops.quote_name(ScoreSummary._meta.db_table)
    # The selection as a derived table that drives the join (each a lookup in the summary's index);
    # a procedure is a row of its own, as each signed procedure of an episode is.
    selection_sql, selection_params = selected.values("episode_id", "cell_dose", "paw_code").query.sql_with_params()
    after = f"s.{SUMMARY_COLUMNS[PRODUCT_TIMEPOINT]}"

    def grouped(group_sql: str, group_params: list) -> list[tuple]:
        sql = f"""
            SELECT {group_sql} AS grp, COUNT(*), SUM({after} - s.baseline),
                   SUM(({after} - s.baseline) * ({after} - s.baseline))
            FROM ({selection_sql}) p
            JOIN {table} s ON s.instrument = %s AND s.code = %s AND s.episode_id = p.episode_id
            WHERE {after} IS NOT NULL AND s.baseline IS NOT NULL
            GROUP BY grp
        """  # noqa: S608 (table names and fixed expressions; values are parameters)
        params = [*group_params, *selection_params, instrument, code]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    by_dose: list[GroupRow] = []
    if cuts is not None:
        dose_rows = {
            r[0]: r[1:]
            for r in grouped(
                "CASE WHEN p.cell_dose IS NULL THEN NULL WHEN p.cell_dose < %s THEN 'low' "
                "WHEN p.cell_dose < %s THEN 'middle' ELSE 'high' END",
                [cuts[0], cuts[1]],
            )
        }
        by_dose = [GroupRow(band, stats.mean_ci(*dose_rows.get(band, (0, 0.0, 0.0)))) for band in DOSE_BANDS]
    paw_rows = grouped("p.paw_code", [])
    by_class: dict[str, list[float]] = {}
    for paw, n, total, total_sq in paw_rows:
        name = paw_class(paw or "")
        sums = by_class.setdefault(name, [0, 0.0, 0.0])
        sums[0] += n
        sums[1] += total or 0.0
        sums[2] += total_sq or 0.0
    by_paw = [GroupRow(name, stats.mean_ci(int(s[0]), s[1], s[2])) for name, s in sorted(by_class.items())]
    definition = _definition(instrument, code)
    return f"{instrument} {definition.label.get('en', code)}", by_dose, by_paw


def paw_class(paw_code: str) -> str:
    """The PAW platelet class of a PAW code ("P2-x-Bβ" → "P2"); "not classified" when empty."""
    return paw_code.split("-", 1)[0] if paw_code else "not classified"


def _known(indication: str) -> None:
    if indication not in Indication.values and indication != ALL:
        raise ValueError(f"unknown indication {indication!r}")


def figures(indication: str, *, filters: Filters | None = None, today: date | None = None) -> Figures:
    """The dashboard for one indication (see the module); a fixed number of queries."""
    _known(indication)
    filters = filters or Filters()
    today = today or timezone.localdate()
    # Every condition together: pain (NRS) is the one score every condition asks.
    codes = instrument_codes(indication, filters.site) if indication != ALL else ["NRS"]
    # A dose band selects by the tertiles, so they come first; otherwise they are one more part.
    cuts = dose_tertiles(indication, filters) if filters.dose_band else None
    selected = procedures(indication, filters, dose_cuts=cuts)

    def product() -> tuple[tuple[int, int] | None, tuple[str, list[GroupRow], list[GroupRow]]]:
        found = cuts if filters.dose_band else dose_tertiles(indication, filters)
        return found, by_product(selected, codes, found)

    # Worker threads pay for their connections (and a connection's page cache starts empty):
    # below DASHBOARD_PARALLEL_FROM episodes one thread is faster (bench/bench_dashboard.py).
    treated = selected.values("episode_id").distinct().count()
    # The longest first, so that two workers end together.
    parts = run_parts(
        {
            "changes": lambda: changes(selected, codes),
            "omeract": lambda: omeract(selected, codes) if indication == Indication.OSTEOARTHRITIS else [],
            "completeness": lambda: completeness(selected, today),
            "survival": lambda: survival(selected),
            "product": product,
            "safety": lambda: safety(selected),
        },
        parallel=treated >= settings.DASHBOARD_PARALLEL_FROM,
    )
    dose_cuts, (product_score, by_dose, by_paw) = parts["product"]
    return Figures(
        indication=indication,
        filters=filters,
        drawn_on=today,
        treated=treated,
        completeness=parts["completeness"],
        changes=parts["changes"],
        omeract=parts["omeract"],
        survival=parts["survival"],
        safety=parts["safety"],
        product_score=product_score,
        by_dose=by_dose,
        dose_cuts=dose_cuts,
        by_paw=by_paw,
    )


def run_parts(calls: dict[str, Callable[[], Any]], *, parallel: bool = True) -> dict[str, Any]:
    """Each call's result by its name: on `DASHBOARD_WORKERS` threads, or in this one (`parallel` False,
    or inside a transaction).

    Each worker takes the next call waiting, in the order given, and at the end closes the
    connection it opened; an error in a call is raised here.
    """
    workers = min(settings.DASHBOARD_WORKERS, len(calls))
    if not parallel or workers <= 1 or connection.in_atomic_block or _in_memory():
        return {name: call() for name, call in calls.items()}
    language, zone = translation.get_language(), timezone.get_current_timezone()
    waiting = deque(calls.items())
    done: dict[str, Any] = {}

    def work() -> None:
        try:
            with translation.override(language), timezone.override(zone):
                while True:
                    try:
                        name, call = waiting.popleft()  # atomic: each call is taken once
                    except IndexError:
                        return
                    done[name] = call()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dashboard") as pool:
        for worker in [pool.submit(work) for _ in range(workers)]:
            worker.result()
    return {name: done[name] for name in calls}


def _in_memory() -> bool:
    """An in-memory SQLite database is this connection's alone."""
    if connection.vendor != "sqlite":
        return False
    from django.db.backends.sqlite3.base import DatabaseWrapper

    return cast(DatabaseWrapper, connection).is_in_memory_db()


def headline(indication: str, *, today: date | None = None) -> Figures:
    """The few figures "Our results" shows (`website.results`), without the rest of the dashboard.

    N treated, completeness, the change of pain (NRS: every condition asks it), survival and
    adverse events, each computed exactly as `figures` computes it; the other fields empty.
    """
    _known(indication)
    today = today or timezone.localdate()
    selected = procedures(indication, Filters())
    return Figures(
        indication=indication,
        filters=Filters(),
        drawn_on=today,
        treated=selected.values("episode_id").distinct().count(),
        completeness=completeness(selected, today),
        changes=changes(selected, ["NRS"]),
        omeract=[],
        survival=survival(selected),
        safety=safety(selected),
        product_score="",
        by_dose=[],
        dose_cuts=None,
        by_paw=[],
    )

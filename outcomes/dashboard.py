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
  `outcomes.queries` defines them): the database pivots each episode's three domains per
  follow-up into one row, `responders.omeract_oarsi_responder` decides;
- **surgery-free survival**: Kaplan-Meier from the procedure to a conversion to surgery,
  censored at the last answered follow-up (the last day the practice knows the site had
  no surgery), from one row per episode;
- **adverse events**: the share of procedures with at least one event, by seriousness and
  by relatedness (exact Clopper-Pearson intervals);
- **dose and product**: change in pain (NRS) at 6 months (else the first score
  asked) by cell-dose tertile and by PAW class: descriptive, never an effect.

Aggregates run in SQL on SQLite and PostgreSQL alike; only aggregated rows, or one row per
episode where a statistic needs it (survival, OMERACT-OARSI), reach Python. The intervals
come from `outcomes.stats` (scipy, statsmodels, lifelines).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from outcomes import instruments, responders, stats
from outcomes.instruments.base import ScoreDefinition
from outcomes.models import FollowUp, InstrumentSet, Score, Timepoint
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

    Two ordered lookups with an offset, so no database needs a percentile function.
    """
    doses = procedures(indication, dataclasses.replace(filters, dose_band="")).exclude(cell_dose=None)
    ordered = doses.order_by("cell_dose").values_list("cell_dose", flat=True)
    total = doses.count()
    if total < 3:
        return None
    return (ordered[total // 3], ordered[(2 * total) // 3])


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


def _gain_sql(definition: ScoreDefinition) -> str:
    return "(s.value - b.value)" if definition.higher_is_better else "(b.value - s.value)"


def _mcid_case(definition: ScoreDefinition, params: list) -> str:
    """SQL true (1) where the paired change reaches the MCID; the rule of `responders.meaningful_improvement`."""
    mcid = definition.mcid
    assert mcid is not None
    gain = _gain_sql(definition)
    if mcid.unit == "percent":
        params.append(float(mcid.value))
        return f"(b.value <> 0 AND {gain} * 100 >= %s * ABS(b.value))"
    params.append(float(mcid.value))
    return f"({gain} >= %s)"


def _pass_case(definition: ScoreDefinition, params: list) -> str:
    threshold = definition.pass_threshold
    assert threshold is not None
    params.append(float(threshold.value))
    return "(s.value >= %s)" if definition.higher_is_better else "(s.value <= %s)"


def changes(selected: QuerySet, codes: Iterable[str]) -> list[ScoreChange]:
    """Change from baseline of each score at each follow-up, with MCID and PASS shares (one query).

    Each follow-up score is paired with the same episode's baseline score of the same code
    (a left join: a score without a baseline still counts for PASS, not for change).
    """
    definitions = [(code, d) for code in codes for d in instruments.get(code).scores]
    if not definitions:
        return []
    # Each CASE's parameters in the order the SQL reads them.
    mcid_cases, mcid_params, pass_cases, pass_params = [], [], [], []
    for code, definition in definitions:
        if definition.mcid is not None:
            mcid_params += [code, definition.code]
            mcid_cases.append(f"WHEN s.instrument = %s AND s.code = %s THEN {_mcid_case(definition, mcid_params)}")
        if definition.pass_threshold is not None:
            pass_params += [code, definition.code]
            pass_cases.append(f"WHEN s.instrument = %s AND s.code = %s THEN {_pass_case(definition, pass_params)}")
    mcid_sql = f"CASE {' '.join(mcid_cases)} END" if mcid_cases else "NULL"
    pass_sql = f"CASE {' '.join(pass_cases)} END" if pass_cases else "NULL"
    episodes_sql, episodes_params = _episodes_sql(selected)
    table = connection.ops.quote_name(Score._meta.db_table)
    instrument_marks = ", ".join("%s" for _ in codes)
    sql = f"""
        SELECT s.instrument, s.code, s.timepoint,
               COUNT(*),
               COUNT(b.value),
               SUM(s.value - b.value),
               SUM((s.value - b.value) * (s.value - b.value)),
               SUM(CASE WHEN b.value IS NOT NULL AND {mcid_sql} THEN 1 ELSE 0 END),
               SUM(CASE WHEN {pass_sql} THEN 1 ELSE 0 END)
        FROM {table} s
        LEFT JOIN {table} b
          ON b.episode_id = s.episode_id AND b.code = s.code AND b.instrument = s.instrument
         AND b.timepoint = %s AND b.value IS NOT NULL
        WHERE s.timepoint <> %s AND s.value IS NOT NULL
          AND s.instrument IN ({instrument_marks})
          AND s.episode_id IN ({episodes_sql})
        GROUP BY s.instrument, s.code, s.timepoint
    """  # noqa: S608 (table names and placeholders only; values are parameters)
    all_params = [*mcid_params, *pass_params, Timepoint.BASELINE, Timepoint.BASELINE, *codes, *episodes_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    found = {(r[0], r[1], r[2]): r[3:] for r in rows}
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

    Function has a candidate per region instrument: an episode answers the one of its site.
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

    The database gives one row per episode and time point with each domain's value; an
    episode whose status stays unknown (domains missing) is left out of N.
    """
    domains = _domains(codes)
    if not domains:
        return []
    pivots, params = [], []
    for index, (_name, instrument, code) in enumerate(domains):
        pivots.append(f"MAX(CASE WHEN instrument = %s AND code = %s THEN value END) AS d{index}")
        params += [instrument, code]
    episodes_sql, episodes_params = _episodes_sql(selected)
    table = connection.ops.quote_name(Score._meta.db_table)
    instrument_marks = ", ".join("%s" for _ in domains)
    sql = f"""
        SELECT episode_id, timepoint, {", ".join(pivots)}
        FROM {table}
        WHERE instrument IN ({instrument_marks}) AND episode_id IN ({episodes_sql})
        GROUP BY episode_id, timepoint
    """  # noqa: S608 (table names and placeholders only; values are parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *(instrument for _n, instrument, _c in domains), *episodes_params])
        rows = cursor.fetchall()
    definitions = [_definition(instrument, code) for _name, instrument, code in domains]
    by_episode: dict[Any, dict[str, dict[str, float | None]]] = {}
    for episode_id, timepoint, *values in rows:
        scaled: dict[str, float | None] = {}
        for (name, _i, _c), definition, value in zip(domains, definitions, values, strict=True):
            if scaled.get(name) is None:
                scaled[name] = responders.to_omeract_scale(definition, value)
        by_episode.setdefault(episode_id, {})[timepoint] = scaled
    return responder_shares(by_episode)


def responder_shares(
    by_episode: dict[Any, dict[str, dict[str, float | None]]],
) -> list[tuple[str, str, stats.Interval]]:
    """OMERACT-OARSI responders at each follow-up from each episode's domains (0-100, worse higher) by time point."""
    counts = {timepoint: [0, 0] for timepoint in AFTER}
    for by_time in by_episode.values():
        base = by_time.get(Timepoint.BASELINE, {})
        for timepoint in AFTER:
            later = by_time.get(timepoint)
            if later is None:
                continue
            status = responders.omeract_oarsi_responder(
                pain_baseline=base.get("pain"),
                pain_follow_up=later.get("pain"),
                function_baseline=base.get("function"),
                function_follow_up=later.get("function"),
                global_baseline=base.get("global"),
                global_follow_up=later.get("global"),
            )
            if status is not None:
                counts[timepoint][1] += 1
                counts[timepoint][0] += int(status)
    return [(t, str(LABELS[t]), stats.wilson(*counts[t])) for t in AFTER]


def _definition(instrument: str, code: str) -> ScoreDefinition:
    return next(d for d in instruments.get(instrument).scores if d.code == code)


def survival(selected: QuerySet) -> stats.Survival:
    """Surgery-free survival from the first signed procedure (one query, one row per episode).

    Time is counted in days from the procedure to the surgery (an event), or to the last
    answered follow-up (censored: the last day the practice knew there had been none); an
    episode never followed after treatment is censored at day 0.
    """
    rows = (
        selected.order_by()
        .values("episode_id")
        .annotate(
            treated=Max("procedure_date"),
            surgery=Max("episode__surgery__surgery_date"),
            last_seen=Max(
                "episode__follow_ups__completed_at",
                filter=Q(episode__follow_ups__status=FollowUp.Status.COMPLETED)
                & ~Q(episode__follow_ups__timepoint=Timepoint.BASELINE),
            ),
        )
    )
    durations, events = [], []
    for row in rows:
        treated: date = row["treated"]
        if row["surgery"] is not None:
            durations.append(max(0, (row["surgery"] - treated).days))
            events.append(True)
            continue
        seen = row["last_seen"]
        seen_day = timezone.localdate(seen) if seen is not None else treated
        durations.append(max(0, (seen_day - treated).days))
        events.append(False)
    return stats.kaplan_meier(durations, events)


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
    table = connection.ops.quote_name(Score._meta.db_table)
    # The selection as a derived table that drives the joins (each a lookup in the score index);
    # `p.id IN (selection)` made SQLite walk the whole list for every score row.
    selection_sql, selection_params = selected.values("episode_id", "cell_dose", "paw_code").query.sql_with_params()

    def grouped(group_sql: str, group_params: list) -> list[tuple]:
        sql = f"""
            SELECT {group_sql} AS grp, COUNT(*), SUM(s.value - b.value), SUM((s.value - b.value) * (s.value - b.value))
            FROM ({selection_sql}) p
            JOIN {table} s ON s.episode_id = p.episode_id AND s.instrument = %s AND s.code = %s AND s.timepoint = %s
            JOIN {table} b ON b.episode_id = p.episode_id AND b.instrument = %s AND b.code = %s AND b.timepoint = %s
            WHERE s.value IS NOT NULL AND b.value IS NOT NULL
            GROUP BY grp
        """  # noqa: S608 (table names and fixed expressions; values are parameters)
        params = [
            *group_params,
            *selection_params,
            instrument,
            code,
            PRODUCT_TIMEPOINT,
            instrument,
            code,
            Timepoint.BASELINE,
        ]
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
    cuts = dose_tertiles(indication, filters)
    selected = procedures(indication, filters, dose_cuts=cuts)
    product_score, by_dose, by_paw = by_product(selected, codes, cuts)
    return Figures(
        indication=indication,
        filters=filters,
        drawn_on=today,
        treated=selected.values("episode_id").distinct().count(),
        completeness=completeness(selected, today),
        changes=changes(selected, codes),
        omeract=omeract(selected, codes) if indication == Indication.OSTEOARTHRITIS else [],
        survival=survival(selected),
        safety=safety(selected),
        product_score=product_score,
        by_dose=by_dose,
        dose_cuts=cuts,
        by_paw=by_paw,
    )


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

"""The outcomes report: one indication's treatments in a date range, as a PDF laid out as MIBO asks of a study.

Murray IR et al., Minimum Information for Studies Evaluating Biologics in Orthopaedics
(MIBO), 2017 (`procedures.mibo` keeps the items a procedure record satisfies). The report
has the study-level sections the checklist expects: the population treated, the
intervention (how the product was made and what it contained), the outcomes with their
completeness, the adverse events, and the limitations.

`report_figures(indication, date_from, date_to)` gathers the figures; every one is an
aggregate the database computes (`values().annotate()`, `aggregate()`, quartiles read at
their ranks by a window function), so no row about one patient reaches Python, and the
PDF names no patient. The outcomes and their intervals are `outcomes.dashboard.figures`
for the same selection, with the dashboard's SVG charts. Population figures count
episodes (each episode's first signed procedure in the range); intervention figures
count procedures. N is stated beside every figure: this is an internal report, so no
minimum N suppresses a group.

`report_pdf(figures)` renders `templates/interop/report_pdf.html` with its print
stylesheet (`report_pdf.css`) through WeasyPrint, fetching nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear, RowNumber
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.models import AuditEvent, User
from interop.services import logged
from outcomes import charts, dashboard
from patients.models import BodySite, Indication, Patient, Side
from procedures import mibo
from procedures.models import Activation, AdverseEvent, Anticoagulant, Injection, ProcedureRecord

AGE_BANDS = ((0, 39, "under 40"), (40, 49, "40-49"), (50, 59, "50-59"), (60, 69, "60-69"), (70, 79, "70-79"))
# Ages over 89 are one band, as HIPAA Safe Harbor asks of a de-identified figure.
OLDER_BANDS = ((80, 89, "80-89"),)
TOP_BAND = "90 and over"
NOT_RECORDED = "not recorded"
GRADES = (1, 2, 3, 4, 5)

# Which MIBO items each section answers for the practice's treatments (codes of `procedures.mibo.ITEMS`).
MIBO_SECTIONS = {
    "population": ("BOTH-01", "BOTH-02"),
    "intervention": (
        "PRP-01",
        "PRP-02",
        "PRP-03",
        "PRP-04",
        "PRP-05",
        "PRP-09",
        "CELL-01",
        "CELL-02",
        "CELL-03",
        "CELL-04",
        "CELL-05",
        "CELL-06",
        "CELL-07",
        "CELL-12",
        "BOTH-05",
        "BOTH-06",
        "BOTH-07",
    ),
    "adverse_events": ("BOTH-12",),
}


@dataclass(frozen=True, slots=True)
class Tally:
    """How many (episodes or procedures) had this value."""

    label: str
    n: int


@dataclass(frozen=True, slots=True)
class Spread:
    """The median and quartiles of a measure over the `n` procedures that recorded it.

    Quartiles as `statistics.quantiles(values, n=4, method="inclusive")` computes them (the
    linear rule of R's default, type 7); None with fewer than two values.
    """

    label: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True, slots=True)
class EventKind:
    """Adverse events of one kind, by CTCAE grade 1 to 5."""

    label: str
    by_grade: list[int]
    total: int


@dataclass(frozen=True, slots=True)
class MiboLine:
    code: str
    text: str


@dataclass(slots=True)
class ReportFigures:
    """Everything the report shows, aggregated: counts, spreads, and the dashboard's figures."""

    indication: str
    indication_label: str
    date_from: date
    date_to: date
    drawn_on: date
    # Population (per episode).
    episodes: int
    patients: int
    ages: list[Tally]
    sexes: list[Tally]
    sites: list[Tally]
    kl_grades: list[Tally]
    # Intervention (per procedure).
    procedures: int
    harvest_sites: list[Tally]
    needles: list[Tally]
    harvest_anticoagulants: list[Tally]
    blood_anticoagulants: list[Tally]
    devices: list[Tally]
    kits: list[Tally]
    spin_protocols: list[Tally]
    activations: list[Tally]
    cultured: int
    guidance: list[Tally]
    volumes: list[Spread]
    paw_classes: list[Tally]
    depa: list[tuple[str, list[Tally]]]
    cell_dose: Spread
    concentration_factor: Spread
    platelet_factor: Spread
    # Outcomes and safety.
    outcomes: dashboard.Figures
    events: list[EventKind]
    event_grade_totals: list[int]
    events_total: int
    events_serious: int
    mibo: dict[str, list[MiboLine]]


# --- The selection -------------------------------------------------------------------------------


def _selection(indication: str, date_from: date, date_to: date) -> QuerySet[ProcedureRecord]:
    """The signed procedures the dashboard counts for this indication and range (its own selection)."""
    return dashboard.procedures(indication, dashboard.Filters(date_from=date_from, date_to=date_to))


def _treatments(selected: QuerySet[ProcedureRecord]) -> QuerySet[ProcedureRecord]:
    """Each episode's first procedure in the selection: one row per episode treated."""
    earlier = selected.filter(episode=OuterRef("episode")).filter(
        Q(procedure_date__lt=OuterRef("procedure_date"))
        | Q(procedure_date=OuterRef("procedure_date"), pk__lt=OuterRef("pk"))
    )
    return selected.exclude(Exists(earlier))


# --- Aggregates ----------------------------------------------------------------------------------


def _tally(rows: Iterable[dict[str, Any]], key: str, labels: dict[Any, str] | None = None) -> list[Tally]:
    """Grouped counts as tallies, the largest first; an empty value is "not recorded", listed last."""
    found: dict[str, int] = {}
    for row in rows:
        value = row[key]
        label = NOT_RECORDED if value in (None, "") else (labels or {}).get(value, str(value))
        found[label] = found.get(label, 0) + row["n"]
    recorded = sorted(((label, n) for label, n in found.items() if label != NOT_RECORDED), key=lambda t: (-t[1], t[0]))
    tallies = [Tally(label, n) for label, n in recorded]
    if NOT_RECORDED in found:
        tallies.append(Tally(NOT_RECORDED, found[NOT_RECORDED]))
    return tallies


def _grouped(queryset: QuerySet, field: str, labels: dict[Any, str] | None = None) -> list[Tally]:
    """Counts of `queryset` by `field` (one query)."""
    return _tally(queryset.order_by().values(field).annotate(n=Count("pk")), field, labels)


def _age() -> Any:
    """Age in whole years on the day of the procedure, computed by the database."""
    born = "episode__patient__date_of_birth"
    before_birthday = Q(procedure_date__month__lt=ExtractMonth(born)) | Q(
        procedure_date__month=ExtractMonth(born), procedure_date__day__lt=ExtractDay(born)
    )
    return (
        ExtractYear("procedure_date")
        - ExtractYear(born)
        - Case(When(before_birthday, then=Value(1)), default=Value(0), output_field=IntegerField())
    )


def ages(treatments: QuerySet[ProcedureRecord]) -> list[Tally]:
    """Episodes by age band at treatment (one query); every band listed, empty ones as 0."""
    bands = (*AGE_BANDS, *OLDER_BANDS)
    band = Case(
        *(When(age__gte=low, age__lte=high, then=Value(label)) for low, high, label in bands),
        default=Value(TOP_BAND),
    )
    rows = treatments.order_by().annotate(age=_age()).annotate(band=band).values("band").annotate(n=Count("pk"))
    found = {row["band"]: row["n"] for row in rows}
    return [Tally(label, found.get(label, 0)) for label in (*(b[2] for b in bands), TOP_BAND)]


def _quartile_ranks(n: int) -> list[tuple[int, int]]:
    """For each quartile, the 0-based rank of the lower of the two values it lies between, and the weight of the
    upper (in quarters): `statistics.quantiles(..., method="inclusive")`'s rule."""
    return [divmod(i * (n - 1), 4) for i in (1, 2, 3)]


def spread(queryset: QuerySet, expression: Any, *, label: str) -> Spread:
    """Median and quartiles of `expression` over `queryset` (two queries: the count, then the ranks needed).

    The ranks are numbered by the database (a window function) and only the few values at
    the quartiles' ranks are read, so no database needs a percentile function.
    """
    measured = queryset.order_by().annotate(measure=expression).exclude(measure=None)
    n = measured.count()
    if n == 0:
        return Spread(label, 0, None, None, None)
    if n == 1:
        only = measured.values_list("measure", flat=True)[0]
        return Spread(label, 1, float(only), None, None)
    ranks = _quartile_ranks(n)
    wanted = {rank + 1 for rank, _weight in ranks} | {rank + 2 for rank, _weight in ranks}
    numbered = measured.annotate(rank=Window(RowNumber(), order_by=F("measure").asc())).filter(rank__in=wanted)
    at = {rank: float(value) for rank, value in numbered.values_list("rank", "measure")}
    q1, median, q3 = ((at[rank + 1] * (4 - weight) + at[rank + 2] * weight) / 4 for rank, weight in ranks)
    return Spread(label, n, median, q1, q3)


def _spin_label(spins: Any) -> str:
    if not spins:
        return ""
    steps = ", ".join(f"{step.get('g', '?')} g for {step.get('minutes', '?')} min" for step in spins)
    return f"{len(spins)} spin{'s' if len(spins) != 1 else ''}: {steps}"


def needles(selected: QuerySet[ProcedureRecord]) -> list[Tally]:
    """Procedures by harvest needle and its gauge (one query)."""
    kinds = _labels(ProcedureRecord.Needle.choices)
    rows = selected.order_by().values("needle", "needle_gauge").annotate(n=Count("pk"))
    named = (
        {"needle": ", ".join(p for p in (kinds.get(r["needle"], r["needle"]), r["needle_gauge"]) if p), "n": r["n"]}
        for r in rows
    )
    return _tally(named, "needle")


def spin_protocols(selected: QuerySet[ProcedureRecord]) -> list[Tally]:
    """Procedures by centrifugation protocol (one query, grouped by the recorded spins)."""
    rows = selected.order_by().values("spins").annotate(n=Count("pk"))
    return _tally(({"spins": _spin_label(row["spins"]), "n": row["n"]} for row in rows), "spins")


def paw_classes(selected: QuerySet[ProcedureRecord]) -> list[Tally]:
    """Procedures by PAW platelet class (one query by code, then the codes folded into their classes)."""
    rows = selected.order_by().values("paw_code").annotate(n=Count("pk"))
    return _tally(
        ({"paw": dashboard.paw_class(row["paw_code"]) if row["paw_code"] else "", "n": row["n"]} for row in rows), "paw"
    )


def depa(selected: QuerySet[ProcedureRecord]) -> list[tuple[str, list[Tally]]]:
    """Procedures by DEPA letter of each part (dose, efficiency, purity): one query grouped by the three letters."""
    parts = (("Dose", "dose_grade"), ("Efficiency", "efficiency_grade"), ("Purity", "purity_grade"))
    rows = list(selected.order_by().values(*(f"depa__{key}" for _label, key in parts)).annotate(n=Count("pk")))
    return [(label, _tally(rows, f"depa__{key}")) for label, key in parts]


def adverse_events(selected: QuerySet[ProcedureRecord]) -> tuple[list[EventKind], list[int], int, int]:
    """Events after the selected procedures by kind and grade, with the serious ones (one query)."""
    rows = (
        AdverseEvent.objects.filter(procedure__in=selected.values("pk"))
        .order_by()
        .values("kind", "grade", "serious")
        .annotate(n=Count("pk"))
    )
    counts = {kind: [0] * len(GRADES) for kind in AdverseEvent.Kind.values}
    serious = 0
    for row in rows:
        counts[row["kind"]][row["grade"] - 1] += row["n"]
        serious += row["n"] if row["serious"] else 0
    kinds = [EventKind(str(label), counts[kind], sum(counts[kind])) for kind, label in AdverseEvent.Kind.choices]
    totals = [sum(kind.by_grade[i] for kind in kinds) for i in range(len(GRADES))]
    return [kind for kind in kinds if kind.total], totals, sum(totals), serious


def _injected_ml() -> Any:
    """The volume injected at a procedure: concentrate and PRP over all its injections."""
    volume: DecimalField = DecimalField(max_digits=9, decimal_places=2)
    per_record = (
        Injection.objects.filter(record=OuterRef("pk"))
        .order_by()
        .values("record")
        .annotate(
            total=Sum(
                Coalesce("concentrate_ml", Value(0), output_field=volume)
                + Coalesce("prp_ml", Value(0), output_field=volume)
            )
        )
        .values("total")
    )
    return Subquery(per_record, output_field=volume)


def _mibo() -> dict[str, list[MiboLine]]:
    items = {item.code: item for item in mibo.ITEMS}
    return {section: [MiboLine(code, items[code].text) for code in codes] for section, codes in MIBO_SECTIONS.items()}


def report_figures(indication: str, date_from: date, date_to: date, *, today: date | None = None) -> ReportFigures:
    """The report's figures for the procedures of `indication` signed between the two dates (both included)."""
    if indication not in Indication.values:
        raise ValueError(f"unknown indication {indication!r}")
    if date_to < date_from:
        raise ValueError(f"the range ends ({date_to}) before it starts ({date_from})")
    today = today or timezone.localdate()
    selected = _selection(indication, date_from, date_to)
    treatments = _treatments(selected)
    sites = {
        f"{s}|{d}": f"{dict(BodySite.choices)[s]}, {str(dict(Side.choices)[d]).lower()}"
        for s in BodySite.values
        for d in Side.values
    }
    site_rows = treatments.order_by().values("episode__site", "episode__side").annotate(n=Count("pk"))
    events, grade_totals, events_total, serious = adverse_events(selected)
    outcomes = dashboard.figures(
        indication, filters=dashboard.Filters(date_from=date_from, date_to=date_to), today=today
    )
    return ReportFigures(
        indication=indication,
        indication_label=str(dict(Indication.choices)[indication]),
        date_from=date_from,
        date_to=date_to,
        drawn_on=today,
        episodes=treatments.count(),
        patients=treatments.values("episode__patient_id").distinct().count(),
        ages=ages(treatments),
        sexes=_grouped(treatments, "episode__patient__sex", {k: str(v).lower() for k, v in Patient.Sex.choices}),
        sites=_tally(
            ({"site": sites[f"{r['episode__site']}|{r['episode__side']}"], "n": r["n"]} for r in site_rows), "site"
        ),
        kl_grades=_grouped(
            treatments, "episode__candidacy__kellgren_lawrence_grade", {g: f"grade {g}" for g in range(5)}
        ),
        procedures=selected.count(),
        harvest_sites=_grouped(selected, "harvest_site", _labels(ProcedureRecord.HarvestSite.choices)),
        needles=needles(selected),
        harvest_anticoagulants=_grouped(selected, "harvest_anticoagulant", _labels(Anticoagulant.choices)),
        blood_anticoagulants=_grouped(selected, "blood_anticoagulant", _labels(Anticoagulant.choices)),
        devices=_grouped(selected, "device"),
        kits=_grouped(selected, "kit"),
        spin_protocols=spin_protocols(selected),
        activations=_grouped(selected, "activation", _labels(Activation.choices)),
        cultured=selected.filter(cultured_or_expanded=True).count(),
        guidance=_grouped(
            Injection.objects.filter(record__in=selected.values("pk")), "guidance", _labels(Injection.Guidance.choices)
        ),
        volumes=[
            spread(selected, F("blood_volume_ml"), label="Whole blood drawn (mL)"),
            spread(selected, F("aspirate_volume_ml"), label="Marrow aspirate (mL)"),
            spread(selected, F("concentrate_volume_ml"), label="Concentrate obtained (mL)"),
            spread(selected, F("prp_volume_ml"), label="PRP obtained (mL)"),
            spread(selected, _injected_ml(), label="Injected, all injections (mL)"),
        ],
        paw_classes=paw_classes(selected),
        depa=depa(selected),
        cell_dose=spread(selected, F("cell_dose"), label="Cell dose (nucleated cells injected)"),
        concentration_factor=spread(selected, F("concentration_factor"), label="Concentration factor"),
        platelet_factor=spread(selected, F("platelet_factor"), label="Platelet factor"),
        outcomes=outcomes,
        events=events,
        event_grade_totals=grade_totals,
        events_total=events_total,
        events_serious=serious,
        mibo=_mibo(),
    )


def _labels(choices: Iterable[tuple[Any, Any]]) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


# --- The PDF -------------------------------------------------------------------------------------


# WeasyPrint styles an inline SVG from the <style> inside it only, not from the page's stylesheets:
# the dashboard's chart colours (outcomes.css), carried into each chart.
CHART_STYLE = (
    "<style>"
    ".chart-mark{fill:#e6eef0}"
    ".chart-band{fill:#1f6f78;opacity:.18}"
    ".chart-grid{stroke:#c9d6d6;stroke-width:1}"
    ".chart-baseline{stroke:#4a5866;stroke-width:1.5;stroke-dasharray:5 4}"
    ".chart-interval{stroke:#1f6f78;stroke-width:2}"
    ".chart-line{fill:none;stroke:#1f6f78;stroke-width:2.5}"
    ".chart-point{fill:#1f6f78}"
    ".chart-label{fill:#1b2733;font-size:11px;font-family:'DejaVu Sans',sans-serif}"
    "</style>"
)


def _styled(chart: SafeString) -> SafeString:
    # The chart is our own markup (format_html); the style is a constant.
    return SafeString(chart.replace("</desc>", f"</desc>{CHART_STYLE}", 1))


def report_charts(figures: ReportFigures) -> tuple[list[tuple[Any, SafeString]], SafeString]:
    """The dashboard's charts of these figures, styled for print: one change chart per score, the survival curve."""
    changes = [
        (line, _styled(charts.change_chart(line, chart_id=f"change-{index}")))
        for index, line in enumerate(figures.outcomes.changes)
    ]
    return changes, _styled(charts.survival_chart(figures.outcomes.survival, chart_id="survival"))


def report_html(figures: ReportFigures) -> tuple[str, str]:
    """The report's HTML and its print stylesheet."""
    from website.models import Practice

    change_charts, survival_chart = report_charts(figures)
    context = {
        "figures": figures,
        "outcomes": figures.outcomes,
        "change_charts": change_charts,
        "survival_chart": survival_chart,
        "practice": Practice.objects.first(),
        "printed_at": timezone.localtime(timezone.now()),
        "grades": GRADES,
    }
    return render_to_string("interop/report_pdf.html", context), render_to_string("interop/report_pdf.css", context)


def report_pdf(figures: ReportFigures) -> bytes:
    """The report as a PDF (the view decides who may have it and leaves the audit row)."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    html, stylesheet = report_html(figures)
    # Nothing is fetched: the charts are inline SVG, the styles are passed in, the fonts are the system's.
    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=html, url_fetcher=fetcher)
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)])
    return pdf


# --- The audit row -------------------------------------------------------------------------------


def report_ref(indication: str, date_from: date, date_to: date) -> str:
    """What the audit row names: "pdf:report:<indication>:<from>..<to>" (at most 53 characters, within 64)."""
    return f"pdf:report:{indication}:{date_from.isoformat()}..{date_to.isoformat()}"


def report_log(
    *, indication: str, date_from: date, date_to: date, by: User, request: HttpRequest | None = None
) -> AuditEvent:
    """Record one download of the report: exactly one export row, naming the selection and no patient.

    The row every export writes (`interop.services.logged`), with the report's own reference.
    """
    with transaction.atomic():
        return logged(report_ref(indication, date_from, date_to), by=by, request=request)


# --- The form ------------------------------------------------------------------------------------


class _Date(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class ReportForm(forms.Form):
    """Which treatments the report covers: one indication, treated between two dates (both included)."""

    indication = forms.ChoiceField(
        choices=[("", "Choose an indication"), *Indication.choices],
        error_messages={"required": "Choose an indication.", "invalid_choice": "Choose an indication from the list."},
    )
    date_from = forms.DateField(
        label="Treated on or after",
        widget=_Date(),
        error_messages={"required": "Enter the first day of the range.", "invalid": "Enter a date, e.g. 2031-01-31."},
    )
    date_to = forms.DateField(
        label="Treated on or before",
        widget=_Date(),
        error_messages={"required": "Enter the last day of the range.", "invalid": "Enter a date, e.g. 2031-12-31."},
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start is not None and end is not None and end < start:
            self.add_error("date_to", "The end of the range is before its start.")
        return cleaned

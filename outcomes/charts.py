"""Server-rendered SVG charts of one score over an episode's follow-ups (no script, no third party).

Each chart plots the score at each time point against the weeks since the procedure,
with the baseline as a dashed line, the band within the MCID of the baseline shaded (a
change inside it is not a meaningful one), and the 6-8 week mark where improvement
usually starts. The page shows a table with the same numbers beside it: the chart is
`aria-hidden`-free but has a title and description, and the table is the text alternative.
"""

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from outcomes.queries import Series
from outcomes.stats import SurvivalStep

WIDTH, HEIGHT = 320, 160
LEFT, RIGHT, TOP, BOTTOM = 36, 20, 10, 28
# Weeks after the procedure at which each time point is drawn (the baseline at 0).
WEEKS = {"baseline": 0, "6w": 6, "3m": 13, "6m": 26, "12m": 52, "24m": 104}
AXIS_WEEKS = (0, 6, 13, 26, 52, 104)
AXIS_LABELS = {0: "0", 6: "6w", 13: "3m", 26: "6m", 52: "12m", 104: "24m"}


def _description() -> str:
    return _(
        "%(label)s from %(low)g to %(high)g over the weeks since the procedure. "
        "%(direction)s The table gives each value."
    )


def _n(number: float) -> str:
    return f"{number:.1f}"


def _x(weeks: float, last: float) -> float:
    # Square-root time: the early follow-ups stay apart while 24 months still fits.
    return LEFT + (WIDTH - LEFT - RIGHT) * (weeks**0.5) / (last**0.5)


def _y(value: float, low: float, high: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (high - value) / (high - low)


def score_chart(series: Series, *, chart_id: str) -> SafeString:
    """The SVG of one score (see the module). Values outside the scale are clamped, never redrawn."""
    definition = series.definition
    low, high = definition.low, definition.high
    last = max([52, *(WEEKS[p.timepoint] for p in series.points)])
    axis = [w for w in AXIS_WEEKS if w <= last]
    plotted = [(WEEKS[p.timepoint], max(low, min(high, p.value))) for p in series.points if p.value is not None]
    parts: list[SafeString] = []
    # The 6-8 week mark.
    parts.append(
        format_html(
            '<rect class="chart-mark" x="{}" y="{}" width="{}" height="{}"/>',
            _n(_x(6, last)),
            TOP,
            _n(_x(8, last) - _x(6, last)),
            HEIGHT - TOP - BOTTOM,
        )
    )
    baseline = series.baseline
    if baseline is not None:
        if definition.mcid is not None and definition.mcid.unit == "points":
            band_low, band_high = baseline - definition.mcid.value, baseline + definition.mcid.value
            band_top, band_bottom = _y(min(high, band_high), low, high), _y(max(low, band_low), low, high)
            parts.append(
                format_html(
                    '<rect class="chart-band" x="{}" y="{}" width="{}" height="{}"/>',
                    LEFT,
                    _n(band_top),
                    WIDTH - LEFT - RIGHT,
                    _n(band_bottom - band_top),
                )
            )
        # A baseline off the scale (never from the scoring code, but a stored value may be) stays on its edge.
        y = _y(max(low, min(high, baseline)), low, high)
        parts.append(
            format_html(
                '<line class="chart-baseline" x1="{}" y1="{}" x2="{}" y2="{}"/>', LEFT, _n(y), WIDTH - RIGHT, _n(y)
            )
        )
    # Axes: the score's ends and the time points.
    for value in (low, high):
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT - 4,
                _n(_y(value, low, high) + 4),
                f"{value:g}",
            )
        )
    for weeks in axis:
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>',
                _n(_x(weeks, last)),
                HEIGHT - 8,
                AXIS_LABELS[weeks],
            )
        )
    if len(plotted) > 1:
        points = " ".join(f"{_x(w, last):.1f},{_y(v, low, high):.1f}" for w, v in plotted)
        parts.append(format_html('<polyline class="chart-line" points="{}"/>', points))
    parts.append(
        format_html_join(
            "",
            '<circle class="chart-point" cx="{}" cy="{}" r="4"/>',
            ((_n(_x(w, last)), _n(_y(v, low, high))) for w, v in plotted),
        )
    )
    direction = _("Higher is better.") if definition.higher_is_better else _("Lower is better.")
    label = definition.label.get("en", series.code)
    return format_html(
        '<svg class="score-chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        label,
        chart_id,
        _description() % {"label": label, "low": low, "high": high, "direction": direction},
        SafeString("".join(parts)),
    )


# The dashboard's charts (outcomes/dashboard.py): mean change with its interval, and survival.
DASH_WIDTH, DASH_HEIGHT = 360, 200
DASH_LEFT, DASH_RIGHT, DASH_TOP, DASH_BOTTOM = 44, 16, 12, 30


def _dash_x(weeks: float, last: float) -> float:
    return DASH_LEFT + (DASH_WIDTH - DASH_LEFT - DASH_RIGHT) * (weeks**0.5) / (last**0.5)


def _dash_y(value: float, low: float, high: float) -> float:
    return DASH_TOP + (DASH_HEIGHT - DASH_TOP - DASH_BOTTOM) * (high - value) / (high - low)


def _svg(chart_id: str, title: str, description: str, parts: list[SafeString], css: str) -> SafeString:
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        css,
        DASH_WIDTH,
        DASH_HEIGHT,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        SafeString("".join(parts)),
    )


def _label(x: float, y: float, text: str, anchor: str = "middle") -> SafeString:
    return format_html('<text class="chart-label" x="{}" y="{}" text-anchor="{}">{}</text>', _n(x), _n(y), anchor, text)


def change_chart(line: Any, *, chart_id: str) -> SafeString:
    """Mean change from baseline at each follow-up with its 95 % interval, the 6-8 week mark and zero.

    The vertical scale covers zero and every interval drawn (at least the MCID either side
    when it is in points), so a wide interval is never cut off.
    """
    rows = [r for r in line.rows if r.change.estimate is not None]
    values = [0.0]
    for r in rows:
        values += [r.change.estimate, r.change.low or r.change.estimate, r.change.high or r.change.estimate]
    mcid = line.definition.mcid
    if mcid is not None and mcid.unit == "points":
        values += [mcid.value, -mcid.value]
    # No change can exceed the score's own range: an interval from two patients that reaches past it is
    # cut at that edge (the table gives it whole) rather than squashing every other point to a line.
    limit = line.definition.high - line.definition.low
    values = [max(-limit, min(limit, value)) for value in values]
    span = max(1.0, max(values) - min(values))
    low, high = min(values) - span * 0.08, max(values) + span * 0.08
    last = 104
    parts: list[SafeString] = [
        format_html(
            '<rect class="chart-mark" x="{}" y="{}" width="{}" height="{}"/>',
            _n(_dash_x(6, last)),
            DASH_TOP,
            _n(_dash_x(8, last) - _dash_x(6, last)),
            DASH_HEIGHT - DASH_TOP - DASH_BOTTOM,
        ),
        format_html(
            '<line class="chart-baseline" x1="{}" y1="{}" x2="{}" y2="{}"/>',
            DASH_LEFT,
            _n(_dash_y(0, low, high)),
            DASH_WIDTH - DASH_RIGHT,
            _n(_dash_y(0, low, high)),
        ),
        _label(DASH_LEFT - 4, _dash_y(0, low, high) + 4, "0", "end"),
    ]
    # The scale's ends, where they are far enough from zero not to print over its label.
    for end, nudge in ((high, 10), (low, 0)):
        if abs(_dash_y(end, low, high) - _dash_y(0, low, high)) > 16:
            parts.append(_label(DASH_LEFT - 4, _dash_y(end, low, high) + nudge, f"{end:+.0f}", "end"))
    for weeks in AXIS_WEEKS:
        parts.append(_label(_dash_x(weeks, last), DASH_HEIGHT - 10, AXIS_LABELS[weeks]))
    plotted = [(WEEKS[r.timepoint], r) for r in rows]
    for weeks, r in plotted:
        if r.change.low is not None and r.change.high is not None:
            x = _n(_dash_x(weeks, last))
            parts.append(
                format_html(
                    '<line class="chart-interval" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                    x,
                    _n(_dash_y(max(low, r.change.low), low, high)),
                    x,
                    _n(_dash_y(min(high, r.change.high), low, high)),
                )
            )
    if len(plotted) > 1:
        points = " ".join(f"{_dash_x(w, last):.1f},{_dash_y(r.change.estimate, low, high):.1f}" for w, r in plotted)
        parts.append(format_html('<polyline class="chart-line" points="{}"/>', points))
    parts += [
        format_html(
            '<circle class="chart-point" cx="{}" cy="{}" r="4"/>',
            _n(_dash_x(w, last)),
            _n(_dash_y(r.change.estimate, low, high)),
        )
        for w, r in plotted
    ]
    direction = "Higher is better" if line.definition.higher_is_better else "Lower is better"
    description = (
        f"Mean change from baseline of {line.label} at each follow-up, with its 95% confidence interval, "
        f"over the weeks since the procedure. {direction}, so a change of that sign is an improvement. "
        "The table gives each value with N."
    )
    return _svg(chart_id, f"{line.label}: change from baseline", description, parts, "dash-chart")


def survival_chart(survival: Any, *, chart_id: str) -> SafeString:
    """Kaplan-Meier surgery-free survival over two years: the step curve, its 95 % band, the year marks."""
    last_day = 730.0

    def x(day: float) -> float:
        return DASH_LEFT + (DASH_WIDTH - DASH_LEFT - DASH_RIGHT) * min(day, last_day) / last_day

    def y(share: float) -> float:
        return _dash_y(share * 100, 0, 100)

    steps = list(survival.steps)
    if steps and (steps[0].day > 0 or steps[0].survival < 1.0):
        # The curve starts at 100 % on the procedure's day (lifelines starts at the first time seen).
        steps.insert(0, SurvivalStep(day=0.0, survival=1.0, low=1.0, high=1.0))
    steps = [s for s in steps if s.day <= last_day]
    parts: list[SafeString] = []
    for share in (0, 0.5, 1):
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" y1="{}" x2="{}" y2="{}"/>',
                DASH_LEFT,
                _n(y(share)),
                DASH_WIDTH - DASH_RIGHT,
                _n(y(share)),
            )
        )
        parts.append(_label(DASH_LEFT - 4, y(share) + 4, f"{share * 100:.0f}%", "end"))
    for day, text in ((0, "0"), (182, "6m"), (365, "1 y"), (548, "18m"), (730, "2 y")):
        parts.append(_label(x(day), DASH_HEIGHT - 10, text))
    if steps:
        end: float = min(last_day, max(s.day for s in survival.steps)) if survival.steps else 0.0
        upper, lower, curve = [], [], []
        for index, step in enumerate(steps):
            until = steps[index + 1].day if index + 1 < len(steps) else end
            for moment in (step.day, until):
                upper.append(f"{x(moment):.1f},{y(step.high):.1f}")
                lower.append(f"{x(moment):.1f},{y(step.low):.1f}")
                curve.append(f"{x(moment):.1f},{y(step.survival):.1f}")
        parts.append(format_html('<polygon class="chart-band" points="{}"/>', " ".join(upper + lower[::-1])))
        parts.append(format_html('<polyline class="chart-line" points="{}"/>', " ".join(curve)))
    description = (
        f"Share of {survival.n} treated patients without surgery on the treated site, by time since the "
        f"procedure (Kaplan-Meier), with its 95% confidence band; {survival.events} had surgery. "
        "The table below gives the numbers at risk and the estimates at one and two years."
    )
    return _svg(chart_id, "Surgery-free survival", description, parts, "dash-chart")

"""Server-rendered SVG charts of one score over an episode's follow-ups (no script, no third party).

Each chart plots the score at each time point against the weeks since the procedure,
with the baseline as a dashed line, the band within the MCID of the baseline shaded (a
change inside it is not a meaningful one), and the 6-8 week mark where improvement
usually starts. The page shows a table with the same numbers beside it: the chart is
`aria-hidden`-free but has a title and description, and the table is the text alternative.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from outcomes.queries import Series

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
        y = _y(baseline, low, high)
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

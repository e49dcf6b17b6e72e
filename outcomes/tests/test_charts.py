"""The score charts: one SVG per score, with the baseline, the MCID band and the 6-8 week mark; no script."""

import re
from datetime import date

from outcomes import charts, instruments
from outcomes.queries import Point, Series

KOOS_PAIN = instruments.get("KOOS").scores[1]  # 0-100, higher is better, MCID 15 points
NRS = instruments.get("NRS").scores[0]  # 0-10, lower is better, MCID 30% of the baseline


def point(timepoint: str, value: float | None) -> Point:
    return Point(timepoint, timepoint, date(2031, 3, 10), value, "" if value is not None else "why", None, None, None)


def shapes(svg: str) -> dict[str, list[str]]:
    """Each drawn element's attributes, by its class."""
    found: dict[str, list[str]] = {}
    for _tag, attributes in re.findall(r"<(rect|line|polyline|circle) ([^>]*)/>", svg):
        name = re.search(r'class="([^"]+)"', attributes)
        assert name is not None
        found.setdefault(name.group(1), []).append(re.sub(r'class="[^"]+" ', "", attributes))
    return found


def test_a_score_with_a_baseline_and_a_follow_up_draws_the_mark_band_baseline_line_and_points() -> None:
    svg = charts.score_chart(
        Series(instrument="KOOS", definition=KOOS_PAIN, points=[point("baseline", 40.0), point("6w", 70.0)]),
        chart_id="c1",
    )
    assert shapes(svg) == {
        # The 6-8 week mark, from x(6) to x(8) on the square-root time axis (52 weeks wide).
        "chart-mark": ['x="125.7" y="10" width="13.9" height="122"'],
        # Within 15 points of the baseline (25 to 55): not a meaningful change.
        "chart-band": ['x="36" y="64.9" width="264" height="36.6"'],
        "chart-baseline": ['x1="36" y1="83.2" x2="300" y2="83.2"'],
        "chart-line": ['points="36.0,83.2 125.7,46.6"'],
        "chart-point": ['cx="36.0" cy="83.2" r="4"', 'cx="125.7" cy="46.6" r="4"'],
    }
    assert svg.startswith(
        '<svg class="score-chart" viewBox="0 0 320 160" role="img" aria-labelledby="c1-title c1-desc" '
        'xmlns="http://www.w3.org/2000/svg"><title id="c1-title">KOOS Pain</title><desc id="c1-desc">KOOS Pain '
        "from 0 to 100 over the weeks since the procedure. Higher is better. The table gives each value.</desc>"
    )
    assert re.findall(r'text-anchor="middle">([^<]+)<', svg) == ["0", "6w", "3m", "6m", "12m"]
    assert "<script" not in svg and "style=" not in svg


def test_a_percent_mcid_draws_no_band_and_says_lower_is_better() -> None:
    svg = charts.score_chart(
        Series(instrument="NRS", definition=NRS, points=[point("baseline", 8.0), point("3m", 3.0)]), chart_id="n"
    )
    assert "chart-band" not in shapes(svg)
    assert "Pain NRS (0-10) from 0 to 10 over the weeks since the procedure. Lower is better." in svg


def test_without_a_baseline_there_is_no_baseline_line_nor_band_and_one_point_draws_no_line() -> None:
    svg = charts.score_chart(Series(instrument="KOOS", definition=KOOS_PAIN, points=[point("6w", 50.0)]), chart_id="x")
    assert sorted(shapes(svg)) == ["chart-mark", "chart-point"]


def test_a_24_month_point_widens_the_axis_and_unscorable_points_are_not_drawn() -> None:
    svg = charts.score_chart(
        Series(
            instrument="KOOS",
            definition=KOOS_PAIN,
            points=[point("baseline", 40.0), point("6w", None), point("24m", 90.0)],
        ),
        chart_id="y",
    )
    assert re.findall(r'text-anchor="middle">([^<]+)<', svg) == ["0", "6w", "3m", "6m", "12m", "24m"]
    assert shapes(svg)["chart-point"] == ['cx="36.0" cy="83.2" r="4"', 'cx="300.0" cy="22.2" r="4"']


def test_a_value_outside_the_scale_is_clamped_to_its_edge() -> None:
    svg = charts.score_chart(
        Series(instrument="KOOS", definition=KOOS_PAIN, points=[point("baseline", 120.0), point("6w", -5.0)]),
        chart_id="z",
    )
    assert shapes(svg)["chart-point"] == ['cx="36.0" cy="10.0" r="4"', 'cx="125.7" cy="132.0" r="4"']
    # The baseline line too stays on the scale's edge (y of 100 is the top, 10), never above the chart.
    assert shapes(svg)["chart-baseline"] == ['x1="36" y1="10.0" x2="300" y2="10.0"']


def test_the_survival_chart_starts_at_100_percent_on_the_procedure_day_and_steps_down_at_each_surgery() -> None:
    from outcomes.stats import kaplan_meier

    # Surgeries on days 0 and 365 of four patients: 3/4 from day 0, then 3/4 x 1/2 after day 365.
    survival = kaplan_meier([0, 200, 365, 600], [True, False, True, False])
    svg = str(charts.survival_chart(survival, chart_id="s"))
    curve = re.search(r'class="chart-line" points="([^"]+)"', svg)
    assert curve is not None
    points = [tuple(map(float, pair.split(","))) for pair in curve.group(1).split()]
    y = {share: charts._dash_y(share * 100, 0, 100) for share in (1.0, 0.75, 0.375)}
    assert points[0][0] == charts.DASH_LEFT and abs(points[0][1] - y[1.0]) <= 0.05
    # The curve's levels (drawn to 0.1 px) are exactly those three shares.
    levels = sorted({py for _px, py in points})
    assert len(levels) == 3
    assert all(abs(level - want) <= 0.05 for level, want in zip(levels, sorted(y.values()), strict=True))
    assert "Share of 4 treated patients without surgery" in svg and "2 had surgery" in svg


def test_a_change_interval_past_the_score_s_own_range_is_cut_at_its_edge() -> None:
    from outcomes.dashboard import ChangeRow, ScoreChange
    from outcomes.stats import Interval

    line = ScoreChange(instrument="KOOS", definition=KOOS_PAIN)
    line.rows = [
        ChangeRow("6w", "6 weeks", 9, Interval(10.0, 4.0, 16.0, 9), None, None),
        ChangeRow("24m", "24 months", 2, Interval(30.0, -165.0, 223.0, 2), None, None),
    ]
    svg = str(charts.change_chart(line, chart_id="c"))
    # KOOS Pain runs 0-100, so no change passes +-100: the axis ends there (with its margin), not at +223.
    assert re.findall(r">([+-]\d+)</text>", svg) == ["+116", "-116"]
    ys = [float(y) for y in re.findall(r'class="chart-interval" x1="[\d.]+" y1="([\d.]+)"', svg)]
    assert all(charts.DASH_TOP <= y <= charts.DASH_HEIGHT - charts.DASH_BOTTOM for y in ys)

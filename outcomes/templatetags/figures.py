"""How the dashboard writes an estimate with its interval: "-1.7 (-6.8 to 3.5)", "33% (6% to 79%)"."""

from django import template

from outcomes.stats import Interval

register = template.Library()

NONE = "\u2013"  # an en dash: no figure


@register.filter
def mean_ci(interval: Interval | None) -> str:
    """A mean change with its 95 % interval, signed, one decimal; a dash when nothing is estimated."""
    if interval is None or interval.estimate is None:
        return NONE
    if interval.low is None or interval.high is None:
        return f"{interval.estimate:+.1f}"
    return f"{interval.estimate:+.1f} ({interval.low:+.1f} to {interval.high:+.1f})"


@register.filter
def share_ci(interval: Interval | None) -> str:
    """A proportion as a percentage with its 95 % interval; a dash when N is 0."""
    if interval is None or interval.estimate is None:
        return NONE
    text = f"{interval.estimate * 100:.0f}%"
    if interval.low is None or interval.high is None:
        return text
    return f"{text} ({interval.low * 100:.0f}% to {interval.high * 100:.0f}%)"

"""How the outcomes report writes a median and its interquartile range: "2.5", "1.8 to 3.1", "1.20 x 10^8"."""

from django import template

from interop.report import Spread

register = template.Library()

NONE = "\u2013"  # an en dash: no figure


@register.filter
def measure(value: float | None) -> str:
    """A volume or a factor: up to two decimals, trailing zeros dropped."""
    if value is None:
        return NONE
    return f"{value:.2f}".rstrip("0").rstrip(".")


@register.filter
def cells(value: float | None) -> str:
    """A number of cells in scientific notation: "1.20 x 10^8"."""
    if value is None:
        return NONE
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa} \N{MULTIPLICATION SIGN} 10^{int(exponent)}"


@register.filter
def iqr(row: Spread, kind: str = "") -> str:
    """The first to the third quartile; a dash with fewer than two values."""
    if row.q1 is None or row.q3 is None:
        return NONE
    write = cells if kind == "cells" else measure
    return f"{write(row.q1)} to {write(row.q3)}"

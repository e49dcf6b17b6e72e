"""Filters for the procedure pages and PDF: cell numbers people can read, grades, hashes."""

from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

register = template.Library()


def _trimmed(value: float) -> str:
    """At most two decimals, without trailing zeros: 100.0 -> "100", 81.25 -> "81.25", in the page's locale."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return formats.number_format(text)


@register.filter
def cells(value: Any) -> str:
    """A cell count as people say it: 81,250,000 -> "81.25 million"; 2,300,000,000 -> "2.3 billion"."""
    if value in (None, ""):
        return "—"
    number = int(value)
    if number >= 1_000_000_000:
        return _("%(n)s billion") % {"n": _trimmed(number / 1e9)}
    if number >= 1_000_000:
        return _("%(n)s million") % {"n": _trimmed(number / 1e6)}
    return formats.number_format(number, force_grouping=True)


@register.filter
def fold(value: Any) -> str:
    """A concentration factor: 4.0 -> "4" and the multiplication sign."""
    if value in (None, ""):
        return "—"
    return f"{_trimmed(float(value))}\N{MULTIPLICATION SIGN}"


@register.filter
def decimal1(value: Any) -> str:
    if value in (None, ""):
        return "—"
    return formats.number_format(round(float(value), 1), decimal_pos=1)


@register.filter
def short_hash(value: str) -> str:
    """The first and last 8 hex digits, for reading aloud; the whole hash is printed next to it."""
    return f"{value[:8]}…{value[-8:]}" if value and len(value) > 16 else value or ""


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def agent(code: str) -> str:
    """An agent or carrier code as words ("none" as "None")."""
    from procedures.guardrails import NONE, agent_label

    if not code:
        return "—"
    return _("None") if code == NONE else agent_label(code)

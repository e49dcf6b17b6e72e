"""How "Our results" writes a share with its interval and a follow-up's name, in the page's language."""

from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from outcomes.models import Timepoint

register = template.Library()


def _percent(value: float) -> str:
    return number_format(round(value * 100), 0) + "%"


@register.filter
def public_share(share: dict[str, Any] | None) -> str:
    """'42% (31% to 54%)'; an empty string for no figure (the template says why)."""
    if not share or share.get("estimate") is None:
        return ""
    text = _percent(share["estimate"])
    if share.get("low") is None or share.get("high") is None:
        return text
    return _("%(share)s (%(low)s to %(high)s)") % {
        "share": text,
        "low": _percent(share["low"]),
        "high": _percent(share["high"]),
    }


@register.filter
def timepoint_label(code: str) -> str:
    return str(dict(Timepoint.choices).get(code, code))

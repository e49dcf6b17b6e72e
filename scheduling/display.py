"""How the booking pages and emails say a time: in the office's time zone and the reader's language."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, formats
from django.utils.translation import pgettext

from website.models import Office


def local(moment: datetime, office: Office) -> datetime:
    return moment.astimezone(ZoneInfo(office.time_zone))


def day_label(moment: datetime, office: Office) -> str:
    """e.g. "Wednesday, March 5" / "miércoles 5 de marzo"."""
    return dateformat.format(local(moment, office), pgettext("day heading, PHP date format", "l, F j"))


def long_day_label(moment: datetime, office: Office) -> str:
    """e.g. "Wednesday, March 5, 2031" / "miércoles 5 de marzo de 2031"."""
    return dateformat.format(local(moment, office), pgettext("full date, PHP date format", "l, F j, Y"))


def time_label(moment: datetime, office: Office) -> str:
    """e.g. "10:15 a.m." / "10:15 a. m."."""
    return formats.time_format(local(moment, office), "TIME_FORMAT")

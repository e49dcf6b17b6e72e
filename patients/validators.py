"""Checks on what a person types about a patient, shared by every form that takes it (public and staff)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

OLDEST_AGE_YEARS = 120
PHONE_DIGITS = (7, 15)


def clean_phone(value: str, *, message: str | None = None) -> str:
    """The phone number as typed (trimmed) if it has 7 to 15 digits; empty stays empty."""
    phone = value.strip()
    digits = sum(ch.isdigit() for ch in phone)
    if phone and not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]:
        raise ValidationError(message or _("Please check the phone number, for example 818-555-0199."), code="phone")
    return phone


def clean_date_of_birth(born: date, *, today: date | None = None) -> date:
    """A date of birth that is not in the future and not more than 120 years ago."""
    today = today or timezone.localdate()
    if born > today:
        raise ValidationError(_("The date of birth cannot be in the future."), code="future")
    if born.year < today.year - OLDEST_AGE_YEARS:
        raise ValidationError(_("Please check the year of birth."), code="too_old")
    return born


def validate_date_of_birth(born: date) -> None:
    """The model's own check (`Patient.date_of_birth`), so a caller of the services meets the forms' rule."""
    clean_date_of_birth(born)

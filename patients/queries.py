"""Reads of patients: matching a person to a chart, and the front desk's search."""

from datetime import date

from django.db.models import Q

from patients.models import Patient

SEARCH_LIMIT = 20


def patient_match(*, email: str, date_of_birth: date, last_name: str) -> Patient | None:
    """The patient on file with this email, date of birth and last name (the oldest if several), or None.

    Three facts together: knowing an email alone must not attach a booking to someone's chart.
    """
    return (
        Patient.objects.filter(email__iexact=email, date_of_birth=date_of_birth, last_name__iexact=last_name)
        .order_by("pk")
        .first()
    )


def patient_search(*, name: str, date_of_birth: date | None) -> list[Patient]:
    """Patients whose first or last name holds every word of `name`, born on `date_of_birth` if given."""
    found = Patient.objects.all()
    for word in name.split():
        found = found.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if date_of_birth is not None:
        found = found.filter(date_of_birth=date_of_birth)
    return list(found.order_by("last_name", "first_name", "date_of_birth", "pk")[:SEARCH_LIMIT])

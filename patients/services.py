"""Writes of patients: a chart is created here, by the website's booking form or by the front desk.

Each creation leaves its audit row in the caller's transaction, so a booking that is
refused leaves neither a patient nor a row behind.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.models import Patient
from patients.queries import patient_match


@dataclass(frozen=True, slots=True)
class PatientDetails:
    """Who a patient is and how to reach them, as typed on a form."""

    first_name: str
    last_name: str
    date_of_birth: date
    phone: str
    email: str = ""
    language: str = Patient.Language.ENGLISH


class PatientExists(ValidationError):
    """The front desk typed in a patient already on file (same name and date of birth)."""

    def __init__(self) -> None:
        super().__init__(
            _("A patient with this name and date of birth is already on file. Find them above and choose them."),
            code="patient_exists",
        )


def mrn_for(patient: Patient) -> str:
    """The practice's medical record number: "RC" and the chart's number, six digits at least (RC000042)."""
    return f"RC{patient.pk:06d}"


def patient_create(*, details: PatientDetails, by: User | None, request: Any = None) -> Patient:
    """Create a chart and its audit row. `by` is the staff member, or None for the website's booking form."""
    language = details.language if details.language in Patient.Language.values else Patient.Language.ENGLISH
    patient = Patient(
        first_name=details.first_name,
        last_name=details.last_name,
        date_of_birth=details.date_of_birth,
        phone=details.phone,
        email=details.email,
        preferred_language=language,
    )
    patient.created_by = patient.updated_by = by
    patient.full_clean()
    # django-simple-history records this user on the history row.
    patient._history_user = by  # type: ignore[attr-defined]
    patient.save()
    patient.mrn = mrn_for(patient)
    patient.save(update_fields=["mrn"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        object_type="patient",
        object_ref=str(patient.uuid),
        patient=patient,
        request=request,
    )
    return patient


def patient_for_booking(*, details: PatientDetails, by: User | None, request: Any = None) -> Patient:
    """The chart a booking is for.

    From the website (`by` None): the patient on file with the same email, date of birth
    and last name, used as it is (a public form never changes a chart), else a new one.
    From the front desk: always a new chart, refused with `PatientExists` when one with
    the same name and date of birth is on file (the desk should choose that one).
    """
    if by is None:
        found = patient_match(email=details.email, date_of_birth=details.date_of_birth, last_name=details.last_name)
        if found is not None:
            return found
    elif Patient.objects.filter(
        first_name__iexact=details.first_name, last_name__iexact=details.last_name, date_of_birth=details.date_of_birth
    ).exists():
        raise PatientExists()
    return patient_create(details=details, by=by, request=request)

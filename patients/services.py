"""Writes of patients: a chart is created here (by the website's booking form or the front desk), and kept.

Each creation leaves its audit row in the caller's transaction, so a booking that is
refused leaves neither a patient nor a row behind. The chart's edits (demographics,
allergies, medications, medical history) follow; merging two charts is `patients.merge`.
"""

from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.models import Allergy, MedicalHistory, Medication, Patient, Source
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

    def __post_init__(self) -> None:
        refuse_nul(self)


def refuse_nul(details: Any) -> None:
    """Refuse a NUL character in any text of a dataclass of typed details, each by its field's name.

    The forms refuse NUL; a caller of the services gets the same refusal here, before any query is
    made with it (PostgreSQL refuses NUL in a text parameter with a DataError, SQLite would store it).
    """
    validator = ProhibitNullCharactersValidator()
    problems = {}
    for item in fields(details):
        value = getattr(details, item.name)
        if isinstance(value, str):
            try:
                validator(value)
            except ValidationError as error:
                problems[item.name] = error.messages
    if problems:
        raise ValidationError(problems)


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


# --- The chart: demographics, allergies, medications, medical history ---------------------------
#
# Each write below runs in one transaction: the row is re-read under a lock, checked
# (`full_clean`), saved with a history row naming who (django-simple-history's
# `_history_user`), and its audit row written before the commit. A refusal raises a
# `ValidationError` whose messages name the field they are about; nothing is saved.


class ChartRefused(ValidationError):
    """A change the chart cannot take as asked (already confirmed, already stopped, a merged chart)."""


@dataclass(frozen=True, slots=True)
class Demographics:
    """Who a patient is and how to reach them, as the chart's edit form gives them."""

    first_name: str
    last_name: str
    date_of_birth: date
    sex: str
    phone: str
    email: str
    street: str
    city: str
    state: str
    postal_code: str
    preferred_language: str

    def __post_init__(self) -> None:
        refuse_nul(self)


@dataclass(frozen=True, slots=True)
class HistoryAnswers:
    """The medical history as the chart's form gives it (None: not asked)."""

    diabetes: bool | None
    smoking: str
    cancer_history: bool | None
    cancer_details: str
    bleeding_disorder: bool | None
    prior_surgery_at_site: str
    notes: str

    def __post_init__(self) -> None:
        refuse_nul(self)


def _refuse_if_merged(patient: Patient) -> None:
    if patient.merged_into_id is not None:
        raise ChartRefused(
            _("This chart was merged into another one. Make changes on the surviving chart."), code="merged"
        )


def _locked_patient(patient: Patient) -> Patient:
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    _refuse_if_merged(locked)
    return locked


def _audit_change(
    *, by: User | None, object_type: str, ref: Any, patient: Patient, request: Any, create: bool = False
) -> None:
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE if create else AuditEvent.Action.CHANGE,
        object_type=object_type,
        object_ref=str(ref),
        patient=patient,
        request=request,
    )


def _save(row: Any, *, by: User | None, fields: list[str] | None = None, reason: str = "") -> None:
    row._history_user = by
    if reason:
        row._change_reason = reason
    row.save(update_fields=fields)


def patient_update(*, patient: Patient, details: Demographics, by: User, request: Any = None) -> Patient:
    """Change the chart's demographics and contact. The MRN and the chart's identity never change here."""
    with transaction.atomic():
        locked = _locked_patient(patient)
        for name, value in asdict(details).items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        locked.state = locked.state.upper()
        locked.updated_by = by
        locked.full_clean()
        _save(locked, by=by, fields=[*asdict(details), "updated_by", "updated_at"])
        _audit_change(by=by, object_type="patient", ref=locked.uuid, patient=locked, request=request)
    return locked


def allergy_add(
    *, patient: Patient, substance: str, reaction: str = "", by: User | None, source: str = Source.CLINICIAN,
    request: Any = None,
) -> Allergy:  # fmt: skip
    """Record an allergy. `source` PATIENT (intake) leaves it for a clinician to confirm."""
    with transaction.atomic():
        locked = _locked_patient(patient)
        allergy = Allergy(patient=locked, substance=substance.strip(), reaction=reaction.strip(), source=source)
        allergy.created_by = by
        allergy.full_clean()
        _save(allergy, by=by)
        _audit_change(by=by, object_type="allergy", ref=allergy.uuid, patient=locked, request=request, create=True)
    return allergy


def _locked_row(row: Any) -> Any:
    locked = type(row).objects.select_for_update().select_related("patient").get(pk=row.pk)
    _refuse_if_merged(locked.patient)
    return locked


def _refuse_unless_waiting(row: Any) -> None:
    if row.source != Source.PATIENT:
        raise ChartRefused(_("This was recorded by a clinician: there is nothing to confirm."), code="not_reported")
    if row.confirmed_at is not None:
        raise ChartRefused(_("This was already confirmed."), code="already_confirmed")


def allergy_confirm(*, allergy: Allergy, by: User, request: Any = None, now: datetime | None = None) -> Allergy:
    """A clinician confirms an allergy the patient reported."""
    with transaction.atomic():
        locked = _locked_row(allergy)
        _refuse_unless_waiting(locked)
        if not locked.is_active:
            raise ChartRefused(_("This allergy was marked as recorded in error."), code="inactive")
        locked.confirmed_at, locked.confirmed_by = now or timezone.now(), by
        _save(locked, by=by, fields=["confirmed_at", "confirmed_by"], reason="confirmed")
        _audit_change(by=by, object_type="allergy", ref=locked.uuid, patient=locked.patient, request=request)
    return locked


def allergy_deactivate(*, allergy: Allergy, by: User, request: Any = None) -> Allergy:
    """Mark an allergy as recorded in error (kept, with its history, but no longer listed as current)."""
    with transaction.atomic():
        locked = _locked_row(allergy)
        if not locked.is_active:
            raise ChartRefused(_("This allergy was already marked as recorded in error."), code="inactive")
        locked.is_active = False
        _save(locked, by=by, fields=["is_active"], reason="recorded in error")
        _audit_change(by=by, object_type="allergy", ref=locked.uuid, patient=locked.patient, request=request)
    return locked


def medication_add(
    *, patient: Patient, name: str, dose: str = "", by: User | None, source: str = Source.CLINICIAN,
    request: Any = None,
) -> Medication:  # fmt: skip
    """Record a medication; its drug class is computed from the name (`patients.medications`), with the version."""
    from patients import medications

    with transaction.atomic():
        locked = _locked_patient(patient)
        medication = Medication(patient=locked, name=name.strip(), dose=dose.strip(), source=source)
        medication.drug_class = medications.classify(medication.name)
        medication.classified_by = medications.VERSION
        medication.created_by = by
        medication.full_clean()
        _save(medication, by=by)
        _audit_change(
            by=by, object_type="medication", ref=medication.uuid, patient=locked, request=request, create=True
        )
    return medication


def medication_confirm(
    *, medication: Medication, by: User, request: Any = None, now: datetime | None = None
) -> Medication:
    """A clinician confirms a medication the patient reported; its class is computed again if an older list did it."""
    from patients import medications

    with transaction.atomic():
        locked = _locked_row(medication)
        _refuse_unless_waiting(locked)
        if not locked.is_active:
            raise ChartRefused(_("This medication was already stopped."), code="inactive")
        locked.confirmed_at, locked.confirmed_by = now or timezone.now(), by
        fields = ["confirmed_at", "confirmed_by"]
        if locked.classified_by != medications.VERSION:
            locked.drug_class, locked.classified_by = medications.classify(locked.name), medications.VERSION
            fields += ["drug_class", "classified_by"]
        _save(locked, by=by, fields=fields, reason="confirmed")
        _audit_change(by=by, object_type="medication", ref=locked.uuid, patient=locked.patient, request=request)
    return locked


def medication_stop(*, medication: Medication, by: User, request: Any = None) -> Medication:
    """The patient no longer takes it (or it was recorded in error): kept, with its history, no longer current."""
    with transaction.atomic():
        locked = _locked_row(medication)
        if not locked.is_active:
            raise ChartRefused(_("This medication was already stopped."), code="inactive")
        locked.is_active = False
        _save(locked, by=by, fields=["is_active"], reason="stopped")
        _audit_change(by=by, object_type="medication", ref=locked.uuid, patient=locked.patient, request=request)
    return locked


def medical_history_save(
    *, patient: Patient, answers: HistoryAnswers, by: User, request: Any = None, now: datetime | None = None
) -> MedicalHistory:
    """Write the medical history as a clinician reviewed it: created if there is none; confirmed by `by`.

    Its `source` stays who first said it (the patient at intake, or a clinician).
    """
    with transaction.atomic():
        locked = _locked_patient(patient)
        history = MedicalHistory.objects.select_for_update().filter(patient=locked).first()
        created = history is None
        if history is None:
            history = MedicalHistory(patient=locked, source=Source.CLINICIAN)
        for name, value in asdict(answers).items():
            setattr(history, name, value.strip() if isinstance(value, str) else value)
        history.confirmed_at, history.confirmed_by, history.updated_by = now or timezone.now(), by, by
        history.full_clean()
        _save(history, by=by)
        _audit_change(
            by=by, object_type="medical_history", ref=locked.uuid, patient=locked, request=request, create=created
        )
    return history


def medical_history_confirm(
    *, patient: Patient, by: User, request: Any = None, now: datetime | None = None
) -> MedicalHistory:
    """A clinician confirms the medical history the patient reported, as it is."""
    with transaction.atomic():
        locked = _locked_patient(patient)
        history = MedicalHistory.objects.select_for_update().filter(patient=locked).first()
        if history is None:
            raise ChartRefused(_("There is no medical history to confirm yet."), code="missing")
        _refuse_unless_waiting(history)
        history.confirmed_at, history.confirmed_by, history.updated_by = now or timezone.now(), by, by
        _save(history, by=by, fields=["confirmed_at", "confirmed_by", "updated_by", "updated_at"], reason="confirmed")
        _audit_change(by=by, object_type="medical_history", ref=locked.uuid, patient=locked, request=request)
    return history

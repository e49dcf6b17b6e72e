"""Patients in the admin, under the access policy and the audit log like every staff page.

The chart's own parts (medical history, allergies, medications) are records of kind
PATIENT; intake, episodes and candidacy, and consent are the kinds the policy names
for them. All but the patient's demographics are read-only here: they are written
through their services (`patients.services`, `patients.merge`, `patients.consent`...),
where the rules, the history and the audit rows live. Lists show public ids, dates and
states, never names or free text; there is no search box (its terms would travel in
the URL: staff find patients on /staff/patients/, a POST).
"""

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from patients.models import (
    Allergy,
    CandidacyAssessment,
    ConsentDocument,
    ConsentSignature,
    Episode,
    Intake,
    MedicalHistory,
    Medication,
    Patient,
)


@admin.register(Patient)
class PatientAdmin(AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.PATIENT
    editable = True
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email", "preferred_language"]
    # No search box: its terms would travel in the URL. Staff find patients on /staff/patients/ (a POST).
    readonly_fields = ["uuid", "mrn", "merged_into", "created_at", "created_by", "updated_by"]

    @staticmethod
    def patient_of(patient: Patient) -> Patient:
        return patient


class _ReadOnly(AuditedAdmin, SimpleHistoryAdmin):
    """A chart's record seen in the admin: every field shown, none editable (its service writes it)."""

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    @staticmethod
    def patient_of(row: Any) -> Any:
        return row.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("patient")


@admin.register(MedicalHistory)
class MedicalHistoryAdmin(_ReadOnly):
    record = access.Record.PATIENT
    list_display = ["patient_ref", "source", "confirmed_at", "updated_at"]
    list_filter = ["source"]

    @admin.display(description="patient")
    def patient_ref(self, history: MedicalHistory) -> str:
        return str(history.patient.uuid)


@admin.register(Allergy)
class AllergyAdmin(_ReadOnly):
    record = access.Record.PATIENT
    list_display = ["uuid", "source", "confirmed_at", "is_active", "created_at"]
    list_filter = ["source", "is_active"]


@admin.register(Medication)
class MedicationAdmin(_ReadOnly):
    record = access.Record.PATIENT
    list_display = ["uuid", "drug_class", "classified_by", "source", "confirmed_at", "is_active", "created_at"]
    list_filter = ["drug_class", "source", "is_active"]


@admin.register(Intake)
class IntakeAdmin(_ReadOnly):
    record = access.Record.INTAKE
    list_display = ["uuid", "status", "language", "submitted_at", "confirmed_at"]
    list_filter = ["status", "language"]


@admin.register(Episode)
class EpisodeAdmin(_ReadOnly):
    record = access.Record.EPISODE
    list_display = ["uuid", "indication", "site", "side", "status", "opened_at"]
    list_filter = ["status", "indication", "site"]


@admin.register(CandidacyAssessment)
class CandidacyAssessmentAdmin(_ReadOnly):
    record = access.Record.EPISODE
    list_display = ["uuid", "indication", "site", "side", "decision", "decided_at"]
    list_filter = ["decision", "indication"]


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(AuditedAdmin, admin.ModelAdmin):
    """Published versions never change: staff publish a new one (`patients.consent.document_publish`)."""

    record = access.Record.CONSENT_DOCUMENT
    list_display = ["title", "language", "version", "published_at", "requires_witness"]
    list_filter = ["language"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [field.name for field in ConsentDocument._meta.fields]


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(AuditedAdmin, admin.ModelAdmin):
    """Signatures are bound to what was signed: shown, never changed here (withdrawal is a service)."""

    record = access.Record.CONSENT
    list_display = ["uuid", "document", "method", "signed_at", "withdrawn_at"]
    list_filter = ["method"]
    # The drawn signature and the PDF are large and are read on the consent pages, which verify them.
    exclude = ["signature_png", "pdf"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [field.name for field in ConsentSignature._meta.fields if field.name not in self.exclude]

    @staticmethod
    def patient_of(signature: ConsentSignature) -> Any:
        return signature.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("episode__patient", "document")

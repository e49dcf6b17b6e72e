"""Patients in the admin, under the access policy and the audit log like every staff page."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.PATIENT
    editable = True
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email", "preferred_language"]
    # No search box: its terms would travel in the URL. Staff find patients on the calendar's search (a POST).
    readonly_fields = ["uuid", "mrn", "merged_into", "created_at", "created_by", "updated_by"]

    @staticmethod
    def patient_of(patient: Patient) -> Patient:
        return patient

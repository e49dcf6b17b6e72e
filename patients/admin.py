from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from patients.models import Patient


@admin.register(Patient)
class PatientAdmin(SimpleHistoryAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "phone", "email", "preferred_language"]
    search_fields = ["last_name", "first_name", "email", "phone"]
    readonly_fields = ["uuid", "created_at"]

"""Procedure records, their injections and amendments, and adverse events in the admin: read-only, audited.

Rows are written by `procedures.services` (where the rules and the signature live), never
from here; the admin is for looking, under the same policy and audit as the staff pages
(`accounts.admin_access.AuditedAdmin`). Lists show public ids and dates, no names.
"""

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from procedures.models import AdverseEvent, Injection, ProcedureAmendment, ProcedureRecord

INJECTION_COLUMNS = (
    "uuid",
    "injected_at",
    "target_structure",
    "site",
    "side",
    "guidance",
    "concentrate_ml",
    "prp_ml",
    "carrier",
    "activation_agent",
    "sample_label",
    "recorded_by",
)
AMENDMENT_COLUMNS = ("amended_at", "amended_by", "reason", "changes", "content_sha256")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class InjectionInline(ReadOnlyInline):
    model = Injection
    fields = INJECTION_COLUMNS
    readonly_fields = INJECTION_COLUMNS


class AmendmentInline(ReadOnlyInline):
    model = ProcedureAmendment
    fields = AMENDMENT_COLUMNS
    readonly_fields = AMENDMENT_COLUMNS


@admin.register(ProcedureRecord)
class ProcedureRecordAdmin(AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.PROCEDURE
    list_display = ["uuid", "procedure_date", "status", "paw_code", "signed_at"]
    list_filter = ["status"]
    inlines = [InjectionInline, AmendmentInline]

    @staticmethod
    def patient_of(record: ProcedureRecord) -> Any:
        return record.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("episode__patient")


@admin.register(AdverseEvent)
class AdverseEventAdmin(AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.ADVERSE_EVENT
    list_display = ["uuid", "kind", "grade", "serious", "onset_date", "adjudicated_at"]
    list_filter = ["kind", "grade", "serious"]

    @staticmethod
    def patient_of(event: AdverseEvent) -> Any:
        return event.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("episode__patient")

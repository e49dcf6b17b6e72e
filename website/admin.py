from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from website.models import Inquiry, Office, OfficeHours, Practice, SocialLink, TherapyPage


@admin.register(Practice)
class PracticeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "notification_email", "regulatory_notice_enabled", "is_example"]
    fieldsets = [
        (None, {"fields": ["name", "legal_name", "notification_email", "is_example"]}),
        (
            "Regulatory notice on the therapy pages",
            {"fields": ["regulatory_notice_enabled", "regulatory_notice_en", "regulatory_notice_es"]},
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Practice.objects.exists()


class OfficeHoursInline(admin.TabularInline[OfficeHours, Office]):
    model = OfficeHours
    extra = 0


@admin.register(Office)
class OfficeAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city", "phone", "is_active", "order"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OfficeHoursInline]


@admin.register(SocialLink)
class SocialLinkAdmin(admin.ModelAdmin[SocialLink]):
    list_display = ["network", "url", "order"]


@admin.register(TherapyPage)
class TherapyPageAdmin(SimpleHistoryAdmin):
    """Staff edit the public therapy text here; each save is kept as a version."""

    list_display = ["title", "slug", "language", "updated_at", "updated_by"]
    list_filter = ["slug", "language"]
    readonly_fields = ["updated_at", "updated_by"]
    history_list_display = ["title"]

    def save_model(self, request: HttpRequest, obj: TherapyPage, form: Any, change: bool) -> None:
        obj.updated_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(Inquiry)
class InquiryAdmin(AuditedAdmin, admin.ModelAdmin[Inquiry]):
    """Read-only: the front desk answers inquiries in the inbox (/staff/inquiries/)."""

    record = access.Record.INQUIRY
    list_display = ["created_at", "name", "email", "preferred_office", "status", "urgent"]
    list_filter = ["status", "urgent", "preferred_office"]
    readonly_fields = ["uuid", "created_at", "client_key", "language", "sent_despite_medical_notice", "urgent"]

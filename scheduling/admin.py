"""Staff edit providers, rooms, hours, types and rules here; appointments are written through the services."""

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from scheduling.models import (
    Appointment,
    AppointmentType,
    BookingRules,
    CallbackRequest,
    Provider,
    Reminder,
    Room,
    ScheduleException,
    WorkingHours,
)


class WorkingHoursInline(admin.TabularInline[WorkingHours, Provider]):
    model = WorkingHours
    extra = 0


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    """The one record of a clinician: calendar, sign-in, and the public profile the office pages show."""

    list_display = ["name", "kind", "user", "is_active", "is_public"]
    list_filter = ["kind", "is_active", "is_public"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "user", "color", "is_active"]}),
        ("On the website", {"fields": ["is_public", "credentials", "bio_en", "bio_es", "order"]}),
    ]
    inlines = [WorkingHoursInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin[Room]):
    list_display = ["name", "office", "kind", "is_active"]
    list_filter = ["office", "kind"]


@admin.register(ScheduleException)
class ScheduleExceptionAdmin(admin.ModelAdmin[ScheduleException]):
    list_display = ["starts_at", "ends_at", "kind", "provider", "office", "room"]
    list_filter = ["kind", "office"]
    date_hierarchy = "starts_at"
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request: HttpRequest, obj: ScheduleException, form: object, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin[AppointmentType]):
    list_display = ["name", "duration_minutes", "buffer_after_minutes", "bookable_online", "room_kind", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(BookingRules)
class BookingRulesAdmin(admin.ModelAdmin[BookingRules]):
    list_display = [
        "practice",
        "min_notice_hours",
        "horizon_days",
        "cancel_cutoff_hours",
        "slot_step_minutes",
        "reminder_hours",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BookingRules.objects.exists()


@admin.register(Appointment)
class AppointmentAdmin(AuditedAdmin, SimpleHistoryAdmin):
    """Read-only: bookings go through the services so that every rule applies."""

    record = access.Record.APPOINTMENT
    list_display = ["starts_at", "office", "provider", "appointment_type", "status", "source"]
    list_filter = ["office", "provider", "status", "source"]
    date_hierarchy = "starts_at"
    search_fields = ["uuid"]
    raw_id_fields = ["patient"]

    @staticmethod
    def patient_of(appointment: Appointment) -> object:
        return appointment.patient


@admin.register(CallbackRequest)
class CallbackRequestAdmin(AuditedAdmin, admin.ModelAdmin[CallbackRequest]):
    """Read-only here: the front desk marks requests done on the calendar's call-back list."""

    record = access.Record.CALLBACK
    list_display = ["created_at", "name", "phone", "office", "handled"]
    list_filter = ["handled", "office"]
    readonly_fields = ["uuid", "created_at", "handled_at", "handled_by"]


@admin.register(Reminder)
class ReminderAdmin(AuditedAdmin, admin.ModelAdmin[Reminder]):
    """Read-only: which reminders were queued or skipped; whether each went out is its outbox email's status."""

    record = access.Record.REMINDER
    list_display = ["due_at", "status", "skip_reason", "offset_minutes", "email_status", "claimed_at"]
    list_filter = ["status", "skip_reason"]
    date_hierarchy = "due_at"
    list_select_related = ["email"]

    @admin.display(description="email")
    def email_status(self, reminder: Reminder) -> str:
        return reminder.email.get_status_display() if reminder.email else "—"

"""The outbox as staff see it: what went out, what is waiting, what failed for good (and can be sent again)."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import access
from accounts.admin_access import AuditedAdmin
from accounts.models import User
from outbox.models import Email
from outbox.services import email_send_again


@admin.register(Email)
class EmailAdmin(AuditedAdmin, admin.ModelAdmin[Email]):
    record = access.Record.EMAIL
    list_display = ["created_at", "kind", "to", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "kind"]
    date_hierarchy = "created_at"
    search_fields = ["uuid", "reference"]
    SHOWN = [
        "uuid",
        "kind",
        "reference",
        "to",
        "subject",
        "status",
        "attempts",
        "last_error",
        "not_after",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "created_at",
    ]
    fields = tuple(SHOWN)
    readonly_fields = SHOWN
    actions = ["send_again"]

    @admin.action(description="Send again (emails that gave up or were interrupted)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        user: Any = request.user
        if not (isinstance(user, User) and access.can(user, access.Act.CHANGE, access.Record.EMAIL)):
            return
        again = [email_send_again(email=email, by=user) for email in queryset]
        queued = sum(1 for email in again if email.status == Email.Status.QUEUED)
        messages.info(request, f"{queued} email(s) queued again; the others had not failed for good.")

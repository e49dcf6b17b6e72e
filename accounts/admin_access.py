"""The admin under the same policy and audit as the staff pages.

A ModelAdmin of patient-scoped records mixes in `AuditedAdmin` and names its `record`
(and `patient_of`, when the record concerns a patient): who may open the list, a row or
the add form is `accounts.access.can`; a row is reached through `get_for_user` (a read
leaves its "view" row); a save leaves its "change" or "create" row inside the admin's
own transaction; the list leaves one row naming the page. Nothing is deleted from here.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.admin.utils import unquote
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.audit import audit_record
from accounts.models import AuditEvent


class AuditedAdmin:
    record: access.Record
    patient_of: Callable[[Any], Any] | None = None
    # Rows are written through the services (where the rules live) unless a subclass allows it.
    editable = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return access.can(request.user, access.Act.VIEW, self.record)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return access.can(request.user, access.Act.VIEW, self.record)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.editable and access.can(request.user, access.Act.CHANGE, self.record)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self.editable and access.can(request.user, access.Act.CREATE, self.record)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        act = access.Act.VIEW if request.method in ("GET", "HEAD") else access.Act.CHANGE
        patient_of = type(self).patient_of
        return access.get_for_user(
            request,
            self.get_queryset(request),  # type: ignore[attr-defined]
            record=self.record,
            act=act,
            patient_of=patient_of,
            pk=unquote(object_id),
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        # django-simple-history's history pages look the row up themselves; Django's own call get_object.
        if isinstance(self, SimpleHistoryAdmin):
            self.get_object(request, object_id)
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        self.get_object(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)  # type: ignore[misc]

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self.editable

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response: HttpResponse = super().changelist_view(request, extra_context)  # type: ignore[misc]
        if response.status_code == 200:
            access.audit_list(request, record=self.record, ref="admin:list")
        return response

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        patient_of = type(self).patient_of
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.CHANGE if change else AuditEvent.Action.CREATE,
            object_type=str(self.record),
            object_ref=str(getattr(obj, "uuid", obj.pk)),
            patient=patient_of(obj) if patient_of else None,
            request=request,
        )

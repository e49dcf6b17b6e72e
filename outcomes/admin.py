"""Outcomes in the admin: the instrument sets, which staff edit; follow-ups, answers and scores, read-only.

The instrument sets (which questionnaires each indication answers) are the practice's
settings, edited here like its offices and hours. Follow-ups, invitations, responses,
scores and conversions to surgery are written by `outcomes.services` and
`outcomes.invitations` (where the rules, the scoring and the audit rows live), never from
here; the admin is for looking, under the same policy and audit as the staff pages
(`accounts.admin_access.AuditedAdmin`). Lists show public ids, dates and states, no names.
"""

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts import access
from accounts.admin_access import AuditedAdmin
from outcomes import instruments
from outcomes.models import FollowUp, InstrumentSet, Invitation, Response, Score, SurgeryConversion


@admin.register(InstrumentSet)
class InstrumentSetAdmin(SimpleHistoryAdmin):
    list_display = ["indication", "site", "instrument", "after_treatment_only", "order"]
    list_filter = ["indication", "site"]

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        field = form.base_fields["instrument"]
        field.help_text = f"One of: {', '.join(sorted(instruments.INSTRUMENTS))}."
        return form

    def save_model(self, request: Any, obj: InstrumentSet, form: Any, change: bool) -> None:
        # Instruments are looked up by their upper-case code (`outcomes.instruments.get`).
        obj.instrument = obj.instrument.strip().upper()
        super().save_model(request, obj, form, change)


class _ReadOnly:
    """An outcomes record seen in the admin: every field shown, none editable (its service writes it)."""

    model: Any

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


@admin.register(FollowUp)
class FollowUpAdmin(_ReadOnly, AuditedAdmin, admin.ModelAdmin[FollowUp]):
    record = access.Record.FOLLOW_UP
    list_display = ["uuid", "timepoint", "target_date", "opens_on", "closes_on", "status", "completed_at"]
    list_filter = ["status", "timepoint"]

    @staticmethod
    def patient_of(follow_up: FollowUp) -> Any:
        return follow_up.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("episode__patient")


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly, AuditedAdmin, admin.ModelAdmin[Invitation]):
    record = access.Record.FOLLOW_UP
    list_display = ["follow_up_ref", "kind", "status", "skip_reason", "claimed_at"]
    list_filter = ["kind", "status"]
    # The link holds a token's digest and the email its body: both are read where they belong.
    exclude = ["link", "email"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [field.name for field in Invitation._meta.fields if field.name not in self.exclude]

    @staticmethod
    def patient_of(invitation: Invitation) -> Any:
        return invitation.follow_up.episode.patient

    @admin.display(description="follow-up")
    def follow_up_ref(self, invitation: Invitation) -> str:
        return str(invitation.follow_up.uuid)

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("follow_up__episode__patient")


@admin.register(Response)
class ResponseAdmin(_ReadOnly, AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.OUTCOME
    list_display = ["uuid", "instrument", "mode", "status", "language", "submitted_at"]
    list_filter = ["instrument", "mode", "status"]

    @staticmethod
    def patient_of(response: Response) -> Any:
        return response.follow_up.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("follow_up__episode__patient")


@admin.register(Score)
class ScoreAdmin(_ReadOnly, AuditedAdmin, admin.ModelAdmin[Score]):
    record = access.Record.OUTCOME
    list_display = ["response_ref", "instrument", "code", "timepoint", "value", "reason", "scoring_version"]
    list_filter = ["instrument", "timepoint"]

    @staticmethod
    def patient_of(score: Score) -> Any:
        return score.episode.patient

    @admin.display(description="response")
    def response_ref(self, score: Score) -> str:
        return str(score.response.uuid)

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("response", "episode__patient")


@admin.register(SurgeryConversion)
class SurgeryConversionAdmin(_ReadOnly, AuditedAdmin, SimpleHistoryAdmin):
    record = access.Record.OUTCOME
    list_display = ["uuid", "surgery_date", "procedure", "source", "recorded_at"]
    list_filter = ["procedure", "source"]

    @staticmethod
    def patient_of(conversion: SurgeryConversion) -> Any:
        return conversion.episode.patient

    def get_queryset(self, request: Any) -> Any:
        return super().get_queryset(request).select_related("episode__patient")

"""Adverse events: reported in an episode, judged by a physician; and the de-identified safety summary.

Reporting and reading are for the clinical roles (`ADVERSE_EVENT` in the policy); the
judgement of relatedness is a physician's. The safety summary (`SAFETY_SUMMARY`) is counts
only, with no name, date of birth or id: managers and researchers may open it.
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.models import Episode, Patient
from procedures import queries, services
from procedures.forms.adverse_events import AdjudicationForm, AdverseEventForm
from procedures.models import AdverseEvent, ProcedureRecord
from procedures.views.records import _audit_shown, apply_errors


def _episode_patient(episode: Episode) -> Patient:
    return episode.patient


def _event_patient(event: AdverseEvent) -> Patient:
    return event.episode.patient


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def adverse_event_new(request: HttpRequest, episode: Any) -> HttpResponse:
    # Creating is the policy question; the page shows the episode, so a read is recorded for it.
    found = access.get_for_user(
        request,
        queries.episodes(),
        record=Record.ADVERSE_EVENT,
        act=Act.CREATE,
        patient_of=_episode_patient,
        uuid=episode,
    )
    user = cast(User, request.user)
    procedures = list(found.procedures.exclude(status=ProcedureRecord.Status.IN_PROGRESS).order_by("-procedure_date"))
    procedures += list(found.procedures.filter(status=ProcedureRecord.Status.IN_PROGRESS))
    if request.method == "POST":
        access.refuse_unless_within(
            request, request.POST.get("procedure"), within=procedures, record=Record.PROCEDURE, act=Act.VIEW
        )
    form = AdverseEventForm(request.POST or None, procedures=procedures)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.adverse_event_report(
                episode=found, data=form.report_data(), by=user, now=timezone.now(), request=request
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, _("Adverse event recorded."))
            return redirect("procedures:adverse_event", uuid=event.uuid)
    _audit_shown(request, object_type=Record.EPISODE, ref=found.uuid, patient=found.patient)
    return render(
        request,
        "procedures/adverse_event_new.html",
        {"episode": found, "patient": found.patient, "form": form},
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def adverse_event(request: HttpRequest, uuid: Any) -> HttpResponse:
    act = Act.CHANGE if request.method == "POST" else Act.VIEW
    event = access.get_for_user(
        request, queries.adverse_events(), record=Record.ADVERSE_EVENT, act=act, patient_of=_event_patient, uuid=uuid
    )
    user = cast(User, request.user)
    physician = services.is_physician(user)
    form = AdjudicationForm(initial=AdjudicationForm.initial_for(event)) if physician else None
    if request.method == "POST":
        if not physician:
            # A refused judgement is a refused attempt at the record: its "denied" row, as access.get_for_user leaves.
            audit_record(
                actor=user,
                action=AuditEvent.Action.CHANGE,
                object_type=Record.ADVERSE_EVENT,
                object_ref=str(event.uuid),
                patient=event.episode.patient,
                outcome=AuditEvent.Outcome.DENIED,
                request=request,
            )
            raise PermissionDenied
        form = AdjudicationForm(request.POST)
        if form.is_valid():
            try:
                services.adverse_event_adjudicate(
                    event=event, by=user, now=timezone.now(), request=request, **form.cleaned_data
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Judgement recorded."))
                return redirect("procedures:adverse_event", uuid=event.uuid)
        _audit_shown(request, object_type=Record.ADVERSE_EVENT, ref=event.uuid, patient=event.episode.patient)
    return render(
        request,
        "procedures/adverse_event.html",
        {"event": event, "episode": event.episode, "patient": event.episode.patient, "form": form},
    )


@never_cache
@login_required
@require_safe
def safety_summary(request: HttpRequest) -> HttpResponse:
    access.require(request, Act.VIEW, Record.SAFETY_SUMMARY)
    summary = queries.safety_summary()
    access.audit_list(request, record=Record.SAFETY_SUMMARY, ref="safety:all")
    return render(
        request,
        "procedures/safety_summary.html",
        {"summary": summary, "grades": queries.GRADES},
    )

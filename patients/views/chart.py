"""The staff chart: find a patient (/staff/patients/), their chart, its edits, and merging two charts.

Every patient (and every allergy or medication of one) is reached through
`accounts.access.get_for_user`: another patient's record, a record that does not exist
and a role without the patient chart (practice managers, researchers) are the same 404.
A page that shows a chart leaves one "view" row; a change is recorded by its service in
its own transaction, and a refused change that shows the chart again records that read.
Search terms travel in POST bodies only; URLs carry public uuids. Every page here is
`never_cache`: nothing of a chart stays in a browser's or a proxy's cache.
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients import chart as charts
from patients import merge as merging
from patients import services
from patients.forms.chart import (
    AllergyForm,
    ChartSearchForm,
    DemographicsForm,
    MedicalHistoryForm,
    MedicationForm,
    MergeForm,
    show_refusal,
)
from patients.models import Allergy, Medication, Patient
from patients.queries import patient_find

# --- Access: the one way in ----------------------------------------------------------------------


def _patient_of(patient: Patient) -> Patient:
    return patient


def _get_patient(request: HttpRequest, uuid: Any, act: Act) -> Patient:
    """The chart `uuid` names, if the person's role may `act` on charts; a VIEW leaves its audit row."""
    return access.get_for_user(
        request, charts.chart_patients(), record=Record.PATIENT, act=act, patient_of=_patient_of, uuid=uuid
    )


def _get_row(request: HttpRequest, queryset: QuerySet[Any], uuid: Any) -> Any:
    """An allergy or a medication of the chart already reached (another chart's is a 404), to change."""
    return access.get_for_user(request, queryset, record=Record.PATIENT, act=Act.CHANGE, uuid=uuid)


def _audit_shown(request: HttpRequest, patient: Patient) -> None:
    """A page that shows the chart, reached for a change (an edit form, a refused change shown again): a read."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        object_type=Record.PATIENT,
        object_ref=str(patient.uuid),
        patient=patient,
        request=request,
    )


def _url(name: str, **kwargs: Any) -> str | None:
    """The URL of another engineer's page, or None while its route does not exist (the chart links only to what is)."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _chart_url(patient: Patient, anchor: str = "") -> str:
    return patient.get_absolute_url() + (f"#{anchor}" if anchor else "")


# --- Search --------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    user = access.require(request, Act.VIEW, Record.PATIENT)
    if request.method in ("GET", "HEAD"):
        return render(
            request, "patients/chart/search.html", {"form": ChartSearchForm(), "results": None, "section": "search"}
        )
    form = ChartSearchForm(request.POST)
    results = None
    if form.is_valid():
        results = patient_find(**form.terms())
        # One row for the page, naming how many charts it showed (never who, never the terms).
        audit_record(
            actor=user,
            action=AuditEvent.Action.VIEW,
            object_type="patient_search",
            object_ref=f"results:{len(results.found)}",
            request=request,
        )
    return render(request, "patients/chart/search.html", {"form": form, "results": results, "section": "search"})


# --- The chart -----------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def chart(request: HttpRequest, uuid: Any) -> HttpResponse:
    patient = _get_patient(request, uuid, Act.VIEW)
    user = request.user
    context: dict[str, Any] = {
        "patient": patient,
        "can_change": access.can(user, Act.CHANGE, Record.PATIENT),
        "can_merge": access.can(user, Act.MERGE, Record.PATIENT),
        "section": "chart",
    }
    if patient.is_merged:
        return render(request, "patients/chart/merged.html", context)
    data = charts.chart_read(patient=patient)
    context.update(
        chart=data,
        episodes=[
            {
                "panel": panel,
                "url": _url("patients:episode", uuid=panel.episode.uuid),
                "procedures": [(record, _url("procedures:record", uuid=record.uuid)) for record in panel.procedures],
            }
            for panel in data.episodes
        ],
        intakes=[(intake, _url("patients:intake_review", uuid=intake.uuid)) for intake in data.intakes],
        access_report_url=_url("accounts:access_report", uuid=patient.uuid),
        # A clinician whose role does not read the whole record can ask for it (accounts.break_glass).
        break_glass_url=(_url("accounts:break_glass", uuid=patient.uuid) if access.break_glass_offered(user) else None),
        assessment_url=(
            _url("patients:assessment_new", uuid=patient.uuid) if access.can(user, Act.CREATE, Record.EPISODE) else None
        ),
        today=timezone.localdate(),
    )
    return render(request, "patients/chart/chart.html", context)


# --- Edits ---------------------------------------------------------------------------------------


def _edit_page(
    request: HttpRequest, uuid: Any, *, template: str, form_class: type, initial: Any, save: Any, done: str, anchor: str
) -> HttpResponse:
    """GET: the form filled from the chart (a read). POST: one service call; its refusal next to the field."""
    # A role that may read charts but not change them (the technician) meets the same 404 as a miss.
    patient = _get_patient(request, uuid, Act.CHANGE)
    if request.method != "POST":
        _audit_shown(request, patient)
        return render(request, template, {"patient": patient, "form": form_class(initial=initial(patient))})
    form = form_class(request.POST)
    if form.is_valid():
        try:
            save(patient, form, cast(User, request.user))
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, done)
            return redirect(_chart_url(patient, anchor))
    _audit_shown(request, patient)
    return render(request, template, {"patient": patient, "form": form})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _edit_page(
        request,
        uuid,
        template="patients/chart/edit.html",
        form_class=DemographicsForm,
        initial=DemographicsForm.initial_for,
        save=lambda patient, form, user: services.patient_update(
            patient=patient, details=form.details(), by=user, request=request
        ),
        done=_("Demographics and contact saved."),
        anchor="",
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def allergy_add(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _edit_page(
        request,
        uuid,
        template="patients/chart/allergy_add.html",
        form_class=AllergyForm,
        initial=lambda patient: {},
        save=lambda patient, form, user: services.allergy_add(
            patient=patient,
            substance=form.cleaned_data["substance"],
            reaction=form.cleaned_data["reaction"],
            by=user,
            request=request,
        ),
        done=_("Allergy added."),
        anchor="allergies",
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def medication_add(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _edit_page(
        request,
        uuid,
        template="patients/chart/medication_add.html",
        form_class=MedicationForm,
        initial=lambda patient: {},
        save=lambda patient, form, user: services.medication_add(
            patient=patient, name=form.cleaned_data["name"], dose=form.cleaned_data["dose"], by=user, request=request
        ),
        done=_("Medication added."),
        anchor="medications",
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def history(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _edit_page(
        request,
        uuid,
        template="patients/chart/history.html",
        form_class=MedicalHistoryForm,
        initial=lambda patient: MedicalHistoryForm.initial_for(charts.history_of(patient)),
        save=lambda patient, form, user: services.medical_history_save(
            patient=patient, answers=form.answers(), by=user, request=request
        ),
        done=_("Medical history saved."),
        anchor="history",
    )


def _row_action(
    request: HttpRequest, uuid: Any, item: Any, *, model: type[Model], service: Any, done: str, anchor: str
) -> HttpResponse:
    """A button on the chart (confirm, stop, recorded in error): one service call, then back to the chart."""
    patient = _get_patient(request, uuid, Act.CHANGE)
    row = _get_row(request, model._default_manager.filter(patient=patient), item)
    try:
        service(row, cast(User, request.user))
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        # Messages travel in a cookie: they never name the allergy or the medication.
        messages.success(request, done)
    return redirect(_chart_url(patient, anchor))


@never_cache
@login_required
@require_POST
def allergy_confirm(request: HttpRequest, uuid: Any, item: Any) -> HttpResponse:
    return _row_action(
        request,
        uuid,
        item,
        model=Allergy,
        service=lambda row, user: services.allergy_confirm(allergy=row, by=user, request=request),
        done=_("Allergy confirmed."),
        anchor="allergies",
    )


@never_cache
@login_required
@require_POST
def allergy_deactivate(request: HttpRequest, uuid: Any, item: Any) -> HttpResponse:
    return _row_action(
        request,
        uuid,
        item,
        model=Allergy,
        service=lambda row, user: services.allergy_deactivate(allergy=row, by=user, request=request),
        done=_("Allergy marked as recorded in error."),
        anchor="allergies",
    )


@never_cache
@login_required
@require_POST
def medication_confirm(request: HttpRequest, uuid: Any, item: Any) -> HttpResponse:
    return _row_action(
        request,
        uuid,
        item,
        model=Medication,
        service=lambda row, user: services.medication_confirm(medication=row, by=user, request=request),
        done=_("Medication confirmed."),
        anchor="medications",
    )


@never_cache
@login_required
@require_POST
def medication_stop(request: HttpRequest, uuid: Any, item: Any) -> HttpResponse:
    return _row_action(
        request,
        uuid,
        item,
        model=Medication,
        service=lambda row, user: services.medication_stop(medication=row, by=user, request=request),
        done=_("Medication marked as stopped."),
        anchor="medications",
    )


@never_cache
@login_required
@require_POST
def history_confirm(request: HttpRequest, uuid: Any) -> HttpResponse:
    patient = _get_patient(request, uuid, Act.CHANGE)
    try:
        services.medical_history_confirm(patient=patient, by=cast(User, request.user), request=request)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Medical history confirmed."))
    return redirect(_chart_url(patient, "history"))


# --- Merge ---------------------------------------------------------------------------------------


def _render_merge(request: HttpRequest, charts_shown: tuple[Patient, Patient], form: MergeForm) -> HttpResponse:
    merged = [chart for chart in charts_shown if chart.is_merged]
    return render(
        request,
        "patients/chart/merge.html",
        {
            "patient": charts_shown[0],
            "other": charts_shown[1],
            "columns": [(chart, merging.records_to_move(chart)) for chart in charts_shown],
            "form": form,
            "merged": merged,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def merge(request: HttpRequest, uuid: Any, other: Any) -> HttpResponse:
    """Both charts side by side; staff choose the one to keep and say why."""
    access.require(request, Act.MERGE, Record.PATIENT, hide=True)
    if uuid == other:
        patient = _get_patient(request, uuid, Act.MERGE)
        messages.error(request, _("A chart cannot be merged into itself."))
        return redirect(_chart_url(patient))
    if request.method != "POST":
        shown = (_get_patient(request, uuid, Act.VIEW), _get_patient(request, other, Act.VIEW))
        return _render_merge(request, shown, MergeForm(charts=shown))
    shown = (_get_patient(request, uuid, Act.MERGE), _get_patient(request, other, Act.MERGE))
    form = MergeForm(request.POST, charts=shown)
    if form.is_valid():
        survivor, duplicate = form.chosen()
        try:
            merging.patient_merge(
                survivor=survivor,
                duplicate=duplicate,
                by=cast(User, request.user),
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                _("Merged. Chart %(duplicate)s now leads here; its records moved to this chart.")
                % {"duplicate": duplicate.mrn},
            )
            return redirect(_chart_url(survivor))
    for chart in shown:
        _audit_shown(request, chart)
    return _render_merge(request, shown, form)

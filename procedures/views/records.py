"""The same-day procedure record's staff pages: start, the record with its sections, sign-off, amend, verify, PDF.

Who may do what is `accounts.access.POLICY` (PROCEDURE): physicians, physician assistants
and processing technicians read and fill the record, physicians and PAs start one, only
physicians sign. Every record is reached through `accounts.access.get_for_user` (another
role's or another episode's record is a 404); a page that shows the record leaves one
"view" row, a change leaves the service's row, in its transaction. Times are read and shown
in the zone of the office where the visit is.
"""

from typing import Any, cast
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.consent import valid_consent
from patients.models import Episode, Patient
from procedures import pdf, queries, services
from procedures.baseline import baseline_check
from procedures.forms.records import (
    ORDER,
    SECTION_FORMS,
    AmendReasonForm,
    InjectionForm,
    SectionForm,
    SignForm,
    StartForm,
)
from procedures.models import ProcedureRecord
from procedures.presentation import sections_of

INJECTION = "injection"


# --- Access --------------------------------------------------------------------------------------


def _patient_of(record: ProcedureRecord) -> Patient:
    return record.episode.patient


def _get_record(request: HttpRequest, uuid: Any, act: Act) -> ProcedureRecord:
    return access.get_for_user(
        request, queries.records(), record=Record.PROCEDURE, act=act, patient_of=_patient_of, uuid=uuid
    )


def _audit_shown(request: HttpRequest, *, object_type: str, ref: Any, patient: Patient) -> None:
    """A page reached for a change that shows the record (a form with its errors, the sign-off page): a read."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        object_type=object_type,
        object_ref=str(ref),
        patient=patient,
        request=request,
    )


def apply_errors(form: Form, error: ValidationError) -> None:
    """A refusal's messages next to the fields they name (the rest at the top of the form)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- The record page -----------------------------------------------------------------------------


def _render_record(
    request: HttpRequest,
    record: ProcedureRecord,
    *,
    bound: SectionForm | None = None,
    remove_error: str = "",
    status: int = 200,
) -> HttpResponse:
    view = queries.record_view(record)
    with timezone.override(view.zone):
        forms: dict[str, SectionForm] = {}
        for key, form_class in SECTION_FORMS.items():
            if bound is not None and bound.section == key:
                forms[key] = bound
            else:
                forms[key] = form_class(initial=form_class.initial_for(record), record=record, prefix=key)
        injection_form = bound if isinstance(bound, InjectionForm) else InjectionForm(record=record, prefix=INJECTION)
        user = cast(User, request.user)
        context = {
            "view": view,
            "record": record,
            "patient": view.patient,
            "episode": record.episode,
            "sections": sections_of(record, view.injections, forms, injection_form),
            "open": record.status == ProcedureRecord.Status.IN_PROGRESS,
            "can_change": access.can(user, Act.CHANGE, Record.PROCEDURE),
            "can_sign": services.is_physician(user),
            "can_report": access.can(user, Act.CREATE, Record.ADVERSE_EVENT),
            "bound_section": bound.section if bound is not None else "",
            "remove_error": remove_error,
            "page": "record",
        }
        return render(request, "procedures/record.html", context, status=status)


@never_cache
@login_required
@require_safe
def record_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    return _render_record(request, _get_record(request, uuid, Act.VIEW))


@never_cache
@login_required
@require_POST
def section(request: HttpRequest, uuid: Any, section: str) -> HttpResponse:
    if section not in ORDER:
        raise Http404
    record = _get_record(request, uuid, Act.CHANGE)
    user = cast(User, request.user)
    zone = queries.record_zone(record)
    form: SectionForm | None = None
    remove = section == services.INJECTIONS and request.POST.get("action") == "remove"
    with timezone.override(zone):
        if remove:
            access.refuse_unless_within(
                request,
                request.POST.get("injection"),
                within=record.injections.all(),
                record=Record.PROCEDURE,
                act=Act.CHANGE,
            )
            data: dict[str, Any] = {"action": "remove", "injection": _uuid_or_none(request.POST.get("injection"))}
        else:
            form_class = InjectionForm if section == services.INJECTIONS else SECTION_FORMS[section]
            form = form_class(
                request.POST, record=record, prefix=INJECTION if section == services.INJECTIONS else section
            )
            data = form.section_data() if form.is_valid() else {}
        if remove or (form is not None and form.is_valid()):
            try:
                services.procedure_save_section(
                    record=record, section=section, data=data, by=user, now=timezone.now(), request=request
                )
            except ValidationError as error:
                if form is None:
                    _audit_shown(request, object_type=Record.PROCEDURE, ref=record.uuid, patient=_patient_of(record))
                    return _render_record(request, record, remove_error=" ".join(error.messages))
                apply_errors(form, error)
            else:
                messages.success(request, _saved_message(section, removed=remove))
                anchor = "injections" if section == services.INJECTIONS else section
                return redirect(f"{record.get_absolute_url()}#{anchor}")
    _audit_shown(request, object_type=Record.PROCEDURE, ref=record.uuid, patient=_patient_of(record))
    return _render_record(request, record, bound=form)


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _saved_message(section: str, *, removed: bool) -> str:
    if section == services.INJECTIONS:
        return _("Injection removed.") if removed else _("Injection added.")
    return _("%(section)s saved.") % {"section": SECTION_FORMS[section].title}


# --- Start ---------------------------------------------------------------------------------------


def _get_episode_to_start(request: HttpRequest, episode: Any) -> Episode:
    # The policy question is "may this person start a procedure"; the record looked up is the episode.
    return access.get_for_user(
        request,
        queries.episodes(),
        record=Record.PROCEDURE,
        act=Act.CREATE,
        patient_of=lambda e: e.patient,
        uuid=episode,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def start(request: HttpRequest, episode: Any) -> HttpResponse:
    found = _get_episode_to_start(request, episode)
    user = cast(User, request.user)
    appointments = queries.todays_appointments(found, now=timezone.now())
    current = queries.in_progress_record(found)
    if request.method == "POST":
        access.refuse_unless_within(
            request, request.POST.get("appointment"), within=appointments, record=Record.APPOINTMENT, act=Act.VIEW
        )
        form = StartForm(request.POST, appointments=appointments)
        if form.is_valid():
            try:
                record = services.procedure_start(
                    episode=found,
                    by=user,
                    appointment=form.chosen_appointment(),
                    consent_override_reason=form.cleaned_data["consent_override_reason"],
                    now=timezone.now(),
                    request=request,
                )
            except services.ProcedureRefused as error:
                if error.record is not None:
                    messages.info(request, error.messages[0])
                    return redirect(error.record.get_absolute_url())
                apply_errors(form, error)
            else:
                messages.success(request, _("Procedure record started."))
                return redirect(record.get_absolute_url())
    else:
        form = StartForm(appointments=appointments)
    _audit_shown(request, object_type=Record.EPISODE, ref=found.uuid, patient=found.patient)
    return render(
        request,
        "procedures/start.html",
        {
            "episode": found,
            "patient": found.patient,
            "form": form,
            "consent": valid_consent(found),
            "current": current,
            "can_override": services.is_physician(user),
        },
    )


# --- Sign-off ------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sign(request: HttpRequest, uuid: Any) -> HttpResponse:
    # Physicians only: to anyone else the sign-off page does not exist.
    record = _get_record(request, uuid, Act.SIGN)
    user = cast(User, request.user)
    baseline_missing = baseline_check(record)
    if request.method == "POST":
        form = SignForm(request.POST, baseline_missing=baseline_missing)
        if form.is_valid():
            try:
                services.procedure_sign(
                    record=record,
                    by=user,
                    meaning=form.cleaned_data["meaning"],
                    baseline_override_reason=form.cleaned_data.get("baseline_override_reason", ""),
                    now=timezone.now(),
                    request=request,
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, _("Signed. The record is now closed; later changes are amendments."))
                return redirect(record.get_absolute_url())
    else:
        form = SignForm(baseline_missing=baseline_missing)
    _audit_shown(request, object_type=Record.PROCEDURE, ref=record.uuid, patient=_patient_of(record))
    view = queries.record_view(record)
    with timezone.override(view.zone):
        return render(
            request,
            "procedures/sign.html",
            {
                "view": view,
                "record": record,
                "patient": view.patient,
                "episode": record.episode,
                "form": form,
                "baseline_missing": baseline_missing,
                "provider": getattr(user, "provider", None),
                "page": "sign",
                "can_sign": True,
                # The sign-off list below names every breach and gap: the banner's checks would repeat it.
                "hide_checks": True,
            },
        )


# --- Amend ---------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def amend(request: HttpRequest, uuid: Any) -> HttpResponse:
    record = _get_record(request, uuid, Act.CHANGE)
    user = cast(User, request.user)
    if record.status == ProcedureRecord.Status.IN_PROGRESS:
        messages.info(request, _("This record is not signed yet: change its sections here instead."))
        return redirect(record.get_absolute_url())
    params = request.POST if request.method == "POST" else request.GET
    chosen = params.get("section", "")
    injections = list(record.injections.all())
    injection = next((i for i in injections if str(i.uuid) == params.get("injection", "")), None)
    if chosen and chosen not in SECTION_FORMS and not (chosen == INJECTION and injection is not None):
        raise Http404
    zone = queries.record_zone(record)
    with timezone.override(zone):
        form: SectionForm | None = None
        reason = AmendReasonForm(request.POST or None)
        if chosen == INJECTION and injection is not None:
            initial = InjectionForm.initial_for_injection(injection)
            form = InjectionForm(request.POST or None, initial=initial, record=record, prefix=INJECTION)
        elif chosen:
            form_class = SECTION_FORMS[chosen]
            form = form_class(
                request.POST or None, initial=form_class.initial_for(record), record=record, prefix=chosen
            )
        if request.method == "POST" and form is not None:
            reason_ok = reason.is_valid()
            if form.is_valid() and reason_ok:
                data = form.section_data()
                if injection is not None and chosen == INJECTION:
                    data.pop("action", None)
                    data = {f"{services.INJECTIONS}.{injection.uuid}.{name}": value for name, value in data.items()}
                try:
                    services.procedure_amend(
                        record=record, changes=data, reason=reason.cleaned_data["reason"], by=user, request=request
                    )
                except ValidationError as error:
                    apply_errors(reason if "reason" in getattr(error, "error_dict", {}) else form, error)
                else:
                    messages.success(request, _("Amendment saved. The signed original is kept as it was signed."))
                    return redirect(f"{record.get_absolute_url()}#amendments")
        elif request.method == "POST":
            raise Http404
        _audit_shown(request, object_type=Record.PROCEDURE, ref=record.uuid, patient=_patient_of(record))
        view = queries.record_view(record)
        return render(
            request,
            "procedures/amend.html",
            {
                "view": view,
                "record": record,
                "patient": view.patient,
                "episode": record.episode,
                "chosen": chosen,
                "injection": injection,
                "form": form,
                "reason": reason,
                "choices": [(key, SECTION_FORMS[key].title) for key in ORDER if key in SECTION_FORMS],
                "injections": injections,
                "page": "amend",
                "can_sign": services.is_physician(user),
            },
        )


# --- Verify and PDF ------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def verify(request: HttpRequest, uuid: Any) -> HttpResponse:
    record = _get_record(request, uuid, Act.VIEW)
    result = services.procedure_verify(record)
    view = queries.record_view(record)
    return render(
        request,
        "procedures/verify.html",
        {
            "view": view,
            "record": record,
            "patient": view.patient,
            "episode": record.episode,
            "result": result,
            "page": "verify",
            "can_sign": services.is_physician(request.user),
        },
    )


@never_cache
@login_required
@require_safe
def record_pdf(request: HttpRequest, uuid: Any) -> HttpResponse:
    record = _get_record(request, uuid, Act.VIEW)
    if record.status == ProcedureRecord.Status.IN_PROGRESS:
        messages.info(request, _("Only a signed record prints."))
        return redirect(record.get_absolute_url())
    content = pdf.record_pdf(record)
    response = HttpResponse(content, content_type="application/pdf")
    # The public id only: nothing about the patient in the file's name.
    response["Content-Disposition"] = f'attachment; filename="procedure-{record.uuid}.pdf"'
    return response

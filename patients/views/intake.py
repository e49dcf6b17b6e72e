"""The intake pages: the patient's, opened from the emailed link, and the staff review.

The patient's pages (/intake/...) are reached only through the link's patient session
(`patients.intake.intake_for_session`): one intake of one patient. No session is a 404
page that says how to get back in; a used, expired or replaced link a 410 that says what
happened and offers a new link by email (see the rule in `patients.intake`). Answers travel
in POST bodies only; URLs carry the token or the name of a step, never an answer.

The staff review (/staff/patients/intakes/<uuid>/) goes through `accounts.access`:
front desk, physicians and PAs see it; physicians and PAs confirm; the front desk resends.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access, links
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, PatientLink
from accounts.ratelimit import rate_limited
from patients import intake as intakes
from patients.forms.intake import SectionForm
from patients.intake import (
    REVIEW,
    IntakeClosed,
    IntakeError,
    IntakeIncomplete,
    NoEmailAddress,
    Section,
)
from patients.models import Intake, Patient
from scheduling import display
from scheduling.models import AppointmentStatus

# Where a finished session leaves its mark, so a second click on "Send" lands on the thank-you page.
SENT_KEY = "intake_sent"


# --- The patient's pages ----------------------------------------------------------------------------


def _ended(request: HttpRequest) -> HttpResponse:
    return render(request, "patients/intake/ended.html", {"minutes": links.SESSION_MINUTES}, status=404)


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("patient_link")
def intake_start(request: HttpRequest, token: str) -> HttpResponse:
    """GET: use the emailed link and go to the form. POST (from the 410 page): email a new link instead.

    HEAD is refused here (405), and `links.link_open` never uses a link up on HEAD (a mail scanner probing it).
    """
    if request.method == "POST":
        return _new_link_for_token(request, token)
    try:
        intakes.intake_open(request=request, token=token)
    except links.LinkUnknown as unknown:
        raise Http404 from unknown
    except links.LinkGone as gone:
        return _gone(request, token=token, reason=gone.reason)
    return redirect("patients:intake")


def _gone(request: HttpRequest, *, token: str, reason: str) -> HttpResponse:
    link = intakes.link_for_token(token)
    intake = intakes.intake_of_link(link) if link is not None else None
    in_progress = intake is not None and intake.status == Intake.Status.IN_PROGRESS
    context = {
        "reason": reason,
        "token": token,
        "sent_already": intake is not None and not in_progress,
        "can_email": in_progress and intake is not None and bool(intake.patient.email),
        "days": links.VALID_FOR[PatientLink.Purpose.INTAKE].days,
    }
    return render(request, "patients/intake/gone.html", context, status=410)


def _new_link_for_token(request: HttpRequest, token: str) -> HttpResponse:
    """The 410 page's "Email me a new link": to the address on file only, at most one every `RESEND_EVERY`.

    The used link opens nothing: all it can do is have a fresh one sent to the patient's own inbox.
    """
    link = intakes.link_for_token(token)
    intake = intakes.intake_of_link(link) if link is not None else None
    if link is None or intake is None:
        raise Http404
    if intakes.link_usable(link):
        return redirect("patients:intake_start", token=token)
    try:
        email = intakes.intake_resend(intake=intake, by=None, request=request, language=get_language())
    except (IntakeClosed, NoEmailAddress):
        return _gone(request, token=token, reason="used")
    return render(request, "patients/intake/sent.html", {"again": email is None})


def _section_context(request: HttpRequest, intake: Intake, section: Section, form: SectionForm | None) -> Any:
    left = {s.key for s in intakes.unfinished(intake)}
    steps = [
        {
            "section": s,
            "url": reverse("patients:intake_section", kwargs={"section": s.key}),
            "finished": s is not REVIEW and s.key not in left,
        }
        for s in intakes.SECTIONS
    ]
    return {
        "intake": intake,
        "section": section,
        "form": form,
        "steps": steps,
        "total": len(intakes.SECTIONS),
        "previous": intakes.previous_section(section),
        "visit": _visit(intake),
    }


def _visit(intake: Intake) -> dict[str, str] | None:
    """When and where the visit is, as the booking pages say it (nothing about why)."""
    appointment = intake.appointment
    if appointment is None or appointment.status != AppointmentStatus.BOOKED:
        return None
    office = appointment.office
    return {
        "day": display.long_day_label(appointment.starts_at, office),
        "time": display.time_label(appointment.starts_at, office),
        "office": office.local_name,
    }


def _audit_shown(request: HttpRequest, intake: Intake) -> None:
    """The patient's own answers were shown to them: one "view" row (the role "patient" comes from the session)."""
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        object_type=Record.INTAKE,
        object_ref=str(intake.uuid),
        patient=intake.patient,
        request=request,
    )


def _rows_wanted(request: HttpRequest) -> int:
    """ "Add another" asks for one more row than the page had (`?rows=N`, a count, nothing more)."""
    try:
        return max(0, min(int(request.GET.get("rows", "0")), 20))
    except ValueError:
        return 0


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("patient_form")
def intake_section(request: HttpRequest, section: str | None = None) -> HttpResponse:
    """One step of the form: the one asked for, or (at /intake/) where the patient left off."""
    intake = intakes.intake_for_session(request)
    if intake is None:
        if request.method == "POST" and request.session.get(SENT_KEY):
            return redirect("patients:intake_done")
        return _ended(request)
    if intake.status != Intake.Status.IN_PROGRESS:
        return redirect("patients:intake_done")
    current = intakes.section_of(section) if section else intakes.resume_section(intake)
    if current is None:
        raise Http404
    if current is REVIEW:
        return _review(request, intake)
    if request.method in ("GET", "HEAD"):
        _audit_shown(request, intake)
        form = SectionForm(
            current,
            answers=current.answers_in(intake),
            check=request.GET.get("check") == "1",
            rows_shown=_rows_wanted(request),
        )
        return render(request, "patients/intake/section.html", _section_context(request, intake, current, form))

    go = request.POST.get("go", "next")
    form = SectionForm(current, data=request.POST, strict=go == "next")
    if not form.is_valid():
        if go == "autosave":
            return HttpResponse(status=400)
        return render(request, "patients/intake/section.html", _section_context(request, intake, current, form))
    intakes.intake_save_section(intake=intake, section=current.key, data=form.answers, request=request)
    if go == "autosave":
        return HttpResponse(status=204)
    if go == "later":
        return _finish_later(request, intake)
    here = reverse("patients:intake_section", kwargs={"section": current.key})
    if go == "add" and current.rows is not None:
        shown = len(form.formset.forms) if form.formset is not None else 0
        return redirect(f"{here}?rows={shown + 1}#{current.rows.name}-row-{shown + 1}")
    if go == "back":
        previous = intakes.previous_section(current)
        return redirect(reverse("patients:intake_section", kwargs={"section": previous.key}) if previous else here)
    following = intakes.next_section(current)
    return redirect(reverse("patients:intake_section", kwargs={"section": following.key}) if following else here)


def _finish_later(request: HttpRequest, intake: Intake) -> HttpResponse:
    """Saved: email a fresh link and end this browser's session (a shared computer keeps nothing open)."""
    try:
        email = intakes.intake_resend(intake=intake, by=None, request=request, language=get_language())
    except NoEmailAddress:
        messages.error(request, _("We have no email address for you. Please call the office to finish the form."))
        return redirect("patients:intake_section", section=intakes.resume_section(intake).key)
    links.end(request, purpose=intakes.PURPOSE)
    return render(
        request,
        "patients/intake/sent.html",
        {"again": email is None, "later": True},
    )


def _review(request: HttpRequest, intake: Intake) -> HttpResponse:
    context = _section_context(request, intake, REVIEW, None)
    context["summaries"] = intakes.describe(intake)
    context["left"] = intakes.unfinished(intake)
    if request.method in ("GET", "HEAD"):
        _audit_shown(request, intake)
        return render(request, "patients/intake/review.html", context)
    try:
        intakes.intake_submit(intake=intake, request=request)
    except IntakeIncomplete as incomplete:
        first = incomplete.sections[0]
        return redirect(reverse("patients:intake_section", kwargs={"section": first}) + "?check=1")
    links.end(request, purpose=intakes.PURPOSE)
    request.session[SENT_KEY] = True
    return redirect("patients:intake_done")


@never_cache
@require_safe
def intake_done(request: HttpRequest) -> HttpResponse:
    """Thank you: nothing about the answers, so it needs no session (the session ended on sending)."""
    return render(request, "patients/intake/done.html")


# --- The staff review ------------------------------------------------------------------------------


def _patient_of(intake: Intake) -> Patient:
    return intake.patient


def _intake_for_user(request: HttpRequest, uuid: Any, act: Act) -> Intake:
    found = Intake.objects.select_related("patient", "appointment__office", "appointment__provider", "confirmed_by")
    return access.get_for_user(request, found, record=Record.INTAKE, act=act, patient_of=_patient_of, uuid=uuid)


@never_cache
@login_required
@require_safe
def intake_review(request: HttpRequest, uuid: Any) -> HttpResponse:
    intake = _intake_for_user(request, uuid, Act.VIEW)
    link = intakes.latest_link(intake)
    context = {
        "intake": intake,
        "patient": intake.patient,
        "summaries": intakes.describe(intake),
        "flags": intakes.screening_flags(intake),
        "reported": intakes.reported_unconfirmed(intake.patient),
        "link": link,
        "can_confirm": intakes.may_confirm(request.user) and intake.status == Intake.Status.SUBMITTED,
        "can_resend": access.can(request.user, Act.CHANGE, Record.INTAKE)
        and intake.status == Intake.Status.IN_PROGRESS,
    }
    return render(request, "patients/intake/staff_review.html", context)


@never_cache
@login_required
@require_POST
def intake_confirm(request: HttpRequest, uuid: Any) -> HttpResponse:
    intake = _intake_for_user(request, uuid, Act.CHANGE)
    if not intakes.may_confirm(request.user):
        audit_record(
            actor=request.user,
            action=AuditEvent.Action.CHANGE,
            object_type=Record.INTAKE,
            object_ref=str(intake.uuid),
            patient=intake.patient,
            outcome=AuditEvent.Outcome.DENIED,
            request=request,
        )
        raise Http404
    try:
        intakes.intake_confirm(intake=intake, by=request.user, request=request)  # type: ignore[arg-type]
    except IntakeError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Confirmed. What the patient reported is now marked as reviewed."))
    return redirect("patients:intake_review", uuid=intake.uuid)


@never_cache
@login_required
@require_POST
def intake_resend(request: HttpRequest, uuid: Any) -> HttpResponse:
    intake = _intake_for_user(request, uuid, Act.CHANGE)
    try:
        intakes.intake_resend(intake=intake, by=request.user, request=request)  # type: ignore[arg-type]
    except IntakeError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("A new link is on its way to the patient. The earlier link no longer works."))
    return redirect("patients:intake_review", uuid=intake.uuid)

"""Sign-in's refusals, a staff member's sessions, break-glass, and a patient's access report.

Sign-in is Django's `LoginView` (accounts/urls.py) behind django-axes: a sign-in refused
for too many failures is the sign-in page saying so (`locked_out`, axes' lockout
callable), status 429. A second step (MFA) goes after the password, in its own view.

The session list (`sessions`): the signed-in person's own sessions, ending one, all the
others, or all of them (sign-out everywhere).

Break-glass (`break_glass`, `break_glass_list`): a clinician asks for one patient's
records with a reason; the practice manager reads every grant and what it opened.

A patient's access report: who opened their record, when, and how (HIPAA's accounting of disclosures).

Staff produce it when a patient asks (`Record.ACCESS_REPORT`: the front desk,
physicians, physician assistants, administrators): a page to read or print, and the
same lines as CSV. The patient is reached through `accounts.access.get_for_user`, so
another role or an unknown id is a 404; the page leaves its "view" row and the CSV
its "export" row, and both list themselves, as the log does.
"""

import csv
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access, audit, staff_sessions
from accounts import break_glass as glass
from accounts.access import Act, Record
from accounts.models import AuditEvent, StaffSession, User
from patients.models import Patient

# --- Sign-in refused for too many failures -------------------------------------------------------


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: Any = None) -> HttpResponse:
    """The sign-in page, saying sign-in is locked and how long for (django-axes' AXES_LOCKOUT_CALLABLE): 429."""
    form = AuthenticationForm(request, data=None, initial={"username": (credentials or {}).get("username", "")})
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed sign-ins. Sign-in is locked for %(minutes)s minutes for this account or from this "
        "address. Try again later, or ask an administrator to unlock it."
    ) % {"minutes": minutes}
    context = {"form": form, "locked_out": message, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


# --- The session list ----------------------------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise Http404
    return request.user


@never_cache
@login_required
@require_safe
def sessions(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    found = staff_sessions.staff_sessions_open(user=user, now=timezone.now())
    current = request.session.session_key
    rows = [staff_sessions.describe(one, current_key=current) for one in found]
    return render(
        request,
        "accounts/sessions.html",
        {"rows": rows, "others": sum(1 for row in rows if not row["this_device"])},
    )


@never_cache
@login_required
@require_POST
def session_end(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """End one of the person's own sessions (another person's, or none, is a 404)."""
    user = _staff(request)
    found = StaffSession.objects.filter(user=user, uuid=uuid).first()
    if found is None:
        raise Http404
    if found.session_key == request.session.session_key:
        return _sign_out(request, user, [found], _("You are signed out."))
    staff_sessions.staff_sessions_end(user=user, sessions=[found], request=request)
    messages.success(request, _("That session is ended: its next page will ask to sign in."))
    return redirect("accounts:sessions")


@never_cache
@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    current = request.session.session_key
    others = [one for one in StaffSession.objects.filter(user=user) if one.session_key != current]
    ended = staff_sessions.staff_sessions_end(user=user, sessions=others, request=request)
    messages.success(request, _("Ended %(count)s other sessions.") % {"count": ended})
    return redirect("accounts:sessions")


@never_cache
@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    found = list(StaffSession.objects.filter(user=user))
    return _sign_out(request, user, found, _("You are signed out on every device."))


def _sign_out(request: HttpRequest, user: User, found: list[StaffSession], done: str) -> HttpResponse:
    """End `found` (the user's sessions, this one among them or not), then sign this one out."""
    current = request.session.session_key
    staff_sessions.staff_sessions_end(
        user=user, sessions=[one for one in found if one.session_key != current], request=request
    )
    this = [one for one in found if one.session_key == current]
    if this:
        # This session's row is ended in the log like the others; `logout` then clears the session itself.
        audit.audit_record(
            actor=user,
            action=AuditEvent.Action.SESSION_ENDED,
            object_type="staff_session",
            object_ref=str(this[0].uuid),
            request=request,
        )
    logout(request)
    messages.info(request, done)
    return redirect("accounts:login")


# --- Break-glass ---------------------------------------------------------------------------------


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you need this patient's records?"),
        help_text=gettext_lazy("The practice manager reads every reason and every record you open."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=glass.REASON_MAX_LENGTH,
        required=False,
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def break_glass(request: HttpRequest, uuid: UUID) -> HttpResponse:
    """Ask for 60 minutes of one patient's records beyond the role, with a reason (clinical roles)."""
    # A role that may not ask, or that already reads every record a grant opens (nothing to ask for),
    # is refused like any other: one "denied" row, and a 404.
    if not access.break_glass_offered(request.user):
        audit.audit_record(
            actor=request.user,
            action=AuditEvent.Action.CREATE,
            object_type=Record.BREAK_GLASS,
            outcome=AuditEvent.Outcome.DENIED,
            request=request,
        )
        raise Http404
    patient = access.get_for_user(
        request, Patient.objects.all(), record=Record.PATIENT, act=Act.VIEW, patient_of=_itself, uuid=uuid
    )
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            grant = glass.break_glass_grant(
                by=request.user,  # type: ignore[arg-type]
                patient=patient,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            until = time_format(timezone.localtime(grant.expires_at), "TIME_FORMAT")
            messages.warning(
                request,
                _("You may read this patient's records until %(time)s. Every record you open is flagged.")
                % {"time": until},
            )
            return redirect(patient.get_absolute_url())
    return render(request, "accounts/break_glass.html", {"patient": patient, "form": form})


@never_cache
@login_required
@require_safe
def break_glass_list(request: HttpRequest) -> HttpResponse:
    """Every break-glass grant, newest first, with what was opened under it (the practice manager)."""
    access.require(request, Act.VIEW, Record.BREAK_GLASS)
    reports = glass.break_glass_report()
    access.audit_list(request, record=Record.BREAK_GLASS, ref=f"grants:{len(reports)}")
    return render(request, "accounts/break_glass_list.html", {"reports": reports, "record_labels": audit.RECORD_LABELS})


# --- A patient's access report -------------------------------------------------------------------

# A cell a spreadsheet would run as a formula starts with one of these: it is written as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _patient_for_user(request: HttpRequest, uuid: UUID, act: Act) -> Patient:
    return access.get_for_user(
        request, Patient.objects.all(), record=Record.ACCESS_REPORT, act=act, patient_of=_itself, uuid=uuid
    )


def _itself(patient: Patient) -> Patient:
    return patient


@never_cache
@login_required
@require_safe
def access_report(request: HttpRequest, uuid: UUID) -> HttpResponse:
    patient = _patient_for_user(request, uuid, Act.VIEW)
    return render(
        request,
        "accounts/access_report.html",
        {
            "patient": patient,
            "entries": audit.access_report(patient=patient),
            "produced_at": timezone.now(),
            "can_export": access.can(request.user, Act.EXPORT, Record.ACCESS_REPORT),
        },
    )


@never_cache
@login_required
@require_safe
def access_report_csv(request: HttpRequest, uuid: UUID) -> HttpResponse:
    patient = _patient_for_user(request, uuid, Act.EXPORT)
    with transaction.atomic():
        audit.audit_record(
            actor=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type=Record.ACCESS_REPORT,
            object_ref=str(patient.uuid),
            patient=patient,
            request=request,
        )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    # The file is named by the chart's public id, never by the patient's name.
    response["Content-Disposition"] = f'attachment; filename="access-report-{patient.uuid}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [_("When (office time)"), _("Who"), _("Role"), _("What"), _("Record"), _("Record id"), _("Outcome")]
    )
    for entry in audit.access_report(patient=patient):
        when = timezone.localtime(entry.at).isoformat(timespec="seconds")
        row = [when, entry.who, entry.role, entry.action, entry.record, entry.record_ref, entry.outcome]
        writer.writerow([_as_text(cell) for cell in row])
    return response


def _as_text(cell: Any) -> str:
    text = str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text

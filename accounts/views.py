"""Sign-in's refusals, a staff member's sessions, break-glass, and a patient's access report.

Sign-in is Django's `LoginView` (accounts/urls.py) behind django-axes: a sign-in refused
for too many failures is the sign-in page saying so (`locked_out`, axes' lockout
callable), status 429. The second step (`two_step`, `accounts.mfa`) comes after the
password: a code from an authenticator app, set up at the first sign-in
(`two_step_set_up`), or a recovery code (`recovery_codes`).

The session list (`sessions`): the signed-in person's own sessions, ending one, all the
others, or all of them (sign-out everywhere); and their passkeys (`accounts.passkeys`):
adding one, removing one (`passkey_remove`). The passkey ceremonies are
django-otp-webauthn's JSON views, subclassed here for the audit rows.

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
from urllib.parse import quote
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn import views as webauthn_views

from accounts import access, audit, mfa, passkeys, staff_sessions
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


# --- Sign-in: the password, then the second step (accounts.mfa) --------------------------------------


def _next(request: HttpRequest) -> str:
    """The page asked for (`next`), if it is a path on this site; else ""."""
    asked = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(asked, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return asked if safe and asked.startswith("/") and not asked.startswith("//") else ""


def _with_next(url: str, next_path: str) -> str:
    return f"{url}?next={quote(next_path, safe='/')}" if next_path else url


class SignInView(LoginView):
    """The password (Django's sign-in, behind django-axes); a right one leads to the second step."""

    template_name = "accounts/login.html"

    def get_success_url(self) -> str:
        return _with_next(reverse("accounts:two_step"), self.get_redirect_url())


def admin_sign_in(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's sign-in page (AdminSite.login) is the staff sign-in, both steps."""
    if request.user.is_authenticated and mfa.is_verified(request):
        raise PermissionDenied
    return redirect(_with_next(reverse("accounts:login"), _next(request)))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        error_messages={"required": gettext_lazy("Enter the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


class SetUpForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code from the app"),
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        max_length=20,
        error_messages={
            "required": gettext_lazy("Enter the 6 digits your authenticator app shows."),
            "invalid": gettext_lazy("Enter the 6 digits your authenticator app shows."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _wait_message(seconds: int) -> str:
    if seconds <= 90:
        return ngettext(
            "Too many wrong codes. Wait %(n)s second and try again.",
            "Too many wrong codes. Wait %(n)s seconds and try again.",
            seconds,
        ) % {"n": seconds}
    minutes = -(-seconds // 60)
    return _("Too many wrong codes. Wait %(n)s minutes and try again.") % {"n": minutes}


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def two_step(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: the code the authenticator app shows, or a recovery code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.path, reverse("accounts:login"))
    user = _staff(request)
    next_path = _next(request)
    if mfa.is_verified(request):
        return redirect(next_path or resolve_url(settings.LOGIN_REDIRECT_URL))
    if not mfa.has_authenticator(user):
        return redirect(_with_next(reverse("accounts:two_step_set_up"), next_path))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verdict = mfa.verify(request, form.cleaned_data["code"])
        if verdict.ok:
            return redirect(next_path or resolve_url(settings.LOGIN_REDIRECT_URL))
        if verdict.signed_out:
            logout(request)
            messages.error(request, _("Too many wrong codes. Sign in again with your password."))
            return redirect("accounts:login")
        if verdict.wait_until is not None:
            form.add_error("code", _wait_message(verdict.wait_seconds(timezone.now())))
        else:
            form.add_error(
                "code",
                _(
                    "That code is not right. Enter the 6-digit code your authenticator app shows now, "
                    "or a recovery code."
                ),
            )
    context = {
        "form": form,
        "next": next_path,
        "passkey": passkeys.has_passkey(user) and passkeys.passkeys_possible(request),
        # No staff bar: its links are not open to this session yet.
        "half_signed_in": True,
    }
    return render(request, "accounts/two_step.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def two_step_set_up(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then type a code from it.

    Right after the password for someone who has none; later, from a full session, to
    move to a new phone (the old app stops working once the new one's code is right).
    """
    if not request.user.is_authenticated:
        return redirect_to_login(request.path, reverse("accounts:login"))
    user = _staff(request)
    next_path = _next(request)
    replacing = mfa.has_authenticator(user)
    if replacing and not mfa.is_verified(request):
        return redirect(_with_next(reverse("accounts:two_step"), next_path))
    device = mfa.start_set_up(user)
    form = SetUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.finish_set_up(request, device, form.cleaned_data["code"])
        if codes is not None:
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "set_up": True, "next": next_path or resolve_url(settings.LOGIN_REDIRECT_URL)},
            )
        allowed, data = device.verify_is_allowed()
        if not allowed and data and "locked_until" in data:
            form.add_error("code", _wait_message(mfa.wait_seconds(data["locked_until"], timezone.now())))
        else:
            form.add_error("code", _("That code is not right. Check the app shows RegenClinic and try the new code."))
    context = {
        "form": form,
        "next": next_path,
        "qr": mfa.qr_svg(device),
        "secret": mfa.secret_for_typing(device),
        "replacing": replacing,
        "half_signed_in": not replacing,
    }
    return render(request, "accounts/two_step_set_up.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """How many recovery codes are left; new ones (the old ones stop working), shown this once."""
    user = _staff(request)
    if request.method == "POST":
        codes = mfa.new_recovery_codes(user, request=request)
        return render(
            request,
            "accounts/recovery_codes.html",
            {"codes": codes, "set_up": False, "next": reverse("accounts:sessions")},
        )
    return render(request, "accounts/recovery_codes.html", {"left": mfa.recovery_codes_left(user)})


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
    context = {
        "rows": rows,
        "others": sum(1 for row in rows if not row["this_device"]),
        "passkeys": passkeys.passkeys_of(user),
        "passkeys_possible": passkeys.passkeys_possible(request),
    }
    return render(request, "accounts/sessions.html", context)


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


# --- Passkeys (accounts.passkeys) ---------------------------------------------------------------


@never_cache
@login_required
@require_POST
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove one of the person's own passkeys (another person's, or none, is a 404)."""
    user = _staff(request)
    if not passkeys.passkey_remove(user=user, pk=pk, request=request):
        raise Http404
    messages.success(request, _("That passkey is removed: it no longer signs you in."))
    return redirect("accounts:sessions")


class _FullSessionOnly:
    """Adding a passkey needs a session past the second step, even for someone with no other device yet."""

    def user_is_mfa_enrolled(self, user: Any) -> bool:
        # The package lets someone with no device at all add one unverified, and so skip setting up the app.
        return True


class PasskeyRegistrationBeginView(_FullSessionOnly, webauthn_views.BeginCredentialRegistrationView):
    pass


class PasskeyRegistrationCompleteView(_FullSessionOnly, webauthn_views.CompleteCredentialRegistrationView):
    """A new passkey, with its audit row (`MFA_ENROLLED`) in the same transaction."""

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().post(*args, **kwargs)
            passkeys.passkey_enrolled(self.request, _staff(self.request))
        return response


class PasskeyAuthenticationCompleteView(webauthn_views.CompleteCredentialAuthenticationView):
    """The second step passed with a passkey, or refused, with the audit rows a code leaves."""

    def complete_auth(self, device: Any) -> Any:
        passkeys.passkey_verified(self.request, device)

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().post(*args, **kwargs)
        except webauthn_errors.OTPWebAuthnApiError:
            if not self.request.user.is_authenticated:
                raise
            verdict = passkeys.passkey_failed(self.request)
            if not verdict.signed_out:
                raise
        logout(self.request)
        text = _("Too many wrong codes. Sign in again with your password.")
        messages.error(self.request, text)
        return JsonResponse({"detail": text, "code": "signed_out"}, status=403)


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

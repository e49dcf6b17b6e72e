"""Pages of e-consent: the documents (staff), signing in the office (a tablet page) or from a link (the patient),
verification, the signed PDF, withdrawal.

Staff pages reach episodes and signatures through `accounts.access` (a miss or a role
without access is a 404) and leave one audit row per page; the signing, withdrawal and
link writes leave theirs inside the service's transaction. The patient's pages are
reached through the single-use link (`accounts.links`): the token opens a session for
one episode's consent, and the pages read that session, never an id from the request.
The signing page is in the patient's language, with its text exactly as signed.
"""

import uuid as uuid_module
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from accounts import access, links
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, PatientLink, User
from accounts.ratelimit import rate_limited
from patients import consent
from patients.forms.consent import ConsentSignForm, DocumentForm, WithdrawForm, show_refusal
from patients.models import ConsentDocument, ConsentSignature, Episode
from patients.views.episodes import audit_shown, patient_header

PURPOSE = PatientLink.Purpose.CONSENT


def _signature_for_user(request: HttpRequest, uuid: Any, act: Act) -> ConsentSignature:
    return access.get_for_user(
        request,
        ConsentSignature.objects.select_related("episode__patient", "episode__physician", "document", "recorded_by"),
        record=Record.CONSENT,
        act=act,
        patient_of=lambda signature: signature.episode.patient,
        uuid=uuid,
    )


def _language(value: str, fallback: str) -> str:
    return value if value in ConsentDocument.Language.values else fallback


# --- The documents -------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent_documents(request: HttpRequest) -> HttpResponse:
    user = access.require(request, Act.VIEW, Record.CONSENT_DOCUMENT)
    can_publish = access.can(user, Act.CREATE, Record.CONSENT_DOCUMENT)
    if request.method == "POST":
        access.require(request, Act.CREATE, Record.CONSENT_DOCUMENT)
        form = DocumentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                document = consent.document_publish(
                    language=data["language"],
                    title=data["title"],
                    body=data["body"],
                    include_regulatory_notice=data["include_regulatory_notice"],
                    requires_witness=data["requires_witness"],
                    by=user,
                    request=request,
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(
                    request,
                    _("Version %(version)s (%(language)s) is published. New signatures use it from now on.")
                    % {"version": document.version, "language": document.get_language_display()},
                )
                return redirect("patients:consent_documents")
    else:
        # "Write a new version" starts from the current text of the language asked for.
        language = _language(request.GET.get("language", ""), ConsentDocument.Language.ENGLISH)
        current = consent.current_document(language)
        form = DocumentForm(
            initial={
                "language": language,
                "title": current.title if current else "",
                "body": current.body if current else "",
                "include_regulatory_notice": current.include_regulatory_notice if current else True,
                "requires_witness": current.requires_witness if current else False,
            }
        )
    documents = list(ConsentDocument.objects.select_related("published_by").order_by("language", "-version"))
    access.audit_list(request, record=Record.CONSENT_DOCUMENT, ref=f"list:{len(documents)}")
    latest = consent.current_versions()
    return render(
        request,
        "patients/consent/documents.html",
        {
            "documents": [(d, d.version == latest.get(d.language)) for d in documents],
            "form": form if can_publish else None,
            "languages": ConsentDocument.Language.choices,
        },
    )


# --- Signing: the shared page --------------------------------------------------------------------


def _render_sign(
    request: HttpRequest,
    *,
    episode: Episode,
    document: ConsentDocument,
    form: ConsentSignForm,
    template: str,
    kept_signature: str = "",
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """The signing page in the document's language. The page carries the version and the hash of the text it
    shows (hidden fields), so a text changed meanwhile is refused rather than signed unseen."""
    text = consent.consent_text(episode=episode, document=document)
    with translation.override(document.language):
        return render(
            request,
            template,
            {
                "episode": episode,
                "document": document,
                "text": text,
                "form": form,
                "kept_signature": kept_signature,
                "now": consent.moment_label(timezone.now(), document.language),
                **(extra or {}),
            },
        )


def _posted_document(request: HttpRequest) -> ConsentDocument | None:
    value = request.POST.get("document", "")
    return ConsentDocument.objects.filter(uuid=value).first() if _is_uuid(value) else None


def _sign_from(
    form: ConsentSignForm,
    *,
    episode: Episode,
    document: ConsentDocument,
    method: str,
    by: User | None,
    request: HttpRequest,
) -> ConsentSignature | ConsentDocument:
    """The signature, or the document to show again, with the refusal on the form.

    After a new version was published meanwhile that is the new version: the patient
    reads the new text and signs again (what they typed stays; the drawing does not).
    """
    data = form.cleaned_data
    try:
        return consent.consent_sign(
            episode=episode,
            document=document,
            printed_name=data["printed_name"],
            signature_png=data.get("signature_png", ""),
            typed=data.get("typed", False),
            method=method,
            witness_name=data.get("witness_name", ""),
            witness=by if data.get("witness_is_me") else None,
            by=by,
            shown_sha256=data["shown_sha256"],
            request=request,
        )
    except consent.ConsentOutdated as error:
        form.add_error(None, error.messages[0])
        return error.document or document
    except ValidationError as error:
        show_refusal(form, error)
        return document


def _kept(data: Any) -> Any:
    """What the person typed, without the drawing (made on another text) and the old text's version and hash."""
    kept = data.copy()
    for key in ("signature_png", "shown_sha256", "document"):
        kept.pop(key, None)
    return kept


def _is_uuid(value: str) -> bool:
    try:
        uuid_module.UUID(value)
    except ValueError:
        return False
    return True


# --- Signing in the office -----------------------------------------------------------------------


def _office_form(document: ConsentDocument, data: Any = None, *, user: User) -> ConsentSignForm:
    can_witness = access.can(user, Act.SIGN, Record.CONSENT)
    return ConsentSignForm(data, witness=document.requires_witness, staff_witness=str(user) if can_witness else "")


def _office_extra(episode: Episode) -> dict[str, Any]:
    here = reverse("patients:consent_sign", kwargs={"uuid": episode.uuid})
    return {
        **patient_header(episode.patient),
        "languages": [(code, label, f"{here}?language={code}") for code, label in ConsentDocument.Language.choices],
    }


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent_sign(request: HttpRequest, uuid: Any) -> HttpResponse:
    """The tablet page: the patient reads the text in their language and signs in the office."""
    user = access.require(request, Act.CREATE, Record.CONSENT, hide=True)
    template = "patients/consent/sign_office.html"
    episodes = Episode.objects.select_related("patient", "physician")
    if request.method in ("GET", "HEAD"):
        episode = access.get_for_user(
            request, episodes, record=Record.EPISODE, act=Act.VIEW, patient_of=lambda e: e.patient, uuid=uuid
        )
        language = _language(request.GET.get("language", ""), episode.patient.preferred_language)
        document = consent.document_for(language)
        if document is None:
            messages.error(request, _("No consent document is published yet: publish one first."))
            return redirect(episode.get_absolute_url())
        return _render_sign(
            request,
            episode=episode,
            document=document,
            form=_office_form(document, user=user),
            template=template,
            extra=_office_extra(episode),
        )

    episode = access.get_for_user(
        request, episodes, record=Record.CONSENT, act=Act.CREATE, patient_of=lambda e: e.patient, uuid=uuid
    )
    # The page always sends the document it showed: none, or an unknown one, is a forged form.
    document = _posted_document(request)
    if document is None:
        raise Http404
    form = _office_form(document, request.POST, user=user)
    kept_signature = request.POST.get("signature_png", "")
    if form.is_valid():
        result = _sign_from(
            form, episode=episode, document=document, method=ConsentSignature.Method.IN_OFFICE, by=user, request=request
        )
        if isinstance(result, ConsentSignature):
            messages.success(request, _("Consent signed. The signed copy (PDF) is archived with its fingerprint."))
            return redirect(episode.get_absolute_url())
        if result.pk != document.pk:
            outdated = form.non_field_errors()
            form = _office_form(result, _kept(request.POST), user=user)
            form.is_valid()
            for message in outdated:
                form.add_error(None, message)
            document, kept_signature = result, ""
    # Shown again, with the patient's name and treatment: a read.
    audit_shown(request, object_type="episode", object_ref=episode.uuid, patient=episode.patient)
    return _render_sign(
        request,
        episode=episode,
        document=document,
        form=form,
        template=template,
        kept_signature=kept_signature,
        extra=_office_extra(episode),
    )


# --- Sending the link, and the patient's pages ----------------------------------------------------


@never_cache
@login_required
@require_POST
def consent_link_send(request: HttpRequest, uuid: Any) -> HttpResponse:
    episode = access.get_for_user(
        request,
        Episode.objects.select_related("patient"),
        record=Record.CONSENT,
        act=Act.CHANGE,
        patient_of=lambda e: e.patient,
        uuid=uuid,
    )
    try:
        consent.consent_link_send(episode=episode, by=cast(User, request.user), request=request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request, _("A link to read and sign the consent was emailed to the patient. It works once, for 7 days.")
        )
    return redirect(episode.get_absolute_url())


def _link_problem(request: HttpRequest, *, title: str, message: str, status: int) -> HttpResponse:
    return render(request, "patients/consent/link_problem.html", {"title": title, "message": message}, status=status)


@never_cache
@require_GET
@rate_limited("patient_link")
def consent_remote(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: used up on the first visit and swapped for a short session, then the signing page.

    HEAD is refused here (405), and `links.link_open` never uses a link up on HEAD (a mail scanner probing it).
    """
    try:
        session = links.link_open(request, token, purpose=PURPOSE)
    except links.LinkUnknown:
        raise Http404 from None
    except links.LinkGone as gone:
        reasons = {
            "used": _("This link was already used. Each link works once."),
            "expired": _("This link has expired."),
            "revoked": _("This link was replaced by a newer one. Please use the link in the latest email."),
        }
        return _link_problem(
            request,
            title=_("This link does not work any more"),
            message=reasons.get(gone.reason, reasons["used"]),
            status=410,
        )
    episode = _session_episode(session)
    with translation.override(episode.patient.preferred_language):
        return redirect(reverse("patients:consent_remote_sign"))


def _session_episode(session: links.PatientSession) -> Episode:
    """The episode the session opens, and only if it is that patient's: anything else is a 404."""
    episode = (
        Episode.objects.select_related("patient", "physician")
        .filter(uuid=session.target, patient_id=session.patient_id)
        .first()
        if _is_uuid(session.target)
        else None
    )
    if episode is None:
        raise Http404
    return episode


def _no_session(request: HttpRequest) -> HttpResponse:
    """No consent session: a 404, as the intake's and the questionnaire's pages answer (nothing here says it exists)."""
    return _link_problem(
        request,
        title=_("Please open the link from your email"),
        message=ngettext(
            "This page opens from the link in the email the office sent you, for %(minutes)d minute. "
            "If the link no longer works, please call the office for a new one.",
            "This page opens from the link in the email the office sent you, for %(minutes)d minutes. "
            "If the link no longer works, please call the office for a new one.",
            links.SESSION_MINUTES,
        )
        % {"minutes": links.SESSION_MINUTES},
        status=404,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("patient_form")
def consent_remote_sign(request: HttpRequest) -> HttpResponse:
    """The patient's signing page, reached through the link's session, in the language of the URL."""
    session = links.current(request, purpose=PURPOSE)
    if session is None:
        return _no_session(request)
    episode = _session_episode(session)
    template = "patients/consent/sign_remote.html"
    language = _language(get_language() or "", episode.patient.preferred_language)
    kept_signature = ""
    if request.method == "POST":
        document = _posted_document(request)
        if document is None:
            raise Http404
        form = ConsentSignForm(request.POST, witness=False)
        kept_signature = request.POST.get("signature_png", "")
        if form.is_valid():
            result = _sign_from(
                form,
                episode=episode,
                document=document,
                method=ConsentSignature.Method.REMOTE,
                by=None,
                request=request,
            )
            if isinstance(result, ConsentSignature):
                return redirect("patients:consent_remote_done")
            if result.pk != document.pk:
                outdated = form.non_field_errors()
                form = ConsentSignForm(_kept(request.POST), witness=False)
                form.is_valid()
                for message in outdated:
                    form.add_error(None, message)
                document, kept_signature = result, ""
    else:
        found = consent.document_for(language)
        if found is None:
            return _link_problem(
                request,
                title=_("The consent form is not ready yet"),
                message=_("Please call the office: they will send you a new link."),
                status=404,
            )
        document, form = found, ConsentSignForm(witness=False)
    signed = consent.valid_consent(episode)
    # actor None: the audit log records the role "patient", the session being this patient's.
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        object_type="consent",
        object_ref=str(episode.uuid),
        patient=episode.patient,
        request=request,
    )
    return _render_sign(
        request,
        episode=episode,
        document=document,
        form=form,
        template=template,
        kept_signature=kept_signature,
        extra={"already_signed": signed is not None and signed.document_id == document.pk},
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("patient_form")
def consent_remote_done(request: HttpRequest) -> HttpResponse:
    session = links.current(request, purpose=PURPOSE)
    if request.method == "POST":
        links.end(request, purpose=PURPOSE)
        return render(request, "patients/consent/remote_closed.html")
    if session is None:
        return _no_session(request)
    episode = _session_episode(session)
    return render(request, "patients/consent/remote_done.html", {"signed": consent.valid_consent(episode) is not None})


@never_cache
@require_safe
def consent_remote_pdf(request: HttpRequest) -> HttpResponse:
    """The patient's own copy of what they signed, while their session lasts."""
    session = links.current(request, purpose=PURPOSE)
    if session is None:
        return _no_session(request)
    episode = _session_episode(session)
    signature = consent.valid_consent(episode)
    if signature is None:
        raise Http404
    audit_record(
        actor=None,
        action=AuditEvent.Action.EXPORT,
        object_type="consent",
        object_ref=str(signature.uuid),
        patient=episode.patient,
        request=request,
    )
    return _pdf_response(signature)


# --- Verification, the PDF, withdrawal -------------------------------------------------------------


@never_cache
@login_required
@require_safe
def consent_verify(request: HttpRequest, uuid: Any) -> HttpResponse:
    signature = _signature_for_user(request, uuid, Act.VIEW)
    verification = consent.consent_verify(signature)
    row = next(r for r in consent.consent_rows(episode=signature.episode) if r.signature.pk == signature.pk)
    return render(
        request,
        "patients/consent/verify.html",
        {
            **patient_header(signature.episode.patient),
            "signature": signature,
            "episode": signature.episode,
            "verification": verification,
            "row": row,
            "typed": consent.is_typed(signature),
            "image": consent.signature_data_url(signature),
            "signed_at": consent.moment_label(signature.signed_at, _language(get_language() or "", "en")),
        },
    )


def _pdf_response(signature: ConsentSignature) -> HttpResponse:
    response = HttpResponse(bytes(signature.pdf), content_type="application/pdf")
    # The file is named by the signature's public id, never the patient's name.
    response["Content-Disposition"] = f'attachment; filename="consent-{signature.uuid}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@login_required
@require_safe
def consent_pdf(request: HttpRequest, uuid: Any) -> HttpResponse:
    signature = _signature_for_user(request, uuid, Act.VIEW)
    return _pdf_response(signature)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def consent_withdraw(request: HttpRequest, uuid: Any) -> HttpResponse:
    access.require(request, Act.CHANGE, Record.CONSENT, hide=True)
    if request.method in ("GET", "HEAD"):
        signature = _signature_for_user(request, uuid, Act.VIEW)
        form = WithdrawForm()
    else:
        signature = _signature_for_user(request, uuid, Act.CHANGE)
        form = WithdrawForm(request.POST)
        if form.is_valid():
            try:
                consent.consent_withdraw(
                    signature=signature,
                    reason=form.cleaned_data["reason"],
                    by=cast(User, request.user),
                    request=request,
                )
            except ValidationError as error:
                show_refusal(form, error)
            else:
                messages.success(
                    request, _("The withdrawal is recorded. The signed consent stays on file, marked withdrawn.")
                )
                return redirect(signature.episode.get_absolute_url())
        audit_shown(request, object_type="consent", object_ref=signature.uuid, patient=signature.episode.patient)
    return render(
        request,
        "patients/consent/withdraw.html",
        {
            **patient_header(signature.episode.patient),
            "signature": signature,
            "episode": signature.episode,
            "form": form,
        },
    )

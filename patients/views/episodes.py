"""Staff pages of candidacy and episodes: the assessment form (choose, check, save) and the episode page.

Every lookup goes through `accounts.access`: a patient or episode outside the person's
role, or that does not exist, is the same 404. Each page that shows a patient leaves one
audit row ("view"); saving an assessment leaves the service's "create" rows instead.
The assessment travels by POST at every step: the indication is health information
and never goes in a URL.
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients import candidacy, episodes
from patients.forms.episodes import USUAL_SITE, AssessmentForm, IndicationForm
from patients.models import Episode, Indication, Patient

CHOOSE, CHECK, SAVE = "choose", "check", "save"


def url_or_empty(name: str, **kwargs: Any) -> str:
    """The URL of a route another part of the system owns, or "" while it does not exist yet."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


def audit_shown(request: HttpRequest, *, object_type: str, object_ref: Any, patient: Patient) -> None:
    """A page that shows a patient's record without a lookup of its own leaving the row: one "view"."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        object_type=object_type,
        object_ref=str(object_ref),
        patient=patient,
        request=request,
    )


def patient_header(patient: Patient) -> dict[str, Any]:
    return {"patient": patient, "chart_url": url_or_empty("patients:chart", uuid=patient.uuid)}


# --- The assessment ------------------------------------------------------------------------------


def _render_assessment(
    request: HttpRequest,
    patient: Patient,
    *,
    form: AssessmentForm | IndicationForm,
    step: str,
    suggestions: list[candidacy.Suggestion] | None = None,
    changed: bool = False,
    status: int = 200,
) -> HttpResponse:
    audit_shown(request, object_type="patient", object_ref=patient.uuid, patient=patient)
    return render(
        request,
        "patients/episodes/assessment_new.html",
        {
            **patient_header(patient),
            "form": form,
            "step": step,
            "suggestion_rows": [(s, candidacy.SEVERITY_LABELS[s.severity]) for s in suggestions or []],
            "changed": changed,
            "indication_label": Indication(form.chosen_indication).label if isinstance(form, AssessmentForm) else "",
        },
        status=status,
    )


def stored_suggestions(stored: list[dict[str, str]]) -> list[tuple[dict[str, str], Any]]:
    """An assessment's stored suggestions with their severity's label (an unknown severity reads as a note)."""
    labels = {str(severity): label for severity, label in candidacy.SEVERITY_LABELS.items()}
    return [(s, labels.get(s.get("severity", ""), labels["info"])) for s in stored]


def _codes(suggestions: list[candidacy.Suggestion]) -> str:
    return ",".join(s.code for s in suggestions)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assessment_new(request: HttpRequest, uuid: Any) -> HttpResponse:
    patient = access.get_for_user(request, Patient.objects.all(), record=Record.EPISODE, act=Act.CREATE, uuid=uuid)
    user = cast(User, request.user)
    if request.method in ("GET", "HEAD"):
        return _render_assessment(request, patient, form=IndicationForm(), step=CHOOSE)

    action = request.POST.get("action", "")
    if action == CHOOSE:
        # A first choice, or "Change" with another indication: show its fields, keeping what was typed.
        chosen = IndicationForm(request.POST)
        if not chosen.is_valid():
            return _render_assessment(request, patient, form=chosen, step=CHOOSE)
        indication = chosen.cleaned_data["indication"]
        if "site" in request.POST:
            kept = {key: request.POST.get(key) for key in request.POST if key not in ("csrfmiddlewaretoken", "action")}
            kept["failed_care"] = request.POST.getlist("failed_care")  # type: ignore[assignment]
            kept["checked"] = ""
        else:
            physician = episodes.default_physician(user)
            kept = {
                "indication": indication,
                "site": USUAL_SITE.get(indication, ""),
                "physician": str(physician.uuid) if physician else "",
            }
        form = AssessmentForm(initial=kept, indication=indication)
        return _render_assessment(request, patient, form=form, step=CHECK)

    indication = request.POST.get("indication", "")
    if indication not in Indication.values:
        return _render_assessment(request, patient, form=IndicationForm(request.POST), step=CHOOSE)
    form = AssessmentForm(request.POST, indication=indication)
    if not form.is_valid():
        return _render_assessment(request, patient, form=form, step=CHECK)
    details = form.details()
    suggestions = episodes.assessment_suggestions(details=details, facts=episodes.chart_facts(patient))
    if action != SAVE or form.cleaned_data["checked"] != _codes(suggestions):
        # The check step: the suggestions for what was typed, before saving. Saving after an edit that
        # changed them shows them again, so what is stored is what the clinician saw.
        data = request.POST.copy()
        data["checked"] = _codes(suggestions)
        checked = AssessmentForm(data, indication=indication)
        checked.is_valid()
        return _render_assessment(
            request, patient, form=checked, step=SAVE, suggestions=suggestions, changed=action == SAVE
        )
    try:
        assessment = episodes.assessment_record(patient=patient, details=details, by=user, request=request)
    except ValidationError as error:
        form.show_refusal(error)
        return _render_assessment(request, patient, form=form, step=SAVE, suggestions=suggestions)
    if assessment.episode is not None:
        messages.success(request, _("Assessment saved. The episode is open: consent is the next step."))
        return redirect(assessment.episode.get_absolute_url())
    messages.success(request, _("Assessment saved: %(decision)s.") % {"decision": assessment.get_decision_display()})
    return redirect(url_or_empty("patients:chart", uuid=patient.uuid) or request.path)


# --- The episode ---------------------------------------------------------------------------------


def _get_episode_for_user(request: HttpRequest, uuid: Any, *, record: Record, act: Act) -> Episode:
    return access.get_for_user(
        request,
        Episode.objects.select_related("patient", "physician"),
        record=record,
        act=act,
        patient_of=lambda episode: episode.patient,
        uuid=uuid,
    )


@never_cache
@login_required
@require_safe
def episode_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    episode = _get_episode_for_user(request, uuid, record=Record.EPISODE, act=Act.VIEW)
    user = request.user
    overview = episodes.episode_overview(episode=episode)
    return render(
        request,
        "patients/episodes/episode.html",
        {
            **patient_header(episode.patient),
            "episode": episode,
            "overview": overview,
            "assessment": overview.assessment,
            "suggestion_rows": stored_suggestions(overview.assessment.suggestions if overview.assessment else []),
            "can_sign": access.can(user, Act.CREATE, Record.CONSENT),
            "can_change_consent": access.can(user, Act.CHANGE, Record.CONSENT),
            "start_procedure_url": (
                url_or_empty("procedures:start", episode=episode.uuid)
                if access.can(user, Act.CREATE, Record.PROCEDURE)
                else ""
            ),
            "adverse_event_url": (
                url_or_empty("procedures:adverse_event_new", episode=episode.uuid)
                if access.can(user, Act.CREATE, Record.ADVERSE_EVENT)
                else ""
            ),
            "procedure_rows": [(p, url_or_empty("procedures:record", uuid=p.uuid)) for p in overview.procedures],
            "event_rows": [(e, url_or_empty("procedures:adverse_event", uuid=e.uuid)) for e in overview.adverse_events],
            "open": episode.status not in (Episode.Status.CLOSED,),
        },
    )

"""The patient's questionnaire pages, opened from the emailed link (see outcomes/urls.py).

The link (`accounts.links`, purpose questionnaire) is swapped on first use for a short
patient session naming one follow-up of one patient; every page below reads that session
and nothing else, so another patient's link or a guessed address never shows this one's
answers. No session is a 404 page saying how to get back in; a used or expired link a 410
that offers a new one by email, sent only to the address on file. Answers travel in POST
bodies; URLs carry the token or a screen number.

Each screen is saved as the patient goes (leaving and coming back loses nothing); the last
one submits, and the thank-you page shows the patient their own progress.
"""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts import links
from accounts.access import Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, PatientLink
from accounts.ratelimit import rate_limited
from outcomes import charts, invitations, queries, services
from outcomes import survey as surveys
from outcomes.forms.survey import ItemsForm, SurgeryForm
from outcomes.models import FollowUp, Timepoint

PURPOSE = PatientLink.Purpose.QUESTIONNAIRE
# Where a finished session leaves its mark, so the thank-you page still shows after the last screen.
DONE_KEY = "questionnaire_done"
RESEND_EVERY_MINUTES = 10


def _follow_up(request: HttpRequest) -> FollowUp | None:
    """The follow-up the visitor's patient session opens, if the session is still running."""
    session = links.current(request, purpose=PURPOSE)
    if session is None:
        return None
    return (
        FollowUp.objects.filter(uuid=session.target, episode__patient_id=session.patient_id)
        .select_related("episode__patient")
        .first()
    )


def _ended(request: HttpRequest) -> HttpResponse:
    return render(request, "outcomes/survey/ended.html", {"minutes": links.SESSION_MINUTES}, status=404)


def _audit_shown(request: HttpRequest, follow_up: FollowUp) -> None:
    """The patient's own answers or scores were shown to them: one "view" row (role "patient" from the session)."""
    audit_record(
        actor=None,
        action=AuditEvent.Action.VIEW,
        object_type=Record.OUTCOME,
        object_ref=str(follow_up.uuid),
        patient=follow_up.episode.patient,
        request=request,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@rate_limited("patient_link")
def survey_start(request: HttpRequest, token: str) -> HttpResponse:
    """GET: use the emailed link and go to the questionnaire. POST (from the 410 page): email a new link.

    HEAD is refused here (405), and `links.link_open` never uses a link up on HEAD (a mail scanner probing it).
    """
    if request.method == "POST":
        return _new_link(request, token)
    # Back with the same link while the session it was swapped for lives: that session, nothing used up.
    session = links.current(request, purpose=PURPOSE)
    if (
        session is not None
        and PatientLink.objects.filter(pk=session.link_id, token_sha256=links.digest(token)).exists()
    ):
        return redirect("outcomes:survey")
    try:
        links.link_open(request, token, purpose=PURPOSE)
    except links.LinkUnknown as unknown:
        raise Http404 from unknown
    except links.LinkGone as gone:
        return _gone(request, gone.link, reason=gone.reason, token=token)
    return redirect("outcomes:survey")


def _open(follow_up: FollowUp | None) -> bool:
    return follow_up is not None and services.takes_answers(follow_up)


def _link_follow_up(link: PatientLink) -> FollowUp | None:
    return FollowUp.objects.filter(uuid=link.target, episode__patient_id=link.patient_id).first()


def _gone(request: HttpRequest, link: PatientLink, *, reason: str, token: str) -> HttpResponse:
    follow_up = _link_follow_up(link)
    context = {
        "reason": reason,
        "token": token,
        "can_email": _open(follow_up) and bool(link.patient.email),
        "answered": follow_up is not None and follow_up.status == FollowUp.Status.COMPLETED,
    }
    return render(request, "outcomes/survey/gone.html", context, status=410)


def _new_link(request: HttpRequest, token: str) -> HttpResponse:
    """The 410 page's "Email me a new link": only to the address on file, at most one every few minutes."""
    link = (
        PatientLink.objects.filter(token_sha256=links.digest(token), purpose=PURPOSE).select_related("patient").first()
    )
    if link is None:
        raise Http404
    follow_up = _link_follow_up(link)
    if follow_up is None or not _open(follow_up) or not link.patient.email:
        return _gone(request, link, reason="used", token=token)
    now = timezone.now()
    recent = PatientLink.objects.filter(
        purpose=PURPOSE,
        target=link.target,
        created_at__gt=now - timedelta(minutes=RESEND_EVERY_MINUTES),
        used_at__isnull=True,
        revoked_at__isnull=True,
    ).exists()
    if not recent:
        invitations.link_resend(follow_up=follow_up, now=now, request=request, language=get_language())
    return render(request, "outcomes/survey/sent.html", {"again": recent})


@never_cache
@require_safe
def survey_resume(request: HttpRequest) -> HttpResponse:
    """Where the patient left off: the first screen not yet answered (or the thank-you page)."""
    follow_up = _follow_up(request)
    if follow_up is None:
        return _ended(request)
    if not _open(follow_up):
        return redirect("outcomes:survey_done")
    found = surveys.next_unfinished(follow_up, surveys.screens(follow_up))
    if found is None:
        # Every screen answered but not sent (a closed tab at the last step): the last screen sends it.
        found = surveys.screens(follow_up)[-1]
    return redirect("outcomes:survey_step", number=found.number)


def _screen_context(follow_up: FollowUp, screen: surveys.Screen, all_screens: list[surveys.Screen]) -> dict[str, Any]:
    language = get_language() or "en"
    answers = surveys.answers_of(follow_up)
    return {
        "follow_up": follow_up,
        "screen": screen,
        "total": len(all_screens),
        "finished": sum(1 for s in all_screens if surveys.is_finished(s, answers, follow_up)),
        "previous": screen.number - 1 if screen.number > 1 else None,
        "is_last": screen.number == len(all_screens),
        "shown_in": screen.language(language),
        "not_in_language": screen.instrument is not None and screen.language(language) != language,
        "title": screen.section.title.get(screen.language(language), "") if screen.section else "",
        "instructions": screen.section.instructions.get(screen.language(language), "") if screen.section else "",
        "minutes": links.SESSION_MINUTES,
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("patient_form")
def survey_step(request: HttpRequest, number: int) -> HttpResponse:
    """One screen: GET shows it with what was saved; POST saves it and moves on (the last one sends)."""
    follow_up = _follow_up(request)
    if follow_up is None:
        return _ended(request)
    if not _open(follow_up):
        return redirect("outcomes:survey_done")
    all_screens = surveys.screens(follow_up)
    if not 1 <= number <= len(all_screens):
        raise Http404
    screen = all_screens[number - 1]
    if screen.is_surgery:
        return _surgery_step(request, follow_up, screen, all_screens)
    assert screen.instrument is not None
    language = screen.language(get_language() or "en")
    optional = services.OPTIONAL_ITEMS.get(screen.instrument.code, frozenset())
    one_of = services.ONE_OF.get(screen.instrument.code, ())
    part = surveys.part_of(follow_up.episode, language)
    saved = surveys.answers_of(follow_up).get(screen.instrument.code, {})
    if request.method == "POST":
        form = ItemsForm(request.POST, screen=screen, language=language, optional=optional, one_of=one_of, part=part)
        going_back = request.POST.get("go") == "back"
        if going_back or form.is_valid():
            answers = form.answered_so_far() if going_back else form.answers()
            try:
                services.response_save(
                    follow_up=follow_up,
                    instrument=screen.instrument.code,
                    answers=answers,
                    language=language,
                    request=request,
                )
            except services.FollowUpClosed:
                return redirect("outcomes:survey_done")
            if going_back:
                return redirect("outcomes:survey_step", number=max(1, number - 1))
            if number < len(all_screens):
                return redirect("outcomes:survey_step", number=number + 1)
            return _submit(request, follow_up, surgery=None)
    else:
        form = ItemsForm(
            screen=screen,
            language=language,
            optional=optional,
            one_of=one_of,
            part=part,
            initial={code: value for code, value in saved.items() if value is not None},
        )
        _audit_shown(request, follow_up)
    context = {**_screen_context(follow_up, screen, all_screens), "form": form}
    return render(request, "outcomes/survey/step.html", context, status=200)


def _surgery_step(
    request: HttpRequest, follow_up: FollowUp, screen: surveys.Screen, all_screens: list[surveys.Screen]
) -> HttpResponse:
    """The last screen after treatment: surgery on the treated area since? Answering it sends the questionnaire."""
    if request.method == "POST":
        form = SurgeryForm(request.POST, treated_on=services.treated_on(follow_up))
        if request.POST.get("go") == "back":
            return redirect("outcomes:survey_step", number=max(1, screen.number - 1))
        if form.is_valid():
            return _submit(request, follow_up, surgery=form.surgery())
    else:
        form = SurgeryForm(treated_on=services.treated_on(follow_up))
        _audit_shown(request, follow_up)
    context = {**_screen_context(follow_up, screen, all_screens), "form": form}
    return render(request, "outcomes/survey/surgery.html", context)


def _submit(request: HttpRequest, follow_up: FollowUp, *, surgery: dict[str, Any] | None) -> HttpResponse:
    try:
        services.follow_up_submit(follow_up=follow_up, request=request, surgery=surgery)
    except services.FollowUpClosed:
        return redirect("outcomes:survey_done")
    except ValidationError:
        # Something is still unanswered (a screen skipped by hand): go back to it.
        return redirect("outcomes:survey")
    return redirect("outcomes:survey_done")


@never_cache
@require_safe
def survey_done(request: HttpRequest) -> HttpResponse:
    """Thank you, and the patient's own progress: a chart of each score over time, with a table."""
    follow_up = _follow_up(request)
    if follow_up is None:
        return _ended(request)
    progress = queries.episode_progress(follow_up.episode)
    shown = [
        {"series": line, "chart": charts.score_chart(line, chart_id=f"chart-{n}")}
        for n, line in enumerate(progress.series, start=1)
        if any(point.value is not None for point in line.points)
    ]
    _audit_shown(request, follow_up)
    context = {
        "follow_up": follow_up,
        "answered": follow_up.status == FollowUp.Status.COMPLETED,
        "missed": follow_up.status != FollowUp.Status.COMPLETED and not services.takes_answers(follow_up),
        "is_baseline": follow_up.timepoint == Timepoint.BASELINE,
        "charts": shown,
        "next_due": progress.next_due if progress.next_due != follow_up else None,
    }
    return render(request, "outcomes/survey/done.html", context)

"""The staff's outcomes pages: the front desk's call list and phone entry, the clinician's timeline and surgery record.

Who may open each is `accounts.access.POLICY`: the call list and its calls are
`FOLLOW_UP` records (front desk, physicians and PAs; administrators read the list);
typing in a patient's answers is creating an `OUTCOME` (the front desk may, without
reading scores); the timeline reads outcomes and the surgery page changes them
(physicians and PAs). Every record is reached through `access.get_for_user`, so a
follow-up or an episode outside the person's role, or an id of another kind, is the same
404. A page that shows a patient leaves one "view" row; a save leaves the service's rows.

The pages are in English (the practice's choice for staff pages); instruments show their
official English wording.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from outcomes import charts, instruments, invitations, queries, services, survey
from outcomes.forms.staff import CallForm, PhoneAnswersForm, SurgeryRecordForm
from outcomes.forms.survey import SurgeryForm
from outcomes.instruments.base import Instrument, Threshold
from outcomes.models import FollowUp, FollowUpCall, InstrumentSet, Response, Timepoint
from patients.models import Episode, Patient
from procedures import queries as procedure_queries

Status = FollowUp.Status


def _follow_up_patient(follow_up: FollowUp) -> Patient:
    return follow_up.episode.patient


def _episode_patient(episode: Episode) -> Patient:
    return episode.patient


def _audit_shown(request: HttpRequest, *, record: Record, ref: Any, patient: Patient) -> None:
    """A page reached for a change (phone entry, the surgery form) shows the patient's record: one "view" row."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        object_type=record,
        object_ref=str(ref),
        patient=patient,
        request=request,
    )


def _tel(phone: str) -> str:
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


# --- The call list -------------------------------------------------------------------------------


@dataclass
class EntryLink:
    instrument: str
    url: str
    answered: bool


@dataclass
class CallRow:
    follow_up: FollowUp
    tel: str
    last_call: FollowUpCall | None
    entries: list[EntryLink] = field(default_factory=list)
    form: CallForm | None = None


def _call_rows(today: date, *, can_enter: bool) -> list[CallRow]:
    """The call list's rows in a fixed number of queries: follow-ups, their calls, their responses, the sets."""
    follow_ups = invitations.call_list(today=today).prefetch_related(
        Prefetch("calls", queryset=FollowUpCall.objects.select_related("called_by")),
        Prefetch("responses", queryset=Response.objects.only("follow_up_id", "instrument", "answers")),
    )
    sets = list(InstrumentSet.objects.all())
    rows = []
    for follow_up in follow_ups:
        calls = list(follow_up.calls.all())
        row = CallRow(
            follow_up=follow_up, tel=_tel(follow_up.episode.patient.phone), last_call=calls[0] if calls else None
        )
        if can_enter:
            given = {response.instrument: response.answers for response in follow_up.responses.all()}
            for code in services.instruments_for(follow_up.episode, follow_up.timepoint, sets=sets):
                items = [item.code for item in instruments.get(code).items]
                row.entries.append(
                    EntryLink(
                        instrument=code,
                        url=reverse("outcomes:phone_entry", kwargs={"uuid": follow_up.uuid, "instrument": code}),
                        answered=code in given and not services.unanswered(code, items, given[code]),
                    )
                )
        rows.append(row)
    return rows


def _render_calls(
    request: HttpRequest, *, failed: FollowUp | None = None, form: CallForm | None = None, status: int = 200
) -> HttpResponse:
    today = timezone.localdate()
    user = request.user
    rows = _call_rows(today, can_enter=access.can(user, Act.CREATE, Record.OUTCOME))
    failed_shown = False
    for row in rows:
        if failed is not None and row.follow_up.pk == failed.pk:
            row.form = form
            failed_shown = True
    # One row for the page, naming the day and how many follow-ups it listed (never who).
    access.audit_list(request, record=Record.FOLLOW_UP, ref=f"calls:{today.isoformat()}:{len(rows)}")
    context = {
        "rows": rows,
        "today": today,
        "outcomes": FollowUpCall.Outcome.choices,
        "can_call": access.can(user, Act.CHANGE, Record.FOLLOW_UP),
        "can_enter": access.can(user, Act.CREATE, Record.OUTCOME),
        "form_error": form.errors["outcome"][0] if form is not None and not failed_shown else "",
    }
    return render(request, "outcomes/staff/call_list.html", context, status=status)


@never_cache
@login_required
@require_safe
def call_list(request: HttpRequest) -> HttpResponse:
    """The follow-ups to phone today: past both reminders unanswered, or with no email address."""
    access.require(request, Act.VIEW, Record.FOLLOW_UP)
    return _render_calls(request)


@never_cache
@login_required
@require_POST
def call_record(request: HttpRequest, uuid: Any) -> HttpResponse:
    follow_up = access.get_for_user(
        request,
        FollowUp.objects.select_related("episode__patient"),
        record=Record.FOLLOW_UP,
        act=Act.CHANGE,
        patient_of=_follow_up_patient,
        uuid=uuid,
    )
    form = CallForm(request.POST)
    if not form.is_valid():
        return _render_calls(request, failed=follow_up, form=form)
    try:
        call = services.call_record(
            follow_up=follow_up, outcome=form.cleaned_data["outcome"], by=cast(User, request.user), request=request
        )
    except services.FollowUpClosed:
        follow_up.refresh_from_db()
        messages.error(
            request,
            f"No call recorded: the {follow_up.get_timepoint_display()} follow-up is "
            f"{follow_up.get_status_display().split(':')[0].lower()} already, so it is off the call list.",
        )
        return redirect("outcomes:call_list")
    # The message names the time point and the outcome, never the patient (it is kept in the session).
    messages.success(
        request, f"Call recorded ({follow_up.get_timepoint_display()} follow-up): {call.get_outcome_display()}."
    )
    return redirect("outcomes:call_list")


# --- Answers given by phone ----------------------------------------------------------------------


def _refusal(follow_up: FollowUp, today: date) -> str:
    """Why the follow-up takes no answers today, or "" if it does.

    The services refuse the same answers (`FollowUpClosed`, on the status and the window's
    dates); this says it first, in the staff's words, so the page shows no form to fill in vain.
    """
    if follow_up.status == Status.COMPLETED:
        return "This follow-up is already answered: it takes no more answers."
    if follow_up.status == Status.MISSED or follow_up.closes_on < today:
        return (
            f"This follow-up's window closed on {follow_up.closes_on:%B} {follow_up.closes_on.day}, "
            f"{follow_up.closes_on.year} without answers: it is recorded as missed and takes no answers."
        )
    if follow_up.opens_on > today:
        return (
            f"This follow-up's window opens on {follow_up.opens_on:%B} {follow_up.opens_on.day}, "
            f"{follow_up.opens_on.year}: answers can be entered from that day."
        )
    return ""


def _part(follow_up: FollowUp) -> str:
    """The treated part an item asks about ("knee"), in English, the language staff pages show items in."""
    return survey.part_of(follow_up.episode, "en")


def _render_entry(
    request: HttpRequest,
    follow_up: FollowUp,
    defined: Instrument,
    wanted: list[str],
    *,
    form: PhoneAnswersForm | None,
    refusal: str,
    status: int = 200,
    surgery: SurgeryForm | None = None,
) -> HttpResponse:
    _audit_shown(request, record=Record.FOLLOW_UP, ref=follow_up.uuid, patient=follow_up.episode.patient)
    has_answers = Response.objects.filter(follow_up=follow_up, instrument=defined.code).exclude(answers={}).exists()
    context = {
        "follow_up": follow_up,
        "patient": follow_up.episode.patient,
        "instrument": defined,
        "form": form,
        "surgery_form": surgery,
        "refusal": refusal,
        "has_answers": has_answers,
        "others": [
            (code, reverse("outcomes:phone_entry", kwargs={"uuid": follow_up.uuid, "instrument": code}))
            for code in wanted
        ],
    }
    return render(request, "outcomes/staff/phone_entry.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def phone_entry(request: HttpRequest, uuid: Any, instrument: str) -> HttpResponse:
    """One instrument's items on one page, typed in as the patient answers; the last instrument submits."""
    follow_up = access.get_for_user(
        request,
        FollowUp.objects.select_related("episode__patient"),
        record=Record.OUTCOME,
        act=Act.CREATE,
        patient_of=_follow_up_patient,
        uuid=uuid,
    )
    wanted = services.instruments_for(follow_up.episode, follow_up.timepoint)
    if instrument.upper() not in wanted:
        raise Http404
    defined = instruments.get(instrument)
    user = cast(User, request.user)
    today = timezone.localdate(timezone.now(), services.zone_of(follow_up.episode))
    refusal = _refusal(follow_up, today)
    if refusal:
        # Closed or missed: said so, and nothing taken (a POST is refused, with the same words).
        return _render_entry(
            request,
            follow_up,
            defined,
            wanted,
            form=None,
            refusal=refusal,
            status=409 if request.method == "POST" else 200,
        )
    # The page whose answers complete a follow-up after treatment also asks the patient's surgery question.
    completes = follow_up.timepoint != Timepoint.BASELINE and not [
        code for code in wanted if code != defined.code and services.missing_items(follow_up, code)
    ]
    if request.method != "POST":
        surgery = SurgeryForm(treated_on=services.treated_on(follow_up), prefix="surgery") if completes else None
        # Those who may read outcomes see what was saved so far; the front desk types in answers without reading them.
        initial = {}
        if access.can(user, Act.VIEW, Record.OUTCOME):
            saved = Response.objects.filter(follow_up=follow_up, instrument=defined.code).first()
            initial = {code: value for code, value in (saved.answers if saved else {}).items() if value is not None}
        form = PhoneAnswersForm(instrument=defined, part=_part(follow_up), initial=initial)
        return _render_entry(request, follow_up, defined, wanted, form=form, refusal="", surgery=surgery)
    form = PhoneAnswersForm(request.POST, instrument=defined, part=_part(follow_up))
    surgery = (
        SurgeryForm(request.POST, treated_on=services.treated_on(follow_up), prefix="surgery") if completes else None
    )
    # Both checked before anything is saved, so a missing surgery answer keeps what was typed and saves nothing.
    answers_ok = form.is_valid()
    if not answers_ok or (surgery is not None and not surgery.is_valid()):
        return _render_entry(request, follow_up, defined, wanted, form=form, refusal="", surgery=surgery)
    try:
        # Saved and, with every instrument now answered, submitted and scored: both or neither.
        with transaction.atomic():
            services.response_save(
                follow_up=follow_up,
                instrument=defined.code,
                answers=form.answers(),
                mode=Response.Mode.PHONE,
                by=user,
                request=request,
            )
            left = [code for code in wanted if services.missing_items(follow_up, code)]
            if not left:
                services.follow_up_submit(
                    follow_up=follow_up,
                    by=user,
                    request=request,
                    surgery=surgery.surgery() if surgery is not None else None,
                )
    except services.FollowUpClosed:
        follow_up.refresh_from_db()
        refusal = _refusal(follow_up, today) or "This follow-up takes no more answers."
        return _render_entry(request, follow_up, defined, wanted, form=None, refusal=refusal, status=409)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _render_entry(request, follow_up, defined, wanted, form=form, refusal="", surgery=surgery)
    label = follow_up.get_timepoint_display()
    if not left:
        messages.success(
            request,
            f"{defined.code} saved. Every questionnaire of the {label} follow-up is entered: "
            "it is complete and scored.",
        )
        return redirect("outcomes:call_list")
    messages.success(request, f"{defined.code} saved. Next: {left[0]}.")
    return redirect("outcomes:phone_entry", uuid=follow_up.uuid, instrument=left[0])


# --- The timeline --------------------------------------------------------------------------------


def _get_episode(request: HttpRequest, uuid: Any, act: Act) -> Episode:
    return access.get_for_user(
        request,
        Episode.objects.select_related("patient", "physician"),
        record=Record.OUTCOME,
        act=act,
        patient_of=_episode_patient,
        uuid=uuid,
    )


def _yes_no(value: bool | None, *, unknown: str = "Unknown") -> str:
    return unknown if value is None else ("Yes" if value else "No")


def _threshold(threshold: Threshold | None, *, higher_is_better: bool, kind: str) -> str:
    """A published threshold as the table states it: its value, its unit and where it was published."""
    if threshold is None:
        return f"No {kind} published for this score."
    if kind == "MCID":
        amount = (
            f"{threshold.value:g}% of the baseline" if threshold.unit == "percent" else f"{threshold.value:g} points"
        )
        return f"MCID: an improvement of {amount} (source: {threshold.source})"
    sign = "≥" if higher_is_better else "≤"
    return f"PASS: {sign} {threshold.value:g} (source: {threshold.source})"


@dataclass
class PointRow:
    label: str
    target_date: date
    score: str
    change: str
    meaningful: str
    reaches_pass: str


def _point_rows(line: queries.Series) -> list[PointRow]:
    """The table beside a chart: each time point's value (or why it is not scorable) and what it means."""
    rows = []
    has_pass = line.definition.pass_threshold is not None
    for point in line.points:
        baseline = point.timepoint == Timepoint.BASELINE
        rows.append(
            PointRow(
                label=point.label,
                target_date=point.target_date,
                score=f"{point.value:.1f}" if point.value is not None else f"not scorable: {point.reason}",
                change="baseline" if baseline else ("—" if point.change is None else f"{point.change:+.1f}"),
                meaningful="—" if baseline else _yes_no(point.meaningful, unknown="—"),
                reaches_pass=_yes_no(point.reaches_pass, unknown="—") if has_pass else "—",
            )
        )
    return rows


@never_cache
@login_required
@require_safe
def timeline(request: HttpRequest, uuid: Any) -> HttpResponse:
    """An episode's scores over time, each a chart with its table; follow-ups, adverse events, surgery."""
    episode = _get_episode(request, uuid, Act.VIEW)
    progress = queries.episode_progress(episode)
    shown = [
        {
            "series": line,
            "label": line.definition.label.get("en", line.code),
            "rows": _point_rows(line),
            "mcid": _threshold(line.definition.mcid, higher_is_better=line.definition.higher_is_better, kind="MCID"),
            "pass": _threshold(
                line.definition.pass_threshold, higher_is_better=line.definition.higher_is_better, kind="PASS"
            ),
            "chart": charts.score_chart(line, chart_id=f"chart-{n}")
            if any(point.value is not None for point in line.points)
            else "",
        }
        for n, line in enumerate(progress.series, start=1)
    ]
    labels = dict(Timepoint.choices)
    user = request.user
    context = {
        "episode": episode,
        "patient": episode.patient,
        "progress": progress,
        "charts": shown,
        "responder": [(str(labels[timepoint]), status) for timepoint, status in progress.responder.items()],
        "events": procedure_queries.adverse_events_for_episode(episode),
        "can_read_events": access.can(user, Act.VIEW, Record.ADVERSE_EVENT),
        "can_record_surgery": access.can(user, Act.CHANGE, Record.OUTCOME),
    }
    return render(request, "outcomes/staff/timeline.html", context)


# --- Conversion to surgery -----------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def surgery(request: HttpRequest, uuid: Any) -> HttpResponse:
    """Record, or amend, that the treated site went on to surgery."""
    episode = _get_episode(request, uuid, Act.CHANGE)
    progress = queries.episode_progress(episode)
    existing = progress.surgery
    today = timezone.localdate(timezone.now(), services.zone_of(episode))
    initial = (
        {"surgery_date": existing.surgery_date, "procedure": existing.procedure, "details": existing.details}
        if existing is not None
        else {}
    )
    form = SurgeryRecordForm(
        request.POST if request.method == "POST" else None,
        treated_on=progress.procedure_date,
        today=today,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.surgery_record(
                episode=episode,
                surgery_date=form.cleaned_data["surgery_date"],
                procedure=form.cleaned_data["procedure"],
                details=form.cleaned_data["details"],
                by=cast(User, request.user),
                request=request,
            )
        except ValidationError as error:
            for name, errors in getattr(error, "message_dict", {"__all__": error.messages}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request, "Conversion to surgery amended." if existing else "Conversion to surgery recorded."
            )
            return redirect("outcomes:timeline", uuid=episode.uuid)
    _audit_shown(request, record=Record.OUTCOME, ref=episode.uuid, patient=episode.patient)
    context = {
        "episode": episode,
        "patient": episode.patient,
        "form": form,
        "existing": existing,
        "treated_on": progress.procedure_date,
    }
    return render(request, "outcomes/staff/surgery.html", context)

"""The front desk's calendar: day and week per office, provider or room; book, move, cancel, statuses;
today's arrivals and the call-back list.

Who may use it is `accounts.access.POLICY` (appointments: the front desk, physicians,
physician assistants, the practice manager). Everyone else meets a 403 (a 404 at an
appointment's or request's own URL, so nothing tells them it exists); anonymous
visitors are sent to sign in.

Every view that shows patients or changes an appointment goes through the one access
helper, `accounts.access.get_for_user` for one record and `_read_for_user` for a page
listing several. Each checks the policy and leaves one audit row for a read; a change
is recorded by the service that makes it, inside its transaction, so a refused change
records no "change". URLs carry appointment uuids, never a name: patient search terms
travel in POST bodies only. Booking, moving and cancelling go through
`scheduling.services`, which queue the patient's email in the same transaction.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from patients.models import Patient
from patients.queries import patient_search
from patients.services import PatientExists
from scheduling import availability, display, rules, services
from scheduling import calendar as calendars
from scheduling.calendar import DAY, VIEWS, WEEK, Scope, ScopeChoices
from scheduling.forms.staff import NEW_PATIENT, AppointmentCreateForm, AppointmentMoveForm, PatientSearchForm
from scheduling.models import Appointment, AppointmentStatus, AppointmentType, CallbackRequest, Provider
from website.models import Office

NEAREST = 6
# Refusals that mean "someone or something already holds that time": answered 409.
CONFLICTS = (rules.SlotTaken, rules.NoRoomFree, rules.PatientBusy)
# Refusals about the time itself: the nearest free times are offered.
TIME_REFUSALS = (rules.SlotTaken, rules.NoRoomFree, rules.OutsideHours, rules.Unavailable, rules.InThePast)
# Refusals about one field, shown next to it (the others go at the top of the form).
REFUSAL_FIELDS: dict[type[Exception], str] = {
    rules.OverrideNotAllowed: "override_reason",
    rules.PatientBusy: "patient",
    PatientExists: "patient",
}
Refusal = rules.BookingError | PatientExists
STATUS_DONE = {
    AppointmentStatus.CHECKED_IN: gettext_lazy("Checked in."),
    AppointmentStatus.COMPLETED: gettext_lazy("Marked completed."),
    AppointmentStatus.NO_SHOW: gettext_lazy("Marked as a no-show."),
    AppointmentStatus.BOOKED: gettext_lazy("Back to booked."),
}


# --- Access: the one way in ----------------------------------------------------------------------


def _staff_user(request: HttpRequest) -> User:
    """The signed-in user if their role may use the calendar; otherwise a 403."""
    return access.require(request, Act.VIEW, Record.APPOINTMENT)


def _get_appointment_for_user(request: HttpRequest, uuid: Any, act: Act) -> Appointment:
    return access.get_for_user(
        request,
        Appointment.objects.select_related("office", "provider", "room", "appointment_type", "patient", "created_by"),
        record=Record.APPOINTMENT,
        act=act,
        patient_of=_patient_of,
        uuid=uuid,
    )


def _patient_of(appointment: Appointment) -> Patient:
    return appointment.patient


def _audit_shown(request: HttpRequest, appointment: Appointment) -> None:
    """A page that shows an appointment again (with the patient's name) after a change was asked for: a read."""
    audit_record(
        actor=request.user,
        action=AuditEvent.Action.VIEW,
        object_type=Record.APPOINTMENT,
        object_ref=str(appointment.uuid),
        patient=appointment.patient,
        request=request,
    )


def _read_for_user(request: HttpRequest, *, object_type: str, object_ref: str) -> User:
    """A page listing several records: role check, then one audit row naming what the page showed.

    `object_ref` names the selection (view, first day, scope by id), never a person:
    with the appointments' history it tells exactly which rows were on the page.
    """
    user = _staff_user(request)
    audit_record(
        actor=user, action=AuditEvent.Action.VIEW, object_type=object_type, object_ref=object_ref, request=request
    )
    return user


# --- Helpers -------------------------------------------------------------------------------------


def _today(zone: ZoneInfo) -> date:
    return timezone.now().astimezone(zone).date()


def _practice_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _read_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _next_url(request: HttpRequest, default: str) -> str:
    """Where a form asked to go back to, if it is a path on this site; else `default`."""
    wanted = request.POST.get("next", "")
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


@dataclass(frozen=True, slots=True)
class CalendarQuery:
    """What the calendar page shows, read from (and written back to) its query string."""

    scope: Scope
    view: str
    day: date
    cancelled: bool

    def url(self, **changes: Any) -> str:
        query = replace(self, **changes)
        params = {"show": query.scope.value, "view": query.view, "date": query.day.isoformat()}
        if query.cancelled:
            params["cancelled"] = "1"
        return reverse("scheduling:staff_calendar") + "?" + urlencode(params)

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.view == WEEK else 1)


def _calendar_query(request: HttpRequest, choices: ScopeChoices) -> CalendarQuery | None:
    """The query string read leniently: anything unknown falls back to the first office, this week."""
    scope = choices.find(request.GET.get("show", "")) or choices.default()
    if scope is None:
        return None
    view = request.GET.get("view", WEEK)
    return CalendarQuery(
        scope=scope,
        view=view if view in VIEWS else WEEK,
        day=_read_date(request.GET.get("date")) or _today(scope.zone),
        cancelled=request.GET.get("cancelled") == "1",
    )


def _book_url(**params: str) -> str:
    return reverse("scheduling:staff_new") + "?" + urlencode({k: v for k, v in params.items() if v})


def _week_url(office: Office, day: date) -> str:
    scope = Scope("office", office.slug, office.name, office=office)
    return CalendarQuery(scope=scope, view=WEEK, day=day, cancelled=False).url()


def _alternatives(
    *, office: Office, appointment_type: AppointmentType, around: datetime, providers: dict[int, Provider]
) -> list[dict[str, str]]:
    """The nearest free times (any provider at the office), as values a "pick" button sends back."""
    slots = availability.nearest_free_slots(
        office=office, appointment_type=appointment_type, around=around, n=NEAREST, source=Appointment.Source.STAFF
    )
    found = []
    for slot in slots:
        provider = providers.get(slot.provider_id)
        if provider is None:
            continue
        local = display.local(slot.starts_at, office)
        found.append(
            {
                "value": f"{provider.uuid}|{local:%Y-%m-%dT%H:%M}",
                "label": _("%(day)s at %(time)s with %(provider)s")
                % {
                    "day": display.day_label(slot.starts_at, office),
                    "time": display.time_label(slot.starts_at, office),
                    "provider": provider.name,
                },
            }
        )
    return found


def _apply_pick(data: QueryDict) -> QueryDict:
    """A "pick" button (one of the nearest free times) fills in provider, date and time."""
    provider, _sep, when = data.get("pick", "").partition("|")
    day, _t, at = when.partition("T")
    if not (provider and _read_date(day) and at):
        return data
    data = data.copy()
    data["provider"], data["date"], data["time"] = provider, day, at
    return data


def _booking_problem(form: Any, error: Refusal, *, physician: bool) -> None:
    """Put a refusal where the person looks: next to the field it is about (if the form has it), else at the top."""
    message = error.messages[0]
    field = next((name for kind, name in REFUSAL_FIELDS.items() if isinstance(error, kind)), None)
    form.add_error(field if field in form.fields else None, message)
    if isinstance(error, rules.SlotTaken) and physician:
        form.add_error(
            "override_reason", _("To book over the other appointment anyway, write the reason here and send again.")
        )


def _status_of(error: Refusal) -> int:
    return 409 if isinstance(error, CONFLICTS) else 200


# --- The calendar --------------------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def calendar(request: HttpRequest) -> HttpResponse:
    _staff_user(request)
    choices = calendars.scope_choices()
    query = _calendar_query(request, choices)
    if query is None:
        return render(request, "scheduling/staff/calendar.html", {"query": None, "section": "calendar"})
    cal = calendars.calendar(
        scope=query.scope,
        view=query.view,
        day=query.day,
        today=_today(query.scope.zone),
        include_cancelled=query.cancelled,
    )
    _read_for_user(
        request,
        object_type="appointment_calendar",
        object_ref=f"{query.view}:{cal.days[0].isoformat()}:{query.scope.audit_ref}",
    )
    scope = query.scope
    for column in cal.columns:
        provider = column.provider or scope.provider
        office = scope.office or (scope.room.office if scope.room else None)
        column.book_url = _book_url(
            date=column.day.isoformat(),
            office=office.slug if office else "",
            provider=str(provider.uuid) if provider else "",
        )
    return render(
        request,
        "scheduling/staff/calendar.html",
        {
            "section": "calendar",
            "query": query,
            "cal": cal,
            "groups": choices.grouped(),
            "views": [(DAY, _("Day"), query.url(view=DAY)), (WEEK, _("Week"), query.url(view=WEEK))],
            "previous_url": query.url(day=query.day - query.step),
            "today_url": query.url(day=_today(scope.zone)),
            "next_url": query.url(day=query.day + query.step),
            "here": query.url(),
        },
    )


# --- Booking -------------------------------------------------------------------------------------


def _render_new(
    request: HttpRequest,
    *,
    search: PatientSearchForm,
    form: AppointmentCreateForm,
    searched: bool = False,
    alternatives: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    if form.patients:
        # The page names the patients found (or chosen): a read of each, in one row.
        _read_for_user(request, object_type="patient_search", object_ref=f"results:{len(form.patients)}")
    return render(
        request,
        "scheduling/staff/new.html",
        {
            "section": "new",
            "search": search,
            "form": form,
            "searched": searched,
            "alternatives": alternatives or [],
            "new_patient": NEW_PATIENT,
        },
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def appointment_new(request: HttpRequest) -> HttpResponse:
    user = _staff_user(request)
    if request.method == "GET":
        # Office, provider, type and time may come from the calendar's "book" links: none is about a patient.
        initial = {
            name: request.GET[name]
            for name in ("office", "provider", "appointment_type", "date", "time")
            if request.GET.get(name)
        }
        return _render_new(request, search=PatientSearchForm(), form=AppointmentCreateForm(initial=initial, user=user))

    action = request.POST.get("action", "book")
    data = _apply_pick(request.POST)
    search = PatientSearchForm(data, searching=action == "find")
    candidates = _kept_patient(request, data)
    if search.is_valid() and search.has_terms:
        found = patient_search(
            name=search.cleaned_data["find_name"], date_of_birth=search.cleaned_data["find_date_of_birth"]
        )
        candidates += [patient for patient in found if patient not in candidates]
    if action == "find" or "pick" in data:
        # Not booking yet: show what was typed, unjudged, with the patients found or the time picked.
        kept = {key: data.get(key) for key in data if key not in ("csrfmiddlewaretoken", "action", "pick")}
        form = AppointmentCreateForm(initial=kept, candidates=candidates, user=user)
        return _render_new(request, search=search, form=form, searched=action == "find")

    form = AppointmentCreateForm(data, candidates=candidates, user=user)
    starts_at = form.starts_at(form.cleaned_data["office"]) if form.is_valid() else None
    if starts_at is None or not form.is_valid():
        return _render_new(request, search=search, form=form)
    data_ok = form.cleaned_data
    try:
        appointment = services.appointment_book(
            office=data_ok["office"],
            provider=data_ok["provider"],
            appointment_type=data_ok["appointment_type"],
            starts_at=starts_at,
            patient=form.chosen_patient(),
            source=Appointment.Source.STAFF,
            by=user,
            area_of_concern=data_ok["area_of_concern"],
            override_reason=data_ok["override_reason"],
            request=request,
        )
    except (rules.BookingError, PatientExists) as error:
        _booking_problem(form, error, physician=form.show_override)
        alternatives = []
        if isinstance(error, TIME_REFUSALS):
            providers = {p.pk: p for p in Provider.objects.filter(is_active=True)}
            alternatives = _alternatives(
                office=data_ok["office"],
                appointment_type=data_ok["appointment_type"],
                around=starts_at,
                providers=providers,
            )
        return _render_new(request, search=search, form=form, alternatives=alternatives, status=_status_of(error))
    if appointment.room is not None:
        messages.success(request, _("Appointment booked, in %(room)s.") % {"room": appointment.room.name})
    else:
        messages.success(request, _("Appointment booked."))
    _tell_if_not_emailed(request, appointment)
    return redirect("scheduling:staff_appointment", uuid=appointment.uuid)


def _kept_patient(request: HttpRequest, data: QueryDict) -> list[Patient]:
    """The patient chosen before a new search, so a second search never loses them (through the access helper).

    No audit row here: the page that shows them leaves its own, and a booking records its patient.
    """
    chosen = data.get("patient", "")
    if not chosen or chosen == NEW_PATIENT:
        return []
    try:
        return [access.get_for_user(request, Patient.objects.all(), record=Record.PATIENT, act=Act.CHANGE, uuid=chosen)]
    except Http404:
        return []


def _tell_if_not_emailed(request: HttpRequest, appointment: Appointment) -> None:
    """Staff changes email the patient; without an address on file, the desk must phone instead."""
    if not appointment.patient.email:
        messages.warning(
            request, _("This patient has no email address on file, so nobody told them: please call them.")
        )


# --- One appointment -----------------------------------------------------------------------------


def _render_appointment(
    request: HttpRequest,
    appointment: Appointment,
    *,
    form: AppointmentMoveForm,
    alternatives: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    office = appointment.office
    transitions = services.STATUS_TRANSITIONS[appointment.status]
    status_buttons = [
        (value, label)
        for value, label in (
            (AppointmentStatus.CHECKED_IN, _("Check in")),
            (AppointmentStatus.COMPLETED, _("Mark completed")),
            (AppointmentStatus.NO_SHOW, _("Mark no-show")),
            (AppointmentStatus.BOOKED, _("Back to booked")),
        )
        if value in transitions
    ]
    return render(
        request,
        "scheduling/staff/appointment.html",
        {
            "section": "calendar",
            "appointment": appointment,
            "patient": appointment.patient,
            "day": display.long_day_label(appointment.starts_at, office),
            "time_range": calendars.time_range(
                display.time_label(appointment.starts_at, office), display.time_label(appointment.ends_at, office)
            ),
            "created": display.long_day_label(appointment.created_at, office),
            "form": form,
            "alternatives": alternatives or [],
            "status_buttons": status_buttons,
            "can_move": appointment.status == AppointmentStatus.BOOKED,
            "can_cancel": appointment.status == AppointmentStatus.BOOKED,
            "week_url": _week_url(office, display.local(appointment.starts_at, office).date()),
            "here": request.path,
        },
        status=status,
    )


@never_cache
@login_required
@require_safe
def appointment_detail(request: HttpRequest, uuid: Any) -> HttpResponse:
    appointment = _get_appointment_for_user(request, uuid, Act.VIEW)
    local = display.local(appointment.starts_at, appointment.office)
    form = AppointmentMoveForm(
        initial={"date": local.date(), "time": local.time(), "provider": str(appointment.provider.uuid)},
        user=request.user,
    )
    return _render_appointment(request, appointment, form=form)


@never_cache
@login_required
@require_POST
def appointment_move(request: HttpRequest, uuid: Any) -> HttpResponse:
    appointment = _get_appointment_for_user(request, uuid, Act.CHANGE)
    user = cast(User, request.user)
    data = _apply_pick(request.POST)
    if "pick" in data:
        kept = {key: data.get(key) for key in data if key not in ("csrfmiddlewaretoken", "pick", "next")}
        _audit_shown(request, appointment)
        return _render_appointment(request, appointment, form=AppointmentMoveForm(initial=kept, user=user))
    form = AppointmentMoveForm(data, user=user)
    office = appointment.office
    starts_at = form.starts_at(office) if form.is_valid() else None
    problem: rules.BookingError | None = None
    if starts_at is not None and form.is_valid():
        try:
            services.appointment_reschedule(
                appointment=appointment,
                starts_at=starts_at,
                provider=form.cleaned_data["provider"],
                override_reason=form.cleaned_data["override_reason"],
                enforce_cutoff=False,
                by=user,
                request=request,
            )
        except rules.BookingError as error:
            problem = error
            _booking_problem(form, error, physician=form.show_override)
        else:
            messages.success(
                request,
                _("Moved. New time: %(day)s at %(time)s")
                % {
                    "day": display.long_day_label(appointment.starts_at, office),
                    "time": display.time_label(appointment.starts_at, office),
                },
            )
            _tell_if_not_emailed(request, appointment)
            return redirect(_next_url(request, _week_url(office, display.local(appointment.starts_at, office).date())))
    # Shown again with the patient's name: a read.
    _audit_shown(request, appointment)
    alternatives = []
    if isinstance(problem, TIME_REFUSALS) and starts_at is not None:
        providers = {p.pk: p for p in Provider.objects.filter(is_active=True)}
        alternatives = _alternatives(
            office=office, appointment_type=appointment.appointment_type, around=starts_at, providers=providers
        )
    status = _status_of(problem) if problem is not None else 200
    return _render_appointment(request, appointment, form=form, alternatives=alternatives, status=status)


@never_cache
@login_required
@require_POST
def appointment_cancel(request: HttpRequest, uuid: Any) -> HttpResponse:
    appointment = _get_appointment_for_user(request, uuid, Act.CHANGE)
    user = cast(User, request.user)
    try:
        services.appointment_cancel(appointment=appointment, enforce_cutoff=False, by=user, request=request)
    except rules.BookingError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Appointment cancelled. Its time is free again."))
        _tell_if_not_emailed(request, appointment)
    return redirect(_next_url(request, reverse("scheduling:staff_appointment", kwargs={"uuid": appointment.uuid})))


@never_cache
@login_required
@require_POST
def appointment_status(request: HttpRequest, uuid: Any) -> HttpResponse:
    appointment = _get_appointment_for_user(request, uuid, Act.CHANGE)
    user = cast(User, request.user)
    status = request.POST.get("status", "")
    if status not in STATUS_DONE:
        # Cancelling has its own button (and its own email); anything else is not a status this form sends.
        messages.error(request, _("Choose check in, completed or no-show."))
    else:
        try:
            services.appointment_set_status(appointment=appointment, status=status, by=user, request=request)
        except rules.BookingError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(request, STATUS_DONE[AppointmentStatus(status)])
    return redirect(_next_url(request, reverse("scheduling:staff_appointment", kwargs={"uuid": appointment.uuid})))


# --- Arrivals and call-backs ---------------------------------------------------------------------


def _offices_and_chosen(request: HttpRequest) -> tuple[list[Office], Office | None]:
    """The active offices, and the one `?office=` names (None for all of them)."""
    offices = list(Office.objects.filter(is_active=True))
    return offices, next((o for o in offices if o.slug == request.GET.get("office")), None)


@never_cache
@login_required
@require_safe
def arrivals(request: HttpRequest) -> HttpResponse:
    _staff_user(request)
    offices, chosen = _offices_and_chosen(request)
    shown = [chosen] if chosen else offices
    today = _today(_practice_zone())
    day = _read_date(request.GET.get("date")) or today
    by_office = calendars.arrivals(offices=shown, day=day)
    _read_for_user(
        request,
        object_type="appointment_arrivals",
        object_ref=f"{day.isoformat()}:office:{chosen.pk if chosen else 'all'}",
    )
    params = {"office": chosen.slug} if chosen else {}
    base = reverse("scheduling:staff_arrivals")
    return render(
        request,
        "scheduling/staff/arrivals.html",
        {
            "section": "arrivals",
            "offices": offices,
            "chosen": chosen,
            "sections": [(office, by_office[office.pk]) for office in shown],
            "day": day,
            "day_label": calendars.long_day(day),
            "is_today": day == today,
            "previous_url": base + "?" + urlencode({**params, "date": (day - timedelta(days=1)).isoformat()}),
            "today_url": base + ("?" + urlencode(params) if params else ""),
            "next_url": base + "?" + urlencode({**params, "date": (day + timedelta(days=1)).isoformat()}),
            "here": request.get_full_path(),
            "all_url": base + ("?" + urlencode({"date": day.isoformat()}) if day != today else ""),
            "office_urls": [
                (
                    office,
                    base
                    + "?"
                    + urlencode({"office": office.slug, **({"date": day.isoformat()} if day != today else {})}),
                )
                for office in offices
            ],
        },
    )


@never_cache
@login_required
@require_safe
def callbacks(request: HttpRequest) -> HttpResponse:
    _staff_user(request)
    offices, chosen = _offices_and_chosen(request)
    done = request.GET.get("status") == "done"
    rows = calendars.callback_requests(office=chosen, handled=done)
    _read_for_user(
        request,
        object_type="callback_requests",
        object_ref=f"{'done' if done else 'open'}:office:{chosen.pk if chosen else 'all'}",
    )
    base = reverse("scheduling:staff_callbacks")

    def url(**params: str) -> str:
        kept = {"office": chosen.slug if chosen else "", "status": "done" if done else ""}
        kept.update(params)
        query = urlencode({k: v for k, v in kept.items() if v})
        return base + ("?" + query if query else "")

    zone = _practice_zone()
    return render(
        request,
        "scheduling/staff/callbacks.html",
        {
            "section": "callbacks",
            "rows": [
                (
                    row,
                    timezone.localtime(row.created_at, zone),
                    row.handled_at and timezone.localtime(row.handled_at, zone),
                )
                for row in rows
            ],
            "done": done,
            "chosen": chosen,
            "status_tabs": [("", _("To call"), url(status="")), ("done", _("Done"), url(status="done"))],
            "office_tabs": [(None, _("Both offices"), url(office=""))]
            + [(office, office.name, url(office=office.slug)) for office in offices],
            "here": request.get_full_path(),
        },
    )


@never_cache
@login_required
@require_POST
def callback_done(request: HttpRequest, uuid: Any) -> HttpResponse:
    callback = access.get_for_user(
        request, CallbackRequest.objects.select_related("office"), record=Record.CALLBACK, act=Act.CHANGE, uuid=uuid
    )
    services.callback_mark_done(callback=callback, by=cast(User, request.user), request=request)
    messages.success(request, _("Marked as called back."))
    return redirect(_next_url(request, reverse("scheduling:staff_callbacks")))

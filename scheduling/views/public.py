"""The public booking pages: choose an office and a time, give details, confirm; manage from the emailed link.

Health information (date of birth, area of concern) only ever arrives in a POST body and
is never put in a URL, a log line or an email. The chosen time travels as a signed
value (`tokens.slot_sign`), and the manage links carry a signed token, so nobody can
book a made-up slot or reach another person's appointment by editing a URL.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.ratelimit import rate_limited
from scheduling import availability, display, rules, services, tokens
from scheduling.forms.public import BookingForm, CallbackForm
from scheduling.ics import appointment_ics
from scheduling.models import Appointment, AppointmentStatus, AppointmentType, BookingRules, Provider
from website.models import Office

CONSULTATION_SLUG = "new-patient-consultation"
DAYS_PER_PAGE = 14
NEAREST = 6


@dataclass(frozen=True, slots=True)
class TimeChoice:
    """One offered time: the signed value a button or radio sends, and how to say it."""

    value: str
    day: str
    time: str


@dataclass(frozen=True, slots=True)
class DayChoices:
    day: date
    label: str
    times: list[TimeChoice]


@dataclass(frozen=True, slots=True)
class Chosen:
    """A slot from a valid signed value, with its rows."""

    value: str
    office: Office
    provider: Provider
    appointment_type: AppointmentType
    starts_at: datetime

    @property
    def day(self) -> str:
        return display.long_day_label(self.starts_at, self.office)

    @property
    def time(self) -> str:
        return display.time_label(self.starts_at, self.office)


# How a refused booking or move is put to the person: what to say (before the nearest free times) and the status.
# Anything else is said in the refusal's own words.
REFUSALS: dict[type[rules.BookingError], tuple[Promise, int]] = {
    rules.SlotTaken: (gettext_lazy("Sorry, that time was just taken. Here are the nearest free times:"), 409),
    rules.PatientBusy: (gettext_lazy("You already have an appointment at that time. Here are other free times:"), 200),
}


def _refusal(error: rules.BookingError) -> tuple[str, int]:
    for kind, (problem, status) in REFUSALS.items():
        if isinstance(error, kind):
            return str(problem), status
    return error.messages[0] + " " + _("Here are the nearest free times:"), 200


# --- Helpers ------------------------------------------------------------------------------------


def _office_or_404(slug: str) -> Office:
    return get_object_or_404(Office, slug=slug, is_active=True)


def _consultation_type() -> AppointmentType | None:
    """The visit patients book online: the new-patient consultation (or the first online type)."""
    online = AppointmentType.objects.filter(is_active=True, bookable_online=True)
    return online.filter(slug=CONSULTATION_SLUG).first() or online.order_by("order", "name").first()


def _choice(slot: availability.Slot, *, appointment_type: AppointmentType, office: Office) -> TimeChoice:
    return TimeChoice(
        value=tokens.slot_sign(slot=slot, appointment_type_id=appointment_type.pk),
        day=display.day_label(slot.starts_at, office),
        time=display.time_label(slot.starts_at, office),
    )


def _one_per_time(slots: tuple[availability.Slot, ...] | list[availability.Slot]) -> list[availability.Slot]:
    """A person picks a time, not a provider: one slot per start (the first provider free then)."""
    seen: set[datetime] = set()
    kept = []
    for slot in slots:
        if slot.starts_at not in seen:
            seen.add(slot.starts_at)
            kept.append(slot)
    return kept


def _free_days(
    *, office: Office, appointment_type: AppointmentType, start_date: date | None, moving: Appointment | None = None
) -> tuple[list[DayChoices], date | None]:
    """Up to DAYS_PER_PAGE days with free times from `start_date`, and the date later ones start from.

    `moving`: the appointment being moved; times overlapping its own current time are
    free for it (it can move 30 minutes later), and its current time is not offered.
    """
    days = availability.next_free_days(
        office=office, appointment_type=appointment_type, days=DAYS_PER_PAGE, start_date=start_date, moving=moving
    )
    current = moving.starts_at if moving is not None else None
    shown = [
        DayChoices(
            day=free.day,
            label=display.day_label(free.slots[0].starts_at, office),
            times=[
                _choice(slot, appointment_type=appointment_type, office=office)
                for slot in _one_per_time(free.slots)
                if slot.starts_at != current
            ],
        )
        for free in days
    ]
    later = days[-1].day + timedelta(days=1) if len(days) == DAYS_PER_PAGE else None
    return shown, later


def _start_date(request: HttpRequest, office: Office) -> date | None:
    """The `?from=YYYY-MM-DD` of "show later dates", never before today; None for today."""
    try:
        asked = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        return None
    today = timezone.now().astimezone(ZoneInfo(office.time_zone)).date()
    return asked if asked > today else None


def _nearest(
    *, office: Office, appointment_type: AppointmentType, around: datetime, moving: Appointment | None = None
) -> list[TimeChoice]:
    slots = availability.nearest_free_slots(
        office=office, appointment_type=appointment_type, around=around, n=NEAREST * 3, moving=moving
    )
    current = moving.starts_at if moving is not None else None
    kept = [slot for slot in _one_per_time(slots) if slot.starts_at != current]
    return [_choice(slot, appointment_type=appointment_type, office=office) for slot in kept][:NEAREST]


def _read_slot(value: str, *, office: Office) -> Chosen | None:
    """The slot a signed value names, if the signature holds and it is for this office."""
    try:
        signed = tokens.slot_unsign(value)
    except tokens.BadToken:
        return None
    if signed.office_id != office.pk:
        return None
    provider = Provider.objects.filter(pk=signed.provider_id).first()
    appointment_type = AppointmentType.objects.filter(pk=signed.appointment_type_id, bookable_online=True).first()
    if provider is None or appointment_type is None:
        return None
    return Chosen(
        value=value, office=office, provider=provider, appointment_type=appointment_type, starts_at=signed.starts_at
    )


def _around(request: HttpRequest) -> datetime:
    """The time the person was offered alternatives around (a hidden field), else now."""
    try:
        return datetime.fromtimestamp(int(request.POST.get("around", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return timezone.now()


def appointment_from_link(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The one way a public view reaches an appointment: a signed link that is still current.

    The view receives the appointment instead of the token; a link that was altered, made
    up, or issued before the appointment was moved gets a page that says so (404).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        invalid = _("This link is not valid. Please use the link in your email, or call the office.")
        try:
            read = tokens.manage_token_read(token)
        except tokens.BadToken:
            return _bad_link(request, invalid)
        found = Appointment.objects.select_related("office", "appointment_type").filter(uuid=read.appointment_uuid)
        appointment = found.first()
        if appointment is None:
            return _bad_link(request, invalid)
        if not tokens.manage_token_is_current(read, appointment):
            moved = _(
                "This link is from before your appointment was moved, so it no longer works. "
                "Please use the link in your most recent email, or call the office."
            )
            return _bad_link(request, moved, office=appointment.office)
        return view(request, appointment, token)

    return wrapper


def _bad_link(request: HttpRequest, message: str, office: Office | None = None) -> HttpResponse:
    context = {"message": message, "office": office, "error_page": True}
    return render(request, "scheduling/link_invalid.html", context, status=404)


def _change_closed(appointment: Appointment) -> bool:
    """Whether the cut-off for cancelling or moving online has passed."""
    return rules.past_cutoff(appointment=appointment, now=timezone.now())


def _appointment_context(appointment: Appointment) -> dict[str, Any]:
    token = tokens.manage_token(appointment)
    return {
        "appointment": appointment,
        "office": appointment.office,
        "token": token,
        "day": display.long_day_label(appointment.starts_at, appointment.office),
        "time": display.time_label(appointment.starts_at, appointment.office),
        "is_booked": appointment.status == AppointmentStatus.BOOKED,
        "is_cancelled": appointment.status == AppointmentStatus.CANCELLED,
        "cutoff_hours": BookingRules.current().cancel_cutoff_hours,
        # A visit that is not booked online (a procedure: a room, staff, preparation) is moved by phone only.
        "can_reschedule": appointment.appointment_type.bookable_online,
    }


# --- Booking ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OfficeChoice:
    """An office on the first step, with its soonest free time said in words (empty when it has none)."""

    office: Office
    soonest_day: str
    soonest_time: str


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    offices = list(Office.objects.filter(is_active=True))
    appointment_type = _consultation_type()
    soonest = {}
    if appointment_type is not None and offices:
        # One search for every office, so a person can see where they would be seen sooner.
        soonest = availability.soonest_free_slots(offices=offices, appointment_type=appointment_type)
    choices = []
    for office in offices:
        slot = soonest.get(office.pk)
        choices.append(
            OfficeChoice(
                office=office,
                soonest_day=display.day_label(slot.starts_at, office) if slot else "",
                soonest_time=display.time_label(slot.starts_at, office) if slot else "",
            )
        )
    return render(request, "scheduling/start.html", {"choices": choices})


@require_safe
def office_times(request: HttpRequest, office_slug: str) -> HttpResponse:
    office = _office_or_404(office_slug)
    appointment_type = _consultation_type()
    start_date = _start_date(request, office)
    days: list[DayChoices] = []
    later = None
    if appointment_type is not None:
        days, later = _free_days(office=office, appointment_type=appointment_type, start_date=start_date)
    return render(
        request,
        "scheduling/office_times.html",
        {
            "office": office,
            "appointment_type": appointment_type,
            "days": days,
            "later": later,
            "is_later_page": start_date is not None,
        },
    )


def _render_details(
    request: HttpRequest,
    *,
    office: Office,
    form: BookingForm,
    chosen: Chosen | None,
    problem: str = "",
    alternatives: list[TimeChoice] | None = None,
    around: datetime | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "scheduling/details.html",
        {
            "office": office,
            "form": form,
            "chosen": chosen,
            "problem": problem,
            "alternatives": alternatives,
            "around": int(around.timestamp()) if around else "",
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("booking")
def details(request: HttpRequest, office_slug: str) -> HttpResponse:
    office = _office_or_404(office_slug)
    if request.method == "GET":
        chosen = _read_slot(request.GET.get("slot", ""), office=office)
        if chosen is None:
            return render(request, "scheduling/slot_invalid.html", {"office": office}, status=400)
        return _render_details(request, office=office, form=BookingForm(), chosen=chosen)

    form = BookingForm(request.POST)
    raw = request.POST.get("slot", "")
    chosen = _read_slot(raw, office=office)
    form_ok = form.is_valid()
    if chosen is None:
        appointment_type = _consultation_type()
        around = _around(request) if not raw else timezone.now()
        alternatives = (
            _nearest(office=office, appointment_type=appointment_type, around=around) if appointment_type else []
        )
        if not raw:
            problem, status = _("Please choose one of the times below."), 200
        else:
            problem, status = _("We could not read the time you chose. Please choose a time again."), 400
        return _render_details(
            request,
            office=office,
            form=form,
            chosen=None,
            problem=problem,
            alternatives=alternatives,
            around=around,
            status=status,
        )
    if not form_ok:
        return _render_details(request, office=office, form=form, chosen=chosen)

    try:
        appointment = services.appointment_book(
            office=office,
            provider=chosen.provider,
            appointment_type=chosen.appointment_type,
            starts_at=chosen.starts_at,
            patient=form.details(),
            source=Appointment.Source.ONLINE,
            area_of_concern=form.cleaned_data["area_of_concern"],
            language=get_language(),
            request=request,
        )
    except rules.BookingError as error:
        problem, status = _refusal(error)
        return _render_details(
            request,
            office=office,
            form=form,
            chosen=None,
            problem=problem,
            alternatives=_nearest(office=office, appointment_type=chosen.appointment_type, around=chosen.starts_at),
            around=chosen.starts_at,
            status=status,
        )
    return redirect("scheduling:booked", token=tokens.manage_token(appointment))


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("callback")
def callback(request: HttpRequest, office_slug: str) -> HttpResponse:
    office = _office_or_404(office_slug)
    if request.method == "POST":
        form = CallbackForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.callback_request_create(
                office=data["office"],
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                preferred_times=data["preferred_times"],
            )
            return redirect("scheduling:callback_thanks")
    else:
        form = CallbackForm(initial={"office": office})
    return render(request, "scheduling/callback.html", {"office": office, "form": form})


@require_safe
def callback_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/callback_thanks.html")


# --- Managing a booking from its link -----------------------------------------------------------


@never_cache
@require_safe
@rate_limited("booking_link")
@appointment_from_link
def booked(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    if appointment.status != AppointmentStatus.BOOKED:
        return redirect("scheduling:manage", token=token)
    return render(request, "scheduling/booked.html", _appointment_context(appointment))


@never_cache
@require_safe
@rate_limited("booking_link")
@appointment_from_link
def manage(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    context = _appointment_context(appointment)
    context["change_closed"] = context["is_booked"] and _change_closed(appointment)
    return render(request, "scheduling/manage.html", context)


@never_cache
@require_POST
@rate_limited("booking_link")
@appointment_from_link
def cancel(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    try:
        services.appointment_cancel(
            appointment=appointment, enforce_cutoff=True, language=get_language(), request=request
        )
    except rules.BookingError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Your appointment is cancelled. We have sent you an email to confirm."))
    return redirect("scheduling:manage", token=token)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@rate_limited("booking_link")
@appointment_from_link
def reschedule(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    office = appointment.office
    if appointment.status != AppointmentStatus.BOOKED:
        messages.error(request, _("Only a booked appointment can be moved."))
        return redirect("scheduling:manage", token=token)
    context = _appointment_context(appointment)
    if not context["can_reschedule"]:
        # No times to offer: its kind of visit is not booked online. A POST (an old page, a crafted form) is refused.
        return render(request, "scheduling/reschedule.html", context, status=403 if request.method == "POST" else 200)
    if _change_closed(appointment):
        messages.error(
            request,
            _("It is too late to move this appointment online. Please call the office at %(phone)s.")
            % {"phone": office.phone},
        )
        return redirect("scheduling:manage", token=token)

    status = 200
    if request.method == "POST":
        chosen = _read_slot(request.POST.get("slot", ""), office=office)
        if chosen is None or chosen.appointment_type.pk != appointment.appointment_type_id:
            context["problem"] = _("We could not read the time you chose. Please choose a time again.")
            status = 400
        else:
            try:
                services.appointment_reschedule(
                    appointment=appointment,
                    provider=chosen.provider,
                    starts_at=chosen.starts_at,
                    enforce_cutoff=True,
                    language=get_language(),
                    request=request,
                )
            except rules.BookingError as error:
                context["problem"], status = _refusal(error)
                context["alternatives"] = _nearest(
                    office=office,
                    appointment_type=appointment.appointment_type,
                    around=chosen.starts_at,
                    moving=appointment,
                )
            else:
                messages.success(
                    request,
                    _("Your appointment was moved. We have sent you an email with the new time and new links."),
                )
                return redirect("scheduling:manage", token=tokens.manage_token(appointment))
    start_date = _start_date(request, office)
    context["days"], context["later"] = _free_days(
        office=office, appointment_type=appointment.appointment_type, start_date=start_date, moving=appointment
    )
    context["is_later_page"] = start_date is not None
    return render(request, "scheduling/reschedule.html", context, status=status)


@never_cache
@require_safe
@rate_limited("booking_link")
@appointment_from_link
def calendar(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    response = HttpResponse(appointment_ics(appointment), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="regenclinic-appointment.ics"'
    return response

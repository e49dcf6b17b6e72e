"""Views of the public website and the staff inquiry inbox."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import AuditEvent, User
from accounts.permissions import can_read_inbox, can_use_calendar
from accounts.services import audit_record
from website import queries, services
from website.caching import public_page
from website.forms import ContactForm, SelfCheckForm
from website.models import Inquiry, TherapyPage
from website.selfcheck import self_check


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe, and the bare view benchmarks compare pages against."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "website/home.html")


@require_http_methods(["GET", "POST"])
@public_page
def stem_cells(request: HttpRequest) -> HttpResponse:
    page = queries.therapy_page(slug=TherapyPage.Slug.STEM_CELLS, language=get_language())
    if page is None:
        raise Http404
    # The self-check posts here so its answers never travel in a URL; nothing is stored.
    form = SelfCheckForm(request.POST or None)
    outcome = self_check(form.answers()) if request.method == "POST" and form.is_valid() else None
    return render(
        request,
        "website/stem_cells.html",
        {"page": page, "selfcheck_form": form, "outcome": outcome},
    )


@require_GET
@public_page
def prp(request: HttpRequest) -> HttpResponse:
    page = queries.therapy_page(slug=TherapyPage.Slug.PRP, language=get_language())
    if page is None:
        raise Http404
    return render(request, "website/prp.html", {"page": page})


@require_GET
@public_page
def office(request: HttpRequest, slug: str) -> HttpResponse:
    offices = queries.practice_info().offices
    match = next((o for o in offices if o.slug == slug), None)
    if match is None:
        raise Http404
    return render(request, "website/office.html", {"office": match})


@require_http_methods(["GET", "POST"])
@public_page
def contact(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.inquiry_submit(
                    name=data["name"],
                    email=data["email"],
                    phone=data["phone"],
                    preferred_office=data["preferred_office"],
                    message=data["message"],
                    language=get_language(),
                    ip_address=request.META.get("REMOTE_ADDR"),
                    sent_despite_medical_notice=bool(data.get("confirm_non_medical")),
                )
            except services.InquiryRateLimited:
                form.add_error(
                    None,
                    _(
                        "You have sent several messages in the last hour, so this one was not sent. "
                        "Please try again later, or call one of our offices."
                    ),
                )
            else:
                return redirect("website:contact_thanks")
    else:
        form = ContactForm()
    return render(request, "website/contact.html", {"form": form}, status=200)


@require_GET
def contact_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "website/contact_thanks.html")


def _staff_can_read_inbox(request: HttpRequest) -> None:
    """The inbox is for the front desk and the manager; anyone else meets a 404."""
    if not can_read_inbox(request.user):
        raise Http404


@login_required
@require_GET
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands: the calendar for those who use it, else the inbox, else a plain page."""
    if can_use_calendar(request.user):
        return redirect("scheduling:staff_calendar")
    if can_read_inbox(request.user):
        return redirect("website:inbox")
    return render(request, "website/staff_home.html")


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    _staff_can_read_inbox(request)
    status = request.GET.get("status", Inquiry.Status.NEW)
    if status not in Inquiry.Status.values:
        status = Inquiry.Status.NEW
    return render(
        request,
        "website/inbox.html",
        {
            "inquiries": queries.inquiries_for_inbox(status=status),
            "status": status,
            "statuses": Inquiry.Status.choices,
        },
    )


def _get_inquiry_for_user(request: HttpRequest, uuid: str, action: str) -> Inquiry:
    """The one way a view reaches an inquiry: role check, lookup, audit row."""
    _staff_can_read_inbox(request)
    inquiry = get_object_or_404(Inquiry.objects.select_related("preferred_office"), uuid=uuid)
    audit_record(
        actor=request.user, action=action, object_type="inquiry", object_ref=str(inquiry.uuid), request=request
    )
    return inquiry


@login_required
@require_GET
def inquiry_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    inquiry = _get_inquiry_for_user(request, uuid, AuditEvent.Action.VIEW)
    return render(request, "website/inquiry_detail.html", {"inquiry": inquiry, "statuses": Inquiry.Status.choices})


@login_required
@require_POST
def inquiry_status(request: HttpRequest, uuid: str) -> HttpResponse:
    inquiry = _get_inquiry_for_user(request, uuid, AuditEvent.Action.CHANGE)
    status = request.POST.get("status", "")
    if status not in Inquiry.Status.values:
        messages.error(request, _("Choose new, answered or archived."))
        return redirect(inquiry)
    previous = inquiry.status
    services.inquiry_set_status(inquiry=inquiry, status=status, by=cast(User, request.user))
    messages.success(request, _("Marked as %(status)s.") % {"status": inquiry.get_status_display().lower()})
    return redirect(reverse("website:inbox") + "?" + urlencode({"status": previous}))

"""Views of the public website and the staff inquiry inbox."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.access import Act, Record
from accounts.models import User
from accounts.ratelimit import rate_limited
from website import queries, services
from website import results as practice_results
from website.caching import public_page
from website.forms import ContactForm, SelfCheckForm
from website.models import Inquiry, TherapyPage
from website.selfcheck import self_check


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 404 page, in the site's layout, showing nothing of what was asked for (path, query, why)."""
    return render(request, "404.html", {"error_page": True}, status=404)


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe, and the bare view benchmarks compare pages against."""
    return HttpResponse("ok", content_type="text/plain")


@require_safe
@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "website/home.html")


@require_http_methods(["GET", "HEAD", "POST"])
@public_page
@rate_limited("selfcheck")
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
        {
            "page": page,
            "selfcheck_form": form,
            "outcome": outcome,
            # The practice's own published figures, shown beside the page's words on risks and results.
            "practice_figures": practice_results.current().get(practice_results.ALL),
        },
    )


@require_safe
@public_page
def prp(request: HttpRequest) -> HttpResponse:
    page = queries.therapy_page(slug=TherapyPage.Slug.PRP, language=get_language())
    if page is None:
        raise Http404
    return render(request, "website/prp.html", {"page": page})


@require_safe
@public_page
def office(request: HttpRequest, slug: str) -> HttpResponse:
    offices = queries.practice_info().offices
    match = next((o for o in offices if o.slug == slug), None)
    if match is None:
        raise Http404
    return render(request, "website/office.html", {"office": match})


@require_http_methods(["GET", "HEAD", "POST"])
@public_page
@rate_limited("contact")
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
                    urgent=form.urgent,
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


@require_safe
def contact_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "website/contact_thanks.html")


@login_required
@require_safe
def staff_home(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands: the calendar for those who use it, else the inbox, else a plain page."""
    if access.can(request.user, Act.VIEW, Record.APPOINTMENT):
        return redirect("scheduling:staff_calendar")
    if access.can(request.user, Act.VIEW, Record.INQUIRY):
        return redirect("website:inbox")
    return render(request, "website/staff_home.html")


@login_required
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    access.require(request, Act.VIEW, Record.INQUIRY, hide=True)
    status = request.GET.get("status", Inquiry.Status.NEW)
    if status not in Inquiry.Status.values:
        status = Inquiry.Status.NEW
    access.audit_list(request, record=Record.INQUIRY, ref=f"inbox:{status}")
    return render(
        request,
        "website/inbox.html",
        {
            "inquiries": queries.inquiries_for_inbox(status=status),
            "status": status,
            "statuses": Inquiry.Status.choices,
        },
    )


def _get_inquiry_for_user(request: HttpRequest, uuid: str, act: Act) -> Inquiry:
    return access.get_for_user(
        request, Inquiry.objects.select_related("preferred_office"), record=Record.INQUIRY, act=act, uuid=uuid
    )


@login_required
@require_safe
def inquiry_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    inquiry = _get_inquiry_for_user(request, uuid, Act.VIEW)
    return render(request, "website/inquiry_detail.html", {"inquiry": inquiry, "statuses": Inquiry.Status.choices})


@login_required
@require_POST
def inquiry_status(request: HttpRequest, uuid: str) -> HttpResponse:
    inquiry = _get_inquiry_for_user(request, uuid, Act.CHANGE)
    previous = inquiry.status
    try:
        services.inquiry_set_status(
            inquiry=inquiry, status=request.POST.get("status", ""), by=cast(User, request.user), request=request
        )
    except services.UnknownStatus:
        messages.error(request, _("Choose new, answered or archived."))
        return redirect(inquiry)
    messages.success(request, _("Marked as %(status)s.") % {"status": inquiry.get_status_display().lower()})
    return redirect(reverse("website:inbox") + "?" + urlencode({"status": previous}))


# --- "Our results" (website.results): the public page, and the physicians' page that publishes it ---------------


@require_safe
@public_page
def results(request: HttpRequest) -> HttpResponse:
    """The published figures of each condition (the newest version of each; nothing drawn live)."""
    published = practice_results.current()
    labels = dict(practice_results.conditions())
    sections = [
        (code, labels[code], published[code]) for code, _label in practice_results.conditions() if code in published
    ]
    return render(request, "website/results.html", {"sections": sections, "min_n": practice_results.min_n()})


@never_cache
@login_required
@require_safe
def results_staff(request: HttpRequest) -> HttpResponse:
    """Each condition's draft from today's data beside its published version (physicians publish from here)."""
    user = access.require(request, Act.VIEW, Record.PUBLIC_RESULTS)
    published = practice_results.current()
    rows = [
        (code, label, practice_results.draft(code), published.get(code))
        for code, label in practice_results.conditions()
    ]
    access.audit_list(request, record=Record.PUBLIC_RESULTS, ref="results:drafts")
    return render(
        request,
        "website/results_staff.html",
        {
            "rows": rows,
            "min_n": practice_results.min_n(),
            "can_publish": access.can(user, Act.CHANGE, Record.PUBLIC_RESULTS),
        },
    )


@login_required
@require_POST
def results_publish(request: HttpRequest) -> HttpResponse:
    """Publish today's draft of one condition as its new public version (physicians)."""
    user = access.require(request, Act.CHANGE, Record.PUBLIC_RESULTS)
    indication = request.POST.get("indication", "")
    conditions = dict(practice_results.conditions())
    if indication not in conditions:
        messages.error(request, "Choose a condition to publish from the list.")
        return redirect("website:results_staff")
    practice_results.publish(indication=indication, by=user, request=request)
    messages.success(request, f"Published: {conditions[indication]}.")
    return redirect(f"{reverse('website:results_staff')}#results-{indication or 'all'}")

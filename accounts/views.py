"""A patient's access report: who opened their record, when, and how (HIPAA's accounting of disclosures).

Staff produce it when a patient asks (`Record.ACCESS_REPORT`: the front desk,
physicians, physician assistants, administrators): a page to read or print, and the
same lines as CSV. The patient is reached through `accounts.access.get_for_user`, so
another role or an unknown id is a 404; the page leaves its "view" row and the CSV
its "export" row, and both list themselves, as the log does.
"""

import csv
from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from accounts import access, audit
from accounts.access import Act, Record
from accounts.models import AuditEvent
from patients.models import Patient

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

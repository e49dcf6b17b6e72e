"""The research exports' staff pages: the form (/staff/exports/) and the two CSVs it asks for.

Who may is `accounts.access.POLICY` for `RESEARCH_EXPORT`: the de-identified CSV is an
EXPORT (physicians, physician assistants, managers, researchers, administrators); the
identified one an OVERRIDE of the de-identification, with a written reason
(administrators). Everyone else gets the policy helper's refusal (403) and its one
"denied" row. Each export writes its one audit row (`interop.services.export_log`)
before the first byte, then streams the rows as they are read.

The pages are in English (the practice's choice for staff pages).
"""

import csv
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from accounts import access
from accounts.access import Act, Record
from interop import bulk, exports, report, services
from interop.forms import IdentifiedExportForm, SelectionForm
from interop.models import BulkExport


@never_cache
@login_required
@require_safe
def export_page(request: HttpRequest) -> HttpResponse:
    access.require(request, Act.EXPORT, Record.RESEARCH_EXPORT)
    return _page(request)


# GET only: a HEAD would write the export's audit row for a file that never left.
@never_cache
@login_required
@require_GET
def deidentified_csv(request: HttpRequest) -> HttpResponseBase:
    user = access.require(request, Act.EXPORT, Record.RESEARCH_EXPORT)
    form = SelectionForm(request.GET)
    if not form.is_valid():
        return _page(request, selection_form=form, status=400)
    selection = form.selection()
    services.export_log(selection=selection, by=user, request=request)
    return _stream(exports.rows(selection, identified=False), name=f"deidentified-{selection.indication or 'all'}")


@never_cache
@login_required
@require_POST
def identified_csv(request: HttpRequest) -> HttpResponseBase:
    user = access.require(request, Act.OVERRIDE, Record.RESEARCH_EXPORT)
    form = IdentifiedExportForm(request.POST)
    if not form.is_valid():
        return _page(request, identified_form=form, status=400)
    selection = form.selection()
    services.export_log(
        selection=selection, by=user, identified=True, reason=form.cleaned_data["reason"], request=request
    )
    return _stream(exports.rows(selection, identified=True), name=f"identified-{selection.indication or 'all'}")


def _page(
    request: HttpRequest,
    *,
    selection_form: SelectionForm | None = None,
    identified_form: IdentifiedExportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_identify = access.can(request.user, Act.OVERRIDE, Record.RESEARCH_EXPORT)
    context: dict[str, Any] = {
        "form": selection_form or SelectionForm(),
        "identified_form": (identified_form or IdentifiedExportForm()) if may_identify else None,
        "columns": exports.DEIDENTIFIED_COLUMNS,
    }
    return render(request, "interop/exports.html", context, status=status)


class _Echo:
    """What `csv.writer` writes to: it hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _stream(rows: Iterable[list[Any]], *, name: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8")
    # Named by the selection's indication only: no patient, no date.
    response["Content-Disposition"] = f'attachment; filename="regenclinic-{name}.csv"'
    return response


# --- The outcomes report (PDF) -------------------------------------------------------------------


@never_cache
@login_required
@require_safe
def report_page(request: HttpRequest) -> HttpResponse:
    """The report's form: which indication and treatment dates (no audit row, as for the CSV's form)."""
    access.require(request, Act.EXPORT, Record.RESEARCH_EXPORT)
    return render(request, "interop/report.html", {"form": report.ReportForm()})


# GET only: a HEAD would write the download's audit row for a file that never left.
@never_cache
@login_required
@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    user = access.require(request, Act.EXPORT, Record.RESEARCH_EXPORT)
    form = report.ReportForm(request.GET)
    if not form.is_valid():
        return render(request, "interop/report.html", {"form": form}, status=400)
    indication, start, end = (form.cleaned_data[name] for name in ("indication", "date_from", "date_to"))
    content = report.report_pdf(report.report_figures(indication, start, end))
    report.report_log(indication=indication, date_from=start, date_to=end, by=user, request=request)
    response = HttpResponse(content, content_type="application/pdf")
    # Named by the selection's indication only: no patient, no date.
    response["Content-Disposition"] = f'attachment; filename="regenclinic-report-{indication}.pdf"'
    return response


# --- The FHIR bulk export: started here, run by the worker (`interop.bulk`), its files taken one by one ---------
# Identified health information: an OVERRIDE (administrators), and only the administrator who started an export
# sees it (another's is a 404 with one "denied" row, as a record that does not exist is a 404).


@never_cache
@login_required
@require_POST
def bulk_start(request: HttpRequest) -> HttpResponse:
    user = access.require(request, Act.OVERRIDE, Record.RESEARCH_EXPORT)
    return redirect(bulk.bulk_start(by=user))


@never_cache
@login_required
@require_safe
def bulk_page(request: HttpRequest, uuid: UUID) -> HttpResponse:
    export = _bulk_export_for_user(request, uuid)
    return render(request, "interop/bulk.html", {"export": export, **_bulk_state(export)})


@never_cache
@login_required
@require_safe
def bulk_status(request: HttpRequest, uuid: UUID) -> JsonResponse:
    export = _bulk_export_for_user(request, uuid)
    state = _bulk_state(export)
    return JsonResponse(
        {
            "status": export.status,
            "label": export.get_status_display(),
            "done": export.done,
            "total": export.total,
            "text": state["text"],
            "files": state["files"],
        }
    )


# GET only: a HEAD would write the file's audit row for bytes that never left.
@never_cache
@login_required
@require_GET
def bulk_file(request: HttpRequest, uuid: UUID, resource_type: str) -> FileResponse:
    export = _bulk_export_for_user(request, uuid)
    path = bulk.bulk_file(export, resource_type)
    if path is None:
        raise Http404
    services.bulk_export_log(export=export, by=export.requested_by, resource_type=resource_type, request=request)
    return FileResponse(
        path.open("rb"), content_type="application/fhir+ndjson", as_attachment=True, filename=f"{resource_type}.ndjson"
    )


def _bulk_export_for_user(request: HttpRequest, public_id: UUID) -> BulkExport:
    export = access.get_for_user(
        request,
        BulkExport.objects.select_related("requested_by"),
        record=Record.RESEARCH_EXPORT,
        act=Act.OVERRIDE,
        uuid=public_id,
    )
    mine = [export] if export.requested_by_id == request.user.pk else []
    access.refuse_unless_within(request, public_id, within=mine, record=Record.RESEARCH_EXPORT, act=Act.OVERRIDE)
    return export


def _bulk_state(export: BulkExport) -> dict[str, Any]:
    """What the page and its status say: how far ("3 of 40 patients"), whether it still runs, the files once done."""
    active = export.status in (BulkExport.Status.QUEUED, BulkExport.Status.RUNNING)
    if export.status == BulkExport.Status.QUEUED:
        text = "Waiting for the worker"
    elif active and not export.total:
        text = "Counting the patients"
    else:
        text = f"{export.done} of {export.total} patient{'' if export.total == 1 else 's'}"
    if export.status == BulkExport.Status.INTERRUPTED:
        text = f"The worker stopped after {text}; no file was kept"
    elif export.status == BulkExport.Status.EXPIRED:
        days = settings.BULK_EXPORT_KEEP_DAYS
        text += f"; the files were removed {days} day{'' if days == 1 else 's'} after the export"
    files = []
    if export.status == BulkExport.Status.DONE:
        files = [
            {
                "type": kind,
                "count": count,
                "url": reverse("interop:bulk_file", kwargs={"uuid": export.uuid, "resource_type": kind}),
            }
            for kind, count in sorted(export.counts.items())
        ]
    return {"active": active, "text": text, "files": files}

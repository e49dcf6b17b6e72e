"""The signed procedure record as a PDF (WeasyPrint), rendered from our own HTML and stylesheet.

One or two A4/Letter pages: who and what, each section as a table, the injections, the
product's classification, the guardrail check and MIBO line, the signature with its hash
and the check of it, and the amendments with their reasons (the signed original is what
the hash covers). Nothing is fetched from outside: the stylesheet is read from the app's
static files, and the fonts are the system's.
"""

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from procedures import queries, services
from procedures.models import ProcedureRecord
from procedures.presentation import all_section_rows, injection_rows

STYLESHEET = "procedures/css/pdf.css"


def record_pdf(record: ProcedureRecord) -> bytes:
    """The PDF of one record (the view decides who may have it and leaves the audit row)."""
    view = queries.record_view(record)
    verification = services.procedure_verify(record)
    with timezone.override(view.zone):
        html = render_to_string(
            "procedures/pdf.html",
            {
                "view": view,
                "record": record,
                "patient": view.patient,
                "episode": record.episode,
                "sections": all_section_rows(record),
                "injections": [(injection, injection_rows(injection)) for injection in view.injections],
                "verification": verification,
                "printed_at": timezone.localtime(timezone.now()),
            },
        )
    stylesheet = finders.find(STYLESHEET)
    if not isinstance(stylesheet, str):
        raise RuntimeError(f"{STYLESHEET} is missing from the static files")
    document = HTML(string=html, base_url=None)
    return bytes(document.write_pdf(stylesheets=[CSS(filename=stylesheet)]))

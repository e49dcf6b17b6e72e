"""The `interop` namespace: the research exports under /staff/exports/ (the form, and the two CSVs it asks for)."""

from django.urls import URLPattern, path

from interop import views

app_name = "interop"

urlpatterns: list[URLPattern] = [
    path("staff/exports/", views.export_page, name="exports"),
    path("staff/exports/deidentified.csv", views.deidentified_csv, name="deidentified_csv"),
    path("staff/exports/identified.csv", views.identified_csv, name="identified_csv"),
    path("staff/exports/report/", views.report_page, name="report"),
    path("staff/exports/report.pdf", views.report_pdf, name="report_pdf"),
    path("staff/exports/fhir/", views.bulk_start, name="bulk_start"),
    path("staff/exports/fhir/<uuid:uuid>/", views.bulk_page, name="bulk"),
    path("staff/exports/fhir/<uuid:uuid>/status.json", views.bulk_status, name="bulk_status"),
    path("staff/exports/fhir/<uuid:uuid>/<str:resource_type>.ndjson", views.bulk_file, name="bulk_file"),
]

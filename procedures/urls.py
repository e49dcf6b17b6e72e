"""The `procedures` namespace: the same-day procedure record and adverse events, under /staff/procedures/,
and the de-identified safety summary at /staff/safety/."""

from django.urls import include, path

from procedures.views import adverse_events, records

app_name = "procedures"

staff = [
    path("start/<uuid:episode>/", records.start, name="start"),
    path("episodes/<uuid:episode>/adverse-events/new/", adverse_events.adverse_event_new, name="adverse_event_new"),
    path("adverse-events/<uuid:uuid>/", adverse_events.adverse_event, name="adverse_event"),
    path("<uuid:uuid>/", records.record_detail, name="record"),
    path("<uuid:uuid>/sign/", records.sign, name="sign"),
    path("<uuid:uuid>/amend/", records.amend, name="amend"),
    path("<uuid:uuid>/verify/", records.verify, name="verify"),
    path("<uuid:uuid>/record.pdf", records.record_pdf, name="pdf"),
    path("<uuid:uuid>/<slug:section>/", records.section, name="section"),
]

urlpatterns = [
    path("staff/procedures/", include(staff)),
    path("staff/safety/", adverse_events.safety_summary, name="safety_summary"),
]

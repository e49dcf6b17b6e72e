"""The `outcomes` namespace: the patient's questionnaire pages and the staff's follow-up pages.

The patient's: /questionnaire/<token>/ (the emailed link), /questionnaire/ (where they
left off), /questionnaire/step/<n>/ (one screen), /questionnaire/done/ (thank you, and
their progress). The fixed ones come before the token's, which would otherwise match
them; URLs carry the token or a step number, never an answer.

The staff's, under /staff/outcomes/: the outcomes dashboard (counts only), the front desk's call list and the answers it
enters by phone, and the clinician's timeline of an episode with its surgery record.
"""

from django.urls import URLPattern, path

from outcomes.views import dashboard, staff, survey

app_name = "outcomes"

STAFF = "staff/outcomes/"

urlpatterns: list[URLPattern] = [
    path("questionnaire/", survey.survey_resume, name="survey"),
    path("questionnaire/step/<int:number>/", survey.survey_step, name="survey_step"),
    path("questionnaire/done/", survey.survey_done, name="survey_done"),
    path("questionnaire/<str:token>/", survey.survey_start, name="survey_start"),
    path(STAFF + "dashboard/", dashboard.dashboard_page, name="dashboard"),
    path(STAFF + "calls/", staff.call_list, name="call_list"),
    path(STAFF + "follow-ups/<uuid:uuid>/call/", staff.call_record, name="call_record"),
    path(STAFF + "follow-ups/<uuid:uuid>/answers/<str:instrument>/", staff.phone_entry, name="phone_entry"),
    path(STAFF + "episodes/<uuid:uuid>/", staff.timeline, name="timeline"),
    path(STAFF + "episodes/<uuid:uuid>/surgery/", staff.surgery, name="surgery"),
]

"""Routes of the intake pages (see patients/urls/__init__.py).

The patient's: /intake/<token>/ (the emailed link), /intake/ (where they left off),
/intake/<section>/ (one step), /intake/done/. A step's name is one of the fixed section
keys, so it never reads as a token, and a token never as a step. The staff review:
/staff/patients/intakes/<uuid>/, with its confirm and resend actions.
"""

from django.urls import URLPattern, path, re_path

from patients.intake import SECTION_KEYS
from patients.views import intake

STEP = "|".join(SECTION_KEYS)

urlpatterns: list[URLPattern] = [
    path("intake/", intake.intake_section, name="intake"),
    path("intake/done/", intake.intake_done, name="intake_done"),
    re_path(rf"^intake/(?P<section>{STEP})/$", intake.intake_section, name="intake_section"),
    path("intake/<str:token>/", intake.intake_start, name="intake_start"),
    path("staff/patients/intakes/<uuid:uuid>/", intake.intake_review, name="intake_review"),
    path("staff/patients/intakes/<uuid:uuid>/confirm/", intake.intake_confirm, name="intake_confirm"),
    path("staff/patients/intakes/<uuid:uuid>/resend/", intake.intake_resend, name="intake_resend"),
]

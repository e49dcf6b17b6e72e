"""Routes of the candidacy and episode pages (see patients/urls/__init__.py)."""

from django.urls import URLPattern, path

from patients.views import episodes

urlpatterns: list[URLPattern] = [
    path("staff/patients/<uuid:uuid>/assessments/new/", episodes.assessment_new, name="assessment_new"),
    path("staff/patients/episodes/<uuid:uuid>/", episodes.episode_detail, name="episode"),
]

"""Routes of the chart pages (see patients/urls/__init__.py): the staff's search, the chart, its edits, merging."""

from django.urls import URLPattern, path

from patients.views import chart

PREFIX = "staff/patients/"
CHART = PREFIX + "<uuid:uuid>/"

urlpatterns: list[URLPattern] = [
    path(PREFIX, chart.search, name="search"),
    path(CHART, chart.chart, name="chart"),
    path(CHART + "edit/", chart.edit, name="chart_edit"),
    path(CHART + "allergies/new/", chart.allergy_add, name="chart_allergy_add"),
    path(CHART + "allergies/<uuid:item>/confirm/", chart.allergy_confirm, name="chart_allergy_confirm"),
    path(CHART + "allergies/<uuid:item>/in-error/", chart.allergy_deactivate, name="chart_allergy_deactivate"),
    path(CHART + "medications/new/", chart.medication_add, name="chart_medication_add"),
    path(CHART + "medications/<uuid:item>/confirm/", chart.medication_confirm, name="chart_medication_confirm"),
    path(CHART + "medications/<uuid:item>/stop/", chart.medication_stop, name="chart_medication_stop"),
    path(CHART + "history/", chart.history, name="chart_history"),
    path(CHART + "history/confirm/", chart.history_confirm, name="chart_history_confirm"),
    path(CHART + "merge/<uuid:other>/", chart.merge, name="chart_merge"),
]

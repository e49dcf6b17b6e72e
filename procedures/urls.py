"""The `procedures` namespace: the same-day procedure record and adverse events, under /staff/procedures/."""

from django.urls import URLPattern

app_name = "procedures"

urlpatterns: list[URLPattern] = []

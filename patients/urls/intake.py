"""Routes of the intake pages (see patients/urls/__init__.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

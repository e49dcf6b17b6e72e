"""Routes of the consent pages (see patients/urls/__init__.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []

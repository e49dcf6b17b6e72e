"""The site's URLs plus one that fails, for the tests of the server error page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from regenclinic.urls import handler404
from regenclinic.urls import urlpatterns as site_urlpatterns

__all__ = ["handler404"]


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug, with the request's details in it: /broken/?q=canary")


urlpatterns = [path("broken/", broken), *site_urlpatterns]

"""Caching of what the public sees.

Public pages change only when staff edit the practice or a page, yet they are
the most-read thing the system serves. Everything public is cached under one
content version, which any staff save bumps. With REDIS_URL the cache is shared
and an edit shows at once everywhere; with the per-process default cache, other
workers show it within PUBLIC_CACHE_SECONDS.
"""

import re
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

_VERSION_KEY = "website:content-version"
_CSRF_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
_CSRF_SENTINEL = "\x00csrf\x00"


def content_version() -> str:
    version: str | None = cache.get(_VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex[:12]
        # add() so that two processes starting together agree on one version.
        cache.add(_VERSION_KEY, version, None)
        version = cache.get(_VERSION_KEY) or version
    return version


def bump_content_version() -> None:
    cache.set(_VERSION_KEY, uuid.uuid4().hex[:12], None)


def versioned_key(*parts: str) -> str:
    return ":".join(["website", content_version(), *parts])


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve an anonymous GET of a public page from the cache.

    Django's own page cache would skip these pages, because the CSRF cookie
    varies per visitor. Here the CSRF token in the cached HTML is a placeholder,
    filled per request with this visitor's own token (which also sets their cookie).
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        cacheable = (
            request.method == "GET"
            and not request.GET
            and not request.user.is_authenticated
            and "messages" not in request.COOKIES
        )
        if not cacheable:
            return view(request, *args, **kwargs)
        key = versioned_key("html", get_language(), request.path)
        html: str | None = cache.get(key)
        if html is None:
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or response.streaming:
                return response
            cache.set(
                key,
                _CSRF_FIELD.sub(rf"\g<1>{_CSRF_SENTINEL}\g<2>", response.content.decode()),
                settings.PUBLIC_CACHE_SECONDS,
            )
            return response
        if _CSRF_SENTINEL in html:
            html = html.replace(_CSRF_SENTINEL, get_token(request))
        return HttpResponse(html)

    return wrapper

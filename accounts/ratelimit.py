"""Rate limits on the public forms and links: one decorator, counters in Django's cache.

Every public view that takes a POST, and every view that opens a link (its URL carries a
token), is wrapped in `rate_limited(group)`. Each request it counts adds one to a counter
for the client's address and, for a link, one to a counter for the token's prefix (so
guesses spread over many addresses still meet a limit). Past a group's rate
(`settings.RATE_LIMITS`, django-ratelimit's "count/period" form) the visitor gets the
site's page "Too many tries" (429) saying when to try again; the view does not run, so
a refused request reads and writes nothing.

The counters live in the default cache: Redis when REDIS_URL is set, so every app server
counts together; per process otherwise (the embedded tier). Only digests reach the cache
(django-ratelimit hashes its keys, and a token prefix is hashed before that): never an
address in the clear, never a token.

Sign-in has its own lockout (django-axes), so it is not counted here.
"""

import hashlib
import ipaddress
import logging
import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

# The methods a link is counted on: opening it is a GET.
LINK_METHODS = ("GET", "HEAD", "POST")
FORM_METHODS = ("POST",)
# A token's first characters name it well enough to count guesses at it, and are no use to
# anyone who reads the cache (hashed, and far too short to open anything).
TOKEN_PREFIX_CHARS = 8
LINK_GROUP = "link_token"

logger = logging.getLogger(__name__)


def client_address(request: HttpRequest) -> str:
    """The visitor's address: the proxy's last X-Forwarded-For entry behind a proxy, else the socket's.

    Only the entry our own proxy appended can be trusted; a visitor can write anything before
    it. IPv6 addresses count by their /64, the block one subscriber is given.
    """
    address = request.META.get("REMOTE_ADDR") or ""
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            address = forwarded[-1]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def token_key(token: str) -> str:
    return hashlib.sha256(token[:TOKEN_PREFIX_CHARS].encode()).hexdigest()[:32]


def _count(request: HttpRequest, group: str, value: str) -> dict[str, Any] | None:
    """Add this request to the counter; None when it cannot be counted (the cache is down): let it through.

    A practice whose cache server is down keeps taking bookings (the contact form's own limit
    reads the database), and says so in the log, rather than refusing every patient or
    answering 500.
    """
    try:
        usage: dict[str, Any] | None = get_usage(
            request,
            group=group,
            key=lambda _group, _request: value,
            rate=settings.RATE_LIMITS[group],
            method=ALL,
            increment=True,
        )
    except Exception as error:
        logger.warning("rate limit %s not counted: the cache is unreachable (%s)", group, type(error).__name__)
        return None
    return usage


def too_many(request: HttpRequest, seconds: int) -> HttpResponse:
    """The page a refused visitor sees: what happened and when to try again (429, Retry-After)."""
    seconds = max(seconds, 1)
    minutes = math.ceil(seconds / 60)
    message = ngettext(
        "Please try again in %(minutes)d minute.", "Please try again in %(minutes)d minutes.", minutes
    ) % {"minutes": minutes}
    response = render(request, "429.html", {"try_again": message, "error_page": True}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def rate_limited(group: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Count this view's POSTs (or, when its URL has a token, every request) under `group`; refuse past the rate."""
    if group not in settings.RATE_LIMITS:
        raise KeyError(f"settings.RATE_LIMITS has no rate for {group!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            token = kwargs.get("token")
            methods = LINK_METHODS if token is not None else FORM_METHODS
            if request.method in methods:
                counted = [_count(request, group, client_address(request))]
                if token is not None:
                    counted.append(_count(request, LINK_GROUP, token_key(str(token))))
                limited = [usage for usage in counted if usage is not None and usage["should_limit"]]
                if limited:
                    return too_many(request, max(int(usage["time_left"]) for usage in limited))
            return view(request, *args, **kwargs)

        wrapper.rate_limit_group = group  # type: ignore[attr-defined]
        return wrapper

    return decorator

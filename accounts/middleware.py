"""Three guards every request passes: staff sessions that end, the second step of sign-in, no copies in caches.

`StaffSessionMiddleware`: a member of staff is signed out after `STAFF_SESSION_IDLE_MINUTES`
without a request (15; checked to within `TOUCH_SECONDS`, never early) and
`STAFF_SESSION_MAX_HOURS` after signing in (12), whatever they do. The session holds both
moments; a request past either flushes the session and sends the person to sign in, where
a plain sentence says why. Patients' link sessions (`accounts.links`) are not staff
sessions and keep their own 60 minutes.

`SecondFactorMiddleware`: a session past the password alone reaches nothing but the
second step of sign-in (`accounts.mfa`).

`NoStoreMiddleware`: every response to a signed-in member of staff, to a visitor with
an open patient link session, and from the admin says `Cache-Control: no-store`, so no
browser or proxy keeps a copy of a page with health information. Anonymous public pages
stay cacheable (`website.caching`).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from accounts import links, mfa, staff_sessions
from accounts.models import User

SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"
# The last request is written down at most this often (a session write per page would take
# SQLite's one write lock each time); the idle limit allows for it, so no one is signed out early.
TOUCH_SECONDS = 30
IDLE = "idle"
TOO_LONG = "too_long"


def staff_session_start(session: SessionBase, *, now: datetime) -> None:
    """Start the clocks of a staff session that has just signed in."""
    session[SIGNED_IN_AT] = session[SEEN_AT] = now.timestamp()


def staff_session_touch(session: SessionBase, *, now: datetime) -> str | None:
    """Why the staff session in `session` is over at `now` ("idle" or "too_long"), or None after noting the activity.

    A session without clocks (signed in before this guard existed, or by a test's
    `force_login`) starts them now.
    """
    stamp = now.timestamp()
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if signed_in_at is None or seen_at is None:
        staff_session_start(session, now=now)
        return None
    if stamp - seen_at > settings.STAFF_SESSION_IDLE_MINUTES * 60 + TOUCH_SECONDS:
        return IDLE
    if stamp - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return TOO_LONG
    if stamp - seen_at >= TOUCH_SECONDS:
        session[SEEN_AT] = stamp
    return None


@receiver(user_logged_in)
def _start_on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = timezone.now()
        staff_session_start(request.session, now=now)
        staff_sessions.staff_session_record(request, user=user, now=now)


@receiver(user_logged_out)
def _forget_on_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        staff_sessions.staff_session_forget(request.session.session_key)


class StaffSessionMiddleware:
    """Ends staff sessions idle too long or open too long. After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now()
            seen_before = request.session.get(SEEN_AT)
            ended = staff_session_touch(request.session, now=now)
            if ended is not None:
                return self._signed_out(request, ended)
            # The session list's "last used" moves with the session's own clock (every 30 seconds at most).
            if request.session.get(SEEN_AT) != seen_before:
                staff_sessions.staff_session_seen(request, user=request.user, now=now)
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest, why: str) -> HttpResponse:
        logout(request)
        if why == IDLE:
            text = _("You were signed out after %(minutes)s minutes without activity. Please sign in again.")
        else:
            text = _("You were signed out %(hours)s hours after signing in. Please sign in again.")
        limits = {"minutes": settings.STAFF_SESSION_IDLE_MINUTES, "hours": settings.STAFF_SESSION_MAX_HOURS}
        messages.info(request, text % limits)
        sign_in = reverse("accounts:login")
        # Back to the same page after signing in, for a page that was being read; only its path (a
        # query string could carry search terms). A form sent to a closed session is not sent again.
        if request.method == "GET" and request.path != sign_in:
            response = redirect_to_login(request.path, sign_in)
        else:
            response = redirect(sign_in)
        add_never_cache_headers(response)
        return response


# What a session past the password alone may reach: the second step (a code, or a passkey: its ceremony's two
# endpoints and the words its script shows), setting up an authenticator, signing out. Adding a passkey is not
# among them: that needs a full session.
HALF_SIGNED_IN_VIEWS = frozenset(
    {
        "accounts:login",
        "accounts:logout",
        "accounts:two_step",
        "accounts:two_step_set_up",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
        "healthz",
    }
)


class SecondFactorMiddleware:
    """Keeps a session past the password alone (`accounts.mfa`) to `HALF_SIGNED_IN_VIEWS`. After OTPMiddleware.

    Anything else is sent to the second step (or to setting up an authenticator, for
    someone who has none), with the page asked for as `next` when it was a page to read;
    a form sent from such a session is not acted on.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        if not request.user.is_authenticated or mfa.is_verified(request):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in HALF_SIGNED_IN_VIEWS:
            return None
        user = request.user
        assert isinstance(user, User)
        target = reverse("accounts:two_step" if mfa.has_authenticator(user) else "accounts:two_step_set_up")
        if request.method in ("GET", "HEAD"):
            target += "?next=" + quote(request.path, safe="/")
        response = redirect(target)
        add_never_cache_headers(response)
        return response


def shows_health_information(request: HttpRequest) -> bool:
    """Whether the response to `request` may hold health information: staff, a patient link session, the admin."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    if request.path.startswith(reverse("admin:index")):
        return True
    session = getattr(request, "session", None)
    # Without a session cookie or a change to the session there is nothing to read (and not reading
    # it keeps `Vary: Cookie` off anonymous pages). A link opened by this very request changed it.
    if session is not None and (settings.SESSION_COOKIE_NAME in request.COOKIES or session.modified):
        return bool(links.open_sessions(request))
    return False


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response that may hold health information (`shows_health_information`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if shows_health_information(request):
            add_never_cache_headers(response)
        return response

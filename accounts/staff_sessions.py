"""The session list of a member of staff: their signed-in sessions, and ending one, the others, or all.

Sessions live in the session store (`SESSION_ENGINE`: the database by default, so they
survive restarts and every app server sees them). A `StaffSession` row beside each one
keeps what its owner needs to recognise it: started, last used, browser, address. The
row is written at sign-in and kept up to date by `StaffSessionMiddleware` (at most every
30 seconds, when the session's own clock is written); signing out removes it. Ending a
session deletes it from the store, so its next request is signed out, and leaves a
"session_ended" audit row.
"""

import re
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.audit import audit_record, canonical_ip
from accounts.models import AuditEvent, StaffSession, User


def staff_session_record(request: HttpRequest, *, user: User, now: datetime) -> StaffSession | None:
    """Write down the request's session as one of `user`'s (at sign-in, or a session from before the list)."""
    key = request.session.session_key
    if not key:
        return None
    # Rows of sessions past the longest a session lasts (closed without signing out) go.
    StaffSession.objects.filter(
        user=user, started_at__lt=now - timedelta(hours=settings.STAFF_SESSION_MAX_HOURS)
    ).delete()
    found, _created = StaffSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "last_seen_at": now,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip_address": canonical_ip(request.META.get("REMOTE_ADDR")),
        },
        create_defaults={
            "user": user,
            "started_at": now,
            "last_seen_at": now,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip_address": canonical_ip(request.META.get("REMOTE_ADDR")),
        },
    )
    return found


def staff_session_seen(request: HttpRequest, *, user: User, now: datetime) -> None:
    """Note that the request's session was used at `now` (called at most every 30 seconds per session)."""
    key = request.session.session_key
    if key and not StaffSession.objects.filter(session_key=key, user=user).update(last_seen_at=now):
        staff_session_record(request, user=user, now=now)


def staff_session_rekeyed(old_key: str | None, new_key: str | None) -> None:
    """The session once `old_key` goes on as `new_key` (a new key when it passes the second step of sign-in)."""
    if old_key and new_key:
        StaffSession.objects.filter(session_key=old_key).update(session_key=new_key)


def staff_session_forget(session_key: str | None) -> None:
    """Remove the row of a session that signed out (or ended otherwise)."""
    if session_key:
        StaffSession.objects.filter(session_key=session_key).delete()


def staff_sessions_open(*, user: User, now: datetime) -> list[StaffSession]:
    """`user`'s sessions still open at `now`: used within the idle limit and started within the longest one."""
    idle = timedelta(minutes=settings.STAFF_SESSION_IDLE_MINUTES, seconds=30)
    longest = timedelta(hours=settings.STAFF_SESSION_MAX_HOURS)
    return list(
        StaffSession.objects.filter(user=user, last_seen_at__gt=now - idle, started_at__gt=now - longest).order_by(
            "-last_seen_at", "-id"
        )
    )


def staff_sessions_end(*, user: User, sessions: list[StaffSession], request: HttpRequest | None = None) -> int:
    """End `sessions` (all `user`'s): each is deleted from the session store, with one audit row; how many ended."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    with transaction.atomic():
        for found in sessions:
            if found.user_id != user.pk:
                continue
            store().delete(found.session_key)
            found.delete()
            audit_record(
                actor=user,
                action=AuditEvent.Action.SESSION_ENDED,
                object_type="staff_session",
                object_ref=str(found.uuid),
                request=request,
            )
            ended += 1
    return ended


# Checked in this order: Edge and Opera say "Chrome" too, Chrome says "Safari".
_BROWSERS = [
    ("Edg", "Microsoft Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("FxiOS", "Firefox"),
    ("CriOS", "Chrome"),
    ("HeadlessChrome", "Chrome"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
]
_SYSTEMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """A browser's User-Agent in words: "Firefox on Windows"; what is not recognised is said so."""
    browser = next((name for token, name in _BROWSERS if re.search(rf"\b{token}/", user_agent)), None)
    system = next((name for token, name in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser or system:
        return str(browser or system)
    return _("An unknown browser")


def describe(found: StaffSession, *, current_key: str | None) -> dict[str, Any]:
    """What the session list shows of one session."""
    return {
        "session": found,
        "device": describe_user_agent(found.user_agent),
        "this_device": found.session_key == current_key,
    }

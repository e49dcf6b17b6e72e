"""Staff signed in for tests and drills, as the sign-in pages leave them.

Tests reach staff pages through `sign_in(client, user)`, never `Client.force_login`
alone, so each signed-in test session is the one a person gets after both steps of
sign-in. `signed_in_session(user)` is the same session as a cookie value, for drills
and races that speak HTTP to a running server.
"""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from accounts.models import User


def sign_in(client: Any, user: User) -> None:
    """Sign `user` in on the test `client`, past every step of sign-in."""
    client.force_login(user)


def signed_in_session(user: User) -> str:
    """A new session of `user` past every step of sign-in: the value of the session cookie."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)

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
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


def authenticator(user: User) -> TOTPDevice:
    """`user`'s authenticator app (`accounts.mfa`), set up now if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)


def code_now(device: TOTPDevice) -> str:
    """The six digits the authenticator app of `device` shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def fresh_code(user: User) -> str:
    """A code `user` has never typed: from a new authenticator of theirs (a code is accepted once)."""
    return code_now(TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True))


def sign_in(client: Any, user: User) -> None:
    """Sign `user` in on the test `client`, past both steps of sign-in (password, authenticator)."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.save()


def second_step(page: Any, user: User) -> None:
    """In a browser right after the password, pass the second step as `user` would, and go on to the page asked for.

    Someone with an authenticator types its code; someone without one sets one up (the
    page's key, as their app would after scanning it), then goes on past their recovery codes.
    """
    setting_up = "/accounts/two-step/set-up/" in page.url
    code = code_now(TOTPDevice.objects.get(user=user, confirmed=False)) if setting_up else fresh_code(user)
    page.fill("#id_code", code)
    with page.expect_navigation():
        page.click("main form.form button[type=submit]")
    if setting_up:
        with page.expect_navigation():
            page.click("main a.button")


def signed_in_session(user: User) -> str:
    """A new session of `user` past every step of sign-in: the value of the session cookie."""
    engine = import_module(settings.SESSION_ENGINE)
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
    session.create()
    return str(session.session_key)

"""The second step of sign-in: a code from an authenticator app (TOTP), a one-time recovery code, or a passkey.

Every staff account has one (django-otp). After the password (`accounts.views.SignInView`),
a session is half signed in: `SecondFactorMiddleware` lets it reach the second step, the
set-up of an authenticator for someone who has none, and sign-out, and nothing else: no
staff page, no admin page, no form. The second step is the only way to a full session
(`verify`), so a new password, set by anyone, never skips it.

An authenticator is set up (`start_set_up`, `finish_set_up`) only after the password,
by scanning a QR code or typing the key; it counts once a code from it is right, and
the person then gets ten recovery codes (`new_recovery_codes`), each good once, shown
that one time and stored only as a keyed digest (`recovery_digest`), so a copy of the
database gives no code. Passkeys (`accounts.passkeys`) are added later, from a full session. An
administrator removes a lost authenticator, with the passkeys and recovery codes, with
`manage.py mfa_reset`; the person sets up a new one at their next sign-in.

Guessing is slowed by django-otp's throttling (each wrong code doubles the wait before
the next is checked: 1, 2, 4... seconds) and stopped by `WRONG_CODES_BEFORE_SIGN_OUT`
wrong codes in one session, which end it: the password is asked again, and wrong
passwords count towards the account's lockout (django-axes). Every right and wrong code,
set-up, new codes and reset leaves an audit row.
"""

import math
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts import staff_sessions
from accounts.audit import audit_record
from accounts.models import AuditEvent, User

RECOVERY_CODES = 10
WRONG_CODES_BEFORE_SIGN_OUT = 5
# The session's count of wrong codes since the password.
WRONG_CODES = "mfa_wrong_codes"
APP_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
# The recovery-code digest's own key, derived from SECRET_KEY (Django's salted HMAC).
RECOVERY_SALT = "accounts.mfa.recovery_digest"


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def is_verified(request: HttpRequest) -> bool:
    """Whether the signed-in person in `request` has passed the second step in this session."""
    return bool(getattr(request.user, "is_verified", lambda: False)())


# --- Setting up an authenticator ----------------------------------------------------------------


def start_set_up(user: User) -> TOTPDevice:
    """The authenticator being set up for `user`: the same key until a code from it is right."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
    return device


def secret_for_typing(device: TOTPDevice) -> str:
    """The key as an authenticator app takes it typed in: base32, in groups of four."""
    key = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The key as a QR code an app scans: inline SVG, drawn here (the key goes to no other site)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def finish_set_up(request: HttpRequest, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from it; then the session is signed in and the new recovery codes are returned.

    None if the code is not right (the device stays unconfirmed, its key unchanged).
    """
    user = request.user
    assert isinstance(user, User)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        if not device.verify_token(_digits(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = new_recovery_codes(user, audited=False)
        audit_record(
            actor=user,
            action=AuditEvent.Action.MFA_ENROLLED,
            object_type="user",
            object_ref=str(user.pk),
            request=request,
        )
    signed_in(request, device)
    return codes


# --- Recovery codes ------------------------------------------------------------------------------


def show_code(token: str) -> str:
    """A stored recovery code as it is shown: two groups of four letters and digits."""
    return f"{token[:4]}-{token[4:]}"


def recovery_digest(user_id: Any, code: str, *, secret: str | bytes | None = None) -> str:
    """What is stored of a recovery code: an HMAC-SHA256 of the person's id and the code as typed
    any way (case, spaces, dash), keyed from `secret` (SECRET_KEY by default), cut to the 16
    characters django-otp's token column holds (64 bits: a lookup key, not a password).

    The code has 40 random bits; without the key they cannot be tried against the stored digest.
    """
    value = f"{user_id}:{_recovery(code)}"
    return salted_hmac(RECOVERY_SALT, value, secret=secret, algorithm="sha256").hexdigest()[:16]


def _recovery_digests(user_id: Any, code: str) -> list[str]:
    """The digest of `code` under SECRET_KEY, then under each key in SECRET_KEY_FALLBACKS (a rotated key)."""
    keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [recovery_digest(user_id, code, secret=key) for key in keys]


def new_recovery_codes(user: User, *, audited: bool = True, request: HttpRequest | None = None) -> list[str]:
    """Ten new recovery codes for `user`, replacing any they had; shown once, as `show_code` writes them,
    and stored as their digests."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        tokens: set[str] = set()
        while len(tokens) < RECOVERY_CODES:
            tokens.add(StaticToken.random_token()[:8])
        StaticToken.objects.bulk_create(
            [StaticToken(device=device, token=recovery_digest(user.pk, t)) for t in sorted(tokens)]
        )
        if audited:
            audit_record(
                actor=user,
                action=AuditEvent.Action.MFA_CODES,
                object_type="user",
                object_ref=str(user.pk),
                request=request,
            )
    return [show_code(t) for t in sorted(tokens)]


# --- The second step -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    ok: bool
    # When the code was not even checked: the moment the next one will be.
    wait_until: datetime | None = None
    # The session has had too many wrong codes and is over.
    signed_out: bool = False

    def wait_seconds(self, now: datetime) -> int:
        assert self.wait_until is not None
        return wait_seconds(self.wait_until, now)


def wait_seconds(until: datetime, now: datetime) -> int:
    """Whole seconds from `now` until the next code is checked (at least one)."""
    return max(1, math.ceil((until - now).total_seconds()))


def _digits(code: str) -> str:
    return "".join(code.split())


def _recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def verify(request: HttpRequest, code: str) -> Verdict:
    """Check `code` for the half-signed-in person; sign them in if it is right.

    Six digits are the app's code; anything else is tried as a recovery code. Each kind
    has its own throttle, so mistyped app codes never hold up a recovery code.
    """
    user = request.user
    assert isinstance(user, User)
    digits = _digits(code)
    with transaction.atomic():
        found: Any
        if len(digits) == 6 and digits.isascii() and digits.isdigit():
            found, token = TOTPDevice.objects.filter(user=user, confirmed=True), digits
        else:
            found, token = StaticDevice.objects.filter(user=user, confirmed=True), _recovery(code)
            if token:
                # The stored digest under the current key or a rotated one; one try either way.
                digests = _recovery_digests(user.pk, token)
                stored = StaticToken.objects.filter(device__in=found, token__in=digests).values_list("token", flat=True)
                token = next(iter(stored), digests[0])
        devices = list(found.select_for_update().order_by("-pk"))
        checks = [(device, *device.verify_is_allowed()) for device in devices]
        open_devices = [device for device, allowed, _data in checks if allowed]
        if devices and not open_devices:
            return Verdict(ok=False, wait_until=min(data["locked_until"] for _device, _allowed, data in checks))
        matched = next((device for device in open_devices if token and device.verify_token(token)), None)
        audit_second_step(request, user, passed=matched is not None)
    if matched is None:
        return count_wrong(request)
    signed_in(request, matched)
    return Verdict(ok=True)


def audit_second_step(request: HttpRequest, user: User, *, passed: bool) -> None:
    """The audit row of one try at the second step (a code, a recovery code or a passkey)."""
    audit_record(
        actor=user,
        action=AuditEvent.Action.MFA_VERIFIED if passed else AuditEvent.Action.MFA_FAILED,
        object_type="user",
        object_ref=str(user.pk),
        outcome=AuditEvent.Outcome.ALLOWED if passed else AuditEvent.Outcome.DENIED,
        request=request,
    )


def count_wrong(request: HttpRequest) -> Verdict:
    """One more wrong code (or passkey) in this session; the session is over at `WRONG_CODES_BEFORE_SIGN_OUT`."""
    wrong = int(request.session.get(WRONG_CODES, 0)) + 1
    request.session[WRONG_CODES] = wrong
    return Verdict(ok=False, signed_out=wrong >= WRONG_CODES_BEFORE_SIGN_OUT)


def signed_in(request: HttpRequest, device: Any) -> None:
    """The session has passed the second step with `device` (a code's, a recovery code's or a passkey)."""
    # A new session key at the moment the session gains access (as Django's own sign-in does), against
    # fixation; the session list follows it.
    old_key = request.session.session_key
    request.session.cycle_key()
    staff_sessions.staff_session_rekeyed(old_key, request.session.session_key)
    request.session.pop(WRONG_CODES, None)
    otp_login(request, device)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- Removing a lost authenticator ---------------------------------------------------------------


def reset(user: User, *, by: User | None, role: str | None = None, request: HttpRequest | None = None) -> None:
    """Remove `user`'s authenticators, passkeys and recovery codes (a lost phone); they set up a new one at sign-in."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        audit_record(
            actor=by,
            action=AuditEvent.Action.MFA_RESET,
            object_type="user",
            object_ref=str(user.pk),
            request=request,
            role=role,
        )

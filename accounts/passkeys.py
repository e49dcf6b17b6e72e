"""Passkeys (WebAuthn): a second factor beside the authenticator app, with django-otp-webauthn.

A passkey is one more django-otp device. It never replaces the password (passwordless
sign-in is off) nor the app: the app is still set up at the first sign-in, so nobody
depends on a passkey alone. A person adds passkeys from a full session (the sessions
page), and from then on the second step offers "Use a passkey" beside the code.

The package's four JSON endpoints do the ceremonies (accounts/urls.py,
`webauthn_urlpatterns`); `accounts.views` subclasses them so each leaves the audit rows a
code does: a passkey that passes the second step is `MFA_VERIFIED` (and signs the
session in as `accounts.mfa.verify` does: a new session key), one that fails is
`MFA_FAILED` and counts as a wrong code, a new one is `MFA_ENROLLED`, a removed one
`MFA_RESET`. A session past the password alone reaches only the sign-in ceremony
(`accounts.middleware.HALF_SIGNED_IN_VIEWS`); adding one needs a full session.

The relying party is the host the page was asked for (one of ALLOWED_HOSTS), and a
passkey's answer must come from one of OTP_WEBAUTHN_ALLOWED_ORIGINS (this site's names over
HTTPS), or from http://localhost in development. Browsers refuse passkeys for an address
that is a number (127.0.0.1): the pages say to use the site's name instead.
"""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa
from accounts.audit import audit_record
from accounts.models import AuditEvent, User
from accounts.staff_sessions import describe_user_agent
from lib.hosts import is_address


def relying_party_id(request: HttpRequest) -> str:
    """The relying party's id (OTP_WEBAUTHN_RP_ID_CALLABLE): the host asked for, without its port."""
    domain, _port = split_domain_port(request.get_host())
    return domain


def passkeys_possible(request: HttpRequest) -> bool:
    """Whether a browser can use passkeys at this address: a name, not a number."""
    return not is_address(relying_party_id(request))


class PasskeyHelper(WebAuthnHelper):
    """django-otp-webauthn's helper (OTP_WEBAUTHN_HELPER_CLASS) with this site's origin and passkey names."""

    def get_allowed_origins(self) -> list[str]:
        origins = list(settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)
        # Development servers and the browser tests run at http://localhost on a port of their own.
        if relying_party_id(self.request) == "localhost":
            origins.append(f"{self.request.scheme}://{self.request.get_host()}")
        return origins

    def create_credential(
        self, user: Any, response: Any, parsed_credential: Any, original_data: dict[str, Any]
    ) -> WebAuthnCredential:
        device = super().create_credential(user, response, parsed_credential, original_data)
        # Named after the browser it was added from, as the session list names sessions.
        device.name = describe_user_agent(self.request.headers.get("User-Agent", ""))[:64]
        return device


def has_passkey(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def passkeys_of(user: User) -> list[WebAuthnCredential]:
    """`user`'s passkeys, newest first."""
    return list(WebAuthnCredential.objects.filter(user=user).order_by("-created_at", "-pk"))


def passkey_enrolled(request: HttpRequest, user: User) -> None:
    """The audit row of a passkey just added (in the caller's transaction, with the passkey)."""
    audit_record(
        actor=user, action=AuditEvent.Action.MFA_ENROLLED, object_type="user", object_ref=str(user.pk), request=request
    )


def passkey_verified(request: HttpRequest, device: WebAuthnCredential) -> None:
    """A passkey passed the second step: the audit row a right code leaves, and the session signed in."""
    user = request.user
    assert isinstance(user, User)
    mfa.audit_second_step(request, user, passed=True)
    mfa.signed_in(request, device)


def passkey_failed(request: HttpRequest) -> mfa.Verdict:
    """A passkey's answer was refused: the audit row a wrong code leaves, and one more wrong code in the session."""
    user = request.user
    assert isinstance(user, User)
    mfa.audit_second_step(request, user, passed=False)
    return mfa.count_wrong(request)


def passkey_remove(*, user: User, pk: int, request: HttpRequest) -> bool:
    """Remove `user`'s own passkey `pk`; False if they have none by that id (another person's included)."""
    with transaction.atomic():
        removed, _ = WebAuthnCredential.objects.filter(user=user, pk=pk).delete()
        if not removed:
            return False
        audit_record(
            actor=user, action=AuditEvent.Action.MFA_RESET, object_type="user", object_ref=str(user.pk), request=request
        )
    return True

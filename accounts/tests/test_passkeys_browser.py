"""A passkey in real Chromium, with its virtual authenticator (the DevTools protocol's WebAuthn domain).

Bob adds a passkey from his sessions page, signs out, signs in with his password, and
passes the second step with the passkey instead of a code. No CSP violation on the way.
"""

from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import AuditEvent, User
from accounts.testing import second_step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def password(page: Any, site: str, path: str, user: User) -> None:
    page.goto(site + path)
    assert page.url == f"{site}/accounts/sign-in/?next={path}"
    page.fill("#id_username", user.username)
    page.fill("#id_password", f"{user.username}-password-1")
    with page.expect_navigation():
        page.click("main button[type=submit]")


def test_bob_adds_a_passkey_and_passes_the_second_step_with_it(page: Any, live_server: Any, bob: User) -> None:
    # http://localhost: a secure context, and a relying party id that is a name (never 127.0.0.1).
    site = str(live_server.url)
    assert site.startswith("http://localhost:")
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )

    # Signed in with the app's code, he adds a passkey on his sessions page.
    password(page, site, "/accounts/sessions/", bob)
    second_step(page, bob)
    assert page.url == site + "/accounts/sessions/"
    assert page.locator("text=You have no passkey.").count() == 1
    with page.expect_navigation():
        page.click("#passkey-register-button")
    assert page.locator("#passkeys caption").inner_text() == "1 passkey"
    assert page.locator("#passkeys td").first.inner_text() == "Chrome on Linux"
    assert WebAuthnCredential.objects.filter(user=bob).count() == 1
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator["authenticatorId"]})
    assert len(credentials["credentials"]) == 1

    # Signed out, then in again: the password, then the passkey instead of a code.
    with page.expect_navigation():
        page.click("form[action='/accounts/sign-out/'] button")
    password(page, site, "/staff/patients/", bob)
    assert page.url == site + "/accounts/two-step/?next=/staff/patients/"
    with page.expect_navigation():
        page.click("#passkey-verification-button")
    assert page.url == site + "/staff/patients/"
    assert page.locator("h1").count() == 1
    rows = AuditEvent.objects.filter(actor=bob, action__startswith="mfa_").order_by("seq")
    # The app set up at his first sign-in, the passkey added, the second step passed with it.
    assert list(rows.values_list("action", flat=True)) == [
        AuditEvent.Action.MFA_ENROLLED,
        AuditEvent.Action.MFA_ENROLLED,
        AuditEvent.Action.MFA_VERIFIED,
    ]
    assert violations == []

"""Passkeys (`accounts.passkeys`): a second factor beside the authenticator app, never a sign-in without the password.

A fake authenticator (`FakePasskey`: a P-256 key, signing as a browser's authenticator
would) answers the package's ceremonies, so the server's checks and the audit rows are
the real ones; `accounts/tests/test_passkeys_browser.py` does the same with Chromium's.
"""

import base64
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management import call_command
from django.test import Client, RequestFactory, override_settings
from django_otp_webauthn.models import WebAuthnCredential

from accounts import mfa, passkeys
from accounts.middleware import HALF_SIGNED_IN_VIEWS
from accounts.models import AuditEvent, Role, User
from accounts.testing import authenticator, sign_in
from accounts.views import PasskeyRegistrationBeginView

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/sign-in/"
TWO_STEP = "/accounts/two-step/"
SESSIONS = "/accounts/sessions/"
PASSKEYS = "/accounts/passkeys/"
# Django's test client asks for "testserver"; these tests ask for localhost, as a development server is reached.
HOST = "localhost"
ORIGIN = "http://localhost"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakePasskey:
    """An authenticator holding one P-256 key for the relying party `localhost`."""

    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    sign_count: int = 0
    rp_id: str = HOST

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, flags: int, extra: bytes = b"") -> bytes:
        self.sign_count += 1
        return (
            hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count) + extra
        )

    def _client_data(self, kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin}).encode()

    def create(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        """The answer to `navigator.credentials.create()` with `options` (attestation "none")."""
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self.cose_key()
        # User present, user verified, attested credential data included.
        auth_data = self._auth_data(0x45, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {"attestationObject": b64(attestation), "clientDataJSON": b64(client_data)},
            "clientExtensionResults": {"credProps": {"rk": True}},
        }

    def get(self, options: dict[str, Any], origin: str = ORIGIN) -> dict[str, Any]:
        """The answer to `navigator.credentials.get()` with `options`."""
        auth_data = self._auth_data(0x05)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64(self.credential_id),
            "rawId": b64(self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(auth_data),
                "clientDataJSON": b64(client_data),
                "signature": b64(signature),
            },
            "clientExtensionResults": {},
        }


def post_json(client: Client, path: str, data: Any = None) -> Any:
    return client.post(path, json.dumps(data) if data is not None else "", content_type="application/json")


def register(client: Client, passkey: FakePasskey) -> Any:
    options = post_json(client, PASSKEYS + "registration/begin/").json()
    return post_json(client, PASSKEYS + "registration/complete/", passkey.create(options))


def verify(client: Client, passkey: FakePasskey, origin: str = ORIGIN) -> Any:
    begin = post_json(client, PASSKEYS + "authentication/begin/")
    assert begin.status_code == 200
    return post_json(client, PASSKEYS + "authentication/complete/", passkey.get(begin.json(), origin))


def password_step(client: Client, user: User) -> None:
    response = client.post(SIGN_IN, {"username": user.username, "password": f"{user.username}-password-1"})
    assert response.status_code == 302


def with_passkey(user: User) -> FakePasskey:
    """`user` with a confirmed passkey (registered through the pages, as a person would)."""
    passkey = FakePasskey()
    client = Client(HTTP_HOST=HOST, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36")
    sign_in(client, user)
    assert register(client, passkey).status_code == 200
    return passkey


def actions(user: User) -> list[str]:
    """The second step's audit rows about `user`, oldest first."""
    found = AuditEvent.objects.filter(object_ref=str(user.pk), action__startswith="mfa_").order_by("seq")
    return list(found.values_list("action", flat=True))


@pytest.fixture
def client() -> Client:
    return Client(HTTP_HOST=HOST)


@pytest.fixture
def drlee(db: Any) -> User:
    return User.objects.create_user("drlee", password="drlee-password-1", role=Role.PHYSICIAN, is_staff=True)


# --- What a session past the password alone reaches ---------------------------------------------------------


def test_a_half_signed_in_session_reaches_the_passkey_sign_in_and_not_its_registration() -> None:
    assert {
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    } <= HALF_SIGNED_IN_VIEWS
    assert "otp_webauthn:credential-registration-begin" not in HALF_SIGNED_IN_VIEWS
    assert "otp_webauthn:credential-registration-complete" not in HALF_SIGNED_IN_VIEWS
    assert "accounts:passkey_remove" not in HALF_SIGNED_IN_VIEWS


def test_past_the_password_alone_no_passkey_can_be_registered(client: Client, drlee: User) -> None:
    authenticator(drlee)
    password_step(client, drlee)
    response = post_json(client, PASSKEYS + "registration/begin/")
    assert response.status_code == 302
    assert response["Location"] == TWO_STEP
    assert WebAuthnCredential.objects.count() == 0


def test_someone_without_any_second_factor_cannot_register_a_passkey_to_skip_the_app(
    client: Client, drlee: User
) -> None:
    # The package would let a person with no device at all register one; here the set-up of the app comes first.
    password_step(client, drlee)
    assert post_json(client, PASSKEYS + "registration/begin/")["Location"] == "/accounts/two-step/set-up/"
    assert WebAuthnCredential.objects.count() == 0
    # Behind the middleware, the view itself refuses a session that has not passed the second step.
    request = RequestFactory().post(PASSKEYS + "registration/begin/", content_type="application/json")
    request.user = drlee
    drlee.is_verified = lambda: False  # type: ignore[attr-defined]
    response = PasskeyRegistrationBeginView.as_view()(request)
    assert (response.status_code, json.loads(response.content)["code"]) == (403, "user_not_verified")


def test_nobody_signs_in_with_a_passkey_alone(client: Client, drlee: User) -> None:
    with_passkey(drlee)
    response = post_json(client, PASSKEYS + "authentication/begin/")
    assert response.status_code == 403
    assert response.json()["code"] == "passwordless_login_disabled"


# --- The second step with a passkey -------------------------------------------------------------------------


def test_the_second_step_offers_a_passkey_only_to_someone_who_has_one(client: Client, drlee: User) -> None:
    authenticator(drlee)
    password_step(client, drlee)
    page = client.get(TWO_STEP).content.decode()
    assert "Use a passkey" not in page
    assert "django_otp_webauthn/otp_webauthn_auth." not in page
    other = Client(HTTP_HOST=HOST)
    with_passkey(drlee)
    password_step(other, drlee)
    page = other.get(TWO_STEP).content.decode()
    assert "Use a passkey" in page
    assert 'id="passkey-verification-available-template"' in page
    assert "django_otp_webauthn/otp_webauthn_auth." in page


def test_a_passkey_completes_the_second_step_with_the_same_audit_row_as_a_code(client: Client, drlee: User) -> None:
    authenticator(drlee)
    passkey = with_passkey(drlee)
    password_step(client, drlee)
    half_session = client.session.session_key
    assert client.get(SESSIONS).status_code == 302
    response = verify(client, passkey)
    assert response.status_code == 200
    assert response.json()["redirect_url"] == "/staff/"
    assert client.session.session_key != half_session
    assert client.get(SESSIONS).status_code == 200
    verified = AuditEvent.objects.filter(action=AuditEvent.Action.MFA_VERIFIED).get()
    assert (verified.actor, verified.object_ref, verified.outcome) == (drlee, str(drlee.pk), AuditEvent.Outcome.ALLOWED)


def test_a_passkey_answer_from_another_site_is_refused_and_audited(client: Client, drlee: User) -> None:
    authenticator(drlee)
    passkey = with_passkey(drlee)
    password_step(client, drlee)
    response = verify(client, passkey, origin="https://evil.example")
    assert response.status_code == 422
    assert client.get(SESSIONS).status_code == 302
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.MFA_FAILED).get()
    assert (failed.actor, failed.outcome) == (drlee, AuditEvent.Outcome.DENIED)


@override_settings(ALLOWED_HOSTS=["clinic.example"], OTP_WEBAUTHN_ALLOWED_ORIGINS=["https://clinic.example"])
def test_in_production_a_passkey_answers_for_the_sites_name_over_https_only(drlee: User) -> None:
    client = Client(HTTP_HOST="clinic.example")
    sign_in(client, drlee)
    passkey = FakePasskey(rp_id="clinic.example")
    begin = client.post(PASSKEYS + "registration/begin/", secure=True).json()
    assert begin["rp"] == {"name": "RegenClinic", "id": "clinic.example"}
    plain = client.post(
        PASSKEYS + "registration/complete/",
        json.dumps(passkey.create(begin, origin="http://clinic.example")),
        content_type="application/json",
        secure=True,
    )
    assert plain.status_code == 422
    begin = client.post(PASSKEYS + "registration/begin/", secure=True).json()
    secure = client.post(
        PASSKEYS + "registration/complete/",
        json.dumps(passkey.create(begin, origin="https://clinic.example")),
        content_type="application/json",
        secure=True,
    )
    assert secure.status_code == 200
    assert WebAuthnCredential.objects.filter(user=drlee).count() == 1


def test_another_persons_passkey_does_not_pass_the_second_step(client: Client, drlee: User, alice: User) -> None:
    authenticator(drlee)
    with_passkey(drlee)
    alices = with_passkey(alice)
    password_step(client, drlee)
    response = verify(client, alices)
    assert response.status_code == 403
    assert client.get(SESSIONS).status_code == 302
    assert actions(drlee)[-1] == AuditEvent.Action.MFA_FAILED


def test_wrong_passkey_answers_count_with_wrong_codes_and_end_the_session(client: Client, drlee: User) -> None:
    authenticator(drlee)
    passkey = with_passkey(drlee)
    password_step(client, drlee)
    for _ in range(mfa.WRONG_CODES_BEFORE_SIGN_OUT):
        response = verify(client, passkey, origin="https://evil.example")
    assert response.status_code == 403
    assert response.json()["detail"] == "Too many wrong codes. Sign in again with your password."
    assert client.get(TWO_STEP)["Location"] == "/accounts/sign-in/?next=/accounts/two-step/"


# --- Adding, listing and removing passkeys ----------------------------------------------------------------------


def test_a_passkey_added_from_a_full_session_is_listed_and_audited(drlee: User) -> None:
    with_passkey(drlee)
    found = WebAuthnCredential.objects.get(user=drlee)
    assert (found.name, found.confirmed) == ("Chrome on Linux", True)
    assert actions(drlee) == [AuditEvent.Action.MFA_ENROLLED]
    client = Client(HTTP_HOST=HOST)
    sign_in(client, drlee)
    page = client.get(SESSIONS).content.decode()
    assert "Add a passkey" in page
    assert "Chrome on Linux" in page
    assert f'action="/accounts/passkeys/{found.pk}/remove/"' in page
    assert "django_otp_webauthn/otp_webauthn_register." in page


def test_the_sessions_page_says_when_there_is_no_passkey(client: Client, drlee: User) -> None:
    sign_in(client, drlee)
    page = client.get(SESSIONS).content.decode()
    assert "Add a passkey" in page
    assert "You have no passkey." in page


def test_a_person_removes_their_own_passkey(client: Client, drlee: User) -> None:
    with_passkey(drlee)
    found = WebAuthnCredential.objects.get(user=drlee)
    sign_in(client, drlee)
    response = client.post(f"/accounts/passkeys/{found.pk}/remove/")
    assert response.status_code == 302
    assert response["Location"] == SESSIONS
    assert WebAuthnCredential.objects.filter(user=drlee).count() == 0
    assert actions(drlee) == [AuditEvent.Action.MFA_ENROLLED, AuditEvent.Action.MFA_RESET]
    removed = AuditEvent.objects.filter(action=AuditEvent.Action.MFA_RESET).get()
    assert removed.actor == drlee


def test_another_persons_passkey_cannot_be_removed(client: Client, drlee: User, alice: User) -> None:
    with_passkey(alice)
    alices = WebAuthnCredential.objects.get(user=alice)
    sign_in(client, drlee)
    assert client.post(f"/accounts/passkeys/{alices.pk}/remove/").status_code == 404
    assert client.post("/accounts/passkeys/999999/remove/").status_code == 404
    assert WebAuthnCredential.objects.filter(user=alice).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.MFA_RESET).count() == 0


def test_removing_asks_for_a_post(client: Client, drlee: User) -> None:
    with_passkey(drlee)
    found = WebAuthnCredential.objects.get(user=drlee)
    sign_in(client, drlee)
    assert client.get(f"/accounts/passkeys/{found.pk}/remove/").status_code == 405
    assert WebAuthnCredential.objects.filter(user=drlee).count() == 1


def test_mfa_reset_removes_the_passkeys_too(drlee: User, alice: User) -> None:
    authenticator(drlee)
    with_passkey(drlee)
    with_passkey(alice)
    out = io.StringIO()
    call_command("mfa_reset", "drlee", stdout=out)
    assert out.getvalue() == (
        "drlee's authenticator, passkeys and recovery codes are removed: they set up a new authenticator at sign-in.\n"
    )
    assert WebAuthnCredential.objects.filter(user=drlee).count() == 0
    assert WebAuthnCredential.objects.filter(user=alice).count() == 1
    assert not passkeys.has_passkey(drlee)


@pytest.mark.parametrize("hosts", ["127.0.0.1", "127.0.0.1,localhost", "10.0.0.7,[::1]"])
def test_a_site_served_only_at_numbers_passes_the_system_checks_and_migrates(hosts: str) -> None:
    # No HTTPS name to take origins from: passkeys then work at localhost only, and nothing refuses to start.
    # (The crash drill serves at 127.0.0.1; django-otp-webauthn's check E030 stopped its `migrate`.)
    env = {**os.environ, "ALLOWED_HOSTS": hosts, "DJANGO_SETTINGS_MODULE": "regenclinic.settings"}
    env.pop("PASSKEY_ORIGINS", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert (done.returncode, done.stderr, done.stdout.startswith("System check identified no issues")) == (0, "", True)


def test_a_site_with_a_name_keeps_the_check_and_its_origin() -> None:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.OTP_WEBAUTHN_ALLOWED_ORIGINS, settings.SILENCED_SYSTEM_CHECKS]))"
    )
    hosts = "127.0.0.1,[::1],clinic.example"
    env = {**os.environ, "ALLOWED_HOSTS": hosts, "DJANGO_SETTINGS_MODULE": "regenclinic.settings"}
    env.pop("PASSKEY_ORIGINS", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    origins, silenced = json.loads(done.stdout.strip().splitlines()[-1])
    assert (origins, "otp_webauthn.E030" in silenced) == (["https://clinic.example"], False)

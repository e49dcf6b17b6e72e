"""The second step of sign-in (`accounts.mfa`): an authenticator app's code, or a one-time recovery code.

Every staff account needs it before any staff page, the admin included: a session past
the password alone reaches the second step, its set-up, and sign-out, nothing else.
"""

import io
import re
import time
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import mfa
from accounts.models import AuditEvent, Role, User
from accounts.testing import authenticator, code_now, sign_in
from website.models import Inquiry

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/sign-in/"
TWO_STEP = "/accounts/two-step/"
SET_UP = "/accounts/two-step/set-up/"
WRONG = "That code is not right. Enter the 6-digit code your authenticator app shows now, or a recovery code."


def password_step(client: Client, username: str, password: str, next_path: str = "") -> Any:
    data = {"username": username, "password": password}
    if next_path:
        data["next"] = next_path
    return client.post(SIGN_IN, data)


def actions(user: User) -> list[str]:
    return list(AuditEvent.objects.filter(object_ref=str(user.pk)).order_by("seq").values_list("action", flat=True))


@pytest.fixture
def drlee(db: Any) -> User:
    return User.objects.create_user("drlee", password="drlee-password-1", role=Role.PHYSICIAN, is_staff=True)


def test_the_password_alone_leads_to_the_second_step_and_to_no_staff_page(client: Client, drlee: User) -> None:
    authenticator(drlee)
    response = password_step(client, "drlee", "drlee-password-1", next_path="/staff/patients/")
    assert response.status_code == 302
    assert response["Location"] == TWO_STEP + "?next=/staff/patients/"
    for path in ["/staff/", "/staff/patients/", "/staff/calendar/", "/accounts/sessions/", "/admin/"]:
        refused = client.get(path)
        assert refused.status_code == 302, path
        assert refused["Location"] == TWO_STEP + "?next=" + path, path
    page = client.get(TWO_STEP + "?next=/staff/patients/")
    assert page.status_code == 200
    assert "Enter the 6-digit code" in page.content.decode()
    # No staff bar: none of its links is open yet.
    assert "Signed in as" not in page.content.decode()
    assert page["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_a_form_sent_past_the_password_alone_changes_nothing(client: Client, alice: User) -> None:
    authenticator(alice)
    inquiry = Inquiry.objects.create(name="Ana", email="ana@example.com", message="Parking?")
    password_step(client, "alice", "alice-password-1")
    before = AuditEvent.objects.count()
    response = client.post(f"/staff/inquiries/{inquiry.uuid}/status/", {"status": Inquiry.Status.ARCHIVED})
    assert response.status_code == 302
    assert response["Location"] == TWO_STEP
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.NEW
    assert AuditEvent.objects.count() == before


def test_the_code_from_the_app_completes_sign_in_and_goes_where_asked(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    half_session = client.session.session_key
    response = client.post(TWO_STEP, {"code": code_now(device), "next": "/staff/patients/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/patients/"
    assert client.session.session_key != half_session
    assert client.get("/staff/patients/").status_code == 200
    verified = AuditEvent.objects.get(action=AuditEvent.Action.MFA_VERIFIED)
    assert (verified.actor, verified.object_ref, verified.outcome) == (drlee, str(drlee.pk), AuditEvent.Outcome.ALLOWED)


def test_after_the_second_step_next_is_a_path_on_this_site_only(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    response = client.post(TWO_STEP, {"code": code_now(device), "next": "https://evil.example/x"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_a_wrong_code_is_refused_where_it_was_typed_and_audited(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    right = code_now(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(TWO_STEP, {"code": wrong, "next": "/staff/patients/"})
    assert response.status_code == 200
    body = response.content.decode()
    assert WRONG in body
    assert 'value="/staff/patients/"' in body
    assert client.get("/staff/").status_code == 302
    assert actions(drlee)[-1] == AuditEvent.Action.MFA_FAILED
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.MFA_FAILED).get()
    assert failed.outcome == AuditEvent.Outcome.DENIED


def test_a_code_straight_after_a_wrong_one_waits_for_the_app_to_slow_guessing(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    client.post(TWO_STEP, {"code": "000000" if code_now(device) != "000000" else "111111"})
    response = client.post(TWO_STEP, {"code": code_now(device)})
    assert response.status_code == 200
    assert "Too many wrong codes. Wait 1 second and try again." in response.content.decode()
    assert client.get("/staff/").status_code == 302


def test_five_wrong_codes_end_the_half_signed_in_session(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    right = code_now(device)
    for n in range(mfa.WRONG_CODES_BEFORE_SIGN_OUT):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        StaticDevice.objects.filter(user=drlee).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        response = client.post(TWO_STEP, {"code": f"{(int(right) + 7 + n) % 1_000_000:06d}"})
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert SESSION_KEY not in client.session
    page = client.get(SIGN_IN).content.decode()
    assert "Too many wrong codes. Sign in again with your password." in page


def test_a_code_already_used_cannot_be_used_again(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    code = code_now(device)
    password_step(client, "drlee", "drlee-password-1")
    assert client.post(TWO_STEP, {"code": code})["Location"] == "/staff/"
    other = Client()
    password_step(other, "drlee", "drlee-password-1")
    response = other.post(TWO_STEP, {"code": code})
    assert response.status_code == 200
    assert WRONG in response.content.decode()


def test_a_recovery_code_works_once(client: Client, drlee: User) -> None:
    authenticator(drlee)
    codes = mfa.new_recovery_codes(drlee)
    assert len(codes) == mfa.RECOVERY_CODES == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}", code) for code in codes)
    password_step(client, "drlee", "drlee-password-1")
    response = client.post(TWO_STEP, {"code": codes[3].upper()})
    assert response.status_code == 302
    assert client.get("/staff/patients/").status_code == 200
    assert StaticToken.objects.filter(device__user=drlee).count() == 9
    other = Client()
    password_step(other, "drlee", "drlee-password-1")
    assert WRONG in other.post(TWO_STEP, {"code": codes[3]}).content.decode()


def test_recovery_codes_are_stored_only_as_keyed_digests(drlee: User, alice: User) -> None:
    """A copy of the database gives no code: each is kept as an HMAC under the server's secret key
    and the person's id, so the same code of two people is stored differently."""
    codes = mfa.new_recovery_codes(drlee)
    stored = list(StaticToken.objects.filter(device__user=drlee).values_list("token", flat=True))
    assert len(stored) == 10
    plain = {code.replace("-", "") for code in codes}
    assert [t for t in stored if t in plain or any(p in t for p in plain)] == []
    assert sorted(stored) == sorted(mfa.recovery_digest(drlee.pk, code) for code in codes)
    assert mfa.recovery_digest(drlee.pk, codes[0]) != mfa.recovery_digest(alice.pk, codes[0])
    assert mfa.recovery_digest(drlee.pk, codes[0].upper()) == mfa.recovery_digest(drlee.pk, codes[0].replace("-", " "))


def test_a_recovery_code_still_works_after_the_secret_key_is_rotated(
    client: Client, drlee: User, settings: Any
) -> None:
    authenticator(drlee)
    codes = mfa.new_recovery_codes(drlee)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" + "x" * 40, [old_key]
    password_step(client, "drlee", "drlee-password-1")
    assert client.post(TWO_STEP, {"code": codes[0]}).status_code == 302
    # Without the old key among the fallbacks, a code made under it is not recognised.
    settings.SECRET_KEY_FALLBACKS = []
    other = Client()
    password_step(other, "drlee", "drlee-password-1")
    assert WRONG in other.post(TWO_STEP, {"code": codes[1]}).content.decode()


def test_codes_stored_in_clear_before_are_made_digests_by_the_migration(drlee: User) -> None:
    from importlib import import_module

    from django.apps import apps

    device = StaticDevice.objects.create(user=drlee, name=mfa.RECOVERY_NAME, confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    StaticToken.objects.create(device=device, token=mfa.recovery_digest(drlee.pk, "efgh6777"))
    migration = import_module("accounts.migrations.0008_recovery_code_digests")
    migration.digest_clear_codes(apps, None)
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(
        [mfa.recovery_digest(drlee.pk, "abcd2345"), mfa.recovery_digest(drlee.pk, "efgh6777")]
    )


def test_new_recovery_codes_replace_the_old_ones(client: Client, drlee: User) -> None:
    old = mfa.new_recovery_codes(drlee)
    sign_in(client, drlee)
    response = client.post("/accounts/two-step/recovery-codes/")
    assert response.status_code == 200
    shown = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", response.content.decode())
    assert len(shown) == 10
    stored = set(StaticToken.objects.filter(device__user=drlee).values_list("token", flat=True))
    assert stored == {mfa.recovery_digest(drlee.pk, code) for code in shown}
    assert not stored & {mfa.recovery_digest(drlee.pk, code) for code in old}
    assert actions(drlee)[-1] == AuditEvent.Action.MFA_CODES


def test_someone_without_an_authenticator_sets_one_up_before_anything_else(client: Client, alice: User) -> None:
    response = password_step(client, "alice", "alice-password-1", next_path="/staff/calendar/")
    assert response["Location"] == TWO_STEP + "?next=/staff/calendar/"
    assert client.get(TWO_STEP)["Location"] == SET_UP
    assert client.get("/staff/")["Location"] == SET_UP + "?next=/staff/"
    page = client.get(SET_UP)
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body
    device = TOTPDevice.objects.get(user=alice)
    assert device.confirmed is False
    secret = mfa.secret_for_typing(device)
    assert secret in body
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)
    # Reloading the page keeps the same key: the app the person has just set up stays right.
    assert mfa.secret_for_typing(TOTPDevice.objects.get(user=alice)) == secret
    client.get(SET_UP)
    assert TOTPDevice.objects.filter(user=alice).count() == 1

    wrong = client.post(SET_UP, {"code": "12345"})
    assert wrong.status_code == 200
    assert "Enter the 6 digits your authenticator app shows." in wrong.content.decode()
    assert TOTPDevice.objects.get(user=alice).confirmed is False

    done = client.post(SET_UP, {"code": code_now(device), "next": "/staff/calendar/"})
    assert done.status_code == 200
    shown = re.findall(r"<li><code>([a-z2-7]{4}-[a-z2-7]{4})</code></li>", done.content.decode())
    assert len(shown) == 10
    assert 'href="/staff/calendar/"' in done.content.decode()
    assert TOTPDevice.objects.get(user=alice).confirmed is True
    assert client.get("/staff/calendar/").status_code == 200
    # From a full session, the same page moves the authenticator to a new phone.
    assert "This sets up a new phone." in client.get(SET_UP).content.decode()
    assert AuditEvent.Action.MFA_ENROLLED in actions(alice)


def test_a_set_up_code_straight_after_a_wrong_one_waits_and_the_page_says_how_long(client: Client, alice: User) -> None:
    password_step(client, "alice", "alice-password-1")
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=alice)
    wrong = client.post(SET_UP, {"code": "000000" if code_now(device) != "000000" else "111111"})
    assert "That code is not right. Check the app shows RegenClinic and try the new code." in wrong.content.decode()
    # Four wrong codes so far (set here, so that the wait of 2**3 = 8 s outlasts a slow machine): the next
    # code, even the right one, waits; the page says how long, and nothing is set up.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=4)
    waited = client.post(SET_UP, {"code": code_now(device)})
    assert waited.status_code == 200
    assert re.search(r"Too many wrong codes\. Wait [78] seconds and try again\.", waited.content.decode())
    assert TOTPDevice.objects.get(user=alice).confirmed is False
    assert client.get("/staff/")["Location"] == SET_UP + "?next=/staff/"


def test_an_authenticator_is_set_up_only_after_the_password(client: Client, alice: User) -> None:
    assert client.get(SET_UP)["Location"] == SIGN_IN + "?next=" + SET_UP
    assert client.get(TWO_STEP)["Location"] == SIGN_IN + "?next=" + TWO_STEP
    assert TOTPDevice.objects.count() == 0


def test_a_new_password_does_not_skip_the_second_step(client: Client, drlee: User) -> None:
    device = authenticator(drlee)
    drlee.set_password("a-brand-new-passphrase")
    drlee.save()
    response = password_step(client, "drlee", "a-brand-new-passphrase")
    assert response["Location"] == TWO_STEP
    assert client.get("/staff/").status_code == 302
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()


def test_the_admin_signs_in_through_the_same_two_steps(client: Client) -> None:
    root = User.objects.create_superuser("root", password="root-password-1")
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN + "?next=/admin/accounts/user/"
    device = authenticator(root)
    password_step(client, "root", "root-password-1")
    assert client.get("/admin/")["Location"] == TWO_STEP + "?next=/admin/"
    client.post(TWO_STEP, {"code": code_now(device)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_shows_no_ones_authenticator_key(client: Client) -> None:
    root = User.objects.create_superuser("root", password="root-password-1")
    device = authenticator(root)
    sign_in(client, root)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_someone_half_signed_in_can_sign_out(client: Client, drlee: User) -> None:
    authenticator(drlee)
    password_step(client, "drlee", "drlee-password-1")
    response = client.post("/accounts/sign-out/")
    assert response.status_code == 302
    assert SESSION_KEY not in client.session


def test_mfa_reset_removes_the_authenticator_and_codes_and_is_audited(client: Client, drlee: User) -> None:
    authenticator(drlee)
    mfa.new_recovery_codes(drlee)
    out = io.StringIO()
    call_command("mfa_reset", "drlee", stdout=out)
    assert out.getvalue() == (
        "drlee's authenticator, passkeys and recovery codes are removed: they set up a new authenticator at sign-in.\n"
    )
    assert not TOTPDevice.objects.filter(user=drlee).exists()
    assert not StaticDevice.objects.filter(user=drlee).exists()
    row = AuditEvent.objects.filter(action=AuditEvent.Action.MFA_RESET).get()
    assert (row.object_ref, row.role) == (str(drlee.pk), "command line")
    password_step(client, "drlee", "drlee-password-1")
    assert client.get("/staff/")["Location"] == SET_UP + "?next=/staff/"
    with pytest.raises(CommandError, match=r"^No staff account is named nobody\.$"):
        call_command("mfa_reset", "nobody")


def test_demo_code_prints_a_code_for_a_demo_account_only(client: Client, drlee: User) -> None:
    call_command("load_demo_practice", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_code", "frontdesk", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    password_step(client, "frontdesk", "demo-practice-2026")
    assert client.post(TWO_STEP, {"code": code})["Location"] == "/staff/"
    authenticator(drlee)
    with pytest.raises(CommandError, match="drlee is not a demo account"):
        call_command("demo_code", "drlee")


def test_the_test_helper_code_is_the_apps_code(drlee: User) -> None:
    device = authenticator(drlee)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    assert code_now(device) == f"{totp.token():06d}"


def test_the_second_step_speaks_spanish_at_es(client: Client, drlee: User) -> None:
    authenticator(drlee)
    client.post("/es" + SIGN_IN, {"username": "drlee", "password": "drlee-password-1"})
    page = client.get("/es" + TWO_STEP).content.decode()
    assert "<h1>Segundo paso del inicio de sesión</h1>" in page
    wrong = client.post("/es" + TWO_STEP, {"code": ""}).content.decode()
    assert "Escriba el código." in wrong


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text(max_size=300) | st.from_regex(r"\A[0-9 ]{0,12}\Z") | st.from_regex(r"\A[a-z2-7-]{0,12}\Z"))
def test_any_code_typed_is_refused_plainly_and_never_signs_in(drlee: User, code: str) -> None:
    device = authenticator(drlee)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    StaticDevice.objects.filter(user=drlee).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    right = {code_now(device), *mfa.new_recovery_codes(drlee)}
    client = Client()
    password_step(client, "drlee", "drlee-password-1")
    response = client.post(TWO_STEP, {"code": code})
    typed = "".join(code.split()).lower()
    if any(typed in (r, r.replace("-", "")) for r in right):
        return
    assert response.status_code == 200
    assert client.get("/staff/patients/").status_code == 302

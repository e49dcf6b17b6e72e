"""Sign-in lockout (django-axes): 5 failures for one username, or 20 from one address, lock sign-in for 15 minutes.

Personas: alice (front desk) and bob (physician), signing in on the sign-in page, from
addresses given as REMOTE_ADDR.
"""

import io
import re
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/sign-in/"
WRONG = "Please enter a correct username and password. Note that both fields may be case-sensitive."
LOCKED = (
    "Too many failed sign-ins. Sign-in is locked for 15 minutes for this account or from this address. "
    "Try again later, or ask an administrator to unlock it."
)
LOCKED_ES = (
    "Demasiados intentos fallidos. El acceso está bloqueado durante 15 minutos para esta cuenta o desde "
    "esta dirección. Vuelva a intentarlo más tarde o pida a un administrador que lo desbloquee."
)


def attempt(username: str, password: str, *, ip: str = "10.0.0.1", path: str = SIGN_IN) -> Any:
    return Client(REMOTE_ADDR=ip).post(path, {"username": username, "password": password})


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def fail(username: str, times: int, *, ip: str = "10.0.0.1") -> list[int]:
    return [attempt(username, "not-the-password", ip=ip).status_code for _ in range(times)]


def test_four_failures_say_the_password_is_wrong_the_fifth_says_locked(alice: User) -> None:
    for _ in range(4):
        response = attempt("alice", "not-the-password")
        assert (response.status_code, WRONG in text(response)) == (200, True)
    locked = attempt("alice", "not-the-password")
    assert locked.status_code == 429
    assert LOCKED in text(locked)
    assert 'name="username"' in locked.content.decode()
    # The right password no longer signs in.
    right = attempt("alice", "alice-password-1")
    assert (right.status_code, LOCKED in text(right)) == (429, True)


def test_the_message_is_in_spanish_on_the_spanish_sign_in_page(alice: User) -> None:
    fail("alice", 5)
    response = attempt("alice", "alice-password-1", path="/es/accounts/sign-in/")
    assert (response.status_code, LOCKED_ES in text(response)) == (429, True)


def test_an_account_is_locked_whatever_the_address_and_others_still_sign_in(alice: User, bob: User) -> None:
    for n in range(5):
        fail("alice", 1, ip=f"10.0.1.{n}")
    assert attempt("alice", "alice-password-1", ip="10.0.2.9").status_code == 429
    assert attempt("bob", "bob-password-1", ip="10.0.2.9").status_code == 302


def test_an_address_is_locked_after_its_own_limit_whatever_the_username(alice: User, bob: User) -> None:
    limit = settings.SIGN_IN_ADDRESS_FAILURE_LIMIT
    assert limit == 20
    # One wrong password for each of many accounts (password spraying), each under its own limit.
    assert [fail(f"guess{n}", 1, ip="10.0.3.3")[0] for n in range(limit - 1)] == [200] * (limit - 1)
    assert attempt("bob", "bob-password-1", ip="10.0.3.4").status_code == 302
    assert fail("guess-last", 1, ip="10.0.3.3") == [429]  # the address's 20th failure
    assert attempt("bob", "bob-password-1", ip="10.0.3.3").status_code == 429
    assert attempt("bob", "bob-password-1", ip="10.0.3.4").status_code == 302
    row = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT).order_by("seq").first()
    assert row is not None and (row.object_ref, row.ip_address) == ("", "10.0.3.3")


def test_mistyped_passwords_across_an_office_do_not_lock_its_other_staff_out(alice: User, bob: User) -> None:
    # An office's staff sign in from one address: a few mistakes among them lock no one else out.
    for name in ("carol", "dave", "erin", "frank", "grace", "alice"):
        fail(name, 1, ip="10.0.3.3")
    assert attempt("bob", "bob-password-1", ip="10.0.3.3").status_code == 302
    assert attempt("alice", "alice-password-1", ip="10.0.3.3").status_code == 302


def test_axes_reset_ip_unlocks_an_address(alice: User) -> None:
    for n in range(settings.SIGN_IN_ADDRESS_FAILURE_LIMIT):
        fail(f"guess{n}", 1, ip="10.0.4.4")
    assert attempt("alice", "alice-password-1", ip="10.0.4.4").status_code == 429
    call_command("axes_reset_ip", "10.0.4.4", stdout=io.StringIO())
    assert attempt("alice", "alice-password-1", ip="10.0.4.4").status_code == 302


def test_a_success_before_the_limit_starts_the_count_again(alice: User) -> None:
    fail("alice", 4)
    assert attempt("alice", "alice-password-1").status_code == 302
    assert fail("alice", 4) == [200, 200, 200, 200]


def test_each_lockout_leaves_an_audit_row_naming_the_account_and_address(alice: User) -> None:
    fail("alice", 5)
    attempt("alice", "alice-password-1")
    rows = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT).order_by("seq")
    assert list(rows.values_list("actor", "object_type", "object_ref", "ip_address", "outcome")) == [
        (None, "user", str(alice.pk), "10.0.0.1", "allowed"),
        (None, "user", str(alice.pk), "10.0.0.1", "allowed"),
    ]
    # And every refused attempt is a failed sign-in, as before.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.SIGN_IN_FAILED).count() == 6


def test_axes_reset_username_unlocks_the_account(alice: User) -> None:
    fail("alice", 5)
    out = io.StringIO()
    call_command("axes_reset_username", "alice", stdout=out)
    assert attempt("alice", "alice-password-1", ip="10.0.9.9").status_code == 302


def test_axes_reset_unlocks_everyone(alice: User) -> None:
    fail("alice", 5)
    call_command("axes_reset", stdout=io.StringIO())
    assert AccessAttempt.objects.count() == 0
    assert attempt("alice", "alice-password-1").status_code == 302


def test_the_administrator_sees_and_clears_lockouts_in_the_admin(alice: User) -> None:
    fail("alice", 5)
    admin = User.objects.create_superuser("root", password="root-password-1", role=Role.ADMIN)
    client = Client()
    sign_in(client, admin)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "alice" in text(listing)
    attempt_row = AccessAttempt.objects.get(username="alice")
    deleted = client.post(f"/admin/axes/accessattempt/{attempt_row.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert attempt("alice", "alice-password-1").status_code == 302

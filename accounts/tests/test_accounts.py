"""Sign-in, its audit rows, and the production settings check."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import AuditEvent, Role
from accounts.testing import fresh_code, sign_in

pytestmark = pytest.mark.django_db


def test_signing_in_leaves_an_audit_row_and_opens_the_inbox(client: Client, alice: Any, practice: Any) -> None:
    response = client.post("/accounts/sign-in/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-step/"
    assert list(AuditEvent.objects.values_list("actor", "action")) == [(alice.pk, "sign_in")]
    second = client.post("/accounts/two-step/", {"code": fresh_code(alice)})
    assert second["Location"] == "/staff/"
    assert client.get("/staff/inquiries/").status_code == 200
    assert list(AuditEvent.objects.order_by("seq").values_list("actor", "action")) == [
        (alice.pk, "sign_in"),
        (alice.pk, "mfa_verified"),
        (alice.pk, "view"),
    ]


def test_a_wrong_password_is_refused_and_audited_without_the_password(
    client: Client, alice: Any, practice: Any
) -> None:
    response = client.post("/accounts/sign-in/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_ref) == (None, "sign_in_failed", "")


def test_audit_events_cannot_be_changed_in_the_admin(client: Client, practice: Any) -> None:
    from accounts.models import User

    admin = User.objects.create_superuser("root", password="root-password-1")
    sign_in(client, admin)
    event = AuditEvent.objects.create(action="view", object_type="inquiry", object_ref="x")
    assert client.get(f"/admin/accounts/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-check",
        "HTTPS": "1",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "clinic.example",
        "VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


STAFF_BAR = {
    "Calendar": "/staff/calendar/",
    "Inquiries": "/staff/inquiries/",
    "Patients": "/staff/patients/",
    "Consent forms": "/staff/patients/consent-documents/",
    "Adverse events": "/staff/safety/",
}
EXPECTED_BAR = {
    "front_desk": ["Calendar", "Inquiries", "Patients"],
    "physician": ["Calendar", "Patients", "Consent forms", "Adverse events"],
    "pa": ["Calendar", "Patients", "Adverse events"],
    "technician": ["Patients"],
    "manager": ["Adverse events"],
    "researcher": ["Adverse events"],
}


@pytest.mark.parametrize("role", [choice for choice, _label in Role.choices])
def test_the_staff_bar_is_in_spanish_on_the_spanish_site(role: str, practice: Any) -> None:
    """Every link and button the bar offers a role has Spanish words at /es/, not the English ones."""
    import re

    from accounts.models import User

    client = Client()
    user = User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role, is_staff=True)
    sign_in(client, user)

    def labels(path: str) -> list[str]:
        bar = re.search(r'<nav class="staff-bar".*?</nav>', client.get(path).content.decode(), re.S)
        assert bar is not None
        return re.findall(r"<(?:a|button)\b[^>]*>([^<]+)</(?:a|button)>", bar.group(0))

    english, spanish = labels("/"), labels("/es/")
    assert len(english) == len(spanish) >= 2  # at least "Your sessions" and "Sign out"
    assert [(en, es) for en, es in zip(english, spanish, strict=True) if en == es] == []


@pytest.mark.parametrize("role", sorted(EXPECTED_BAR))
def test_the_staff_bar_offers_each_role_what_the_policy_lets_it_open(role: str, practice: Any) -> None:
    import re

    from accounts.models import User

    client = Client()
    sign_in(client, User.objects.create_user(f"u-{role}", password="a-password-for-tests", role=role, is_staff=True))
    bar = re.search(r'<nav class="staff-bar".*?</nav>', client.get("/").content.decode(), re.S)
    assert bar is not None
    shown = [label for label, href in STAFF_BAR.items() if f'href="{href}">{label}</a>' in bar.group(0)]
    assert shown == EXPECTED_BAR[role]
    for label in shown:  # each link it offers opens for that role
        assert client.get(STAFF_BAR[label]).status_code == 200, label

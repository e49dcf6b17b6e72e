"""Every route, every persona: who gets in, who is turned away, and nothing unexpected succeeds.

The routes come from the URL resolver, so a route added without a row here fails the
test that lists them. Personas: anonymous, a patient's link (the manage token of one
appointment), and a signed-in member of staff of each role (all `is_staff`, as the
practice's staff are; none a superuser). Each route is asked once per persona, with
the method it answers (GET for pages, POST for actions), on real rows.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import AuditEvent, Role, User
from outbox.models import Email
from patients.models import Patient
from scheduling import tokens
from scheduling.models import Appointment, CallbackRequest, Reminder
from scheduling.tests.conftest import NOW, Schedule, local
from website.models import Inquiry

pytestmark = pytest.mark.django_db

ROLES = [
    Role.FRONT_DESK,
    Role.PHYSICIAN,
    Role.PHYSICIAN_ASSISTANT,
    Role.TECHNICIAN,
    Role.MANAGER,
    Role.RESEARCHER,
    Role.ADMIN,
]
ANONYMOUS = "anonymous"
PERSONAS = [ANONYMOUS, *ROLES]
# Managers and researchers see de-identified data only: no calendar, inbox or chart with names.
CALENDAR = {Role.FRONT_DESK, Role.PHYSICIAN, Role.PHYSICIAN_ASSISTANT, Role.ADMIN}
OFFICE = {Role.FRONT_DESK, Role.ADMIN}
STAFF = set(ROLES)


def walk(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            yield from walk(pattern.url_patterns, f"{namespace}:{inner}" if namespace and inner else inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def all_route_names() -> set[str]:
    return set(walk(get_resolver().url_patterns))


# --- The public and staff pages: one row each -----------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    # Who succeeds; everyone else gets `refused` (anonymous staff pages send to sign-in: 302).
    allowed: frozenset[str]
    ok: int = 200
    refused: int = 404
    anonymous: int | None = None  # what an anonymous visitor gets, when not `ok` or `refused`


EVERYONE = frozenset(PERSONAS)
ROUTES: dict[str, Route] = {
    "healthz": Route("GET", EVERYONE),
    "website:home": Route("GET", EVERYONE),
    "website:stem_cells": Route("GET", EVERYONE),
    "website:prp": Route("GET", EVERYONE),
    "website:office": Route("GET", EVERYONE),
    "website:contact": Route("GET", EVERYONE),
    "website:contact_thanks": Route("GET", EVERYONE),
    "accounts:login": Route("GET", EVERYONE),
    "accounts:logout": Route("POST", EVERYONE, ok=302),
    "scheduling:start": Route("GET", EVERYONE),
    "scheduling:office": Route("GET", EVERYONE),
    "scheduling:details": Route("GET", EVERYONE, ok=400),  # no chosen time: "choose a time" (never a 500)
    "scheduling:callback": Route("GET", EVERYONE),
    "scheduling:callback_thanks": Route("GET", EVERYONE),
    # The patient's link: anyone holding it (it is the key); a tampered one is tested elsewhere.
    "scheduling:manage": Route("GET", EVERYONE),
    "scheduling:booked": Route("GET", EVERYONE),
    "scheduling:reschedule": Route("GET", EVERYONE),
    "scheduling:calendar": Route("GET", EVERYONE),
    "scheduling:cancel": Route("POST", EVERYONE, ok=302),
    # Staff pages: lists are a 403 to other roles, records a 404; anonymous visitors are sent to sign in.
    # Where sign-in lands: calendar and inbox roles are sent on to their page, the others see a plain page.
    "website:staff_home": Route("GET", frozenset(STAFF - CALENDAR - OFFICE), refused=302, anonymous=302),
    "website:inbox": Route("GET", frozenset(OFFICE), anonymous=302),
    "website:inquiry_detail": Route("GET", frozenset(OFFICE), anonymous=302),
    "website:inquiry_status": Route("POST", frozenset(OFFICE), ok=302, anonymous=302),
    "scheduling:staff_calendar": Route("GET", frozenset(CALENDAR), refused=403, anonymous=302),
    "scheduling:staff_new": Route("GET", frozenset(CALENDAR), refused=403, anonymous=302),
    "scheduling:staff_arrivals": Route("GET", frozenset(CALENDAR), refused=403, anonymous=302),
    "scheduling:staff_callbacks": Route("GET", frozenset(CALENDAR), refused=403, anonymous=302),
    "scheduling:staff_appointment": Route("GET", frozenset(CALENDAR), anonymous=302),
    "scheduling:staff_move": Route("POST", frozenset(CALENDAR), anonymous=302),
    "scheduling:staff_cancel": Route("POST", frozenset(CALENDAR), ok=302, anonymous=302),
    "scheduling:staff_status": Route("POST", frozenset(CALENDAR), ok=302, anonymous=302),
    "scheduling:staff_callback_done": Route("POST", frozenset(CALENDAR), ok=302, anonymous=302),
}


@dataclass
class World:
    schedule: Schedule
    appointment: Appointment
    token: str
    inquiry: Inquiry
    callback: CallbackRequest
    email: Email
    reminder: Reminder


@pytest.fixture
def world(schedule: Schedule, alice: User) -> World:
    from scheduling import services

    appointment = services.appointment_book(
        office=schedule.la,
        provider=schedule.doctor,
        appointment_type=schedule.consult,
        starts_at=local(date(2031, 3, 5), "10:00"),
        patient=schedule.rosa,
        source=Appointment.Source.STAFF,
        by=alice,
        now=NOW,
    )
    email = Email.objects.get()
    reminder = Reminder.objects.create(
        appointment=appointment,
        offset_minutes=120,
        starts_at=appointment.starts_at,
        due_at=appointment.starts_at - timedelta(hours=2),
        status=Reminder.Status.SKIPPED,
        skip_reason=Reminder.SkipReason.TOO_LATE,
        claimed_at=NOW,
    )
    inquiry = Inquiry.objects.create(name="Ann Example", email="ann@example.com", message="Parking?", client_key="k")
    callback = CallbackRequest.objects.create(office=schedule.la, name="Olga Example", phone="310-555-0142")
    return World(
        schedule=schedule,
        appointment=appointment,
        token=tokens.manage_token(appointment),
        inquiry=inquiry,
        callback=callback,
        email=email,
        reminder=reminder,
    )


def path_of(name: str, world: World) -> str:
    from django.urls import reverse

    kwargs: dict[str, Any] = {}
    if name in {"scheduling:office", "scheduling:details", "scheduling:callback"}:
        kwargs = {"office_slug": "los-angeles"}
    elif name == "website:office":
        kwargs = {"slug": "los-angeles"}
    elif name.startswith("scheduling:") and name.split(":")[1] in {
        "manage",
        "booked",
        "reschedule",
        "calendar",
        "cancel",
    }:
        kwargs = {"token": world.token}
    elif name.startswith("website:inquiry"):
        kwargs = {"uuid": world.inquiry.uuid}
    elif name == "scheduling:staff_callback_done":
        kwargs = {"uuid": world.callback.uuid}
    elif name.startswith("scheduling:staff_") and name not in {
        "scheduling:staff_calendar",
        "scheduling:staff_new",
        "scheduling:staff_arrivals",
        "scheduling:staff_callbacks",
    }:
        kwargs = {"uuid": world.appointment.uuid}
    return reverse(name, kwargs=kwargs)


POST_DATA = {
    "website:inquiry_status": {"status": "answered"},
    "scheduling:staff_status": {"status": "checked_in"},
    "scheduling:staff_move": {"date": "2031-03-05", "time": "11:00"},
}


def client_for(persona: str) -> Client:
    client = Client()
    if persona != ANONYMOUS:
        user = User.objects.create_user(f"user-{persona}", password="a-password-for-tests", role=persona, is_staff=True)
        client.force_login(user)
    return client


def test_every_route_is_in_the_matrix() -> None:
    names = all_route_names()
    admin = {name for name in names if name.startswith("admin:")}
    assert sorted(names - admin - set(ROUTES)) == []
    assert sorted(set(ROUTES) - names) == []
    assert sorted(name for name in admin if admin_rule(name) is None) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_exactly_what_the_matrix_says(world: World, persona: str) -> None:
    client = client_for(persona)
    found = {}
    expected = {}
    # Signing out last, so every other route is asked as this persona.
    for name, route in sorted(ROUTES.items(), key=lambda item: (item[0] == "accounts:logout", item[0])):
        path = path_of(name, world)
        data = POST_DATA.get(name, {})
        response = client.post(path, data) if route.method == "POST" else client.get(path)
        found[name] = response.status_code
        if persona in route.allowed:
            expected[name] = route.ok
        elif persona == ANONYMOUS and route.anonymous is not None:
            expected[name] = route.anonymous
        else:
            expected[name] = route.refused
        if name in {"scheduling:staff_cancel", "scheduling:cancel"}:
            world.appointment.refresh_from_db()
            if world.appointment.status == "cancelled":  # one cancel per persona is enough; book it again
                Appointment.objects.filter(pk=world.appointment.pk).update(status="booked", cancelled_at=None)
    assert found == expected


# --- The admin: the same policy for the records of patients, superusers for the practice's settings --------

POLICY_ADMINS = {
    "patients_patient": ("PATIENT", True),
    "scheduling_appointment": ("APPOINTMENT", False),
    "scheduling_callbackrequest": ("CALLBACK", False),
    "scheduling_reminder": ("REMINDER", False),
    "outbox_email": ("EMAIL", False),
    "website_inquiry": ("INQUIRY", False),
}
VIEWS = ("changelist", "change", "history", "simple_history", "add", "delete")
SITE_VIEWS = {"index", "login", "logout", "password_change", "password_change_done", "jsi18n", "app_list",
              "autocomplete", "view_on_site", "auth_user_password_change"}  # fmt: skip


def admin_rule(name: str) -> tuple[str, str] | None:
    """(model key, view) of an admin route name, or ("site", view); None if unknown."""
    short = name.removeprefix("admin:")
    if short in SITE_VIEWS:
        return ("site", short)
    for view in sorted(VIEWS, key=len, reverse=True):
        if short.endswith("_" + view):
            return (short.removesuffix("_" + view), view)
    return None


def admin_expected(model: str, view: str, persona: str) -> int:
    from accounts.access import POLICY, Act, Record

    if persona == ANONYMOUS:
        return 302
    if model not in POLICY_ADMINS:
        return 403  # the practice's settings, users, tasks: superusers only
    record, editable = POLICY_ADMINS[model]
    acts = POLICY[persona].get(Record[record], frozenset())
    if Act.VIEW not in acts:
        # A record is a 404 (never confirming it exists); the list and the add form a 403.
        return 404 if view in {"change", "history", "delete"} else 403
    if view == "delete":
        return 403
    if view == "add":
        return 200 if editable and Act.CREATE in acts else 403
    return 200


def admin_objects(world: World) -> dict[str, Any]:
    return {
        "patients_patient": world.schedule.rosa,
        "scheduling_appointment": world.appointment,
        "scheduling_callbackrequest": world.callback,
        "scheduling_reminder": world.reminder,
        "outbox_email": world.email,
        "website_inquiry": world.inquiry,
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_admin_applies_the_policy_to_patients_records(world: World, persona: str) -> None:
    client = client_for(persona)
    objects = admin_objects(world)
    found, expected = {}, {}
    for model, instance in objects.items():
        app, name = model.split("_", 1)
        base = f"/admin/{app}/{name}/"
        paths = {
            "changelist": base,
            "add": base + "add/",
            "change": f"{base}{instance.pk}/change/",
            "history": f"{base}{instance.pk}/history/",
            "delete": f"{base}{instance.pk}/delete/",
        }
        for view, path in paths.items():
            found[(model, view)] = client.get(path).status_code
            expected[(model, view)] = admin_expected(model, view, persona)
    for path in ("/admin/website/practice/", "/admin/scheduling/bookingrules/", "/admin/accounts/user/"):
        found[(path, "changelist")] = client.get(path).status_code
        expected[(path, "changelist")] = 302 if persona == ANONYMOUS else 403
    assert found == expected


def test_reading_a_patient_in_the_admin_leaves_one_audit_row_naming_them(world: World) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    AuditEvent.objects.all().delete()
    assert client.get(f"/admin/patients/patient/{rosa.pk}/change/").status_code == 200
    assert client.get(f"/admin/patients/patient/{rosa.pk}/history/").status_code == 200
    assert client.get("/admin/patients/patient/").status_code == 200
    rows = list(AuditEvent.objects.order_by("id").values_list("action", "object_type", "object_ref", "patient", "role"))
    assert rows == [
        ("view", "patient", str(rosa.uuid), rosa.pk, "front_desk"),
        ("view", "patient", str(rosa.uuid), rosa.pk, "front_desk"),
        ("view", "patient", "admin:list", None, "front_desk"),
    ]


def test_a_change_in_the_admin_and_its_audit_row_commit_together(world: World) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    AuditEvent.objects.all().delete()
    form = {
        "first_name": "Rosa",
        "last_name": "Example",
        "date_of_birth": "1960-01-01",
        "email": rosa.email,
        "phone": "(310) 555-0100",
        "preferred_language": "en",
        "sex": "unknown",
    }
    assert client.post(f"/admin/patients/patient/{rosa.pk}/change/", form).status_code == 302
    rosa.refresh_from_db()
    assert (rosa.first_name, rosa.history.first().history_user.username) == ("Rosa", "user-front_desk")
    assert list(AuditEvent.objects.values_list("action", "object_type", "object_ref", "patient")) == [
        ("change", "patient", str(rosa.uuid), rosa.pk)
    ]
    # A refused edit (a bad date) changes nothing and records nothing.
    AuditEvent.objects.all().delete()
    bad = client.post(f"/admin/patients/patient/{rosa.pk}/change/", {**form, "date_of_birth": "soon"})
    assert bad.status_code == 200
    assert AuditEvent.objects.filter(action="change").count() == 0


def test_who_opened_a_patients_records_is_one_query(world: World, django_assert_num_queries: Any) -> None:
    client = client_for(Role.FRONT_DESK)
    rosa: Patient = world.schedule.rosa
    client.get(f"/staff/calendar/appointments/{world.appointment.uuid}/")
    client.get(f"/admin/patients/patient/{rosa.pk}/change/")
    with django_assert_num_queries(1):
        opened = list(
            AuditEvent.objects.filter(patient=rosa, action="view").values_list("actor__username", "object_type")
        )
    assert opened == [("user-front_desk", "patient"), ("user-front_desk", "appointment")]

"""The audit log: one chained row per event, refused changes, `verify_audit`, concurrent writers, no health information.

Run on SQLite and on PostgreSQL (DATABASE_URL): the chain, the guard and the races hold on both.
"""

import hashlib
import importlib
import json
import re
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, date, timedelta
from functools import partial
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.audit import (
    ALTERED,
    GENESIS,
    OUT_OF_ORDER,
    OUTSIDE,
    ChainCheck,
    audit_record,
    audit_verify,
    chain_hash,
    sqlite_guard_lifted,
)
from accounts.links import link_issue, link_open
from accounts.models import AuditEvent, PatientLink, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear, audit_raw
from conftest import run_threads, together
from patients.models import Patient
from scheduling.tests import races
from scheduling.tests.conftest import Schedule

pytestmark = pytest.mark.django_db


def write(n: int, **extra: Any) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action="view", object_type="appointment", object_ref=f"ref-{i}", **extra)
        for i in range(n)
    ]


def verify() -> tuple[int, str, str]:
    """Run `manage.py verify_audit`: (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = int(exit.code or 0)
    return code, out.getvalue().strip(), err.getvalue().strip()


def chain() -> list[tuple[int | None, str, str]]:
    return list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "row_hash"))


@pytest.fixture
def rosa(db: Any) -> Patient:
    return Patient.objects.create(
        first_name="Rosa",
        last_name="Díaz",
        date_of_birth=date(1958, 3, 14),
        email="rosa@example.com",
        phone="(818) 555-0199",
    )


# --- Each row, chained to the one before ------------------------------------------------------------


def test_the_first_row_follows_64_zeros_and_each_next_row_the_hash_of_the_one_before() -> None:
    first, second, third = write(3)
    assert chain() == [
        (1, GENESIS, first.row_hash),
        (2, first.row_hash, second.row_hash),
        (3, second.row_hash, third.row_hash),
    ]
    assert len({first.row_hash, second.row_hash, third.row_hash}) == 3


def test_a_rows_hash_is_sha256_over_its_versioned_content_and_the_previous_hash(alice: User, rosa: Patient) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    event = audit_record(
        actor=alice, action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa, request=request
    )
    stored = AuditEvent.objects.get()
    content = [
        "audit-v1",
        1,
        stored.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        alice.pk,
        "front_desk",
        "view",
        "patient",
        str(rosa.uuid),
        str(rosa.uuid),
        "allowed",
        "203.0.113.9",
        str(stored.uuid),
        GENESIS,
    ]
    expected = hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()
    assert (stored.row_hash, event.row_hash, stored.at) == (expected, expected, event.at)


def test_the_row_holds_who_what_whose_when_where_and_the_outcome(alice: User, rosa: Patient) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="::FFFF:10.0.0.1")
    audit_record(
        actor=alice,
        action="change",
        object_type="appointment",
        object_ref="a" * 80,
        patient=rosa,
        outcome="denied",
        request=request,
    )
    row = AuditEvent.objects.values_list(
        "actor", "role", "action", "object_type", "object_ref", "patient", "outcome", "ip_address"
    ).get()
    # The reference cut to its column; the IP as the database spells it, which the hash reads as the same address.
    assert row == (alice.pk, "front_desk", "change", "appointment", "a" * 64, rosa.pk, "denied", "::ffff:10.0.0.1")
    assert audit_verify() == ChainCheck(rows=1)


def test_the_role_is_the_staff_members_or_admin_for_a_superuser_or_patient_for_their_own_link(rosa: Patient) -> None:
    root = User.objects.create_superuser("root", password="root-password-1", role=Role.FRONT_DESK)
    bob = User.objects.create_user("bobby", password="bob-password-1", role=Role.PHYSICIAN)
    other = Patient.objects.create(first_name="Luis", last_name="Vega", date_of_birth=date(1970, 1, 1))
    _, token = link_issue(purpose=PatientLink.Purpose.INTAKE, patient=rosa, target="intake-1")
    with_link = RequestFactory().get("/")
    with_link.session = SessionStore()
    link_open(with_link, token, purpose=PatientLink.Purpose.INTAKE)
    audit_clear()
    audit_record(actor=root, action="view", object_type="patient", patient=rosa)
    audit_record(actor=bob, action="view", object_type="patient", patient=rosa)
    audit_record(actor=None, action="change", object_type="intake", patient=rosa, request=with_link)
    audit_record(actor=None, action="view", object_type="intake", patient=other, request=with_link)
    audit_record(actor=None, action="create", object_type="patient", patient=rosa)
    audit_record(actor=None, action="view", object_type="intake", patient=rosa, request=with_link, role="")
    assert list(AuditEvent.objects.order_by("seq").values_list("role", flat=True)) == [
        "admin",
        "physician",
        "patient",
        "",
        "",
        "",
    ]


def test_a_row_of_a_rolled_back_change_is_gone_and_the_chain_has_no_gap() -> None:
    write(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(2)
        raise RuntimeError("the change failed")
    write(1)
    assert [seq for seq, _, _ in chain()] == [1, 2]
    assert audit_verify() == ChainCheck(rows=2)


# --- Append-only --------------------------------------------------------------------------------------


def test_the_database_refuses_to_change_an_audit_row() -> None:
    (event,) = write(1)
    event.object_ref = "something else"
    with pytest.raises(IntegrityError, match="append-only: UPDATE"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only: UPDATE"), transaction.atomic():
        AuditEvent.objects.update(outcome="denied")
    assert list(AuditEvent.objects.values_list("object_ref", "outcome")) == [("ref-0", "allowed")]


def test_the_database_refuses_to_delete_an_audit_row() -> None:
    write(2)
    with pytest.raises(IntegrityError, match="append-only: DELETE"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    with pytest.raises(IntegrityError, match="append-only: DELETE"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM accounts_auditevent")
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite triggers ask the connection")
def test_a_sqlite_client_without_the_applications_function_cannot_change_a_row_either() -> None:
    import sqlite3

    write(1)
    # The sqlite3 shell, or any program, opening the database file the tests use.
    outside = sqlite3.connect(connection.settings_dict["NAME"], timeout=1)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: regenclinic_audit_unlocked"):
            outside.execute("UPDATE accounts_auditevent SET role = 'x'")
    finally:
        outside.close()


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_whole_database_audit_log_included() -> None:
    write(3)
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEvent.objects.count() == 0
    # And the guard is back on after it.
    write(1)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.all().delete()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL lifts its guard with session_replication_role")
def test_the_sqlite_guard_is_lifted_only_inside_the_block_and_only_for_its_database() -> None:
    write(1)
    with sqlite_guard_lifted("other"), pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.update(role="x")
    with sqlite_guard_lifted(connection.alias):
        assert AuditEvent.objects.update(role="x") == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.update(role="y")


# --- verify_audit -------------------------------------------------------------------------------------


def test_verify_audit_says_ok_with_the_row_count_and_exits_0() -> None:
    write(3)
    assert verify() == (0, "verify_audit: OK, 3 rows", "")


def test_verify_audit_on_an_empty_log_is_ok_with_0_rows() -> None:
    assert verify() == (0, "verify_audit: OK, 0 rows", "")


def test_one_altered_row_is_found_at_that_row_and_verify_exits_1() -> None:
    write(5)
    assert audit_raw("UPDATE accounts_auditevent SET object_ref = %s WHERE seq = 3", ["someone-else"]) == 1
    assert audit_verify() == ChainCheck(rows=2, broken_at="seq 3", problem=ALTERED)
    assert verify() == (1, "", f"verify_audit: BROKEN at seq 3: {ALTERED} (2 whole before it)")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("role", "admin"),
        ("action", "change"),
        ("object_type", "patient"),
        ("outcome", "denied"),
        ("ip_address", "10.9.9.9"),
        ("uuid", "00000000-0000-4000-8000-000000000000"),
    ],
)
def test_altering_any_column_the_hash_covers_is_found(column: str, value: str) -> None:
    write(3)
    audit_raw(f"UPDATE accounts_auditevent SET {column} = %s WHERE seq = 2", [value])  # noqa: S608 (a fixed column)
    assert audit_verify() == ChainCheck(rows=1, broken_at="seq 2", problem=ALTERED)


def test_moving_a_row_in_time_or_to_another_patient_or_actor_is_found(alice: User, rosa: Patient) -> None:
    write(3, patient=rosa)
    audit_raw("UPDATE accounts_auditevent SET at = %s WHERE seq = 3", [AuditEvent.objects.get(seq=1).at])
    assert audit_verify() == ChainCheck(rows=2, broken_at="seq 3", problem=ALTERED)
    audit_clear()
    write(3, patient=rosa)
    audit_raw("UPDATE accounts_auditevent SET patient_id = NULL WHERE seq = 2")
    assert audit_verify() == ChainCheck(rows=1, broken_at="seq 2", problem=ALTERED)
    audit_clear()
    write(3)
    audit_raw("UPDATE accounts_auditevent SET actor_id = %s WHERE seq = 1", [alice.pk])
    assert audit_verify() == ChainCheck(rows=0, broken_at="seq 1", problem=ALTERED)


def test_a_row_rewritten_with_a_fresh_hash_is_found_at_the_row_after_it() -> None:
    events = write(4)
    second = AuditEvent.objects.get(seq=2)
    forged = chain_hash(
        seq=2,
        at=second.at,
        actor_id=None,
        role="",
        action="view",
        object_type="appointment",
        object_ref="forged",
        patient_uuid=None,
        outcome="allowed",
        ip_address=None,
        uuid=second.uuid,
        prev_hash=events[0].row_hash,
    )
    audit_raw("UPDATE accounts_auditevent SET object_ref = 'forged', row_hash = %s WHERE seq = 2", [forged])
    assert audit_verify() == ChainCheck(rows=2, broken_at="seq 3", problem=OUT_OF_ORDER)


def test_a_deleted_row_is_found_at_the_row_after_the_gap() -> None:
    write(5)
    assert audit_raw("DELETE FROM accounts_auditevent WHERE seq = 3") == 1
    assert audit_verify() == ChainCheck(
        rows=2, broken_at="seq 4", problem="a row is missing before it (expected seq 3)"
    )
    code, _, err = verify()
    assert (code, err) == (
        1,
        "verify_audit: BROKEN at seq 4: a row is missing before it (expected seq 3) (2 whole before it)",
    )


def test_deleting_the_first_rows_is_found_at_the_first_row_left() -> None:
    write(3)
    audit_raw("DELETE FROM accounts_auditevent WHERE seq < 3")
    assert audit_verify() == ChainCheck(
        rows=0, broken_at="seq 3", problem="a row is missing before it (expected seq 1)"
    )


def test_a_row_inserted_with_a_wrong_previous_hash_is_found_as_out_of_order() -> None:
    write(3)
    fake = AuditEvent(action="view", object_type="appointment", object_ref="slipped-in", seq=4, prev_hash="f" * 64)
    fake.at = AuditEvent.objects.get(seq=3).at + timedelta(seconds=1)
    # Its own hash is right for what it holds: only its link to the row before is wrong.
    fake.row_hash = chain_hash(
        seq=4,
        at=fake.at,
        actor_id=None,
        role="",
        action="view",
        object_type="appointment",
        object_ref="slipped-in",
        patient_uuid=None,
        outcome="allowed",
        ip_address=None,
        uuid=fake.uuid,
        prev_hash="f" * 64,
    )
    fake.save_base(raw=True, force_insert=True)
    write(1)  # the next honest row chains on to the slipped-in one
    assert audit_verify() == ChainCheck(rows=3, broken_at="seq 4", problem=OUT_OF_ORDER)


def test_a_row_added_around_the_writer_is_found_outside_the_chain() -> None:
    write(2)
    stray = AuditEvent.objects.create(action="view", object_type="appointment", object_ref="stray")
    assert audit_verify() == ChainCheck(rows=2, broken_at=f"id {stray.pk}", problem=OUTSIDE)


def test_verify_reads_the_log_in_chunks_with_two_queries_whatever_its_length() -> None:
    write(7)
    with CaptureQueriesContext(connection) as queries:
        assert audit_verify(chunk_size=2) == ChainCheck(rows=7)
    # One SELECT for the chain, fetched two rows at a time (a server-side cursor on PostgreSQL); one for rows outside.
    assert len(queries) == 2


@pytest.mark.django_db(transaction=True)
def test_verify_audit_exits_1_from_the_command_line_on_an_altered_row() -> None:
    write(2)
    with transaction.atomic():
        audit_raw("UPDATE accounts_auditevent SET role = 'admin' WHERE seq = 2")
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=settings.BASE_DIR,
        env=_env_for_test_database(),
        capture_output=True,
        text=True,
        check=False,
    )
    # Its last line (importing the project may log above it).
    assert (result.returncode, result.stdout, result.stderr.strip().splitlines()[-1]) == (
        1,
        "",
        f"verify_audit: BROKEN at seq 2: {ALTERED} (1 whole before it)",
    )


def _env_for_test_database() -> dict[str, str]:
    import os

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = database["NAME"]
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"
        )
    return env


def test_rows_written_before_the_chain_began_are_chained_in_order_by_the_migration(rosa: Patient) -> None:
    migration = importlib.import_module("accounts.migrations.0004_audit_append_only")
    write(2)
    old = [
        AuditEvent.objects.create(action="view", object_type="patient", object_ref=str(rosa.uuid), patient=rosa)
        for _ in range(3)
    ]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        with sqlite_guard_lifted(connection.alias):
            # The migration asks its schema editor for the connection only.
            migration.chain_existing_rows(global_apps, SimpleNamespace(connection=connection))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert list(AuditEvent.objects.filter(pk__in=[e.pk for e in old]).order_by("id").values_list("seq", flat=True)) == [
        3,
        4,
        5,
    ]
    assert audit_verify() == ChainCheck(rows=5)


# --- Concurrent writers ---------------------------------------------------------------------------


def race(writers: int, rows_each: int) -> Counter[str]:
    """`writers` threads, each on its own connection, adding `rows_each` rows at once; how each thread ended."""
    barrier = together(writers)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(rows_each):
                if i % 5 == 4:
                    # Some rows inside a longer transaction of the caller's, two rows at a time.
                    with transaction.atomic():
                        audit_record(actor=None, action="view", object_type="appointment", object_ref=f"{n}-{i}a")
                        audit_record(actor=None, action="change", object_type="appointment", object_ref=f"{n}-{i}b")
                else:
                    audit_record(actor=None, action="view", object_type="appointment", object_ref=f"{n}-{i}")
            result = "done"
        except Exception as error:  # any error fails the test, with its text
            result = f"error: {type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    run_threads([partial(writer, n) for n in range(writers)])
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("writers", [2, 4, 8])
def test_concurrent_writers_make_one_unforked_chain(writers: int) -> None:
    assert race(writers, 50) == Counter({"done": writers})
    # 50 calls each, of which 10 write two rows: 60 rows per writer.
    rows = chain()
    assert [seq for seq, _, _ in rows] == list(range(1, 60 * writers + 1))
    assert len({prev for _, prev, _ in rows}) == len(rows)  # no two rows follow the same one: no fork
    assert audit_verify() == ChainCheck(rows=60 * writers)


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_to_pages_that_audit_leave_one_clean_chain(
    live_server: Any, schedule: Schedule, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduling import services
    from scheduling.models import Appointment
    from scheduling.tests.conftest import NOW, local

    base = races.open_to_all(live_server, monkeypatch, backlog=64)
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
    client = Client()
    sign_in(client, alice)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    before = AuditEvent.objects.count()
    path = f"/staff/calendar/appointments/{appointment.uuid}/"
    results = races.race([lambda: races.request(base, "GET", path, cookie=cookie)[:2] for _ in range(40)])
    assert Counter(status for status, _ in results) == Counter({200: 40})
    assert AuditEvent.objects.count() == before + 40
    assert audit_verify() == ChainCheck(rows=before + 40)


# --- No health information in the log ------------------------------------------------------------


def test_no_audit_column_holds_the_patients_name_birth_date_email_or_phone(client: Client, practice: Any) -> None:
    from scheduling.tests.test_public_booking import DETAILS, offered, post_details

    call_command("load_demo_schedule", stdout=StringIO())
    # A visitor books online (the chart is created from what they typed)...
    slot = offered(client)[0].value
    assert post_details(client, slot).status_code == 302
    patient = Patient.objects.get(email=DETAILS["email"])
    # ...then the front desk opens the appointment, the chart (and in the admin), and the patient's access report.
    desk = User.objects.create_user("desk", password="desk-password-1", role=Role.FRONT_DESK, is_staff=True)
    staff = Client()
    sign_in(staff, desk)
    appointment = patient.appointments.get()
    assert staff.get(f"/staff/calendar/appointments/{appointment.uuid}/").status_code == 200
    assert staff.get(f"/staff/patients/{patient.uuid}/").status_code == 200
    assert staff.get(f"/admin/patients/patient/{patient.pk}/change/").status_code == 200
    assert staff.get(f"/staff/patients/{patient.uuid}/access/").status_code == 200
    assert staff.get(f"/staff/patients/{patient.uuid}/access/report.csv").status_code == 200
    # ...and the patient opens an intake link.
    _, token = link_issue(purpose=PatientLink.Purpose.INTAKE, patient=patient, target="intake-1")
    request = RequestFactory().get("/")
    request.session = SessionStore()
    link_open(request, token, purpose=PatientLink.Purpose.INTAKE)

    rows = list(AuditEvent.objects.values())
    assert len(rows) >= 7
    dob = patient.date_of_birth
    secrets = [
        patient.first_name,
        patient.last_name,
        patient.email,
        patient.email.split("@")[0],
        patient.phone,
        re.sub(r"\D", "", patient.phone),
        dob.isoformat(),
        f"{dob:%m/%d/%Y}",
        f"{dob:%Y%m%d}",
    ]
    found = [(row["seq"], column, secret) for row in rows for column, value in row.items() for secret in secrets
             if secret and secret.lower() in str(value).lower()]  # fmt: skip
    assert found == []
    assert {row["patient_id"] for row in rows if row["object_type"] != "user"} == {patient.pk}

"""The practice's FHIR bulk export from its page: started by an administrator, run by the worker, taken file by file.

Personas: ada (administrator) and rhea (researcher) from the canary's practice, a second
administrator (ben) and staff of every other role made here. The worker is the real one:
the start enqueues a django-tasks task in the database and `run_ready_tasks()` runs it,
as `manage.py run_worker` does. Files land under a VAR_DIR of the test's own.

Who may see an export: only the administrator who started it. Another administrator
asking for it gets the same 404 as for an export that does not exist, and one "denied"
row: the files carry every patient's identified record, and taking them is the asker's
act (HIPAA's minimum necessary), so each administrator starts their own.
"""

import json
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from accounts.models import AuditEvent, Role, User
from accounts.testing import sign_in
from accounts.tests.audit import audit_clear
from interop import bulk, fhir
from interop.models import BulkExport
from interop.tests.conftest import NOTE, Canary, scored, treatment
from outbox.worker import run_ready_tasks
from outcomes.models import Timepoint
from patients.models import Patient
from procedures.tests.conftest import DAY, at

pytestmark = pytest.mark.django_db

START = "/staff/exports/fhir/"


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def practice(canary: Canary) -> Canary:
    """The canary and two more treated patients, one with a 6-week score."""
    treatment(canary.clinic)
    record = treatment(canary.clinic)
    scored(record, Timepoint.WEEK_6, submitted_at=at("10:00", DAY + timedelta(weeks=6)), scores={"NRS": 3.0})
    return canary


def signed_in(user: User) -> Client:
    client = Client()
    sign_in(client, user)
    return client


def staff(role: str, name: str = "") -> User:
    return User.objects.create_user(name or f"user-{role}", password="a-password-for-tests", role=role, is_staff=True)


def audit_rows() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.order_by("seq").values_list(
            "actor__username", "role", "action", "object_type", "object_ref", "patient", "outcome"
        )
    )


def patients() -> int:
    return Patient.objects.filter(merged_into__isnull=True).count()


def started(client: Client) -> BulkExport:
    response = client.post(START)
    export = BulkExport.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/staff/exports/fhir/{export.uuid}/")
    return export


def line_counts(directory: Path) -> dict[str, int]:
    return {path.stem: len(path.read_text().splitlines()) for path in sorted(directory.glob("*.ndjson"))}


def export_row(export: BulkExport, suffix: str = "") -> tuple[Any, ...]:
    return ("ada", "admin", "export", "research_export", f"fhir:bulk:{export.uuid.hex}{suffix}", None, "allowed")


# --- Starting and running ------------------------------------------------------------------------------------


def test_an_administrator_starts_an_export_and_it_waits_for_the_worker(practice: Canary) -> None:
    client = signed_in(practice.admin)
    audit_clear()

    export = started(client)

    assert (export.requested_by, export.status, export.done, export.total, export.counts) == (
        practice.admin,
        "queued",
        0,
        0,
        {},
    )
    assert export.directory == f"exports/{export.uuid}"
    [task] = DBTaskResult.objects.all()
    # The task carries the row's id only: its arguments are stored.
    assert (task.task_path, task.args_kwargs) == ("interop.tasks.bulk_export_run", {"args": [export.pk], "kwargs": {}})
    # Nothing has left yet: the worker writes the export's row when it starts writing files.
    assert audit_rows() == []


def test_the_worker_writes_every_patient_and_counts_what_is_in_the_files(practice: Canary, var_dir: Path) -> None:
    export = started(signed_in(practice.admin))
    audit_clear()

    assert run_ready_tasks() == 1

    export.refresh_from_db()
    assert (export.status, export.done, export.total, export.error) == ("done", patients(), patients(), "")
    assert patients() == 4
    assert export.counts == line_counts(var_dir / "exports" / str(export.uuid))
    assert export.counts["Patient"] == 4
    assert export.started_at is not None and export.finished_at is not None
    assert export.started_at <= export.finished_at
    assert audit_rows() == [export_row(export)]


def test_a_task_run_twice_exports_once(practice: Canary) -> None:
    export = started(signed_in(practice.admin))
    run_ready_tasks()
    export.refresh_from_db()
    audit_clear()

    assert bulk.bulk_run(export_id=export.pk) == ""
    from interop.tasks import bulk_export_run

    bulk_export_run.enqueue(export.pk)
    assert run_ready_tasks() == 1

    again = BulkExport.objects.get()
    assert (again.status, again.counts, again.finished_at) == ("done", export.counts, export.finished_at)
    assert audit_rows() == []


def test_each_start_is_an_export_of_its_own(practice: Canary) -> None:
    client = signed_in(practice.admin)
    client.post(START)
    client.post(START)

    assert run_ready_tasks() == 2

    assert list(BulkExport.objects.values_list("status", "done")) == [("done", 4), ("done", 4)]
    assert len({export.uuid for export in BulkExport.objects.all()}) == 2


def test_progress_is_written_every_hundredth_and_every_second_not_every_patient(practice: Canary) -> None:
    export = BulkExport.objects.create(requested_by=practice.admin, requested_at=at("09:00"))
    still = bulk.Progress(export.pk, clock=lambda: 100.0)

    with CaptureQueriesContext(connection) as writes:
        for done in range(1, 1001):
            still(done, 1000)

    assert len(writes) == 100
    export.refresh_from_db()
    assert (export.done, export.total) == (1000, 1000)

    ticks = iter(range(0, 22, 2))  # two seconds between patients (the first tick is the start)
    slow = bulk.Progress(export.pk, clock=lambda: float(next(ticks)))
    with CaptureQueriesContext(connection) as writes:
        for done in range(1, 11):
            slow(done, 1000)
    assert len(writes) == 10
    export.refresh_from_db()
    assert (export.done, export.total) == (10, 1000)


def test_a_failed_export_keeps_the_kind_of_error_only_and_leaves_no_files(
    practice: Canary, var_dir: Path, monkeypatch: Any, caplog: Any
) -> None:
    calls = {"n": 0}
    real = fhir.patient_resources

    def fails_on_the_second(patient: Patient) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError(f"cannot map {NOTE}")
        return real(patient)

    monkeypatch.setattr(fhir, "patient_resources", fails_on_the_second)
    caplog.set_level(logging.INFO)
    export = started(signed_in(practice.admin))
    audit_clear()

    run_ready_tasks()

    export.refresh_from_db()
    assert (export.status, export.error, export.done, export.total, export.counts) == ("failed", "ValueError", 1, 4, {})
    assert export.finished_at is not None
    assert not (var_dir / "exports" / str(export.uuid)).exists()
    assert NOTE not in caplog.text
    assert f"FHIR bulk export {export.uuid} failed (ValueError)." in caplog.messages
    # The export was under way: its row stays.
    assert audit_rows() == [export_row(export)]


# --- The page and its status -------------------------------------------------------------------------------


def test_the_status_says_how_far_it_got_and_then_where_the_files_are(practice: Canary) -> None:
    client = signed_in(practice.admin)
    export = started(client)
    status = f"/staff/exports/fhir/{export.uuid}/status.json"

    queued = client.get(status)
    assert queued["Content-Type"] == "application/json"
    assert "no-store" in queued["Cache-Control"]
    assert json.loads(queued.content) == {
        "status": "queued",
        "label": "Queued",
        "done": 0,
        "total": 0,
        "text": "Waiting for the worker",
        "files": [],
    }

    running = BulkExport.objects.create(
        requested_by=practice.admin, requested_at=at("09:00"), status="running", done=1, total=4
    )
    assert json.loads(client.get(f"/staff/exports/fhir/{running.uuid}/status.json").content) == {
        "status": "running",
        "label": "Running",
        "done": 1,
        "total": 4,
        "text": "1 of 4 patients",
        "files": [],
    }

    run_ready_tasks()
    export.refresh_from_db()
    assert json.loads(client.get(status).content) == {
        "status": "done",
        "label": "Done",
        "done": 4,
        "total": 4,
        "text": "4 of 4 patients",
        "files": [
            {"type": kind, "count": count, "url": f"/staff/exports/fhir/{export.uuid}/{kind}.ndjson"}
            for kind, count in sorted(export.counts.items())
        ],
    }


def test_the_page_shows_the_bar_and_refreshes_itself_from_a_file_while_running(practice: Canary) -> None:
    client = signed_in(practice.admin)
    export = started(client)
    page = f"/staff/exports/fhir/{export.uuid}/"
    BulkExport.objects.filter(pk=export.pk).update(status="running", done=1, total=4)

    body = client.get(page).content.decode()

    assert '<label for="bulk-progress">Patients exported</label>' in body
    assert '<progress id="bulk-progress" value="1" max="4" aria-describedby="bulk-count">' in body
    assert '<p id="bulk-count" role="status" aria-live="polite">1 of 4 patients</p>' in body
    assert f'data-status-url="/staff/exports/fhir/{export.uuid}/status.json"' in body
    assert '<script src="/static/interop/js/bulk_export.' in body
    # Without script: a link that loads the page again.
    assert f'<a href="{page}" id="bulk-refresh">Refresh</a>' in body
    assert "<script>" not in body and 'http-equiv="refresh"' not in body


def test_a_queued_export_shows_a_bar_that_does_not_yet_know_how_far(practice: Canary) -> None:
    client = signed_in(practice.admin)
    export = started(client)

    body = client.get(f"/staff/exports/fhir/{export.uuid}/").content.decode()

    assert '<progress id="bulk-progress" aria-describedby="bulk-count">' in body
    assert '<p id="bulk-count" role="status" aria-live="polite">Waiting for the worker</p>' in body


def test_a_finished_export_links_each_file_and_stops_refreshing(practice: Canary) -> None:
    client = signed_in(practice.admin)
    export = started(client)
    run_ready_tasks()
    export.refresh_from_db()

    body = client.get(f"/staff/exports/fhir/{export.uuid}/").content.decode()

    assert '<progress id="bulk-progress" value="4" max="4" aria-describedby="bulk-count">' in body
    assert '<p id="bulk-count" role="status" aria-live="polite">4 of 4 patients</p>' in body
    for kind, count in export.counts.items():
        assert f'<a href="/staff/exports/fhir/{export.uuid}/{kind}.ndjson" download>{kind}.ndjson</a>' in body
        assert f"<td>{count}</td>" in body
    assert "bulk_export." not in body and "bulk-refresh" not in body


def test_a_failed_export_says_so_without_the_error_s_text(practice: Canary, monkeypatch: Any) -> None:
    monkeypatch.setattr(fhir, "patient_resources", lambda patient: (_ for _ in ()).throw(ValueError(NOTE)))
    client = signed_in(practice.admin)
    export = started(client)
    run_ready_tasks()

    body = client.get(f"/staff/exports/fhir/{export.uuid}/").content.decode()

    assert "The export failed (ValueError); no file was kept." in body
    assert NOTE not in body
    assert json.loads(client.get(f"/staff/exports/fhir/{export.uuid}/status.json").content)["status"] == "failed"


def test_the_exports_page_offers_the_bulk_export_to_administrators_only(practice: Canary) -> None:
    assert f'<form method="post" action="{START}"' in signed_in(practice.admin).get("/staff/exports/").content.decode()
    assert START not in signed_in(practice.researcher).get("/staff/exports/").content.decode()


# --- The files -----------------------------------------------------------------------------------------------


def test_each_file_downloads_as_written_with_its_one_audit_row(practice: Canary, var_dir: Path) -> None:
    client = signed_in(practice.admin)
    export = started(client)
    run_ready_tasks()
    export.refresh_from_db()
    audit_clear()

    for kind in sorted(export.counts):
        response: Any = client.get(f"/staff/exports/fhir/{export.uuid}/{kind}.ndjson")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+ndjson"
        assert response["Content-Disposition"] == f'attachment; filename="{kind}.ndjson"'
        assert "no-store" in response["Cache-Control"]
        assert b"".join(response.streaming_content) == (var_dir / export.directory / f"{kind}.ndjson").read_bytes()

    assert audit_rows() == [export_row(export, f":{kind}") for kind in sorted(export.counts)]
    # The longest type still fits the audit log's 64 characters.
    assert max(len(row[4]) for row in audit_rows()) == 64


def test_a_file_that_is_not_there_is_404_and_recorded_nowhere(practice: Canary) -> None:
    client = signed_in(practice.admin)
    export = started(client)
    audit_clear()

    assert client.get(f"/staff/exports/fhir/{export.uuid}/Patient.ndjson").status_code == 404  # not written yet
    run_ready_tasks()
    audit_clear()
    assert client.get(f"/staff/exports/fhir/{export.uuid}/Device.ndjson").status_code == 404
    assert client.get(f"/staff/exports/fhir/{export.uuid}/status.ndjson").status_code == 404
    assert client.head(f"/staff/exports/fhir/{export.uuid}/Patient.ndjson").status_code == 405
    assert audit_rows() == []


# --- Who may -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.ADMIN])
def test_every_other_role_is_refused_with_one_denied_row(practice: Canary, role: str) -> None:
    export = started(signed_in(practice.admin))
    run_ready_tasks()
    client = signed_in(staff(role))
    audit_clear()

    assert client.post(START).status_code == 403
    assert audit_rows() == [(f"user-{role}", role, "change", "research_export", "", None, "denied")]
    for path in ("", "status.json", "Patient.ndjson"):
        audit_clear()
        assert client.get(f"/staff/exports/fhir/{export.uuid}/{path}").status_code == 404
        assert audit_rows() == [(f"user-{role}", role, "change", "research_export", str(export.uuid), None, "denied")]
    assert BulkExport.objects.count() == 1


def test_another_administrator_s_export_is_404_with_one_denied_row(practice: Canary) -> None:
    export = started(signed_in(practice.admin))
    run_ready_tasks()
    ben = signed_in(staff(Role.ADMIN, "ben"))

    for path in ("", "status.json", "Patient.ndjson"):
        audit_clear()
        assert ben.get(f"/staff/exports/fhir/{export.uuid}/{path}").status_code == 404
        assert audit_rows() == [("ben", "admin", "change", "research_export", str(export.uuid), None, "denied")]


def test_an_export_that_does_not_exist_is_404_like_another_s(practice: Canary) -> None:
    client = signed_in(practice.admin)
    audit_clear()

    assert client.get(f"/staff/exports/fhir/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/staff/exports/fhir/{uuid.uuid4()}/status.json").status_code == 404
    assert audit_rows() == []


def test_starting_asks_for_a_post_and_a_signed_in_administrator(practice: Canary) -> None:
    assert signed_in(practice.admin).get(START).status_code == 405
    anonymous = Client().post(START)
    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/accounts/sign-in/?next={START}")
    assert BulkExport.objects.count() == 0


def test_an_id_of_another_kind_in_its_place_is_404_even_for_the_requester(practice: Canary) -> None:
    client = signed_in(practice.admin)
    started(client)
    run_ready_tasks()

    for other in (practice.patient.uuid, practice.record.uuid, practice.clinic.episode.uuid):
        for path in ("", "status.json", "Patient.ndjson"):
            assert client.get(f"/staff/exports/fhir/{other}/{path}").status_code == 404


# --- Left behind: a worker that died mid-export, files kept too long ------------------------------------------


def test_an_export_whose_worker_stopped_is_marked_interrupted_and_its_half_written_files_removed(
    practice: Canary, var_dir: Path
) -> None:
    stalled = BulkExport.objects.create(
        requested_by=practice.admin,
        requested_at=at("09:00"),
        started_at=at("09:00"),
        progressed_at=at("09:05"),
        status="running",
        done=1,
        total=4,
    )
    moving = BulkExport.objects.create(
        requested_by=practice.admin,
        requested_at=at("09:00"),
        started_at=at("09:00"),
        progressed_at=at("09:14"),
        status="running",
        done=2,
        total=4,
    )
    for export in (stalled, moving):
        export.path.mkdir(parents=True)
        (export.path / "Patient.ndjson").write_text("{}\n")

    # Ten minutes without a word of progress: the worker is gone (progress is written every second).
    assert bulk.bulk_sweep(now=at("09:15") + timedelta(seconds=1)) == {"interrupted": 1, "expired": 0}

    stalled.refresh_from_db()
    moving.refresh_from_db()
    assert (stalled.status, stalled.error, stalled.finished_at) == (
        "interrupted",
        "",
        at("09:15") + timedelta(seconds=1),
    )
    assert not stalled.path.exists()
    assert (moving.status, moving.path.exists()) == ("running", True)
    client = signed_in(practice.admin)
    assert json.loads(client.get(f"/staff/exports/fhir/{stalled.uuid}/status.json").content)["text"] == (
        "The worker stopped after 1 of 4 patients; no file was kept"
    )
    page = client.get(f"/staff/exports/fhir/{stalled.uuid}/").content.decode()
    assert "The worker stopped after 1 of 4 patients; no file was kept." in page
    assert "bulk_export.js" not in page
    # Again: nothing more to do.
    assert bulk.bulk_sweep(now=at("09:20")) == {"interrupted": 0, "expired": 0}


def test_a_finished_exports_files_are_removed_after_the_days_kept(practice: Canary, settings: Any) -> None:
    settings.BULK_EXPORT_KEEP_DAYS = 7
    export = started(signed_in(practice.admin))
    run_ready_tasks()
    export.refresh_from_db()
    assert export.status == "done" and export.path.is_dir()
    finished = export.finished_at
    assert finished is not None

    assert bulk.bulk_sweep(now=finished + timedelta(days=7)) == {"interrupted": 0, "expired": 0}
    assert bulk.bulk_sweep(now=finished + timedelta(days=7, seconds=1)) == {"interrupted": 0, "expired": 1}

    export.refresh_from_db()
    assert (export.status, export.path.exists()) == ("expired", False)
    client = signed_in(practice.admin)
    # The files are gone, and so are their links; what was written stays on record.
    assert client.get(f"/staff/exports/fhir/{export.uuid}/Patient.ndjson").status_code == 404
    state = json.loads(client.get(f"/staff/exports/fhir/{export.uuid}/status.json").content)
    assert (state["label"], state["files"], state["text"]) == (
        "Files removed",
        [],
        "4 of 4 patients; the files were removed 7 days after the export",
    )


def test_the_worker_runs_the_sweep_as_a_job() -> None:
    from outbox.jobs import JOBS

    assert JOBS["interop_bulk_sweep"]() == {"interrupted": 0, "expired": 0}


def test_the_bulk_export_is_in_every_patients_access_report(practice: Canary) -> None:
    from accounts.audit import access_report

    export = started(signed_in(practice.admin))
    run_ready_tasks()
    export.refresh_from_db()
    everyone = list(Patient.objects.filter(merged_into__isnull=True))
    assert len(everyone) == 4
    for patient in everyone:
        assert [(e.who, e.action, e.record_ref) for e in access_report(patient=patient)][-1:] == [
            ("ada", "Exported", f"fhir:bulk:{export.uuid.hex}")
        ]

"""Link tokens never reach a log: Django's request log, runserver's, gunicorn's access log (regenclinic.logfilters)."""

import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from accounts import links
from patients.models import Patient
from regenclinic.logfilters import redact
from tests.test_http import booking

__all__ = ["booking"]


def _wrong_booking_token() -> str:
    return signing.Signer(key="not-the-site-key", salt="scheduling.manage").sign(f"{uuid.uuid4().hex}.1700000000")


def test_redact_masks_the_token_of_every_link_path_and_nothing_else() -> None:
    token = secrets.token_urlsafe(24)
    line = f"Not Found: /es/intake/{token}/ then /book/manage/{token}/calendar.ics and /contact/ /intake/concerns/"
    assert redact(line) == (
        "Not Found: /es/intake/[token]/ then /book/manage/[token]/calendar.ics and /contact/ /intake/concerns/"
    )


@pytest.mark.django_db
def test_tokens_never_reach_the_logs(client: Client, booking: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    patient = Patient.objects.create(
        first_name="Log", last_name="Reader", date_of_birth=date(1962, 4, 5), email="log@example.com"
    )
    tokens = [booking["token"], _wrong_booking_token(), secrets.token_urlsafe(24)]
    urls = [f"/book/manage/{tokens[0]}/", f"/book/manage/{tokens[1]}/", f"/intake/{tokens[2]}/"]
    for purpose in ("intake", "consent", "questionnaire"):
        _link, token = links.link_issue(purpose=purpose, patient=patient, target=uuid.uuid4())
        tokens.append(token)
        urls += [f"/{purpose}/{token}/", f"/es/{purpose}/{token}/"]  # the first use, then a second
    with caplog.at_level(logging.DEBUG):
        statuses = [client.get(url).status_code for url in urls]
    # Intake and consent links to no form are used up and then 404; the questionnaire's second visit
    # rides on the session the first one started.
    assert statuses == [200, 404, 404, 404, 410, 404, 410, 302, 302]
    logged = "\n".join(f"{record.name} {record.getMessage()}" for record in caplog.records)
    assert logged.count("django.request") == 6  # the 404s and 410s were logged: the test saw the logs
    assert "Not Found: /book/manage/[token]/" in logged
    assert [token for token in tokens if token in logged] == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_in_the_makefiles_format_masks_the_token(tmp_path: Path) -> None:
    """The server `make run` starts, with its logger class and access-log format, asked for a link."""
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    options = re.search(r"gunicorn regenclinic\.wsgi (.*?) & web=", makefile).group(1)  # type: ignore[union-attr]
    access_format = re.search(r"--access-logformat '([^']+)'", options).group(1)  # type: ignore[union-attr]
    assert "--logger-class regenclinic.logfilters.GunicornLogger" in options
    port = _free_port()
    database = settings.DATABASES["default"]
    # The server reads this test's database, not the one the environment names.
    if "sqlite" in database["ENGINE"]:
        env = {**os.environ, "SQLITE_PATH": str(database["NAME"])}
    else:
        login = database["USER"] + (f":{database['PASSWORD']}" if database.get("PASSWORD") else "")
        address = f"{login}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        env = {**os.environ, "DATABASE_URL": f"postgres://{address}", "CONN_MAX_AGE": "0"}
    log = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "regenclinic.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--logger-class",
            "regenclinic.logfilters.GunicornLogger",
            "--access-logfile",
            str(log),
            "--access-logformat",
            access_format,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    token = secrets.token_urlsafe(24)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/intake/{token}/?x={token}", timeout=5)
            except urllib.error.HTTPError as answer:
                assert answer.code == 404
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(50):
            if log.exists() and log.read_text():
                break
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    line = log.read_text()
    assert " GET /intake/[token]/ 404 " in line
    assert token not in line

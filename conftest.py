"""Fixtures shared by every app's tests: personas, the demo practice, a live server, a browser."""

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# A threaded test's threads wait this long for each other at the start line, and get this long in all to
# finish, before the test fails naming them: a hang fails one test, it never stops the run.
THREADS_MEET_SECONDS = 60
THREADS_FINISH_SECONDS = 180


def together(count: int) -> threading.Barrier:
    """A start line for `count` threads; it breaks (BrokenBarrierError in each) rather than wait for ever."""
    return threading.Barrier(count, timeout=THREADS_MEET_SECONDS)


def run_threads(targets: Sequence[Callable[[], object]]) -> None:
    """Run each target in a thread of its own and wait for all; fails naming any still running at the limit."""
    threads = [
        threading.Thread(target=target, name=f"test-thread-{n}", daemon=True) for n, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + THREADS_FINISH_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert stuck == [], f"still running after {THREADS_FINISH_SECONDS} s: {stuck}"


def pytest_sessionstart(session: pytest.Session) -> None:
    # In CI the PostgreSQL run must really be on PostgreSQL, never quietly on SQLite.
    if os.environ.get("REQUIRE_POSTGRES") == "1" and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but DATABASE_URL does not name a PostgreSQL database")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def practice(db: Any) -> Any:
    """The demo practice: two offices, pages in both languages, no staff."""
    call_command("load_demo_practice", "--no-staff", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from website.models import Practice

    return Practice.objects.get()


@pytest.fixture
def alice(db: Any) -> Any:
    """Front desk."""
    from accounts.models import Role, User

    return User.objects.create_user("alice", password="alice-password-1", role=Role.FRONT_DESK, is_staff=True)


@pytest.fixture
def bob(db: Any) -> Any:
    """Physician."""
    from accounts.models import Role, User

    return User.objects.create_user("bob", password="bob-password-1", role=Role.PHYSICIAN, is_staff=True)


@pytest.fixture
def charlie(db: Any) -> Any:
    """Processing technician: no business with the inbox."""
    from accounts.models import Role, User

    return User.objects.create_user("charlie", password="charlie-password-1", role=Role.TECHNICIAN)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server, but serving static files through WhiteNoise.

    The stock one answers /static/ from the finders, which know nothing of the
    hashed, compressed files production sends; this one lets the app's own
    WhiteNoise middleware serve them, so tests see what a visitor gets.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda app: app  # type: ignore[assignment]
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Write a full-page screenshot under artifacts/screenshots/ and return its path."""
    path = ARTIFACTS / "screenshots" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """Each test starts in English, as a request to an unprefixed URL would."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


class QueuedEmail:
    """An email a block of code put in the outbox; calling it runs the worker's ready tasks, as the worker would."""

    def __init__(self, email: Any) -> None:
        self.email = email

    def __call__(self) -> None:
        """Deliver this email as the worker's task would (only this one)."""
        from outbox.services import email_deliver

        email_deliver(email_id=self.email.pk)

    def __repr__(self) -> str:
        return f"QueuedEmail({self.email.kind} to {self.email.to})"


@pytest.fixture
def outbox_capture(db: Any) -> Any:
    """`with outbox_capture(execute=True) as queued:` collects the outbox emails the block queued.

    With `execute=True` they are delivered when the block ends (to `mail.outbox`), as the
    worker would after the commit; with False nothing is sent until a test calls `queued[0]()`.
    """
    from contextlib import contextmanager

    from outbox.models import Email

    @contextmanager
    def capture(*, execute: bool = False) -> Iterator[list[QueuedEmail]]:
        before = set(Email.objects.values_list("pk", flat=True))
        queued: list[QueuedEmail] = []
        yield queued
        queued.extend(QueuedEmail(email) for email in Email.objects.exclude(pk__in=before).order_by("pk"))
        if execute:
            for email in queued:
                email()

    return capture


@pytest.fixture
def deliver(db: Any) -> Any:
    """Run the worker's ready tasks now (the outbox's deliveries) and return `mail.outbox`."""
    from django.core import mail

    from outbox.worker import run_ready_tasks

    def run() -> list[Any]:
        run_ready_tasks()
        return list(mail.outbox)

    return run

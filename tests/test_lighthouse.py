"""Lighthouse 12 (npm, pinned in package-lock.json) on every public page, both languages, phone and desktop.

One Lighthouse process per page and preset, two at a time, against one live server with the demo
practice and schedule: about four minutes on a 2-core machine. Reports land in artifacts/lighthouse/.
"""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from tests.test_browser import PUBLIC_PATHS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIGHTHOUSE = Path(django_settings.BASE_DIR) / "node_modules" / ".bin" / "lighthouse"
REPORTS = Path(django_settings.BASE_DIR) / "artifacts" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
PRESETS = ["mobile", "desktop"]
PARALLEL = 2  # one per core; more would slow the simulated page loads the scores are computed from
# A page gets up to three runs and keeps its best, as Lighthouse CI does by default ("optimistic"):
# Chromium now and then loses the start of its trace (NO_NAVSTART), and on a busy machine the main
# thread's long tasks (total blocking time, timed at 4x slowdown on the phone preset) come out
# longer than the page makes them. A page that is slow in its own right fails all three runs.
ATTEMPTS = 3
PERFECT = {name: 1 for name in CATEGORIES} | {"cls": 0}


def lighthouse(url: str, preset: str, report: Path) -> dict[str, Any]:
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        # Both take seconds and weigh nothing in any score.
        "--disable-full-page-screenshot",
        "--skip-audits=bf-cache",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": shutil.which("chromium") or ""}
    report.unlink(missing_ok=True)
    subprocess.run(command, env=env, capture_output=True, timeout=180, check=False)
    return json.loads(report.read_text()) if report.exists() else {"runtimeError": {"code": "NO_REPORT"}}


def figures(result: dict[str, Any]) -> dict[str, Any]:
    if result.get("runtimeError"):
        return {"error": result["runtimeError"]["code"]}
    found: dict[str, Any] = {name: result["categories"][name]["score"] for name in CATEGORIES}
    found["cls"] = result["audits"]["cumulative-layout-shift"]["numericValue"]
    return found


def rank(found: dict[str, Any]) -> tuple[float, float]:
    """Higher is better: the sum of the four scores, then the smaller layout shift; a failed run is last."""
    if "error" in found:
        return (-1.0, 0.0)
    return (sum(found[name] for name in CATEGORIES), -found["cls"])


def best_of_runs(url: str, preset: str, report: Path) -> dict[str, Any]:
    best: dict[str, Any] = {}
    for attempt in range(ATTEMPTS):
        found = figures(lighthouse(url, preset, report.with_suffix(f".{attempt}.json")))
        if not best or rank(found) > rank(best):
            best = found
        if best == PERFECT:
            break
    return best


# About four minutes (254 s in one fresh-clone run): its own limit, above the suite's 300 s.
@pytest.mark.timeout(900)
def test_every_public_page_scores_1_in_every_category(live_server: Any, practice: Any, settings: Any) -> None:
    if not LIGHTHOUSE.exists():
        pytest.fail("Lighthouse is not installed: `make test` installs it (npm ci, from package-lock.json)")
    if shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is not installed: `make test` installs it (apt-get install chromium)")
    call_command("load_demo_schedule", stdout=open(os.devnull, "w"))  # noqa: SIM115
    # The language alternates name this server, as they name SITE_URL in production.
    settings.SITE_URL = live_server.url
    shutil.rmtree(REPORTS, ignore_errors=True)
    REPORTS.mkdir(parents=True)
    runs = [(prefix + path, preset) for prefix in ("", "/es") for path in PUBLIC_PATHS for preset in PRESETS]

    def run(page: tuple[str, str]) -> tuple[tuple[str, str], dict[str, Any]]:
        path, preset = page
        name = (path.strip("/").replace("/", "-") or "home") + f"-{preset}"
        return page, best_of_runs(live_server.url + path, preset, REPORTS / name)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        scores = dict(pool.map(run, runs))
    assert scores == {page: PERFECT for page in runs}

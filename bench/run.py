"""`make bench`: serve the app as production does and print one line per figure.

    bench <name> <value> <unit>

Figures come from two places: this file measures the served site (gunicorn +
wrk on this machine, a throwaway SQLite database, the demo practice), and every
`bench/bench_*.py` module with a `run()` adds its own figures (bench_booking.py
serves sites of its own with `served_site`; bench_scoring.py scores 100,000 responses
in databases of its own).
Progress goes to stderr; stdout carries only the figures.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PUBLIC_PATHS = ["/", "/stem-cell-therapy/", "/prp/", "/offices/los-angeles/", "/offices/encino/", "/contact/"]
PUBLIC_URLS = PUBLIC_PATHS + ["/es" + path for path in PUBLIC_PATHS]
BARE_URL = "/healthz"
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
WRK_CONNECTIONS = 8
WARM_REQUESTS = 20


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def figure(name: str, value: float, unit: str) -> None:
    print(f"bench {name} {value:.3g} {unit}" if value < 100 else f"bench {name} {value:.0f} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


RATE_LIMIT_VARIABLES = [
    f"RATE_LIMIT_{group}"
    for group in (
        "BOOKING",
        "CALLBACK",
        "CONTACT",
        "SELFCHECK",
        "BOOKING_LINK",
        "PATIENT_LINK",
        "PATIENT_FORM",
        "LINK_TOKEN",
    )
]


def app_env(var_dir: Path, database_url: str = "") -> dict[str, str]:
    """The app's environment: SQLite in `var_dir`, or the database `database_url` names."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(VAR_DIR=str(var_dir), SQLITE_PATH=str(var_dir / "bench.sqlite3"), ALLOWED_HOSTS="127.0.0.1")
    # Every benchmark client comes from 127.0.0.1: the per-address rate limits would measure the 429 page.
    env.update({name: "1000000/h" for name in RATE_LIMIT_VARIABLES})
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def served_site(
    var_dir: Path,
    *,
    database_url: str = "",
    setup: tuple[tuple[str, ...], ...] = (),
    threads: int = 1,
    log: Path | None = None,
) -> Iterator[tuple[str, int]]:
    """gunicorn with 2 workers on the demo practice; yields (base URL, master pid).

    The workers are sync ones, as in production, unless `threads` > 1 (then each serves
    that many requests at once). `setup` adds management commands to run first; `log`
    takes the server's output instead of stderr.
    """
    env = app_env(var_dir, database_url)
    for command in (("migrate", "--noinput", "-v0"), ("load_demo_practice", "--no-staff"), *setup):
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    output = log.open("w") if log else None  # closed when the server stops
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "gunicorn",
            "regenclinic.wsgi",
            "--workers",
            "2",
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = fetch(f"http://127.0.0.1:{port}{BARE_URL}")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("bench: gunicorn did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if output:
            output.close()


def fetch(url: str, encoding: str = "identity") -> tuple[int, bytes]:
    """GET a URL; the body comes back as sent on the wire (still compressed)."""
    parts = urlparse(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", parts.path or "/", headers={"Accept-Encoding": encoding})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wrk_rps(url: str) -> float:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=WRK_SECONDS + 30,
    )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise SystemExit(f"bench: {url} answered {errors.group(1)} errors under load")
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if not match:
        raise SystemExit(f"bench: could not read wrk's output for {url}:\n{result.stdout}")
    return float(match.group(1))


def worker_rss_mb(master_pid: int) -> float:
    """The largest resident size among the gunicorn master's worker processes."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master_pid}$", text, re.MULTILINE):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
            if rss:
                sizes.append(int(rss.group(1)) / 1024)
    if not sizes:
        raise SystemExit("bench: found no gunicorn workers")
    return max(sizes)


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "link" and values.get("rel") in {"stylesheet", "icon"} and values.get("href"):
            self.urls.append(values["href"] or "")
        elif tag in {"script", "img"} and values.get("src"):
            self.urls.append(values["src"] or "")


def page_weight_kb(base: str, path: str) -> float:
    """Compressed bytes of a page and everything it loads, fonts included (worst case)."""
    status, html = fetch(base + path, "gzip, br")
    if status != 200:
        raise SystemExit(f"bench: {path} answered {status}")
    _, plain = fetch(base + path)
    parser = _Assets()
    parser.feed(plain.decode())
    urls = [urljoin(base + path, url) for url in parser.urls]
    for css_url in [u for u in urls if u.endswith(".css")]:
        _, css = fetch(css_url)
        urls += [urljoin(css_url, u) for u in re.findall(r"url\(\"?([^\")]+)\"?\)", css.decode())]
    total = len(html)
    for url in dict.fromkeys(urls):
        if urlparse(url).netloc != urlparse(base).netloc:
            raise SystemExit(f"bench: {path} loads {url} from another origin")
        status, body = fetch(url, "gzip, br")
        if status != 200:
            raise SystemExit(f"bench: {url} answered {status}")
        total += len(body)
    return total / 1024


def served_figures() -> None:
    with tempfile.TemporaryDirectory(prefix="regenclinic-bench-") as tmp, served_site(Path(tmp)) as (base, pid):
        for path in [BARE_URL, *PUBLIC_URLS]:
            for _ in range(WARM_REQUESTS):  # each worker renders and caches the page before the clock starts
                status, _ = fetch(base + path)
                if status != 200:
                    raise SystemExit(f"bench: {path} answered {status}")
        say(f"bench: measuring {len(PUBLIC_URLS)} public pages and {BARE_URL} with wrk, {WRK_SECONDS}s each")
        bare = wrk_rps(base + BARE_URL)
        pages = [wrk_rps(base + path) for path in PUBLIC_URLS]
        bare_again = wrk_rps(base + BARE_URL)  # drift check: the bare view measured before and after
        bare_mean = (bare + bare_again) / 2
        page_mean = statistics.fmean(pages)
        figure("bare_view_rps", bare_mean, "req/s")
        figure("public_page_rps", page_mean, "req/s")
        figure("public_page_vs_bare_view", page_mean / bare_mean, "ratio")
        figure("web_worker_rss_mb", worker_rss_mb(pid), "MB")
        figure("public_page_weight_kb", max(page_weight_kb(base, path) for path in PUBLIC_URLS), "KB")


def module_figures() -> None:
    """Figures from bench/bench_*.py, each `run()` returning [(name, value, unit)], in a fresh database."""
    modules = sorted(Path(__file__).parent.glob("bench_*.py"))
    if not modules:
        return
    tmp = Path(tempfile.mkdtemp(prefix="regenclinic-bench-db-"))
    os.environ.update(app_env(tmp))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regenclinic.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--noinput", verbosity=0)
    call_command("load_demo_practice", "--no-staff", stdout=open(os.devnull, "w"))  # noqa: SIM115
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        say(f"bench: {path.name}")
        for name, value, unit in module.run():
            figure(name, value, unit)


def main() -> None:
    served_figures()
    module_figures()


if __name__ == "__main__":
    main()

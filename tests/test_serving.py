"""Production serving: gunicorn with the repository's gunicorn.conf.py, several worker
processes on one database, and no in-process state needed for correctness (issue 10)."""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
CALC = {"exam": "S1", "exam_start": "2026-12-10T10:00", "at": "2026-11-23T10:00"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client for the served portal."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = None

    def request(self, path, data=None, headers=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=20) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers

    def login(self, email, password):
        _, page, _ = self.request("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.request("/login", {"email": email, "password": password, "csrf_token": token})
        _, page, _ = self.request("/dashboard")
        self.token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)

    def htmx(self, path, data):
        return self.request(path, data, {"X-CSRFToken": self.token, "HX-Request": "true"})


@pytest.fixture
def served(database_url, app):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "serve-test", "WEB_CONCURRENCY": "2",
           "GUNICORN_THREADS": "2", "BIND": f"127.0.0.1:{port}", "PYTHONPATH": str(ROOT)}
    # The repository's gunicorn.conf.py (read from cwd); the app with the core's sample provider alone.
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "tests.sample_provider.serve:create_app()"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("gunicorn did not start: " + (process.stderr.read() if process.stderr else ""))
    yield base, process
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_the_config_serves_several_worker_processes_with_threads():
    settings = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), settings)
    assert settings["workers"] >= 2 and settings["worker_class"] == "gthread" and settings["threads"] >= 2
    assert settings["preload_app"] is False  # each worker opens its own database pool after the fork


def test_a_closure_saved_through_one_worker_is_used_by_every_worker_next(served, org_factory):
    base, process = served
    _, _, email, password = org_factory()
    browser = Browser(base)
    browser.login(email, password)
    pids = set()
    for _ in range(12):  # both workers build and cache the context without the closure
        status, body, headers = browser.htmx("/providers/sample/calculate", CALC)
        assert status == 200 and "臨時休業" not in body
    status, _, _ = browser.htmx("/admin/providers/sample/closures", {"label": "臨時休業", "start_date": "2026-12-07"})
    assert status == 200
    for _ in range(12):
        status, body, _ = browser.htmx("/providers/sample/calculate", CALC)
        assert status == 200 and "臨時休業" in body  # whichever worker answers
    assert process.poll() is None

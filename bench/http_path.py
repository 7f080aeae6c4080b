"""The request path over HTTP, measured as issue 10's table was: gunicorn with 2 sync workers on
127.0.0.1, wrk with 32 connections, every figure a throughput ratio against a floor timed in
the same run (request_path.py measures the same rows in-process through Flask's test client).

Two floors, each served by gunicorn with the same settings: the portal's own ``GET /health``
(with the subject's cookie and headers: request_path.py's floor) and a bare ``Flask(__name__)``
app with one route (the issue's floor). Each round runs wrk for ``BENCH_HTTP_SECONDS`` (2 s)
on each floor and on the subject in turn; the rows compare the medians of requests/s over
``BENCH_ROUNDS`` rounds. The time columns are 1 / throughput (the saturated server's time per
request); p50 / p99 are the latencies wrk saw (medians over the rounds). Any response other
than 200 (checked once before, counted by wrk during the runs: status ≥ 400, timeouts) is a
failure: printed, and the module exits 1. Nothing asserts a time.
Needs wrk (``make wrk``). Run: ``python bench/http_path.py`` (``make bench`` runs every module).
"""
from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from _common import (ROUNDS, SIZES, USER_AGENT, Browser, Measure, NoRedirect, backends, fresh_database, gunicorn, make_app, row,
                     seed)

SECONDS = int(os.environ.get("BENCH_HTTP_SECONDS", "2"))
CONNECTIONS = 32
#: As the issue measured: 2 sync workers (one thread each: gunicorn turns ``sync`` into
#: ``gthread`` when gunicorn.conf.py's threads > 1); no worker recycling in the middle of a run,
#: and the access log (gunicorn.conf.py writes it to stdout) kept but thrown away.
SERVER_OPTIONS = ("-w", "2", "-k", "sync", "--threads", "1", "--max-requests", "0", "--access-logfile", os.devnull)
CALCULATOR_FORM = {"exam": "RUBY-SILVER", "exam_start": "2027-01-12T10:00", "at": "2026-11-23T10:00",
                   "first_booked_at": "2026-11-01T10:00", "payment_method": "credit_card"}
DEADLINES_BODY = {"exam": "RUBY-SILVER", "exam_start": "2027-01-12T10:00:00+09:00"}

#: The Lua script wrk runs for one target: its method, headers and body, and a JSON line with
#: the run's figures at the end (wrk's own summary is text meant for people).
WRK_SCRIPT = """
wrk.method = [==[{method}]==]
wrk.body = [==[{body}]==]
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'wrk-result {{"requests": %d, "us": %d, "status": %d, "timeout": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "p50_us": %d, "p99_us": %d}}\\n', summary.requests, summary.duration, e.status, e.timeout,
    e.connect, e.read, e.write, latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Target:
    """One request wrk repeats: its URL, method, headers and body."""
    url: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""

    def floor(self, url: str) -> "Target":
        """A GET of ``url`` with this target's headers (the cookie, HX-Request, …), no body."""
        return Target(url, "GET", tuple((k, v) for k, v in self.headers if k != "Content-Type"))

    def status(self) -> int:
        request = urllib.request.Request(self.url, data=self.body.encode() or None, method=self.method,
                                         headers=dict(self.headers))
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as e:
            return e.code


@dataclass
class Run:
    throughput: float  # requests/s
    p50: float  # seconds
    p99: float
    errors: str  # "" when every response was fine


def wrk(target: Target, seconds: int) -> Run:
    headers = "\n".join(f"wrk.headers[ [==[{k}]==] ] = [==[{v}]==]" for k, v in target.headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT.format(method=target.method, body=target.body, headers=headers))
        script.flush()
        done = subprocess.run(["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "30s",
                               "-s", script.name, target.url], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    result = json.loads(next(line for line in out.splitlines() if line.startswith("wrk-result ")).split(" ", 1)[1])
    errors = ", ".join(f"{result[k]} {name}" for k, name in (("status", "non-2xx/3xx"), ("timeout", "timeouts"),
                                                             ("connect", "connect errors"), ("read", "read errors"),
                                                             ("write", "write errors")) if result[k])
    return Run(result["requests"] / (result["us"] / 1e6), result["p50_us"] / 1e6, result["p99_us"] / 1e6, errors)


def compare(floors: dict[str, Target], subject: Target) -> tuple[dict[str, list[Run]], list[Run]]:
    """Alternating wrk runs of every floor and the subject (one short warm-up run each first:
    both workers build their caches), ``ROUNDS`` rounds."""
    for target in (*floors.values(), subject):
        wrk(target, 1)
    floor_runs: dict[str, list[Run]] = {name: [] for name in floors}
    subject_runs = []
    for _ in range(ROUNDS):
        for name, target in floors.items():
            floor_runs[name].append(wrk(target, SECONDS))
        subject_runs.append(wrk(subject, SECONDS))
    return floor_runs, subject_runs


def median_of(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(r, field) for r in runs)


class Report:
    """The rows of one subject against each floor, and the failures seen on the way."""

    def __init__(self, backend: str):
        self.backend = backend
        self.failures: list[str] = []

    def checked(self, what: str, *targets: Target) -> bool:
        """Every target answers 200 (a redirect to the login or a 403 would be timed as fast)."""
        bad = [f"{t.method} {t.url} → {status}" for t in targets if (status := t.status()) != 200]
        for line in bad:
            self.fail(what, line)
        return not bad

    def fail(self, what: str, detail: str) -> None:
        print(f"[{self.backend:10s}] FAILED {what}: {detail}", flush=True)
        self.failures.append(f"{self.backend}: {what}")

    def measure(self, what: str, size: str, floors: dict[str, Target], subject: Target, target: str,
                met, extra: str = "") -> None:
        """``met(throughput ratio, p99 in seconds)`` says whether the issue's target holds
        (None: no target at this size)."""
        if not self.checked(what, subject, *floors.values()):
            return
        floor_runs, subject_runs = compare(floors, subject)
        for name, runs in (*floor_runs.items(), (what, subject_runs)):
            for r in runs:
                if r.errors:
                    self.fail(what, f"{name}: {r.errors}")
        throughput = median_of(subject_runs, "throughput")
        p50, p99 = median_of(subject_runs, "p50"), median_of(subject_runs, "p99")
        for name, runs in floor_runs.items():
            floor = median_of(runs, "throughput")
            m = Measure(1 / floor, 1 / throughput)
            row(self.backend, what, size, name, m, f"{m.throughput_ratio:.2f}× thr.", target,
                met(m.throughput_ratio, p99),
                f"{throughput:,.0f} vs {floor:,.0f} req/s, p50 {p50 * 1e3:.1f} ms p99 {p99 * 1e3:.1f} ms{extra}")


def measure_portal(report: Report, base: str, bare: str, seeded, first_size: bool) -> None:
    browser = Browser(base)
    browser.login(seeded.email, seeded.password)
    signed_in = (("Cookie", browser.cookie_header()), ("HX-Request", "true"), ("User-Agent", USER_AGENT))
    size = f"{seeded.bookings:,} bookings"

    def floors(subject: Target) -> dict[str, Target]:
        return {"GET /health": subject.floor(base + "/health"), "bare Flask route": subject.floor(bare + "/")}

    if first_size:
        health = Target(base + "/health", headers=signed_in)
        report.measure("GET /health (the portal's floor)", "-", {"bare Flask route": health.floor(bare + "/")},
                       health, "—", lambda ratio, p99: None)
        calculator = Target(base + "/providers/prometric/calculate", "POST",
                            (*signed_in, ("X-CSRFToken", browser.token),
                             ("Content-Type", "application/x-www-form-urlencoded")),
                            urllib.parse.urlencode(CALCULATOR_FORM))
        report.measure("rule calculator partial (HX-Request, logged in)", "-", floors(calculator), calculator,
                       "≥ 0.5×, p99 ≤ 50 ms", lambda ratio, p99: ratio >= 0.5 and p99 <= 0.05)
        deadlines = Target(base + "/api/v1/providers/prometric/deadlines", "POST",
                           (("Content-Type", "application/json"),), json.dumps(DEADLINES_BODY))
        report.measure("rules API deadlines (POST /api/v1/…/deadlines)", "-", floors(deadlines), deadlines,
                       "≥ 0.7×", lambda ratio, p99: ratio >= 0.7)
    dashboard = Target(base + "/dashboard", headers=signed_in)
    page_bytes = len(browser.request("GET", "/dashboard")[1].encode())
    report.measure("dashboard (first page, HX-Request)", size, floors(dashboard), dashboard, "≥ 0.3× at 1k",
                   lambda ratio, p99: ratio >= 0.3 if seeded.bookings == 1000 else None, f", {page_bytes:,} bytes")


def main() -> int:
    failures = []
    with gunicorn("_bare_flask:app", {}, "--pythonpath", str(Path(__file__).parent), *SERVER_OPTIONS,
                  ready="/") as bare:
        for backend in backends():
            report = Report(backend)
            for n in SIZES:
                url = fresh_database(backend, f"http{n}")
                app = make_app(url)
                started = time.perf_counter()
                seeded = seed(app, url, n)
                app.extensions["exam_portal.engine"].dispose()
                print(f"[{backend:10s}] data: {n:,} bookings, {seeded.deadlines:,} stored deadlines "
                      f"(seeded in {time.perf_counter() - started:.1f} s); gunicorn {' '.join(SERVER_OPTIONS[:6])}, "
                      f"wrk -c {CONNECTIONS}, {ROUNDS} rounds of {SECONDS} s", flush=True)
                env = {"DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16)}
                with gunicorn("portal:create_app()", env, *SERVER_OPTIONS) as base:
                    measure_portal(report, base, bare, seeded, n == SIZES[0])
            failures += report.failures
    if failures:
        print(f"failed: {'; '.join(failures)}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

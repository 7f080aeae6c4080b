"""The request path: rule calculator partial, rules API, dashboard, bookings list, and (SQLite)
a read-only page while another connection holds the write lock.

Requests go through the WSGI app in-process (Flask's test client, signed in, HX-Request
where the page is a partial); floors are the portal's ``/health`` route with the same client
(the portal's request hooks and the signed-in user's statement included), a bare Flask app's
one route (the issue's floor, bench/_bare_flask.py), or the raw SQL the page ran, replayed
through the DB-API cursor. bench/http_path.py measures the same over HTTP (gunicorn, wrk).
Run: ``python bench/request_path.py`` (``make bench`` runs every module).
"""
from __future__ import annotations

import sqlite3
import statistics
import time

from _common import (SIZES, Measure, backends, capture, fresh_database, interleaved, logged_in_client, make_app,
                     replay, row, seed)

HX = {"HX-Request": "true"}


def bare_floor():
    """The issue's floor: a bare Flask app's one route, through the same test client."""
    from _bare_flask import app
    client = app.test_client()
    return lambda: client.get("/")


def against_bare(backend: str, what: str, size: str, subject, target: str, minimum: float | None) -> None:
    """The same subject against a bare Flask route (the issue's floor; /health of the portal
    already runs the portal's request hooks and the signed-in user's statement)."""
    m = interleaved(bare_floor(), subject, calls=20)
    row(backend, what, size, "bare Flask", m, f"{m.throughput_ratio:.2f}× thr.", target,
        None if minimum is None else m.throughput_ratio >= minimum)


def calculator_and_api(backend: str, seeded) -> None:
    client, token = logged_in_client(seeded.app, seeded.email, seeded.password)
    health = lambda: client.get("/health")  # noqa: E731
    form = {"exam": "RUBY-SILVER", "exam_start": "2027-01-12T10:00", "at": "2026-11-23T10:00",
            "first_booked_at": "2026-11-01T10:00", "payment_method": "credit_card"}
    calc = lambda: client.post("/providers/prometric/calculate", data=form, headers={"X-CSRFToken": token, **HX})  # noqa: E731
    assert calc().status_code == 200
    m = interleaved(health, calc, calls=50)
    row(backend, "rule calculator partial (HX-Request, logged in)", "-", "GET /health", m,
        f"{m.throughput_ratio:.2f}× thr.", "≥ 0.5×, p99 ≤ 50 ms", m.throughput_ratio >= 0.5 and m.p(0.99) <= 0.05,
        f"p50 {m.p(0.5) * 1e3:.2f} ms p99 {m.p(0.99) * 1e3:.2f} ms")
    against_bare(backend, "rule calculator partial (HX-Request, logged in)", "-", calc, "≥ 0.5×", 0.5)
    api = seeded.app.test_client()
    body = {"exam": "RUBY-SILVER", "exam_start": "2027-01-12T10:00:00+09:00"}
    deadlines = lambda: api.post("/api/v1/providers/prometric/deadlines", json=body)  # noqa: E731
    assert deadlines().status_code == 200
    m = interleaved(lambda: api.get("/health"), deadlines, calls=50)
    row(backend, "rules API deadlines (POST /api/v1/…/deadlines)", "-", "GET /health", m,
        f"{m.throughput_ratio:.2f}× thr.", "≥ 0.7×", m.throughput_ratio >= 0.7)
    against_bare(backend, "rules API deadlines (POST /api/v1/…/deadlines)", "-", deadlines, "≥ 0.7×", 0.7)


def lists(backend: str, seeded) -> None:
    client, _ = logged_in_client(seeded.app, seeded.email, seeded.password)
    engine = seeded.app.extensions["exam_portal.engine"]
    size = f"{seeded.bookings:,} bookings"
    dashboard = lambda: client.get("/dashboard", headers=HX)  # noqa: E731
    assert dashboard().status_code == 200
    page_bytes = len(dashboard().get_data())
    m = interleaved(lambda: client.get("/health"), dashboard, calls=20)
    row(backend, "dashboard (first page)", size, "GET /health", m, f"{m.throughput_ratio:.2f}× thr.",
        "≥ 0.3× at 1k", m.throughput_ratio >= 0.3 if seeded.bookings == 1000 else None, f"{page_bytes:,} bytes")
    against_bare(backend, "dashboard (first page)", size, dashboard, "≥ 0.3× at 1k", 0.3 if seeded.bookings == 1000 else None)
    floor = replay(engine, capture(engine, dashboard))
    m = interleaved(floor, dashboard, calls=20)
    row(backend, "dashboard first page", size, "its raw SQL", m, f"{m.ratio:.2f}×", "≤ 3× at 100k",
        m.ratio <= 3 if seeded.bookings == 100_000 else None)
    listing = lambda: client.get("/providers/prometric/bookings", headers=HX)  # noqa: E731
    assert listing().status_code == 200
    floor = replay(engine, capture(engine, listing))
    m = interleaved(floor, listing, calls=10)
    row(backend, "bookings list first page", size, "its raw SQL", m, f"{m.ratio:.2f}×", "≤ 2× at 100k",
        m.ratio <= 2 if seeded.bookings == 100_000 else None)


def reader_while_writer(seeded) -> None:
    """SQLite: the same page with and without another connection holding the write lock."""
    client, _ = logged_in_client(seeded.app, seeded.email, seeded.password)
    path = seeded.url.removeprefix("sqlite:///")
    page = lambda: client.get("/dashboard", headers=HX)  # noqa: E731
    page()
    floors, subjects, samples = [], [], []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(10):
            page()
        floors.append((time.perf_counter() - start) / 10)
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE organization SET name = name")
        start = time.perf_counter()
        for _ in range(10):
            t0 = time.perf_counter()
            assert page().status_code == 200
            samples.append(time.perf_counter() - t0)
        subjects.append((time.perf_counter() - start) / 10)
        writer.rollback()
        writer.close()
    m = Measure(statistics.median(floors), statistics.median(subjects), samples)
    row("sqlite", "read-only page while another request holds a write", f"{seeded.bookings:,} bookings",
        "same page unblocked", m, f"{m.ratio:.2f}×", "never waits", m.p(1.0) < 1.0,
        f"slowest {m.p(1.0) * 1e3:.1f} ms")


def main() -> None:
    for backend in backends():
        for n in SIZES:
            url = fresh_database(backend, f"req{n}")
            app = make_app(url)
            started = time.perf_counter()
            seeded = seed(app, url, n)
            print(f"[{backend:10s}] data: {n:,} bookings, {seeded.deadlines:,} stored deadlines "
                  f"(seeded in {time.perf_counter() - started:.1f} s)", flush=True)
            if n == SIZES[0]:
                calculator_and_api(backend, seeded)
            lists(backend, seeded)
            if backend == "sqlite" and n == SIZES[0]:
                reader_while_writer(seeded)
            app.extensions["exam_portal.engine"].dispose()


if __name__ == "__main__":
    main()

"""Benchmarks: each number is a ratio against a floor measured in the same run.

- Rules API endpoints against a bare Flask route (``/health``) served by the same app.
- The business-day count against a naive day-by-day loop asking jpholiday each day.
- Sign-in with an unknown e-mail against a wrong password for a known account (a ratio near
  1.00 means the answer's time does not tell whether an account exists).
Run with ``make bench``. Nothing here asserts a time: read the ratios.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jpholiday  # noqa: E402

from portal import create_app  # noqa: E402
from portal.business_days import BusinessCalendar  # noqa: E402
from portal.rules import ClosureRule, Msg  # noqa: E402

ROUNDS, REPEAT = 300, 5


def best_of(fn, rounds=ROUNDS, repeat=REPEAT) -> float:
    """Median seconds per call over ``repeat`` batches of ``rounds`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        samples.append((time.perf_counter() - start) / rounds)
    return statistics.median(samples)


def api_benchmarks() -> None:
    app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True, "SECRET_KEY": "bench"})
    client = app.test_client()
    floor = best_of(lambda: client.get("/health"))
    print(f"floor: bare Flask route GET /health  {floor * 1e6:8.1f} µs/request (ratio 1.00)")
    providers = app.extensions["exam_portal.providers"]
    for info in providers.all():
        body = {"exam": info.exams[0].code if info.exams else None, "exam_start": "2027-01-05T10:00:00+09:00"}
        url = f"/api/v1/providers/{info.id}/deadlines"
        if client.post(url, json=body).status_code != 200:
            continue
        t = best_of(lambda: client.post(url, json=body))
        print(f"POST {url:45s} {t * 1e6:8.1f} µs/request  ratio {t / floor:5.2f}")


def calendar_benchmark() -> None:
    closures = [ClosureRule(date(2000, 12, 29), date(2001, 1, 3), Msg("年末年始", "year end"), yearly=True)]
    calendar = BusinessCalendar(closures)
    days = [date(2026, 1, 1) + timedelta(days=i * 7) for i in range(52)]

    def naive(d: date, n: int) -> date:
        while n:
            d -= timedelta(days=1)
            if d.weekday() < 5 and not jpholiday.is_holiday(d) and not ((d.month, d.day) >= (12, 29) or (d.month, d.day) <= (1, 3)):
                n -= 1
        return d

    floor = best_of(lambda: [naive(d, 4) for d in days], rounds=20)
    fast = best_of(lambda: [calendar.business_days_before(d, 4) for d in days], rounds=20)
    print(f"floor: naive day-by-day jpholiday loop (52 deadlines) {floor * 1e3:8.2f} ms (ratio 1.00)")
    print(f"BusinessCalendar.business_days_before (52 deadlines) {fast * 1e3:8.2f} ms  ratio {fast / floor:5.2f}")


def login_benchmark() -> None:
    import re
    import tempfile

    from portal import db, migrate
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization
    folder = tempfile.mkdtemp()
    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.db", "TESTING": True, "SECRET_KEY": "bench",
                      "LOGIN_LIMIT_PER_ACCOUNT": "1000000 per second", "LOGIN_LIMIT_PER_ADDRESS": "1000000 per second"})
    with app.app_context():
        migrate.upgrade(app)
        with db.transaction() as s:
            org = create_organization(s, "bench")
            s.add(User(organization_id=org.id, email="known@example.jp", name="b", role="admin",
                       password_hash=hash_password("right password")))
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)

    def attempt(email):
        return lambda: client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token})
    known = best_of(attempt("known@example.jp"), rounds=10)
    unknown = best_of(attempt("nobody@example.jp"), rounds=10)
    print(f"floor: POST /login, known account, wrong password {known * 1e3:8.1f} ms (ratio 1.00)")
    print(f"POST /login, unknown account                     {unknown * 1e3:8.1f} ms  ratio {unknown / known:5.2f}")


if __name__ == "__main__":
    os.environ.setdefault("EXAM_PORTAL_PLUGINS", "")
    api_benchmarks()
    calendar_benchmark()
    login_benchmark()

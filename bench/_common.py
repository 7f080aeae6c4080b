"""Shared bench helpers: databases of each backend, seeded data, interleaved timing, the table.

Every figure is a ratio against a floor timed in the same run: the subject and its floor are
timed in alternating batches (interleaved rounds) and the medians compared, so that the
machine's load affects both alike. Nothing here asserts a time.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("EXAM_PORTAL_PLUGINS", "")  # the bundled plugins (entry points) only

from sqlalchemy import create_engine, insert, text  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(","))


# --------------------------------------------------------------------------- backends


def backends() -> list[str]:
    """SQLite always; PostgreSQL when TEST_DATABASE_URL is set (as ``make test``);
    ``BENCH_BACKENDS=postgresql`` (say) keeps only some."""
    found = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
    only = [b for b in os.environ.get("BENCH_BACKENDS", "").split(",") if b]
    return [b for b in found if not only or b in only]


def fresh_database(backend: str, tag: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'bench-{tag}-')) / 'portal.db'}"
    url = os.environ["TEST_DATABASE_URL"]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def make_app(url: str):
    """The app on a migrated database, its start-up objects frozen out of the garbage
    collector as gunicorn.conf.py does for each worker."""
    import gc
    from portal import create_app, migrate
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        migrate.upgrade(app)
    gc.collect()
    gc.freeze()
    return app


# --------------------------------------------------------------------------- data


@dataclass
class Seeded:
    app: object
    url: str
    org_id: int
    email: str
    password: str
    bookings: int
    deadlines: int
    now: datetime


def seed(app, url: str, bookings: int, provider: str = "prometric", per_session: int = 20) -> Seeded:
    """An organisation with ``bookings`` active bookings of one provider on sessions spread
    over the coming year, their deadlines stored by the real recompute (bulk inserts)."""
    from portal import db, recompute
    from portal.auth import hash_password
    from portal.models import Booking, Candidate, ExamSession, User
    from portal.orgs import create_organization
    from portal.rule_context import org_context
    from portal.rules.parse import now_jst
    now = now_jst().replace(microsecond=0)
    email, password = "bench@example.jp", "bench-pw-1"
    with app.app_context():
        with db.transaction() as s:
            org = create_organization(s, "ベンチ校")
            s.add(User(organization_id=org.id, email=email, name="ベンチ", role="admin",
                       password_hash=hash_password(password)))
            s.flush()
            org_id = org.id
        info = app.extensions["exam_portal.providers"].info(provider)
        exam = info.exams[0].code
        with db.transaction() as s:
            conn = s.connection()
            conn.execute(insert(Candidate), [{"organization_id": org_id, "family_name": f"受験{i}", "given_name": "太郎"}
                                             for i in range(max(per_session, bookings // 10))])
            candidate_ids = [r[0] for r in conn.execute(text("SELECT id FROM candidate ORDER BY id"))]
            n_sessions = max(1, bookings // per_session)
            conn.execute(insert(ExamSession), [
                {"organization_id": org_id, "provider": provider, "exam": exam, "venue": f"会場{i % 7}",
                 "start": (now + timedelta(days=3 + (i * 360) // n_sessions)).replace(hour=10, minute=0, second=0),
                 "end": (now + timedelta(days=3 + (i * 360) // n_sessions)).replace(hour=12, minute=0, second=0),
                 "capacity": per_session + 5, "seats_taken": per_session} for i in range(n_sessions)])
            session_ids = [r[0] for r in conn.execute(text("SELECT id FROM exam_session ORDER BY id"))]
            # Consecutive bookings fill a session, each with another candidate (one booking
            # per candidate and session).
            rows = [{"organization_id": org_id, "candidate_id": candidate_ids[i % len(candidate_ids)],
                     "session_id": session_ids[(i // per_session) % len(session_ids)], "provider": provider, "exam": exam,
                     "payment_method": "credit_card", "paid": True, "amount": 16500, "booked_at": now,
                     "first_booked_at": now, "status": "booked"} for i in range(bookings)]
            for i in range(0, len(rows), 10000):
                conn.execute(insert(Booking), rows[i:i + 10000])
        with db.transaction() as s:
            ctx = org_context(s, org_id, provider)
            stored = recompute.apply(s, ctx, recompute.plan(s, ctx, org_id))
    engine = app.extensions["exam_portal.engine"]
    with engine.connect() as conn:  # fresh statistics, as autovacuum / a periodic ANALYZE would keep them
        conn.execute(text("ANALYZE"))
        conn.commit()
    return Seeded(app, url, org_id, email, password, bookings, stored, now)


def logged_in_client(app, email: str, password: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, "bench login failed"
    page = client.get("/dashboard").get_data(as_text=True)
    return client, re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


# --------------------------------------------------------------------------- timing


@dataclass
class Measure:
    floor: float  # median seconds per call
    subject: float
    samples: list[float] = field(default_factory=list)  # the subject's single calls (for p99)

    @property
    def ratio(self) -> float:
        return self.subject / self.floor

    @property
    def throughput_ratio(self) -> float:
        return self.floor / self.subject

    def p(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def interleaved(floor: Callable[[], object], subject: Callable[[], object], calls: int = 20,
                rounds: int = ROUNDS, warmup: int = 2) -> Measure:
    """Alternate batches of ``calls`` floor calls and subject calls for ``rounds`` rounds;
    compare the medians of the per-call batch means."""
    for _ in range(warmup):
        floor()
        subject()
    floors, subjects, samples = [], [], []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            floor()
        floors.append((time.perf_counter() - start) / calls)
        start = time.perf_counter()
        for _ in range(calls):
            t0 = time.perf_counter()
            subject()
            samples.append(time.perf_counter() - t0)
        subjects.append((time.perf_counter() - start) / calls)
    return Measure(statistics.median(floors), statistics.median(subjects), samples)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def row(backend: str, what: str, size: str, floor_name: str, m: Measure, figure: str, target: str,
        met: bool | None, extra: str = "") -> None:
    """One printed line of the table (flushed at once: modules run as subprocesses)."""
    verdict = "—" if met is None else ("MET" if met else "NOT MET")
    print(f"[{backend:10s}] {what:58s} {size:>16s} | floor: {floor_name} {fmt_time(m.floor):>10s} | "
          f"{fmt_time(m.subject):>10s} | {figure:>12s} | target {target:>16s} {verdict}{'  ' + extra if extra else ''}",
          flush=True)


def replay(engine, statements: list[tuple[str, object]]) -> Callable[[], None]:
    """The raw SQL a page ran (captured with :func:`capture`), replayed through the DB-API
    cursor with the same parameters and every row fetched: the page's floor."""
    def run() -> None:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in statements:
                if statement.lstrip().upper().startswith("BEGIN"):
                    continue
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            raw.rollback()
        finally:
            raw.close()
    return run


def capture(engine, fn: Callable[[], object]) -> list[tuple[str, object]]:
    from sqlalchemy import event
    seen: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


# --------------------------------------------------------------------------- HTTP (gunicorn on loopback)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], *options: str, ready: str = "/health") -> Iterator[str]:
    """``gunicorn app`` on 127.0.0.1 on a free port, run from the repository (so it reads
    gunicorn.conf.py; ``options`` override it); yields the base URL once ``ready`` answers,
    and ends the server's process group on the way out, also on error."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               *options, app], cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + ready, timeout=5)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {app} did not start (exit code {server.poll()})") from None
                time.sleep(0.2)
        yield base
    finally:
        _end(server)


def _end(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (master and workers), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
            server.wait(20)
            return
        except ProcessLookupError:  # already gone
            server.wait()
            return
        except subprocess.TimeoutExpired:
            continue


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


#: The browser's name, sent with every request as a browser does: Flask-Login's session
#: protection ties the session to it, and a request under another name (a load generator's
#: own) would mark the session not fresh and re-sign the cookie on every response.
USER_AGENT = "exam-portal-bench/1 (like a browser)"


class Browser:
    """One signed-in operator over HTTP: cookies shared by every thread (a signed cookie session)."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.token = ""

    def request(self, method: str, path: str, data: dict | None = None, htmx: bool = True) -> tuple[int, str]:
        body = urllib.parse.urlencode(data or {}).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method, headers={"User-Agent": USER_AGENT})
        if self.token:
            req.add_header("X-CSRFToken", self.token)
        if htmx:
            req.add_header("HX-Request", "true")
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def login(self, email: str, password: str) -> None:
        """Sign in through the login form; keep the page's CSRF token for the htmx requests."""
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _ = self.request("POST", "/login", {"email": email, "password": password, "csrf_token": token})
        assert status == 302, status
        _, home = self.request("GET", "/providers/prometric", htmx=False)
        self.token = re.search(r'"X-CSRFToken": "([^"]+)"', home).group(1)

    def cookie_header(self) -> str:
        """The session as a ``Cookie`` header, for a load generator that sends it as it is."""
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

"""Odyssey CSV import, per row, against its floor timed in the same run (issue 10).

Floor: what any import of the file must do — decode and ``csv.reader`` the same bytes and
``executemany`` the same candidate rows and test rows into the same tables. Measured:
``services.import_csv`` (decode, validate every cell, the retake history, the import
record, candidates, tests, audit) on the same file for the same exam day. Each round runs
floor and import back to back (interleaved), both in a transaction that is rolled back;
the figure is the median over the rounds. Nothing here asserts a time.

    python bench/odyssey_import.py [rows ...]
        SQLite in a temporary folder, and PostgreSQL too when BENCH_DATABASE_URL (or else
        TEST_DATABASE_URL) is set; there the bench's organisation is deleted afterwards.
"""
from __future__ import annotations

import csv
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text  # noqa: E402

from portal import create_app, db, migrate  # noqa: E402
from portal.rules import JST  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))  # bench/run.py passes its rounds
SIZES = (100, 1000, 5000)


def _setup(url: str):
    """A migrated database with one organisation, its operator and a draft exam day."""
    from portal.auth import hash_password
    from portal.models import User
    from portal.orgs import create_organization
    from plugins.odyssey import services

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        migrate.upgrade(app)
        with db.transaction() as s:
            org = create_organization(s, f"bench {time.time_ns()}")
            user = User(organization_id=org.id, email=f"bench-{time.time_ns()}@example.jp", name="bench", role="admin",
                        password_hash=hash_password("bench-pw-1"))
            s.add(user)
            s.flush()
            org_id, user_id = org.id, user.id
        now = datetime.now(JST)
        start = now.replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=45)
        for _ in range(30):  # the first date the rules accept (no weekend, holiday or closure day)
            try:
                with db.transaction() as s:
                    day = services.create_exam_day(s, services.rule_context(s, org_id), org_id, user_id, start, now)
                break
            except Exception:  # noqa: BLE001 — a refused date: try the next one
                start += timedelta(days=1)
    return app, org_id, user_id, day.id, now


def _floor(app, data: bytes, org_id: int, day_id: int, now: datetime) -> float:
    """What any import of the file must do, and nothing else: csv parse, executemany of the
    same candidate rows, their ids by line, executemany of the same test rows; rolled back."""
    from plugins.odyssey.models import OdysseyApplicationTest, OdysseyCandidate
    candidate_table, test_table = OdysseyCandidate.__table__, OdysseyApplicationTest.__table__
    engine = app.extensions["exam_portal.engine"]
    begin = time.perf_counter()
    rows = list(csv.reader(io.StringIO(data.decode("cp932"), newline="")))
    candidates = [dict(organization_id=org_id, exam_day_id=day_id, line=line, family_name=r[0], given_name=r[1],
                       family_kana=r[2], given_kana=r[3], gender=r[4], postal_code=r[6], prefecture=r[7], city=r[8],
                       street=r[9], candidate_type=int(r[19]), self_exam=False, late_addition=False, purged=False,
                       created_at=now)
                  for line, r in enumerate(rows, start=1)]
    with engine.connect() as conn:
        conn.execute(insert(candidate_table), candidates)
        ids = dict(conn.execute(select(candidate_table.c.line, candidate_table.c.id)
                                .where(candidate_table.c.exam_day_id == day_id, candidate_table.c.line.is_not(None))).all())
        tests = [dict(organization_id=org_id, exam_day_id=day_id, candidate_id=ids[line], subject_code=cell.split()[0],
                      subject_name=cell, family="", price_kind="general", period="", ticket="", fee=0, commission=0,
                      late_addition=False)
                 for line, r in enumerate(rows, start=1) for cell in r[14:19] if cell]
        conn.execute(insert(test_table), tests)
        conn.rollback()
    return time.perf_counter() - begin


def _import(app, data: bytes, org_id: int, user_id: int, day_id: int, now: datetime) -> float:
    """The real service, rolled back (so every round imports into the same draft day)."""
    from plugins.odyssey import services
    from plugins.odyssey.models import OdysseyExamDay
    with app.app_context():
        s = db.session()
        day = s.get(OdysseyExamDay, day_id)
        services.subjects(s, org_id)  # the catalog is loaded once per organisation, not per import
        s.commit()
        begin = time.perf_counter()
        result = services.import_csv(s, org_id, user_id, day, data, "bench.csv", now)
        s.flush()
        elapsed = time.perf_counter() - begin
        s.rollback()
        assert result.ok and not result.errors, result.errors[:3]
    return elapsed


def run(url: str, sizes=SIZES, rounds: int = ROUNDS) -> None:
    from plugins.odyssey.tests.samples import csv_bytes
    app, org_id, user_id, day_id, now = _setup(url)
    backend = app.extensions["exam_portal.engine"].dialect.name
    for size in sizes:
        data = csv_bytes(size)
        _floor(app, data, org_id, day_id, now), _import(app, data, org_id, user_id, day_id, now)  # warm up
        floors, imports = [], []
        for _ in range(rounds):  # interleaved: floor and import share the machine's state of the moment
            floors.append(_floor(app, data, org_id, day_id, now))
            imports.append(_import(app, data, org_id, user_id, day_id, now))
        floor, measured = statistics.median(floors), statistics.median(imports)
        print(f"odyssey CSV import  {backend:10s} {size:6d} rows  floor (csv + executemany) {floor / size * 1e6:7.1f} µs/row  "
              f"import {measured / size * 1e6:7.1f} µs/row  ratio {measured / floor:5.2f}  (target ≤ 3, median of {rounds})")
    _delete_organization(app, org_id)
    app.extensions["exam_portal.engine"].dispose()


def _delete_organization(app, org_id: int) -> None:
    """Leave a shared database as it was: every row of the bench's organisation."""
    from sqlmodel import SQLModel
    engine = app.extensions["exam_portal.engine"]
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if "organization_id" in table.c:
                conn.execute(table.delete().where(table.c.organization_id == org_id))
        conn.execute(text("DELETE FROM organization WHERE id = :id"), {"id": org_id})


def main(argv: list[str] | None = None) -> None:
    """Run on SQLite, and on PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set."""
    sizes = tuple(int(a) for a in argv or ()) or SIZES
    with tempfile.TemporaryDirectory() as folder:
        run(f"sqlite:///{folder}/bench.db", sizes)
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        run(url, sizes)


if __name__ == "__main__":
    main(sys.argv[1:])

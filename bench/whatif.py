"""What-if preview of a closure edit at 1k / 10k / 100k stored deadlines, as a ratio against
the recompute's floor timed in the same run: one UPDATE over the same rows.

Each size: one organisation, Prometric bookings (two stored deadlines each: change, cancel)
in sessions on one Monday (36 distinct start times), and a closure of the four business days
before it, which moves every one of them (the worst case: the plan holds every stored deadline). Timed,
interleaved, median of ``ROUNDS``:

- floor: ``UPDATE booking_deadline SET at = at`` over the organisation's rows (rolled back);
- preview: :func:`portal.whatif.preview` (read-only transaction: plan + the listed page described);
- save: the same plan computed and applied in a write transaction (rolled back), for comparison.

Run ``python bench/whatif.py`` (``make bench`` runs it after bench/run.py). SQLite in a
temporary file, or ``BENCH_DATABASE_URL`` / ``TEST_DATABASE_URL`` (PostgreSQL; its public
schema is reset). ``BENCH_SIZES=1000,10000,100000`` chooses the sizes (stored deadlines).
Nothing here asserts a time: read the ratios.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, time as clock, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402

from portal import create_app, db, migrate, whatif  # noqa: E402
from portal.models import Booking, BookingDeadline, Candidate, ExamSession  # noqa: E402
from portal.orgs import create_organization  # noqa: E402
from portal.rules import JST, ClosureRule, DeadlineQuery, Msg  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PROVIDER = "prometric"
EXAM_WEEK = date(2027, 6, 7)  # Monday; no holiday in the week before (PRM-DL-1 counts back into it)
CLOSURE = ClosureRule(date(2027, 6, 1), date(2027, 6, 4), Msg("システム保守", "maintenance"))
PER_SESSION = 50


def _database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        from sqlalchemy import create_engine
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tempfile.mkdtemp(prefix='bench-whatif-')}/bench.db"


def _seed(app, deadlines: int) -> int:
    """An organisation with ``deadlines`` stored deadlines (bulk inserts; the deadlines are
    the provider's answers, as booking would store them)."""
    bookings = deadlines // 2
    with app.test_request_context("/"):
        providers = app.extensions["exam_portal.providers"]
        with db.transaction() as s:
            org = create_organization(s, f"bench {deadlines}")
            exam = providers.info(PROVIDER).exams[0].code
            s.execute(insert(Candidate.__table__), [
                {"organization_id": org.id, "family_name": "受験", "given_name": f"{i:05d}", "family_kana": "",
                 "given_kana": "", "email": "", "created_at": datetime.now(JST)} for i in range(min(bookings, 2000))])
            candidate_ids = [r[0] for r in s.execute(text(
                "SELECT id FROM candidate WHERE organization_id = :o ORDER BY id"), {"o": org.id}).all()]
            sessions = -(-bookings // PER_SESSION)
            starts = [datetime.combine(EXAM_WEEK, clock(9 + i % 9, 15 * (i // 9 % 4)), JST) for i in range(sessions)]
            s.execute(insert(ExamSession.__table__), [
                {"organization_id": org.id, "provider": PROVIDER, "exam": exam, "venue": f"会場{i}", "start": start,
                 "end": start + timedelta(hours=1), "capacity": PER_SESSION, "seats_taken": PER_SESSION}
                for i, start in enumerate(starts)])
            session_rows = s.execute(text("SELECT id, start FROM exam_session WHERE organization_id = :o ORDER BY id"),
                                     {"o": org.id}).all()
            from portal.rule_context import org_context
            ctx = org_context(s, org.id, PROVIDER)
            answers = {start: providers.deadlines(ctx, DeadlineQuery(exam, start)) for start in set(starts)}
            now = datetime.now(JST)
            booking_rows = []
            for n in range(bookings):
                session_id = session_rows[n // PER_SESSION][0]
                start = starts[n // PER_SESSION]
                booking_rows.append({
                    "organization_id": org.id, "candidate_id": candidate_ids[n % len(candidate_ids)],
                    "session_id": session_id, "provider": PROVIDER, "exam": exam, "payment_method": "credit_card",
                    "paid": True, "amount": 1000, "booked_at": now, "first_booked_at": now, "status": "booked",
                    "needs_reauthorization": False, "next_deadline_at": min(d.at for d in answers[start])})
            s.execute(insert(Booking.__table__), booking_rows)
            ids = [r[0] for r in s.execute(text("SELECT id FROM booking WHERE organization_id = :o ORDER BY id"),
                                           {"o": org.id}).all()]
            s.execute(insert(BookingDeadline.__table__), [
                {"organization_id": org.id, "booking_id": booking_id, "kind": d.kind, "at": d.at, "rule": d.rule,
                 "explanation_ja": d.explanation.ja, "explanation_en": d.explanation.en}
                for n, booking_id in enumerate(ids) for d in answers[starts[n // PER_SESSION]]])
            return org.id


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(app, org_id: int, deadlines: int) -> None:
    engine = app.extensions["exam_portal.engine"]
    edit = whatif.RulesEdit(add_closures=(CLOSURE,))

    def floor():
        with engine.connect() as conn:
            with conn.begin() as tx:
                conn.execute(text("UPDATE booking_deadline SET at = at WHERE organization_id = :o"), {"o": org_id})
                tx.rollback()

    def preview():
        with app.test_request_context("/"):
            result = whatif.preview(org_id, PROVIDER, edit)
            assert result.moved == deadlines, (result.moved, deadlines)

    def save():
        from portal.models import ClosureDay
        with app.test_request_context("/"):
            try:
                with db.transaction() as s:
                    with whatif.recomputing(s, org_id, PROVIDER) as done:
                        s.add(ClosureDay(organization_id=org_id, provider=PROVIDER, start_date=CLOSURE.start,
                                         end_date=CLOSURE.end, label_ja=CLOSURE.label.ja, label_en=CLOSURE.label.en))
                    assert done.moved == deadlines
                    raise _Rollback
            except _Rollback:
                pass

    samples = {"floor": [], "preview": [], "save": []}
    for _ in range(ROUNDS):  # interleaved: a slow moment of the shared machine hits all three
        samples["floor"].append(_timed(floor))
        samples["preview"].append(_timed(preview))
        samples["save"].append(_timed(save))
    f, p, w = (statistics.median(samples[k]) for k in ("floor", "preview", "save"))
    print(f"{deadlines:>7,} deadlines  floor: one UPDATE over the same rows {f * 1e3:9.1f} ms (ratio 1.00)")
    print(f"{'':>7}            preview (read-only plan + listed page) {p * 1e3:9.1f} ms  ratio {p / f:6.2f}")
    print(f"{'':>7}            save (plan + apply + moves logged)     {w * 1e3:9.1f} ms  ratio {w / f:6.2f}")


class _Rollback(Exception):
    pass


def main() -> None:
    os.environ.setdefault("EXAM_PORTAL_PLUGINS", PROVIDER)
    url = _database_url()
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
    with app.app_context():
        migrate.upgrade(app)
    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]
    print(f"what-if preview of a closure edit moving every stored deadline ({engine_name(url)}, median of {ROUNDS})")
    for size in sizes:
        org_id = _seed(app, size)
        measure(app, org_id, size)


def engine_name(url: str) -> str:
    return url.split(":", 1)[0]


if __name__ == "__main__":
    main()

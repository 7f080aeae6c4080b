"""Real database behaviour: migrations match the models, seats under concurrency,
timezone-aware datetimes on every backend."""
import threading
from datetime import datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, select

from helpers import make_candidate, make_session
from portal import bookings, db
from portal.models import Booking, ExamSession
from portal.rules import JST

FUTURE = datetime.now(JST).replace(microsecond=0) + timedelta(days=40)


def test_migrations_match_the_models(app):
    engine = app.extensions["exam_portal.engine"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []


def test_datetimes_round_trip_as_japan_time(app, org_factory):
    org_id = org_factory()[0]
    start = datetime(2026, 12, 31, 23, 30, tzinfo=JST)
    session_id = make_session(app, org_id, start=start)
    with app.app_context():
        stored = db.session().get(ExamSession, session_id)
        assert stored.start == start and stored.start.utcoffset() == timedelta(hours=9)


def _race(app, org_id, session_id, candidates):
    """Each thread books through the real service in its own transaction at the same moment."""
    barrier = threading.Barrier(len(candidates))
    results = []

    def worker(candidate_id):
        with app.app_context():
            barrier.wait()
            try:
                with db.transaction() as s:
                    bookings.book(s, org_id, None, bookings.NewBooking(candidate_id, session_id, "credit_card", True, 16500, None, None))
                results.append("ok")
            except bookings.SeatTaken:
                results.append("full")
            except Exception as exc:  # anything else is a failure the assertions will show
                results.append(f"error: {exc!r}")

    threads = [threading.Thread(target=worker, args=(c,)) for c in candidates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_operators_racing_for_the_last_seat_get_exactly_one_booking(app, org_factory):
    org_id = org_factory()[0]
    for round_ in range(5):
        session_id = make_session(app, org_id, start=FUTURE + timedelta(days=round_), capacity=1)
        candidates = [make_candidate(app, org_id, given=f"{round_}-{i}") for i in range(2)]
        results = _race(app, org_id, session_id, candidates)
        assert sorted(results) == ["full", "ok"], results
        with app.app_context():
            assert db.session().get(ExamSession, session_id).seats_taken == 1
            assert len(db.session().exec(select(Booking).where(Booking.session_id == session_id)).all()) == 1


def test_many_operators_never_overbook(app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=FUTURE, capacity=3)
    candidates = [make_candidate(app, org_id, given=str(i)) for i in range(8)]
    results = _race(app, org_id, session_id, candidates)
    assert results.count("ok") == 3 and results.count("full") == 5, results
    with app.app_context():
        assert db.session().get(ExamSession, session_id).seats_taken == 3

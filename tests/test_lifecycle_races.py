"""Races with real threads, each in its own app context, session and database connection,
released together by a barrier (PostgreSQL when TEST_DATABASE_URL is set; SQLite
serialises writers, so the same outcomes must hold there too)."""
from __future__ import annotations

import re
import threading
from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import func, select

from conftest import csrf_token, login
from helpers import make_booking, make_candidate, make_session
from portal import db, lifecycle
from portal.models import AuditEvent, Booking, ExamSession
from portal.rules import JST, RuleError

FUTURE = datetime.now(JST).replace(microsecond=0, second=0, minute=0) + timedelta(days=40)


def _race(app, jobs, seen=None):
    """Run each job(s[, booking]) in its own thread and transaction at the same moment;
    returns the outcomes: "ok" or the refusal's code (anything else is an error the test
    shows). With ``seen`` (a booking id), each thread first reads the booking, as the page
    its request comes from showed it, and acts on what it read."""
    barrier = threading.Barrier(len(jobs))
    results: list[str] = []
    lock = threading.Lock()

    def worker(job):
        with app.app_context():
            try:
                args = ()
                if seen is not None:
                    args = (db.session().get(Booking, seen),)
                    db.session().commit()  # the page was rendered: its read is over
                barrier.wait(timeout=30)
                with db.transaction() as s:
                    job(s, *args)
                outcome = "ok"
            except RuleError as exc:
                outcome = exc.code
            except Exception as exc:  # noqa: BLE001  (shown by the assertions)
                outcome = f"error: {exc!r}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return Counter(results)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(model).where(*where)).one()


def _seats(app, session_id) -> int:
    with app.app_context():
        return db.session().get(ExamSession, session_id).seats_taken


def _book_job(org_id, candidate_id, session_id, method="credit_card", voucher=None):
    data = lifecycle.NewBooking(candidate_id, session_id, method, True, 16500, None, voucher)
    return lambda s: lifecycle.book(s, org_id, None, data)


def test_fifty_bookings_for_ten_seats_make_exactly_ten(app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=FUTURE, capacity=10)
    candidates = [make_candidate(app, org_id, given=str(i)) for i in range(50)]
    results = _race(app, [_book_job(org_id, c, session_id) for c in candidates])
    assert results["ok"] == 10 and results["ok"] + results["no_seat"] == 50, results
    assert _seats(app, session_id) == 10
    assert _count(app, Booking, Booking.session_id == session_id, Booking.status == "booked") == 10
    assert _count(app, AuditEvent, AuditEvent.entity == "booking", AuditEvent.action == "book") == 10


def test_five_concurrent_cancels_of_one_booking_cancel_once(app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=FUTURE, capacity=10)
    others = [make_booking(app, org_id, session_id, make_candidate(app, org_id, given=f"o{i}")) for i in range(3)]
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))

    def cancel(s, booking):
        lifecycle.cancel(s, booking, None, None)

    results = _race(app, [cancel] * 5, seen=booking_id)
    assert results["ok"] == 1 and sum(results.values()) == 5, results
    assert set(results) <= {"ok", "changed_meanwhile", "not_allowed_in_state"}, results
    assert _seats(app, session_id) == len(others)  # released once: 4 → 3
    assert _count(app, AuditEvent, AuditEvent.entity_id == booking_id, AuditEvent.action == "cancel") == 1
    # Refilling the session can never exceed its capacity.
    refill = [_book_job(org_id, make_candidate(app, org_id, given=f"r{i}"), session_id) for i in range(12)]
    _race(app, refill)
    assert _seats(app, session_id) == 10 == _count(app, Booking, Booking.session_id == session_id, Booking.status == "booked")


def test_eight_bookings_with_one_voucher_make_one(app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=FUTURE, capacity=20)
    candidates = [make_candidate(app, org_id, given=str(i)) for i in range(8)]
    results = _race(app, [_book_job(org_id, c, session_id, "voucher", "V-RACE") for c in candidates])
    assert results["ok"] == 1 and results["voucher_in_use"] == 7, results
    assert _count(app, Booking, Booking.voucher_code == "V-RACE") == 1
    assert _seats(app, session_id) == 1


def test_a_change_racing_a_cancel_lets_exactly_one_happen(app, org_factory):
    org_id = org_factory()[0]
    for round_ in range(4):
        first = make_session(app, org_id, start=FUTURE + timedelta(days=round_), capacity=5)
        second = make_session(app, org_id, start=FUTURE + timedelta(days=round_, hours=3), capacity=5)
        booking_id = make_booking(app, org_id, first, make_candidate(app, org_id, given=f"c{round_}"))

        def change(s, booking):
            lifecycle.change(s, booking, second, None)

        def cancel(s, booking):
            lifecycle.cancel(s, booking, None, None)

        results = _race(app, [change, cancel] if round_ % 2 else [cancel, change], seen=booking_id)
        assert results["ok"] == 1 and sum(results.values()) == 2, results
        with app.app_context():
            booking = db.session().get(Booking, booking_id)
        if booking.status == "booked":  # the change won
            assert booking.session_id == second and (_seats(app, first), _seats(app, second)) == (0, 1)
        else:  # the cancel won
            assert booking.status == "cancelled" and (_seats(app, first), _seats(app, second)) == (0, 0)
        assert _count(app, AuditEvent, AuditEvent.entity_id == booking_id, AuditEvent.entity == "booking") == 2


def test_the_same_form_posted_twice_at_once_books_once(app, org_factory):
    org_id, _, email, password = org_factory()
    session_id = make_session(app, org_id, start=FUTURE, capacity=5)
    candidate_id = make_candidate(app, org_id)
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for client in clients:
        login(client, email, password)
        tokens.append(csrf_token(client))
    page = clients[0].get(f"/providers/sample/book?session={session_id}").get_data(as_text=True)
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    form = {"session_id": session_id, "candidate_id": candidate_id, "payment_method": "credit_card", "submission_key": key}
    barrier = threading.Barrier(2)
    answers = []

    def post(client, token):
        barrier.wait(timeout=30)
        r = client.post("/providers/sample/book", data=form, headers={"X-CSRFToken": token, "HX-Request": "true"})
        answers.append((r.status_code, r.headers.get("HX-Redirect")))

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 2 and {a[0] for a in answers} == {204}, answers
    assert answers[0][1] == answers[1][1]  # both answered with the one booking
    assert _count(app, Booking, Booking.candidate_id == candidate_id) == 1 and _seats(app, session_id) == 1

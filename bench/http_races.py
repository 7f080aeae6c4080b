"""The booking races of issue 9, tried over real HTTP against gunicorn (loopback only).

    RACE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<your db> \
        .venv/bin/python bench/http_races.py [--workers 4]

(``make bench`` runs it on TEST_DATABASE_URL when that is set, and says it did not run otherwise.)

Migrates the database (it is not emptied: a fresh organisation is created for the run),
starts ``gunicorn -w N 'portal:create_app()'`` on 127.0.0.1 on a free port, signs in once and fires each
race as simultaneous POSTs of the real forms (CSRF token, submission key, expected state),
then reads the outcome from the database. Prints one line per race; exits 1 if any race
lost a promise (overbooking, a voucher held twice, a double booking, a wrong counter).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from _common import Browser, gunicorn  # the repository on sys.path too

from sqlmodel import func, select  # noqa: E402

from portal import create_app, db, migrate  # noqa: E402
from portal.auth import hash_password  # noqa: E402
from portal.models import Booking, Candidate, ExamSession, User  # noqa: E402
from portal.orgs import create_organization  # noqa: E402
from portal.rules import JST  # noqa: E402

PASSWORD = "race-" + secrets.token_hex(6)


def fire(posts) -> Counter:
    """Send every (browser, path, form) at the same moment; count the status codes."""
    barrier = threading.Barrier(len(posts))
    codes: list[int] = []
    lock = threading.Lock()

    def one(browser, path, form):
        barrier.wait()
        status, _ = browser.request("POST", path, form)
        with lock:
            codes.append(status)

    threads = [threading.Thread(target=one, args=p) for p in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return Counter(codes)


def key() -> str:
    return secrets.token_urlsafe(18)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    url = os.environ.get("RACE_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url:
        print("not run: the races need PostgreSQL (RACE_DATABASE_URL, or TEST_DATABASE_URL as make bench uses)")
        return 0
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "race-" + secrets.token_hex(8)})
    with app.app_context():
        migrate.upgrade(app)
        with db.transaction() as s:
            org = create_organization(s, "HTTP race " + secrets.token_hex(3))
            email = f"race-{secrets.token_hex(4)}@example.jp"
            s.add(User(organization_id=org.id, email=email, name="race", role="admin", password_hash=hash_password(PASSWORD)))
            start = datetime.now(JST).replace(second=0, microsecond=0) + timedelta(days=40)
            sessions = {}
            for name, capacity, days in (("ten", 10, 0), ("cancel", 10, 1), ("voucher", 20, 2), ("double", 5, 3),
                                         ("from", 5, 4), ("to", 5, 5)):
                row = ExamSession(organization_id=org.id, provider="prometric", exam="RUBY-SILVER", venue=name,
                                  start=start + timedelta(days=days), end=start + timedelta(days=days, hours=2),
                                  capacity=capacity)
                s.add(row)
                s.flush()
                sessions[name] = row.id
            candidate = Candidate(organization_id=org.id, family_name="二重", given_name="送信")
            s.add(candidate)
            s.flush()
        org_id, candidate_id = org.id, candidate.id
    failures = []
    with gunicorn("portal:create_app()", {"DATABASE_URL": url, "SECRET_KEY": app.config["SECRET_KEY"]},
                  "-w", str(args.workers)) as base:
        browser = Browser(base)
        browser.login(email, PASSWORD)

        def count(*where) -> int:
            with app.app_context():
                return db.session().exec(select(func.count()).select_from(Booking).where(
                    Booking.organization_id == org_id, *where)).one()

        def seats(name) -> int:
            with app.app_context():
                return db.session().get(ExamSession, sessions[name]).seats_taken

        def new_person(i, **extra):
            return {"session_id": sessions[extra.pop("session")], "family_name": "競合", "given_name": f"{i}",
                    "payment_method": extra.pop("method", "credit_card"), "submission_key": key(), **extra}

        def report(name, ok, detail):
            print(f"{'ok  ' if ok else 'LOST'} {name:42s} {detail}")
            if not ok:
                failures.append(name)

        t0 = time.perf_counter()
        codes = fire([(browser, "/providers/prometric/book", new_person(i, session="ten")) for i in range(50)])
        booked = count(Booking.session_id == sessions["ten"], Booking.status == "booked")
        report("50 bookings for 10 seats", booked == 10 == seats("ten"),
               f"active={booked} seats_taken={seats('ten')} http={dict(codes)} {time.perf_counter() - t0:.2f}s")

        for i in range(4):
            browser.request("POST", "/providers/prometric/book", new_person(f"c{i}", session="cancel"))
        target = _latest(app, org_id, sessions["cancel"])
        _, page = browser.request("GET", f"/bookings/{target}")
        expected = re.search(r'name="expected_state" value="([^"]+)"', page).group(1)
        codes = fire([(browser, f"/bookings/{target}/cancel", {"submission_key": key(), "expected_state": expected})
                      for _ in range(5)])
        cancels = _audit(app, target, "cancel")
        report("5 concurrent cancels of one booking", cancels == 1 and seats("cancel") == 3,
               f"cancels={cancels} seats_taken={seats('cancel')} http={dict(codes)}")
        fire([(browser, "/providers/prometric/book", new_person(f"r{i}", session="cancel")) for i in range(12)])
        active = count(Booking.session_id == sessions["cancel"], Booking.status == "booked")
        report("refill after the cancels", active == seats("cancel") == 10,
               f"active={active} seats_taken={seats('cancel')} (capacity 10)")

        codes = fire([(browser, "/providers/prometric/book",
                       new_person(f"v{i}", session="voucher", method="voucher", voucher_code="V-HTTP")) for i in range(8)])
        holders = count(Booking.voucher_code == "V-HTTP")
        report("8 bookings with one voucher", holders == 1, f"bookings={holders} http={dict(codes)}")

        form = {"session_id": sessions["double"], "candidate_id": candidate_id, "payment_method": "credit_card",
                "submission_key": key()}
        codes = fire([(browser, "/providers/prometric/book", form)] * 2)
        doubles = count(Booking.candidate_id == candidate_id)
        report("the same form posted twice at once", doubles == 1 == seats("double"),
               f"bookings={doubles} seats_taken={seats('double')} http={dict(codes)}")

        rounds, both = 6, 0
        for i in range(rounds):
            browser.request("POST", "/providers/prometric/book", new_person(f"m{i}", session="from"))
            moving = _latest(app, org_id, sessions["from"])
            _, page = browser.request("GET", f"/bookings/{moving}")
            expected = re.search(r'name="expected_state" value="([^"]+)"', page).group(1)
            codes = fire([(browser, f"/bookings/{moving}/change",
                           {"session_id": sessions["to"], "submission_key": key(), "expected_state": expected}),
                          (browser, f"/bookings/{moving}/cancel", {"submission_key": key(), "expected_state": expected})])
            both += _audit(app, moving, "change") + _audit(app, moving, "cancel")
            browser.request("POST", f"/bookings/{moving}/cancel", {"submission_key": key()})  # tidy: free the seats
        from_active = count(Booking.session_id == sessions["from"], Booking.status == "booked")
        to_active = count(Booking.session_id == sessions["to"], Booking.status == "booked")
        report(f"change racing cancel ({rounds} rounds)",
               both == rounds and seats("from") == from_active and seats("to") == to_active,
               f"transitions={both}/{rounds} seats from/to={seats('from')}/{seats('to')} "
               f"active from/to={from_active}/{to_active}")
    return 1 if failures else 0


def _latest(app, org_id, session_id) -> int:
    with app.app_context():
        return db.session().exec(select(Booking.id).where(Booking.organization_id == org_id,
                                                          Booking.session_id == session_id,
                                                          Booking.status == "booked").order_by(Booking.id.desc())).first()


def _audit(app, booking_id, action) -> int:
    from portal.models import AuditEvent
    with app.app_context():
        return db.session().exec(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "booking", AuditEvent.entity_id == booking_id, AuditEvent.action == action)).one()


if __name__ == "__main__":
    sys.exit(main())

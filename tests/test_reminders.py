"""Deadline reminders end to end: ``flask housekeeping`` sends one digest per user per day
through a real SMTP server (aiosmtpd, started here) and we parse what arrived. The clock
stands at a fixed Tuesday, so the sample provider's business-day deadlines (SMP-DL-1) fall
on known days."""
from __future__ import annotations

import email
import socket
from datetime import datetime, timedelta
from email import policy

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlmodel import select

from conftest import login
from helpers import make_booking, make_candidate, make_session
from portal import db
from portal.models import BookingDeadline, ReminderDigest, ReminderPreference
from portal.rules import JST
from portal.rules.parse import now_jst


PORTAL_URL = "http://portal.example.test"
#: Exams 14 and 16 days later (12-08, 12-10) have both SMP-DL-1 deadlines (11-24 .. 12-03)
#: ahead and inside a 10-business-day window.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW):  # ticking: the SMTP server's event loop keeps its own time
        yield


class Inbox:
    """An aiosmtpd handler keeping what arrived; ``refuse`` makes it answer 451."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def app(make_app, inbox):
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, MAIL_USE_TLS=False,
                    MAIL_FROM="reminders@portal.example.test", PORTAL_URL=PORTAL_URL)


def _prefer(app, org_id, user_id, **values):
    with app.app_context():
        with db.transaction() as s:
            s.add(ReminderPreference(organization_id=org_id, user_id=user_id, **{"enabled": True, "days_ahead": 10, **values}))


def _booking_due_soon(app, org_id, days=14, family="山田"):
    start = (now_jst() + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    session_id = make_session(app, org_id, start=start)
    return make_booking(app, org_id, session_id, make_candidate(app, org_id, family=family))


def _housekeeping(app):
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    return result.output


def _digests(app):
    with app.app_context():
        return db.session().exec(select(ReminderDigest).order_by(ReminderDigest.id)).all()


def test_one_digest_per_day_with_rule_explanation_and_link_and_a_second_run_sends_nothing(app, inbox, org_factory):
    from portal.web.dashboard import window_end
    org_id, user_id, address, _ = org_factory()
    _prefer(app, org_id, user_id)
    booking_id = _booking_due_soon(app, org_id)
    _booking_due_soon(app, org_id, days=16, family="佐藤")

    output = _housekeeping(app)
    assert "reminders sent: 1" in output
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == address and message["From"] == "reminders@portal.example.test"
    assert "期限のお知らせ" in message["Subject"]
    body = message.get_content()
    with app.app_context():
        now = now_jst()
        due = db.session().exec(select(BookingDeadline).where(BookingDeadline.booking_id == booking_id,
                                                             BookingDeadline.at < window_end(now, 10))).all()
    assert {d.kind for d in due} == {"application", "essay"}, "the test booking has deadlines inside the window"
    for deadline in due:
        assert deadline.rule in body and deadline.explanation_ja in body
    assert f"{PORTAL_URL}/bookings/{booking_id}" in body
    assert "山田 太郎" in body and "佐藤 太郎" in body
    assert "■ " in body  # grouped by day

    again = _housekeeping(app)
    assert "reminders prepared: 0" in again and "reminders sent: 0" in again
    assert len(inbox.messages) == 1
    assert [d.status for d in _digests(app)] == ["sent"]


def test_english_preference_sends_english_labels(app, inbox, org_factory):
    org_id, user_id, _, _ = org_factory()
    _prefer(app, org_id, user_id, language="en")
    _booking_due_soon(app, org_id)
    _housekeeping(app)
    message = inbox.messages[0]
    assert "Deadline reminder" in message["Subject"]
    body = message.get_content()
    assert "Rule:" in body and "期限" not in body.split("\n", 2)[2].split("--")[0].replace("山田", "")


def test_brand_and_kind_filters_leave_nothing_to_send(app, inbox, org_factory):
    org_id, user_id, _, _ = org_factory()
    _prefer(app, org_id, user_id, kinds=["late_addition"])  # no sample booking has one
    _booking_due_soon(app, org_id)
    output = _housekeeping(app)
    assert "reminders prepared: 0" in output
    assert inbox.messages == [] and _digests(app) == []


def test_a_refused_send_is_kept_and_retried_on_the_next_run(app, inbox, org_factory):
    org_id, user_id, _, _ = org_factory()
    _prefer(app, org_id, user_id)
    _booking_due_soon(app, org_id)
    inbox.refuse = True
    output = _housekeeping(app)
    assert "failed (retried next run): 1" in output
    [digest] = _digests(app)
    assert digest.status == "failed" and digest.attempts == 1 and "451" in digest.last_error
    assert inbox.messages == []

    inbox.refuse = False
    _housekeeping(app)
    [digest] = _digests(app)
    assert digest.status == "sent" and digest.attempts == 2
    assert len(inbox.messages) == 1 and inbox.messages[0]["Subject"].strip() == digest.subject
    _housekeeping(app)
    assert len(inbox.messages) == 1


def test_a_server_that_cannot_be_reached_loses_nothing(make_app, org_factory, inbox):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port(), PORTAL_URL=PORTAL_URL)
    org_id, user_id, _, _ = org_factory()
    _prefer(app, org_id, user_id)
    _booking_due_soon(app, org_id)
    _housekeeping(app)
    assert [d.status for d in _digests(app)] == ["failed"]
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=inbox.port, PORTAL_URL=PORTAL_URL)  # the server is back
    _housekeeping(app)
    assert [d.status for d in _digests(app)] == ["sent"] and len(inbox.messages) == 1


def test_the_unique_day_refuses_a_second_digest(app, org_factory):
    from portal.guard import Conflict
    org_id, user_id, email_address, _ = org_factory()
    with app.app_context():
        for attempt in range(2):
            try:
                with db.transaction() as s:
                    s.add(ReminderDigest(organization_id=org_id, user_id=user_id, day=now_jst().date(),
                                         recipient=email_address, subject="s", body="b"))
            except Conflict as exc:
                assert attempt == 1 and exc.code == "digest_exists"
        assert len(db.session().exec(select(ReminderDigest)).all()) == 1


def test_preferences_page_saves_and_shows_what_was_sent(app, inbox, org_factory):
    org_id, user_id, address, password = org_factory()
    client = app.test_client()
    token = login(client, address, password)
    page = client.get("/reminders")
    assert page.status_code == 200 and "まだ送信していません" in page.get_data(as_text=True)
    response = client.post("/reminders", data={"csrf_token": token, "enabled": "on", "days_ahead": "10",
                                               "providers": ["sample", "nope"], "language": "ja"})
    assert response.status_code == 200 and "保存しました" in response.get_data(as_text=True)
    with app.app_context():
        pref = db.session().exec(select(ReminderPreference)).one()
        assert pref.enabled and pref.providers == ["sample"] and pref.days_ahead == 10
    bad = client.post("/reminders", data={"csrf_token": token, "days_ahead": "99"})
    assert bad.status_code == 422 and "1〜20営業日" in bad.get_data(as_text=True)
    _booking_due_soon(app, org_id)
    _housekeeping(app)
    page = client.get("/reminders").get_data(as_text=True)
    assert "送信済み" in page and inbox.messages[0]["Subject"].strip() in page


def test_two_housekeeping_runs_at_once_send_one_digest(app, inbox, org_factory):
    """Two cron runs racing (real threads, each with its own connection): the unique
    (user, day) lets one prepare the digest and the guarded claim lets one send it."""
    import threading
    from portal import reminders
    org_id, user_id, _, _ = org_factory()
    _prefer(app, org_id, user_id)
    _booking_due_soon(app, org_id)
    now = now_jst()
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                reminders.run(app, now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(inbox.messages) == 1
    assert [d.status for d in _digests(app)] == ["sent"]

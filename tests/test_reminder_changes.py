"""Reminder digests after a rules change (issue 14): a closure saved through the admin page
moves a deadline, and the next digest — sent through a real SMTP server — marks it as
changed, old → new with the rule; a deadline moved out of the window (here: into the
past) is reported apart; nothing moved, nothing marked. On the core's sample provider
(SMP-DL-1: application 10 business days before the exam, essay 5)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import select

from conftest import csrf_token, login
from helpers import count_statements, make_booking, make_candidate, make_session
from portal import db, reminders
from portal.auth import hash_password
from portal.models import ReminderDigest, User
from portal.rules import JST
from test_reminders import PORTAL_URL, _housekeeping, _prefer, app, inbox  # noqa: F401  (fixtures)

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=JST)  # Tuesday; Mon 11-23 is 勤労感謝の日
EXAM = datetime(2026, 12, 11, 10, 0, tzinfo=JST)  # Fri: application Fri 11-27, essay Fri 12-04
LATER_EXAM = datetime(2026, 12, 18, 10, 0, tzinfo=JST)  # Fri: application Fri 12-04, essay Fri 12-11
EARLY_EXAM = datetime(2026, 12, 9, 10, 0, tzinfo=JST)  # Wed: application Wed 11-25
HX = {"HX-Request": "true"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _admin(app, org_factory):
    org_id, user_id, email, password = org_factory()
    client = app.test_client()
    login(client, email, password)
    return client, org_id, user_id, csrf_token(client)


def _close(client, token, start, end=None):
    """Add a closure of the sample provider as an admin does: preview, then save that plan."""
    data = {"label": "臨時休業", "start_date": start, "end_date": end or start}
    url = "/admin/providers/sample/closures"
    shown = client.post(f"{url}/preview", data=data, headers={**HX, "X-CSRFToken": token}).get_data(as_text=True)
    plan = re.search(r'data-plan="([0-9a-f]+)"', shown).group(1)
    saved = client.post(url, data={**data, "plan": plan}, headers={**HX, "X-CSRFToken": token})
    assert saved.status_code == 200 and "data-notice" in saved.get_data(as_text=True)
    return shown


def _book(app, org_id, start, family):
    return make_booking(app, org_id, make_session(app, org_id, start=start, capacity=10), make_candidate(app, org_id, family))


def _body(message) -> str:
    return message.get_content()


def _block(body: str, subject: str) -> str:
    """The lines of the digest item about ``subject`` (up to its link)."""
    start = body.index(subject)
    return body[body.rindex("\n- ", 0, start):body.index(PORTAL_URL, start)]


def test_a_closure_saved_after_a_digest_marks_the_moved_deadline_in_the_next_one_and_only_it(app, inbox, org_factory,
                                                                                                 clock):
    client, org_id, user_id, token = _admin(app, org_factory)
    _prefer(app, org_id, user_id)  # 10 business days: to the end of Mon 12-07
    _book(app, org_id, EXAM, "山田")
    _book(app, org_id, LATER_EXAM, "佐藤")
    _housekeeping(app)
    first = _body(inbox.messages[0])
    assert "\n  【変更】" not in first and "2026-11-27(金) 23:59" in first  # nothing moved yet

    clock.shift(timedelta(hours=1))
    shown = _close(client, token, "2026-12-01")  # Tue 12-01 closed: 山田's application 11-27 → 11-26
    assert 'data-moved="1"' in shown
    clock.shift(timedelta(days=1))
    _housekeeping(app)
    second = inbox.messages[1]
    body = _body(second)
    assert "変更1件" in second["Subject"]
    yamada = _block(body, "山田 太郎")
    assert "【変更】2026-11-27(金) 23:59 → 2026-11-26(木) 23:59(休業日・設定・試験カタログの変更による。規則: SMP-DL-1)" in yamada
    assert "申込締切" in yamada
    assert body.count("\n  【変更】") == 1  # 山田's essay (12-04) and 佐藤's application (12-04) did not move
    assert "この期間から外れた期限" not in body

    clock.shift(timedelta(days=1))  # the control: nothing moved since the previous digest
    _housekeeping(app)
    third = inbox.messages[2]
    assert "\n  【変更】" not in _body(third) and "変更" not in third["Subject"]
    assert "2026-11-26(木) 23:59" in _body(third)

    with app.app_context():
        digests = db.session().exec(select(ReminderDigest).order_by(ReminderDigest.day)).all()
        assert [d.changed for d in digests] == [0, 1, 0]
    page = client.get("/reminders").get_data(as_text=True)
    assert page.count("data-changed=") == 1 and 'data-changed="1"' in page and "変更1件" in page


def test_the_marker_is_in_the_digest_language(app, inbox, org_factory, clock):
    client, org_id, user_id, token = _admin(app, org_factory)
    _prefer(app, org_id, user_id, language="en")
    _book(app, org_id, EXAM, "山田")
    _close(client, token, "2026-12-01")
    _housekeeping(app)  # a first digest: every move so far counts
    message = inbox.messages[0]
    body = _body(message)
    assert "1 changed" in message["Subject"]
    assert ("[Changed] Fri 2026-11-27 23:59 → Thu 2026-11-26 23:59 (by a change of closure days, settings or catalog; "
            "rule: SMP-DL-1)") in body
    assert "【変更】" not in body and "規則" not in body and "外れた" not in body  # the closure label stays as entered


def test_a_deadline_moved_into_the_window_is_listed_marked_and_one_moved_into_the_past_is_reported(app, inbox,
                                                                                                       org_factory, clock):
    client, org_id, user_id, token = _admin(app, org_factory)
    _prefer(app, org_id, user_id, days_ahead=3)  # to the end of Thu 11-26
    _book(app, org_id, EXAM, "山田")  # application 11-27: outside the window
    _book(app, org_id, EARLY_EXAM, "佐藤")  # application 11-25: inside
    with app.app_context():
        with db.transaction() as s:  # a colleague who wants only the essay deadlines
            s.add(User(organization_id=org_id, email="essay@example.jp", name="小論文 担当", role="staff",
                       password_hash=hash_password("pw-123456")))
            s.flush()
            colleague = s.exec(select(User).where(User.email == "essay@example.jp")).one().id
    _prefer(app, org_id, colleague, days_ahead=3, kinds=["essay"])
    # 12-01 and 12-02 closed: 山田's application 11-27 → 11-25, 佐藤's 11-25 → 11-20 (past), 佐藤's essay
    # 12-02 → 11-30 (outside the 3-day window before and after: the colleague gets no digest)
    _close(client, token, "2026-12-01", "2026-12-02")
    _housekeeping(app)
    assert [m["To"] for m in inbox.messages] == ["staff@example.jp"]
    body = _body(inbox.messages[0])
    yamada = _block(body, "山田 太郎")
    assert "【変更】2026-11-27(金) 23:59 → 2026-11-25(水) 23:59" in yamada  # moved into the window
    away = body[body.index("■ この期間から外れた期限(1件)"):]
    assert "申込締切 — 佐藤 太郎 — S1 [サンプル検定]" in away
    assert "【変更】2026-11-25(水) 23:59 → 2026-11-20(金) 23:59" in away and "/bookings/" in away
    assert "変更2件" in inbox.messages[0]["Subject"]


def test_a_digest_reads_the_moves_with_the_same_statements_for_one_moved_deadline_or_many(app, org_factory, clock):
    def statements(bookings: int) -> int:
        org_id, user_id, email, password = org_factory(email=f"u{bookings}@example.jp")
        client = app.test_client()
        login(client, email, password)
        _prefer(app, org_id, user_id)
        for i in range(bookings):
            _book(app, org_id, EXAM, f"山田{i}")
            _book(app, org_id, EARLY_EXAM, f"佐藤{i}")  # moved into the past: reported apart
        _close(client, csrf_token(client), "2026-11-25", "2026-12-01")
        with app.app_context():
            with count_statements(app) as counter:
                assert reminders.prepare_digests(app, NOW + timedelta(hours=2)) == 1
            digest = db.session().exec(select(ReminderDigest).where(ReminderDigest.user_id == user_id)).one()
            assert digest.changed == 2 * bookings  # every application deadline moved
        return counter.count
    assert statements(1) == statements(6)

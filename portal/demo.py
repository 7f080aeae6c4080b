"""Demo data for ``make run``: one organisation, an operator, sessions and bookings."""
from __future__ import annotations

import secrets
from datetime import time, timedelta, datetime
from pathlib import Path

from flask import current_app

from portal.providers import current as current_providers
from sqlmodel import select

from portal import bookings, db
from werkzeug.security import check_password_hash

from portal.auth import hash_password
from portal.models import Candidate, ExamSession, Organization, ReminderPreference, User
from portal.orgs import create_organization
from portal.rules import JST, STORE_METHODS
from portal.rules.parse import now_jst

DEMO_ORG = "デモ情報専門学校"
DEMO_EMAIL = "operator@demo.example.jp"


def _login_file() -> Path:
    return Path(current_app.instance_path) / "demo_login"


def demo_password(new: bool = False) -> tuple[str, bool]:
    """The demo operator's password, kept in the instance folder so that every
    ``make run`` prints the same login until ``make reset-demo`` (which removes it).
    Returns (password, whether it was made now). Demo use only."""
    path = _login_file()
    if path.exists() and not new:
        saved = path.read_text().strip()
        if saved:
            return saved, False
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password)
    path.chmod(0o600)
    return password, True


def seed_demo(new_password: bool = False) -> tuple[str, str]:
    """Idempotent: creates the demo data once; the login stays the same on later runs
    (a new password only with ``new_password`` or after ``make reset-demo``)."""
    password, made_now = demo_password(new_password)
    with db.transaction() as s:
        user = s.exec(select(User).where(User.email == DEMO_EMAIL)).first()
        if user is None:
            org = create_organization(s, DEMO_ORG)
            user = User(organization_id=org.id, email=DEMO_EMAIL, name="デモ 運営者", role="admin",
                        password_hash=hash_password(password))
            s.add(user)
            s.flush()
            _sessions_and_bookings(s, org)
            providers = current_providers()
            for info in providers.all():  # each plugin adds its own records (exam days, groups…)
                providers.demo_data(bookings.org_context(s, org.id, info.id), org.id, user.id)
            # the operator is reminded of every deadline three business days ahead
            s.add(ReminderPreference(organization_id=org.id, user_id=user.id, enabled=True, days_ahead=3))
        elif made_now or not check_password_hash(user.password_hash, password):
            user.password_hash = hash_password(password)
            s.add(user)
    return DEMO_EMAIL, password


def _sessions_and_bookings(s, org: Organization) -> None:
    providers = current_providers()
    candidates = [Candidate(organization_id=org.id, family_name=f, given_name=g, family_kana=fk, given_kana=gk)
                  for f, g, fk, gk in [("山田", "太郎", "ヤマダ", "タロウ"), ("佐藤", "花子", "サトウ", "ハナコ"),
                                        ("鈴木", "一郎", "スズキ", "イチロウ"), ("高橋", "美咲", "タカハシ", "ミサキ")]]
    s.add_all(candidates)
    s.flush()
    today = now_jst().date()
    for info in providers.all():
        if not info.bookings or not info.exams or info.booking_facts:
            continue  # a provider asking its own booking facts seeds its bookings (provider_demo_data)
        created = []
        for i, days in enumerate((5, 12, 19, 33)):
            exam = info.exams[i % len(info.exams)]
            start = datetime.combine(today + timedelta(days=days), time(10, 0), JST)
            row = ExamSession(organization_id=org.id, provider=info.id, exam=exam.code, venue=f"本校 {i + 1}号教室",
                              start=start, end=start + timedelta(minutes=exam.duration_minutes or 60),
                              capacity=3 if i == 0 else 10)
            s.add(row)
            created.append(row)
        s.flush()
        methods = list(info.payment_methods) or ["credit_card"]
        for i, candidate in enumerate(candidates):
            method = methods[i % len(methods)]
            unpaid_store = method in STORE_METHODS
            exam_session = created[i % len(created)]
            bookings.book(s, org.id, None, bookings.NewBooking(
                candidate_id=candidate.id, session_id=exam_session.id, payment_method=method,
                paid=not unpaid_store, amount=info.exam(exam_session.exam).price,
                payment_due_at=now_jst() + timedelta(days=3) if unpaid_store else None,
                voucher_code=f"DEMO-{i:04d}" if method == "voucher" else None))

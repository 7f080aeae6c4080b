"""The booking lifecycle (portal.lifecycle): every transition asked of the provider through
hook provider_booking_decision, guarded in the database, one audit entry each, one-time
submission keys, constraints as the last line, a provider no longer installed. On the core's
sample provider, and small providers of its own (a provider's own refusals: its tests)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import event, update
from sqlmodel import Session, select

from conftest import csrf_token, login
from helpers import make_booking, make_candidate, make_session
from portal import db, guard, lifecycle
from portal.models import AuditEvent, Booking, ExamSession
from portal.plugins import hookimpl
from portal.rules import JST, BookingDecision, Deadline, Msg, ProviderInfo, Exam, PolicyDecision, ChangeDecision, CancelDecision

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JST)
EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)  # Saturday: SMP-CH-1 changes and cancels until Wed 12-09
HX = {"HX-Request": "true"}
RULEBOOK_INDEX = Path("/work/shared/rulebooks/README.md")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _post(client, token, url, data):
    return client.post(url, data=data, headers={"X-CSRFToken": token, **HX})


def _rows(app, model, *where):
    with app.app_context():
        return db.session().exec(select(model).where(*where)).all()


def _booking_audit(app, booking_id=None):
    where = [AuditEvent.entity == "booking"] + ([AuditEvent.entity_id == booking_id] if booking_id else [])
    return [e.action for e in _rows(app, AuditEvent, *where)]


# --------------------------------------------------------------------------- a provider with an application deadline


class ApplyBy:
    """A provider whose application closes 5 days before the exam (hypothetical "APB-AP-1")."""

    @hookimpl
    def provider_info(self):
        return ProviderInfo(id="apply_by", name=Msg("申込締切テスト", "Apply-by test"), exams=(Exam("X1", "X 1", 5000, 60),),
                            deadline_kinds=("application",), payment_methods=("credit_card",), bookings=True)

    @staticmethod
    def closes(exam_start):
        return datetime.combine(exam_start.date() - timedelta(days=5), datetime.max.time().replace(microsecond=0), JST)

    @hookimpl
    def provider_deadlines(self, ctx, query):
        if ctx.provider.id != "apply_by":
            return None
        return [Deadline("application", self.closes(query.exam_start), "APB-AP-1", Msg("申込締切", "application closes"))]

    @hookimpl
    def provider_policy(self, ctx, facts):
        if ctx.provider.id != "apply_by":
            return None
        ok = ChangeDecision(True, None, "APB-CH", Msg("変更可", "may change"))
        return PolicyDecision(ok, CancelDecision(True, None, "APB-CA", Msg("取消可", "may cancel")))

    @hookimpl
    def provider_booking_decision(self, ctx, action, facts):
        if ctx.provider.id != "apply_by" or action != "book":
            return None
        closes = self.closes(facts.session.start)
        if facts.at > closes:
            return BookingDecision(False, "APB-AP-1", Msg(f"申込締切({closes:%m-%d})を過ぎています。",
                                                          f"The application closed on {closes:%m-%d}."))
        return None


class NoSundayBookings:
    """A venue's stricter internal rule wrapping every provider's answer (not a provider)."""

    @hookimpl(wrapper=True)
    def provider_booking_decision(self, ctx, action, facts):
        answer = yield
        if action == "book" and facts.session.start.weekday() == 6:
            return BookingDecision(False, "VENUE-2", Msg("当校は日曜の予約を受け付けません。", "Our venue takes no Sunday bookings."))
        return answer


@pytest.fixture
def portal_with(make_app, frozen):
    """An app with extra plugins, signed in: (app, client, org_id, token)."""
    from portal.orgs import create_organization

    def build(*plugins):
        app = make_app(plugins=list(plugins))
        from portal.auth import hash_password
        from portal.models import User
        with app.app_context():
            with db.transaction() as s:
                org = create_organization(s, "テスト校")
                s.add(User(organization_id=org.id, email="staff@example.jp", name="担当", role="admin",
                           password_hash=hash_password("pw-123456")))
            org_id = org.id
        client = app.test_client()
        login(client, "staff@example.jp", "pw-123456")
        return app, client, org_id, csrf_token(client)
    return build


def test_a_closed_application_is_refused_through_the_hook_and_shown_with_its_rule(portal_with):
    app, client, org_id, token = portal_with(ApplyBy())
    closed = make_session(app, org_id, provider="apply_by", start=datetime(2026, 11, 23 + 3, 10, tzinfo=JST))  # closed 11-21
    open_ = make_session(app, org_id, provider="apply_by", start=datetime(2026, 12, 10, 10, tzinfo=JST))
    picker = client.get("/providers/apply_by/book", headers=HX).get_data(as_text=True)
    item = picker[picker.index(f'data-session="{closed}"'):]
    assert 'data-allowed="false"' in item[:120] and "APB-AP-1" in item[:1200]
    r = _post(client, token, "/providers/apply_by/book", {"session_id": closed, "family_name": "山田", "given_name": "花子",
                                                          "payment_method": "credit_card"})
    body = r.get_data(as_text=True)
    assert r.status_code == 422 and "APB-AP-1" in body and 'data-field="session_id"' in body
    assert _rows(app, Booking) == [] and _rows(app, ExamSession, ExamSession.id == closed)[0].seats_taken == 0
    r = _post(client, token, "/providers/apply_by/book", {"session_id": open_, "family_name": "山田", "given_name": "花子",
                                                          "payment_method": "credit_card"})
    assert r.status_code == 204


def test_a_venue_plugin_wraps_the_decision_of_every_provider(portal_with):
    app, client, org_id, token = portal_with(NoSundayBookings())
    sunday = make_session(app, org_id, start=datetime(2026, 12, 13, 10, tzinfo=JST))
    r = _post(client, token, "/providers/sample/book", {"session_id": sunday, "family_name": "山田", "given_name": "花子",
                                                           "payment_method": "credit_card"})
    assert r.status_code == 422 and "VENUE-2" in r.get_data(as_text=True)
    saturday = make_session(app, org_id, start=EXAM)
    r = _post(client, token, "/providers/sample/book", {"session_id": saturday, "family_name": "山田", "given_name": "花子",
                                                           "payment_method": "credit_card"})
    assert r.status_code == 204


# --------------------------------------------------------------------------- the state machine itself


def test_every_transition_names_rules_of_the_rulebooks_and_states_of_the_machine():
    index = RULEBOOK_INDEX.read_text(encoding="utf-8")
    for t in lifecycle.TRANSITIONS.values():
        assert set(t.sources) <= set(lifecycle.STATES) and set(t.targets) <= set(lifecycle.STATES), t.action
        for rule in t.rules:
            assert rule in index, f"{t.action}: {rule} is not in the rulebooks' index"
        assert t.action == "book" or t.sources, t.action
    assert set(lifecycle.ACTIONS) == {"book", "change", "cancel", "mark_paid", "refund_done", "lapse", "exam_over",
                                      "record_outcome"}


def test_a_transition_on_a_stale_booking_is_a_conflict_showing_the_current_state(frozen, app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))
    engine = app.extensions["exam_portal.engine"]
    with app.app_context():
        stale = Session(engine, expire_on_commit=False)
        seen = stale.get(Booking, booking_id)  # read while still booked …
        stale.commit()  # (SQLite: let the other writer in; the object keeps what was read)
        with db.transaction() as s:  # … cancelled by another request …
            lifecycle.cancel(s, s.get(Booking, booking_id), None, None)
        with pytest.raises(guard.Conflict) as refused:  # … then the stale one tries
            lifecycle.cancel(stale, seen, None, None)
        stale.rollback()
        stale.close()
    assert refused.value.status == 409 and "キャンセル済み" in refused.value.message.ja and "cancelled" in refused.value.message.en
    with app.app_context():
        assert db.session().get(ExamSession, session_id).seats_taken == 0  # released once
    assert _booking_audit(app, booking_id) == ["book", "cancel"]


def test_the_schema_refuses_a_second_active_booking_and_overbooking(frozen, app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=EXAM, capacity=1)
    candidate = make_candidate(app, org_id)
    booking_id = make_booking(app, org_id, session_id, candidate)
    with app.app_context():
        with pytest.raises(guard.Conflict) as twice:
            with db.transaction() as s:
                first = s.get(Booking, booking_id)
                s.add(Booking(**{**first.model_dump(), "id": None}))  # behind the services' back
        assert twice.value.code == "already_booked"
        with pytest.raises(guard.Conflict) as over:
            with db.transaction() as s:
                s.execute(update(ExamSession).where(ExamSession.id == session_id).values(seats_taken=2))
        assert over.value.code == "no_seat"
        with pytest.raises(guard.Conflict):
            with db.transaction() as s:
                s.execute(update(ExamSession).where(ExamSession.id == session_id).values(seats_taken=-1))


def test_the_schema_refuses_a_voucher_held_twice(frozen, app, org_factory):
    org_id = org_factory()[0]
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="voucher", voucher="V-7")
    other = make_candidate(app, org_id, given="次郎")
    with app.app_context():
        with pytest.raises(guard.Conflict) as twice:
            with db.transaction() as s:
                first = s.get(Booking, booking_id)
                s.add(Booking(**{**first.model_dump(), "id": None, "candidate_id": other}))
    assert twice.value.code == "voucher_in_use"


# --------------------------------------------------------------------------- submission keys


def _key(page: str) -> str:
    return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)


def test_the_same_booking_form_posted_twice_books_once_and_answers_alike(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    page = client.get(f"/providers/sample/book?session={session_id}").get_data(as_text=True)
    form = {"session_id": session_id, "family_name": "山田", "given_name": "花子", "payment_method": "credit_card",
            "submission_key": _key(page)}
    first = _post(client, token, "/providers/sample/book", form)
    second = _post(client, token, "/providers/sample/book", form)
    assert first.status_code == second.status_code == 204
    assert first.headers["HX-Redirect"] == second.headers["HX-Redirect"]
    assert len(_rows(app, Booking)) == 1 and _rows(app, ExamSession)[0].seats_taken == 1
    assert _booking_audit(app) == ["book"]
    other = _post(client, token, "/providers/sample/book", {**form, "submission_key": _key(page) + "x"})
    assert other.status_code == 204  # a new key is a new booking (another new candidate)


def test_a_cancel_posted_twice_cancels_once(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id))
    key = _key(client.get(f"/bookings/{booking_id}").get_data(as_text=True))
    first = _post(client, token, f"/bookings/{booking_id}/cancel", {"submission_key": key})
    second = _post(client, token, f"/bookings/{booking_id}/cancel", {"submission_key": key})
    assert first.status_code == second.status_code == 200
    assert 'data-status="cancelled"' in second.get_data(as_text=True) and "error" not in second.get_data(as_text=True)
    assert _booking_audit(app, booking_id) == ["book", "cancel"]
    # A fresh key on the stale page: refused with the state the booking is in now.
    again = _post(client, token, f"/bookings/{booking_id}/cancel", {"submission_key": key[:-1] + "Z"})
    assert again.status_code == 422 and "キャンセル済み" in again.get_data(as_text=True)


def test_every_state_changing_booking_form_carries_a_submission_key(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    make_session(app, org_id, start=EXAM + timedelta(days=7))
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="convenience_store", paid=False,
                              due=NOW + timedelta(days=2))
    for url in ("/providers/sample/book", f"/bookings/{booking_id}", "/providers/sample/sessions"):
        page = client.get(url).get_data(as_text=True)
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", page, flags=re.S):
            if "/sessions" in form.split(">", 1)[0] or "/language" in form.split(">", 1)[0] or "/logout" in form.split(">", 1)[0]:
                continue
            assert 'name="submission_key"' in form, form[:200]


def test_an_action_from_a_stale_page_is_refused_with_the_current_state(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    first = make_session(app, org_id, start=EXAM)
    second = make_session(app, org_id, start=EXAM + timedelta(days=7))
    booking_id = make_booking(app, org_id, first, make_candidate(app, org_id))
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    cancel_form = page[page.index('id="cancel"'):]
    expected = re.search(r'name="expected_state" value="([^"]+)"', cancel_form).group(1)
    assert expected == f"booked:{first}:1"
    assert _post(client, token, f"/bookings/{booking_id}/change", {"session_id": second}).status_code == 200
    r = _post(client, token, f"/bookings/{booking_id}/cancel", {"expected_state": expected})  # the page before the change
    assert r.status_code == 409 and "他の操作で変更された" in r.get_data(as_text=True)
    assert _rows(app, Booking)[0].status == "booked" and _booking_audit(app, booking_id) == ["book", "change"]


# --------------------------------------------------------------------------- outcome, housekeeping


def test_outcome_and_exam_over_through_the_core_pages(frozen, app, logged_in):
    client, org_id, _, token = logged_in
    first = make_session(app, org_id, start=EXAM)
    second = make_session(app, org_id, start=EXAM + timedelta(days=1))
    sat, missing = (make_booking(app, org_id, first, make_candidate(app, org_id, given=g)) for g in ("一", "二"))
    late = make_booking(app, org_id, second, make_candidate(app, org_id, given="三"))
    assert _post(client, token, f"/bookings/{sat}/outcome", {"outcome": "passed"}).status_code == 422  # not started
    frozen.move_to(EXAM + timedelta(hours=3))
    result = app.test_cli_runner().invoke(args=["housekeeping"])
    assert "bookings whose exam is over: 2" in result.output
    assert {b.id: b.status for b in _rows(app, Booking)} == {sat: "exam_over", missing: "exam_over", late: "booked"}
    r = _post(client, token, f"/bookings/{sat}/outcome", {"outcome": "passed"})
    assert r.status_code == 200 and 'data-outcome="passed"' in r.get_data(as_text=True)
    assert _rows(app, Booking, Booking.id == sat)[0].status == "attended"
    assert _post(client, token, f"/bookings/{sat}/outcome", {"outcome": "bogus"}).status_code == 422
    assert app.test_cli_runner().invoke(args=["housekeeping"]).output.count("bookings whose exam is over: 0") == 1
    assert _booking_audit(app, sat) == ["book", "exam_over", "record_outcome"]
    assert _rows(app, ExamSession, ExamSession.id == first)[0].seats_taken == 2  # a sat seat stays taken


# --------------------------------------------------------------------------- fast by construction


class _Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def _count(self, *_args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def test_the_pickers_ask_the_provider_per_session_without_a_query_per_session(frozen, app, logged_in):
    client, org_id, _, _ = logged_in
    engine = app.extensions["exam_portal.engine"]
    candidate = make_candidate(app, org_id)
    booking_id = make_booking(app, org_id, make_session(app, org_id, start=EXAM), candidate)

    def cost(url):
        with _Statements(engine) as counted:
            assert client.get(url).status_code == 200
        return counted.count

    def add_sessions(n):
        for i in range(n):
            make_session(app, org_id, start=EXAM + timedelta(days=1 + i % 20, hours=i % 5), venue=f"会場{i % 3}")

    add_sessions(3)
    cost(f"/providers/sample/book?candidate_id={candidate}")  # this process builds its rule context once
    small = (cost(f"/providers/sample/book?candidate_id={candidate}"), cost(f"/bookings/{booking_id}"))
    add_sessions(30)
    large = (cost(f"/providers/sample/book?candidate_id={candidate}"), cost(f"/bookings/{booking_id}"))
    assert small == large, (small, large)
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert page.count("data-session=") == 33  # every other session offered, each with its verdict


# --------------------------------------------------------------------------- provider not installed


def test_a_booking_of_a_provider_no_longer_installed_is_read_only_never_a_500(frozen, make_app, app, org_factory):
    org_id, _, email, password = org_factory()
    with_it = make_app(plugins=[ApplyBy()])
    session_id = make_session(with_it, org_id, provider="apply_by", start=EXAM)
    booking_id = make_booking(with_it, org_id, session_id, make_candidate(with_it, org_id))
    without = make_app()  # apply_by uninstalled: the sample provider alone
    assert "apply_by" not in without.extensions["exam_portal.providers"]
    client = without.test_client()
    login(client, email, password)
    token = csrf_token(client)
    r = client.get(f"/bookings/{booking_id}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "data-not-installed" in body and "apply_by" in body
    for action in ("cancel", "change", "paid", "outcome", "refund-done"):
        r = _post(client, token, f"/bookings/{booking_id}/{action}", {"session_id": session_id})
        assert r.status_code == 409 and "data-not-installed" in r.get_data(as_text=True), action
    assert _rows(app, Booking)[0].status == "booked"
    assert client.get(f"/candidates/{_rows(app, Booking)[0].candidate_id}").status_code == 200


@pytest.mark.browser
def test_a_stale_tab_sees_the_conflict_and_the_current_state_in_place(app, page, live_server, org_factory):
    """Two tabs on one booking: the second tab's cancel comes after the first one's and is
    answered in place (409 swapped by htmx) with the booking's state now."""
    from playwright.sync_api import expect
    org_id, _, email, password = org_factory()
    start = datetime.now(JST).replace(microsecond=0) + timedelta(days=30)
    booking_id = make_booking(app, org_id, make_session(app, org_id, start=start), make_candidate(app, org_id))
    page.goto(f"{live_server}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.goto(f"{live_server}/bookings/{booking_id}")
    other = page.context.new_page()
    other.goto(f"{live_server}/bookings/{booking_id}")
    page.on("dialog", lambda d: d.accept())
    other.on("dialog", lambda d: d.accept())
    other.get_by_role("button", name="キャンセルする").click()
    expect(other.locator("[data-status]")).to_have_attribute("data-status", "cancelled")
    page.get_by_role("button", name="キャンセルする").click()
    expect(page.locator("#booking-detail .error")).to_contain_text("他の操作で変更された")
    expect(page.locator("#booking-detail .error")).to_contain_text("キャンセル済み")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "cancelled")
    assert _booking_audit(app, booking_id) == ["book", "cancel"]

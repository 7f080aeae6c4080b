"""Issue 11: no 500 for any input, security headers, login defence, safe redirects, and
personal data that is really purged (SQLite and PostgreSQL through the ``app`` fixture)."""
import re
from datetime import datetime, timedelta
from importlib.metadata import entry_points

import pytest
import time_machine
from flask import request
from hypothesis import given, settings, strategies as st
from sqlalchemy import text
from sqlmodel import select

from conftest import login
from helpers import make_booking, make_candidate, make_session
from portal import db
from portal.models import AuditEvent, Booking, Candidate, ExamSession, RefundAccount
from portal.rules import JST


NOW = datetime(2026, 11, 23, 9, 0, tzinfo=JST)
EXAM = datetime(2026, 12, 12, 10, 0, tzinfo=JST)
HX = {"HX-Request": "true"}


def _post(client, token, url, data, htmx=True, **kw):
    return client.post(url, data=data, headers={"X-CSRFToken": token, **(HX if htmx else {})}, **kw)


# --------------------------------------------------------------------------- the input layer


@pytest.mark.parametrize("url", [
    "/candidates?q=%00", "/providers/sample/bookings?q=a%00b", "/admin/audit?entity=%00",
    "/dashboard?provider=%01", "/calendar?month=2026-%0012",
    "/p/nowhere/book/dates?exam=%00",  # screened before routing: also a path no route (of a plugin) matches
])
def test_control_characters_in_a_query_are_a_422_naming_the_field(logged_in, url):
    client = logged_in[0]
    response = client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:500]
    assert "使えない文字" in body and 'data-field="' in body
    english = client.get(url + "&lang=en").get_data(as_text=True)
    assert "not allowed" in english


@pytest.mark.parametrize("url, field", [
    ("/candidates?page=9999999999999999999", "page"), ("/providers/sample/bookings?page=-1", "page"),
    ("/providers/sample/bookings?within=99999999999999999999", "within"), ("/admin/audit?user=9999999999999", "user"),
    ("/candidates?page=%C2%B2", "page"),  # "²" is a digit to str.isdigit(), not to int()
])
def test_integers_out_of_range_are_a_422(logged_in, url, field):
    response = logged_in[0].get(url)
    assert response.status_code == 422 and f'data-field="{field}"' in response.get_data(as_text=True)


def test_an_id_beyond_the_database_range_is_a_404(logged_in):
    client, _, _, token = logged_in
    assert client.get("/bookings/99999999999999999999").status_code == 404
    assert client.get("/candidates/2147483648").status_code == 404
    assert _post(client, token, "/bookings/99999999999999999999/cancel", {}).status_code == 404


def test_a_huge_number_in_a_form_is_a_field_error(frozen_clock, app, logged_in):
    client, org_id, _, token = logged_in
    r = _post(client, token, "/providers/sample/book", {
        "session_id": "99999999999999999999", "family_name": "山田", "given_name": "花子", "payment_method": "credit_card"})
    assert r.status_code in (404, 422)
    r = _post(client, token, "/providers/sample/calculate", {"exam_start": "2026-12-12T10:00", "payment_method": "credit_card",
                                                                "amount": "9" * 30})
    assert r.status_code == 200 and "以下の数を入力してください" in r.get_data(as_text=True)


def test_nul_in_a_form_field_is_refused_and_nothing_is_stored(frozen_clock, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    r = _post(client, token, "/providers/sample/book", {
        "session_id": session_id, "family_name": "山\x00田", "given_name": "花子", "payment_method": "credit_card",
        "paid": "on"})
    assert r.status_code == 422 and r.headers["HX-Retarget"] == "#errors"
    assert "family_name" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session().exec(select(Candidate)).all() == []
        assert db.session().get(ExamSession, session_id).seats_taken == 0


def test_an_over_long_value_is_refused(logged_in):
    from portal.inputs import INPUT_MAX_LENGTH
    response = logged_in[0].get("/candidates?q=" + "あ" * (INPUT_MAX_LENGTH + 1))
    assert response.status_code == 422 and "長すぎます" in response.get_data(as_text=True)
    assert logged_in[0].get("/candidates?q=" + "あ" * 100).status_code == 200


# --------------------------------------------------------------------------- rules API


@pytest.mark.parametrize("exam", ["NOPE", "", None])
def test_the_rules_api_answers_404_for_an_unknown_exam_everywhere(make_app, exam):
    """Every installed provider and the sample one."""
    client = make_app(EXAM_PORTAL_PLUGINS=None).test_client()
    providers = [p["id"] for p in client.get("/api/v1/providers").get_json()["providers"]]
    assert set(providers) == {"sample", *(ep.name for ep in entry_points(group="exam_portal"))}
    body = {"exam": exam, "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00",
            "attempts": [], "examinees": {"grade1": 1}, "payment": {"method": "credit_card", "paid": True, "amount": 1}}
    for provider in providers:
        for endpoint in ("deadlines", "retake", "quote", "policy"):
            r = client.post(f"/api/v1/providers/{provider}/{endpoint}", json=body)
            assert r.status_code == 404, (provider, endpoint, r.get_json())
            error = r.get_json()["error"]
            assert error["code"] == "unknown_exam" and error["field"] == "exam" or error["code"] == "not_offered", error
        r = client.post(f"/api/v1/providers/{provider}/quote", json={"items": [{"exam": exam, "count": 1}]})
        assert r.status_code == 404 and r.get_json()["error"]["field"] == "items[0].exam", (provider, r.get_json())


# --------------------------------------------------------------------------- uploads


def test_a_request_over_the_limit_is_a_friendly_413(logged_in, app):
    client, _, _, token = logged_in
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    r = _post(client, token, "/providers/sample/calculate", {"exam": big.decode()}, htmx=False)
    assert r.status_code == 413 and "2MBまで" in r.get_data(as_text=True) and "<html" in r.get_data(as_text=True)
    r = _post(client, token, "/providers/sample/calculate", {"exam": big.decode()})
    assert r.status_code == 413 and "<html" not in r.get_data(as_text=True) and "2MB" in r.get_data(as_text=True)


# --------------------------------------------------------------------------- headers


def test_every_response_carries_the_security_headers(app, client, logged_in):
    client = logged_in[0]
    for response in (client.get("/dashboard"), client.get("/static/portal.js"), client.get("/nowhere"),
                     client.get("/api/v1/providers"), client.get("/login"), client.get("/candidates?q=%00")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in response.headers


def test_a_header_a_response_already_has_is_kept_and_never_doubled(make_app):
    """The security headers fill in what a response lacks, whatever case its own names are in."""
    app = make_app()

    @app.after_request  # runs before the portal's own (Flask runs them in reverse order)
    def _own_headers(response):
        response.headers["x-frame-options"] = "SAMEORIGIN"
        response.headers["content-security-policy"] = "default-src 'none'"
        return response

    response = app.test_client().get("/health")
    names = [name.lower() for name, _ in response.headers.items()]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN" and names.count("x-frame-options") == 1
    assert response.headers["Content-Security-Policy"] == "default-src 'none'" and names.count("content-security-policy") == 1
    assert response.headers["X-Content-Type-Options"] == "nosniff" and names.count("x-content-type-options") == 1


def test_a_session_survives_a_key_rotation_and_no_other_key_accepts_it(make_app, org_factory):
    """Sessions are signed by a serializer kept per set of keys: a cookie signed under the old
    key is still read once it is only a fallback, and an app with other keys rejects it."""
    old = make_app(SECRET_KEY="old-key")
    _, _, email, password = org_factory(email="rotate@example.jp")
    client = old.test_client()
    login(client, email, password)
    cookie = client.get_cookie("session").value
    assert client.get("/dashboard").status_code == 200

    def signed_in(app) -> bool:
        other = app.test_client()
        other.set_cookie("session", cookie)
        return other.get("/dashboard").status_code == 200

    assert signed_in(make_app(SECRET_KEY="new-key", SECRET_KEY_FALLBACKS=["old-key"]))
    assert not signed_in(make_app(SECRET_KEY="new-key"))
    assert signed_in(old)


def test_a_remembered_session_cookie_still_expires_and_a_changed_one_is_refused(make_app, org_factory):
    """A cookie whose signature was checked once is remembered (portal.PortalSessionInterface),
    yet it still expires after PERMANENT_SESSION_LIFETIME, and a cookie differing in one
    character is checked (and refused) as before."""
    app = make_app(PERMANENT_SESSION_LIFETIME=timedelta(hours=1))
    _, _, email, password = org_factory(email="cookie@example.jp")
    client = app.test_client()
    login(client, email, password)
    cookie = client.get_cookie("session").value

    def status(value: str) -> int:
        other = app.test_client()
        other.set_cookie("session", value)
        return other.get("/dashboard").status_code

    assert status(cookie) == 200 and status(cookie) == 200  # the second read is the remembered one
    tampered = cookie[:-3] + ("A" if cookie[-3] != "A" else "B") + cookie[-2:]
    assert status(tampered) == 302
    with time_machine.travel(datetime.now(JST) + timedelta(hours=2), tick=False):
        assert status(cookie) == 302  # expired: back to the login page
    assert status(cookie) == 200


def test_a_remembered_session_with_a_list_is_never_shared_between_requests(make_app):
    """A session holding a list (flashed messages) is remembered too, yet each request gets
    its own copy: one request appending in place never shows in the next."""
    app = make_app()
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"_flashes": [("success", "保存しました")]})
    for _ in range(2):
        with app.test_request_context("/dashboard", headers={"Cookie": f"session={cookie}"}):
            opened = interface.open_session(app, request)
            assert opened["_flashes"] == [("success", "保存しました")]
            opened["_flashes"].append(("success", "もう一つ"))


def test_a_remembered_csrf_token_is_refused_in_another_session(make_app, org_factory):
    """A CSRF token whose signature was checked once (portal.csrf) is still compared with the
    sending session's own token: another signed-in session cannot use it, before or after."""
    app = make_app()
    _, _, email, password = org_factory(email="csrf@example.jp")
    first, second = app.test_client(), app.test_client()
    token = login(first, email, password)
    other_token = login(second, email, password)
    assert token != other_token
    form = {"exam_start": "2026-12-12T10:00"}
    for _ in range(2):  # checked in full, then remembered
        assert _post(first, token, "/providers/sample/calculate", form).status_code == 200
        assert _post(second, token, "/providers/sample/calculate", form).status_code == 400
    assert _post(second, other_token, "/providers/sample/calculate", form).status_code == 200
    assert _post(second, token + "x", "/providers/sample/calculate", form).status_code == 400


def test_no_template_has_inline_script_or_handlers():
    """What the CSP would block: <script> with a body, on…= attributes, javascript: URLs, hx-on."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    templates = [*root.glob("templates/**/*.html"), *root.glob("plugins/*/templates/**/*.html")]
    assert len(templates) > 40
    for path in templates:
        source = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", source), path
        assert not re.search(r"\son[a-z]+\s*=", source), path
        assert "javascript:" not in source and "hx-on" not in source and "js:" not in source, path
        assert not re.search(r"\sstyle\s*=", source), path


def test_https_deployments_get_hsts_and_secure_cookies(make_app, org_factory):
    app = make_app(PREFERRED_URL_SCHEME="https")
    client = app.test_client()
    response = client.get("/login", base_url="https://portal.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def test_proxy_fix_takes_the_client_address_from_the_proxy(make_app):
    from flask import request
    app = make_app(PROXY_FIX_HOPS=1)
    seen = {}

    @app.get("/_probe")
    def _probe():
        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return "ok"

    from portal.auth import PUBLIC_ENDPOINTS
    PUBLIC_ENDPOINTS.add("_probe")
    try:
        app.test_client().get("/_probe", environ_base={"REMOTE_ADDR": "10.0.0.1"},
                              headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    finally:
        PUBLIC_ENDPOINTS.discard("_probe")
    assert seen == {"addr": "203.0.113.7", "scheme": "https"}


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "https://evil.example/", "/\\evil.example", "//／",
                                    "\t//evil.example", "/\n/evil.example", "http:/evil.example", " //evil.example"])
def test_language_switch_never_redirects_off_site(client, target):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/", target
    r = client.post("/language", data={"lang": "ja", "next": "/login?x=1", "csrf_token": token})
    assert r.headers["Location"] == "/login?x=1"


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example"])
def test_login_next_never_leaves_the_site(client, org_factory, target):
    _, _, email, password = org_factory()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", query_string={"next": target}, data={"email": email, "password": password, "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/"


# --------------------------------------------------------------------------- personal data


@pytest.fixture
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_a_booked_candidate_is_purged_from_the_exam_date_and_audit_is_redacted(frozen_clock, app, logged_in):
    """Two years after the exam (whatever the booking says by then) the data is gone."""
    client, org_id, user_id, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    r = _post(client, token, "/providers/sample/book", {
        "session_id": session_id, "family_name": "古田", "given_name": "一郎", "family_kana": "フルタ",
        "given_kana": "イチロウ", "email": "furuta@example.jp", "payment_method": "credit_card", "paid": "on"})
    assert r.status_code in (200, 204), r.get_data(as_text=True)[:300]
    frozen_clock.move_to(EXAM + timedelta(days=364))
    assert "personal data purged: 0" in app.test_cli_runner().invoke(args=["housekeeping"]).output
    frozen_clock.move_to(EXAM + timedelta(days=2 * 365))
    assert "personal data purged: 1" in app.test_cli_runner().invoke(args=["housekeeping"]).output
    with app.app_context():
        s = db.session()
        booking = s.exec(select(Booking)).one()
        candidate = s.get(Candidate, booking.candidate_id)
        assert (candidate.given_name, candidate.family_kana, candidate.email) == ("", "", "")
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "candidate")).all()
        created = next(e for e in events if e.action == "create")
        assert created.user_id == user_id and created.at is not None  # who and when stay
        dumped = str([(e.before, e.after) for e in events])
        for personal in ("古田", "一郎", "フルタ", "イチロウ", "furuta@example.jp"):
            assert personal not in dumped
        assert created.after["organization_id"] == org_id  # the rest of the snapshot stays


@pytest.mark.parametrize("status", ["booked", "refund_pending", "cancelled", "exam_over", "expired"])
def test_the_retention_clock_runs_from_the_exam_date_whatever_the_status(frozen_clock, app, org_factory, status):
    """Nothing has to move a past booking on: a booking left ``booked`` (or in any other
    status) purges its candidate one retention period after the exam, not before."""
    from portal.retention import purge_candidates
    org_id = org_factory()[0]
    cid = make_candidate(app, org_id, family="残留", given="者")
    booking_id = make_booking(app, org_id, make_session(app, org_id, start=EXAM), cid)
    with app.app_context():
        with db.transaction() as s:
            s.execute(text("UPDATE booking SET status = :status WHERE id = :id"), {"status": status, "id": booking_id})
        with db.transaction() as s:
            assert purge_candidates(s, EXAM + timedelta(days=364)) == 0
        with db.transaction() as s:
            assert purge_candidates(s, EXAM + timedelta(days=366)) == 1
        assert db.session().get(Candidate, cid).given_name == ""


def test_the_retention_page_says_what_is_purged_when(frozen_clock, app, logged_in):
    client, org_id, _, token = logged_in
    booked = make_candidate(app, org_id, family="予約", given="済")
    make_booking(app, org_id, make_session(app, org_id, start=EXAM), booked)
    never = make_candidate(app, org_id, family="未受験", given="者")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert f'data-candidate="{booked}" data-purge-at="2027-12-12"' in page
    assert f'data-candidate="{never}" data-purge-at="2027-11-23"' in page
    assert page.index(f'data-candidate="{never}"') < page.index(f'data-candidate="{booked}"')  # soonest first


def test_the_retention_page_reads_in_one_query_whatever_the_count(frozen_clock, app, logged_in):
    from sqlalchemy import event
    client, org_id, _, _ = logged_in
    client.get("/admin/retention")  # warm the per-process caches (rule contexts) first
    counts = []
    for n in (2, 12):
        while len(_candidates(app)) < n:
            make_booking(app, org_id, make_session(app, org_id, start=EXAM), make_candidate(app, org_id))
        engine = app.extensions["exam_portal.engine"]
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/admin/retention").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        counts.append(len(statements))
    assert counts[0] == counts[1]


def _candidates(app):
    with app.app_context():
        return db.session().exec(select(Candidate)).all()


def test_refund_accounts_are_encrypted_shown_masked_and_deleted(frozen_clock, app, logged_in):
    client, org_id, _, token = logged_in
    session_id = make_session(app, org_id, start=EXAM)
    booking_id = make_booking(app, org_id, session_id, make_candidate(app, org_id), method="pay_easy", paid=True, amount=16500)
    account = {"bank_code": "0001", "branch_code": "123", "account_type": "ordinary", "account_number": "7654321",
               "holder": "ﾔﾏﾀﾞ ﾀﾛｳ"}
    assert _post(client, token, f"/bookings/{booking_id}/cancel", account).status_code == 200
    with app.app_context():
        raw = db.session().execute(text("SELECT * FROM refund_account")).mappings().one()
    stored = " ".join(str(v) for v in raw.values())
    assert "7654321" not in stored and "ﾔﾏﾀﾞ" not in stored and "0001" not in stored
    page = client.get(f"/bookings/{booking_id}").get_data(as_text=True)
    assert "7654321" not in page and "****321" in page and "ﾔ*******" in page
    assert "data-refund-account" in page
    assert f'data-refund-booking="{booking_id}"' in client.get("/admin/retention").get_data(as_text=True)
    _post(client, token, f"/bookings/{booking_id}/refund-done", {})
    with app.app_context():
        assert db.session().exec(select(RefundAccount)).all() == []
    assert "data-refund-account" not in client.get(f"/bookings/{booking_id}").get_data(as_text=True)


def test_a_sealed_account_needs_the_key(app):
    from cryptography.fernet import InvalidToken
    from portal import crypto
    with app.app_context():
        token = crypto.seal({"account_number": "7654321"})
        assert crypto.unseal(token) == {"account_number": "7654321"}
        app.config["DATA_ENCRYPTION_KEY"] = "k" * 43 + "="
        with pytest.raises(InvalidToken):
            crypto.unseal(token)


# --------------------------------------------------------------------------- the flush guard


def test_nothing_reaches_the_database_that_it_cannot_store(app, org_factory):
    """The last line behind the request screening: a value a view derived (or a plugin stored)
    that is longer than its column or holds NUL is a field error at flush, on every backend."""
    from portal.inputs import InvalidInput
    org_id = org_factory()[0]
    with app.app_context():
        for family, field in (("x" * 101, "family_name"), ("山\x00田", "family_name")):
            with pytest.raises(InvalidInput) as refused:
                with db.transaction() as s:
                    s.add(Candidate(organization_id=org_id, family_name=family, given_name="太郎"))
            assert refused.value.field == field
        assert db.session().exec(select(Candidate)).all() == []
        with db.transaction() as s:
            s.add(Candidate(organization_id=org_id, family_name="x" * 100, given_name="太郎"))
        assert len(db.session().exec(select(Candidate)).all()) == 1


def test_an_uncaught_refusal_is_a_page_not_a_500(app, logged_in, monkeypatch):
    from portal.inputs import InvalidInput
    from portal.rules import Msg
    from portal.web import candidates

    def refuse(*_a, **_k):
        raise InvalidInput("q", Msg("拒否", "refused"))
    monkeypatch.setattr(candidates, "scoped", refuse)
    response = logged_in[0].get("/candidates")
    assert response.status_code == 422 and "拒否" in response.get_data(as_text=True)


def test_the_deployment_settings_come_from_the_environment(monkeypatch, make_app):
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    app = make_app()
    assert app.config["PREFERRED_URL_SCHEME"] == "https" and app.config["SESSION_COOKIE_SECURE"] is True
    assert "Strict-Transport-Security" in app.test_client().get("/login").headers


class VenueArchive:
    """A non-provider plugin that keeps its own personal data and says when it goes."""

    from portal.plugins import hookimpl

    @hookimpl
    def portal_retention_schedule(self, organization_id, now):
        from portal.retention import PlannedPurge
        from portal.rules import Msg
        return [PlannedPurge(Msg("会場の入館記録", "venue entry log"), now + timedelta(days=30), "VENUE-PII")]


def test_a_plugin_tells_the_retention_page_what_it_will_purge(frozen_clock, make_app, org_factory):
    _, _, email, password = org_factory()  # same database as the app below
    app = make_app(plugins=[VenueArchive()])
    client = app.test_client()
    login(client, email, password)
    page = client.get("/admin/retention").get_data(as_text=True)
    assert 'data-planned-purge="2026-12-23"' in page and "会場の入館記録" in page and "VENUE-PII" in page


PATHISH = st.lists(st.sampled_from(["/", "\\", "\t", "\n", "\r", " ", ":", "//", "evil.example", "http", "https:",
                                    "?", "#", "@", "%2f", "%5c", "a", "\x00", "。", "／"]), max_size=8).map("".join)


@settings(max_examples=400, deadline=None)
@given(target=st.one_of(PATHISH, st.text(max_size=30)))
def test_safe_next_only_ever_answers_a_path_on_this_site(target):
    """Property: whatever ``next=`` says, the answer is a local path that a browser (which
    drops tab / line breaks and reads ``\\`` as ``/``) cannot read as another host."""
    from urllib.parse import urlsplit
    from portal.redirects import safe_next
    app = _redirect_app()
    with app.test_request_context("/"):
        answer = safe_next(target)
    as_browser_reads = re.sub(r"[\t\r\n]", "", answer).replace("\\", "/")
    assert answer.startswith("/") and not as_browser_reads.startswith("//")
    parts = urlsplit(as_browser_reads)
    assert parts.netloc == "" and parts.scheme == ""
    assert answer in ("/", target)


_APP = []


def _redirect_app():
    if not _APP:
        from portal import create_app
        _APP.append(create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "t", "TESTING": True}))
    return _APP[0]

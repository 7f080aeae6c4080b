"""Login everywhere but sign-in and the public API, CSRF on every form and htmx request,
and each organisation sees only its own data."""
import re
from datetime import datetime, timedelta

import pytest

from conftest import csrf_token, login
from helpers import make_booking, make_candidate, make_session
from portal.rules import JST

FUTURE = datetime.now(JST).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=30)


def test_anonymous_users_are_refused_everywhere_but_login_and_the_api(app, client):
    from portal.auth import PUBLIC_ENDPOINTS
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("api.") or rule.endpoint == "auth.login":
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule.replace("<provider_id>", "sample"))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            r = client.open(url, method=method)
            assert r.status_code in (302, 401, 400), (method, url, r.status_code)
            if r.status_code == 302:
                assert "/login" in r.headers["Location"]
            checked += 1
    assert checked > 10
    assert client.get("/login").status_code == 200
    assert client.get("/api/v1/providers").status_code == 200


def test_htmx_request_without_login_gets_hx_redirect(client):
    r = client.get("/providers/sample", headers={"HX-Request": "true"})
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")


def test_wrong_password_is_refused_and_open_redirect_blocked(client, org_factory):
    _, _, email, password = org_factory()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"email": email, "password": "wrong", "csrf_token": token})
    assert r.status_code == 401
    r = client.post("/login?next=https://evil.example/", data={"email": email, "password": password, "csrf_token": token})
    assert r.headers["Location"] == "/"


def test_post_without_csrf_is_refused(logged_in):
    client, org_id, _, token = logged_in
    r = client.post("/providers/sample/calculate", data={"exam_start": "2026-12-12T10:00"})
    assert r.status_code == 400
    r = client.post("/providers/sample/calculate", data={"exam_start": "2026-12-12T10:00"},
                    headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert r.status_code == 400
    r = client.post("/providers/sample/calculate", data={"exam_start": "2026-12-12T10:00"},
                    headers={"HX-Request": "true", "X-CSRFToken": token})
    assert r.status_code == 200


def test_login_form_itself_needs_csrf(client, org_factory):
    _, _, email, password = org_factory()
    assert client.post("/login", data={"email": email, "password": password}).status_code == 400


def test_another_organisations_records_answer_404(app, client, org_factory):
    mine, _, email, password = org_factory("自校", "me@example.jp")
    theirs, _, _, _ = org_factory("他校", "them@example.jp")
    their_session = make_session(app, theirs, start=FUTURE)
    their_booking = make_booking(app, theirs, their_session, make_candidate(app, theirs))
    login(client, email, password)
    token = csrf_token(client)
    assert client.get(f"/bookings/{their_booking}").status_code == 404
    headers = {"X-CSRFToken": token}
    assert client.post(f"/bookings/{their_booking}/cancel", headers=headers).status_code == 404
    assert client.post(f"/bookings/{their_booking}/paid", headers=headers).status_code == 404
    # Booking onto another organisation's session is refused too.
    r = client.post("/providers/sample/book", headers=headers, data={
        "session_id": their_session, "family_name": "侵入", "given_name": "者", "payment_method": "credit_card"})
    assert r.status_code == 404
    # Their bookings never appear in my list.
    page = client.get("/providers/sample/bookings?status=all").get_data(as_text=True)
    assert f'data-booking="{their_booking}"' not in page


def test_staff_cannot_reach_admin_pages(client, org_factory):
    _, _, email, password = org_factory(role="staff")
    login(client, email, password)
    assert client.get("/admin/providers/sample/closures").status_code == 403


def test_a_deactivated_or_demoted_user_loses_access_on_the_next_request(app, client, org_factory):
    """The signed-in user is read afresh on every request (a read-only snapshot of the row,
    portal.auth.SignedInUser): deactivating or demoting someone takes effect at once."""
    from sqlalchemy import update
    from portal import db
    from portal.auth import SignedInUser
    from portal.models import User
    _, user_id, email, password = org_factory(email="leaver@example.jp", role="admin")
    login(client, email, password)
    assert client.get("/admin/retention").status_code == 200

    with app.test_request_context():
        from flask_login import current_user
        from flask import session
        session["_user_id"] = str(user_id)
        assert isinstance(current_user._get_current_object(), SignedInUser)
        assert current_user.is_admin and current_user.email == email and current_user.is_active
        with pytest.raises(AttributeError):
            current_user.role = "staff"  # a snapshot: nothing to change, nothing to save by accident

    def set_user(**values):
        with app.app_context(), db.transaction() as s:
            s.execute(update(User).where(User.id == user_id).values(**values))

    set_user(role="staff")
    assert client.get("/admin/retention").status_code == 403
    set_user(active=False)
    assert client.get("/dashboard").status_code == 302  # signed out: to the login page

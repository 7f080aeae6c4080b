"""Never a 500, whatever a careless user or an attacker sends: every route in ``app.url_map``,
anonymous and signed in, GET and POST, with random, oversized, NUL and unicode values in the
path, the query string and the form (on SQLite and PostgreSQL: PostgreSQL refuses NUL in
text and integers beyond its range, so it is where unscreened input would fail)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import csrf_token, login
from helpers import make_booking, make_candidate, make_session
from portal.rules import JST


FIELDS = ["q", "page", "within", "user", "status", "sort", "month", "days", "provider", "kind", "exam", "session",
          "lang", "next", "entity", "action", "session_id", "family_name", "given_name", "family_kana", "given_kana",
          "email", "payment_method", "paid", "amount", "exam_start", "at", "start", "end", "capacity", "venue",
          "bank_code", "branch_code", "account_type", "account_number", "holder", "outcome", "date", "reason",
          "name", "role", "active", "enabled", "password", "score", "grade", "exam_date", "application_opens",
          "application_deadline", "responsible_person", "staff", "status", "code", "price", "outcome_1", "file",
          "arrived_at", "voucher", "booked_at", "submitted", "professional", "grade1", "grade2", "grade3"]
NASTY = st.sampled_from([
    "\x00", "a\x00b", "\x01\x02", "\x7f", "9999999999999999999", "-1", "0", "²", "١٢٣", "1e9", "NaN", "2026-13-40",
    "9999-12-31T23:59", "0001-01-01", "=HYPERLINK(\"http://evil.example\",\"x\")", "/\t/evil.example", "//evil.example",
    "<script>alert(1)</script>", "'; DROP TABLE booking; --", "𠮷野家", "ｶﾞｷﾞｸﾞ", "\u202e", "\ufeff", " ", "",
])
VALUES = st.one_of(NASTY, st.text(max_size=40), st.text(max_size=3).map(lambda s: s * 1500),
                   st.integers(min_value=-10**20, max_value=10**20).map(str))
FORMS = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=20)), VALUES, max_size=8)


@pytest.fixture
def world(make_app, org_factory):
    """A signed-in admin with a few records, and the rules to try: every route of the core,
    the sample provider and every installed plugin."""
    app = make_app(EXAM_PORTAL_PLUGINS=None)
    org_id, user_id, email, password = org_factory()
    start = datetime.now(JST).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=30)
    session_id = make_session(app, org_id, start=start)
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    signed_in = app.test_client()
    login(signed_in, email, password)
    token = csrf_token(signed_in)
    rules = sorted((r for r in app.url_map.iter_rules() if r.endpoint not in ("static", "auth.logout")),
                   key=lambda r: (r.rule, r.endpoint))
    providers = sorted(app.extensions["exam_portal.providers"].ids())
    return {"app": app, "signed_in": signed_in, "anonymous": app.test_client(), "token": token, "user_id": user_id,
            "rules": rules, "providers": providers}


def _path(rule, data, providers) -> str:
    def value(match):
        converter, name = match.group(1) or "", match.group(2)
        if converter.startswith("int"):
            return str(data.draw(st.one_of(st.integers(1, 5), st.integers(0, 10**25)), label=name))
        if name == "provider_id":
            return data.draw(st.sampled_from(providers + ["NOPE"]), label=name)
        return quote(data.draw(st.one_of(NASTY, st.text(min_size=1, max_size=20)), label=name) or "x", safe="")
    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>", value, rule.rule)


def _keep_signed_in(world) -> None:
    """A fuzzed POST may deactivate or demote the admin itself: restore it, so the rest of
    the run is still signed in (a cheap update instead of a new password hash)."""
    from portal import db
    from portal.models import User
    with world["app"].app_context():
        with db.transaction() as s:
            user = s.get(User, world["user_id"])
            user.active, user.role = True, "admin"
            s.add(user)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_route_answers_500_to_any_input(world, data):
    rule = data.draw(st.sampled_from(world["rules"]), label="rule")
    method = data.draw(st.sampled_from(sorted(rule.methods - {"HEAD", "OPTIONS"})), label="method")
    anonymous = data.draw(st.booleans(), label="anonymous")
    client = world["anonymous"] if anonymous else world["signed_in"]
    path = _path(rule, data, world["providers"])
    query = data.draw(FORMS, label="query")
    headers = {"X-CSRFToken": world["token"]}
    if data.draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    form = data.draw(FORMS, label="form") if method == "POST" else None
    response = client.open(path, method=method, query_string=query, data=form, headers=headers)
    assert response.status_code < 500, (method, path, query, form, response.get_data(as_text=True)[:800])
    if method == "POST" and not anonymous:
        _keep_signed_in(world)


def test_the_fuzzing_reaches_the_views(world):
    """The run above tries real routes: signed in, a plain GET of each list page is a 200."""
    client = world["signed_in"]
    assert len(world["rules"]) > 40
    assert world["providers"] == sorted({"sample", *(ep.name for ep in entry_points(group="exam_portal"))})
    for url in ("/dashboard", "/candidates", "/providers/sample/bookings", "/admin/audit", "/admin/retention"):
        assert client.get(url).status_code == 200, url


QUERY_FIELDS = ["q", "page", "within", "user", "status", "sort", "month", "days", "provider", "kind", "exam",
                "session", "entity", "action", "lang", "next"]


@pytest.mark.parametrize("value", ["a\x00b", "9999999999999999999"])
def test_every_page_refuses_a_bad_filter_value_without_a_500(world, value):
    """Deterministic sweep next to the random search: each GET page with each filter field
    set to a value that a database cannot take (NUL, beyond bigint) or ``int()`` cannot parse."""
    client = world["signed_in"]
    tried = 0
    for rule in world["rules"]:
        if "GET" not in rule.methods:
            continue
        path = re.sub(r"<int:[a-z_]+>", "1", rule.rule).replace("<provider_id>", "sample")
        path = re.sub(r"<[^>]+>", "x", path)
        for field in QUERY_FIELDS:
            response = client.get(path, query_string={field: value})
            assert response.status_code < 500, (path, field, response.get_data(as_text=True)[:800])
            tried += 1
    assert tried > 300


@pytest.mark.parametrize("value", ["a\x00b", "9999999999999999999", "x" * 5000])
def test_every_form_refuses_a_bad_value_without_a_500(world, value):
    """Each POST route with every form field set to the same bad value."""
    client = world["signed_in"]
    for rule in world["rules"]:
        if "POST" not in rule.methods:
            continue
        path = re.sub(r"<int:[a-z_]+>", "1", rule.rule).replace("<provider_id>", "sample")
        path = re.sub(r"<[^>]+>", "x", path)
        response = client.post(path, data={field: value for field in FIELDS},
                               headers={"X-CSRFToken": world["token"], "HX-Request": "true"})
        assert response.status_code < 500, (path, response.get_data(as_text=True)[:800])
        _keep_signed_in(world)

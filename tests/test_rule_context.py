"""The rule context is built once per process per rules version; every change of the
rules (closures, settings, catalogs, brands in use) changes the version in its own
transaction, so every process sees it on its next request (issue 10)."""
from datetime import datetime

import pytest
from sqlmodel import select

from conftest import csrf_token, login
from helpers import count_statements, make_booking, make_candidate, make_session
from portal import db, rule_context
from portal.models import Candidate, ClosureDay, Organization
from portal.rules import JST


HX = {"HX-Request": "true"}
CALC = {"exam": "S1", "exam_start": "2026-12-12T10:00", "at": "2026-11-23T10:00", "grade": "A", "count": "1"}


def _version(app, org_id):
    with app.app_context():
        return db.session().exec(select(Organization.rules_version).where(Organization.id == org_id)).one()


def test_calculator_partial_runs_at_most_two_statements(logged_in, app):
    client, _, _, token = logged_in
    headers = {"X-CSRFToken": token, **HX}
    client.post("/providers/sample/calculate", data=CALC, headers=headers)  # builds this process's context
    with count_statements(app) as counter:
        r = client.post("/providers/sample/calculate", data=CALC, headers=headers)
    assert r.status_code == 200 and "SMP-CH-1" in r.get_data(as_text=True)
    assert counter.count <= 2, counter.statements  # the user and the rules version, read together


def test_a_closure_change_reaches_another_process_on_its_next_request(make_app, org_factory):
    """Two apps (two processes) on one database share no memory: the second sees the
    first one's closure day through the rules version alone."""
    first, second = make_app(), make_app()
    org_id, _, email, password = org_factory()
    clients = []
    for app in (first, second):
        client = app.test_client()
        login(client, email, password)
        clients.append((client, csrf_token(client)))
    body = {"exam": "S1", "exam_start": "2026-12-10T10:00", "at": "2026-11-23T10:00"}

    def deadlines(index):
        client, token = clients[index]
        return client.post("/providers/sample/calculate", data=body,
                           headers={"X-CSRFToken": token, **HX}).get_data(as_text=True)

    assert "臨時休業" not in deadlines(1)  # the second process caches the context without it
    client, token = clients[0]
    r = client.post("/admin/providers/sample/closures", data={"label": "臨時休業", "start_date": "2026-12-07"},
                    headers={"X-CSRFToken": token, **HX})
    assert r.status_code == 200
    assert "臨時休業" in deadlines(1)  # SMP-DL-1 business days now skip the closure day
    assert "臨時休業" in deadlines(0)


def test_every_rule_change_gets_a_new_version_and_nothing_else_does(app, logged_in):
    client, org_id, _, token = logged_in
    headers = {"X-CSRFToken": token, **HX}
    seen = [_version(app, org_id)]

    def changed():
        seen.append(_version(app, org_id))
        return seen[-1] != seen[-2]

    client.post("/admin/providers/sample/closures", data={"label": "臨時休業", "start_date": "2026-12-07"}, headers=headers)
    assert changed()
    client.post("/admin/providers/sample/settings", data={"refund_fee": "330"}, headers=headers)
    assert changed()
    client.post("/admin/providers/sample/catalog", data={"code": "NEW-1", "name": "新試験", "price": "1000"}, headers=headers)
    assert changed()
    r = client.post("/admin/providers/sample/enabled", data={"enabled": ""}, headers=headers)
    assert r.status_code == 200
    assert changed()
    client.get("/dashboard")
    session_id = make_session(app, org_id, start=datetime(2027, 1, 12, 10, tzinfo=JST))
    make_booking(app, org_id, session_id, make_candidate(app, org_id))
    assert not changed()  # page views and bookings do not touch the rules


def test_disabling_a_brand_reaches_every_process(make_app, org_factory):
    first, second = make_app(), make_app()
    org_id, *_ = org_factory()
    with second.app_context():
        assert "sample" in rule_context.enabled_provider_ids(db.session(), org_id)
    with first.app_context():
        with db.transaction() as s:
            from portal.orgs import set_provider_enabled
            set_provider_enabled(s, org_id, "sample", False)
    with second.app_context():
        assert "sample" not in rule_context.enabled_provider_ids(db.session(), org_id)


def test_a_watched_plugin_table_changes_the_version_and_an_unwatched_one_does_not(app, org_factory, monkeypatch):
    """A plugin declares its own rule tables with ``watch`` (Odyssey its catalog; its own
    tests check that): a row written to a watched table gives the organisation a new
    version, the same row in a table nobody watches leaves it alone."""
    org_id, *_ = org_factory()
    monkeypatch.setattr(rule_context, "WATCHED", set(rule_context.WATCHED))  # watch() below stays in this test
    before = _version(app, org_id)
    make_candidate(app, org_id)
    assert _version(app, org_id) == before
    assert rule_context.watch(Candidate) is Candidate  # usable as a class decorator
    make_candidate(app, org_id, family="佐藤")
    assert _version(app, org_id) != before


def test_a_rolled_back_change_leaves_no_cached_context_behind(app, org_factory):
    org_id, *_ = org_factory()
    with app.app_context():
        before = rule_context.org_context(db.session(), org_id, "sample")
        db.session().rollback()
    with app.app_context():
        with pytest.raises(RuntimeError):
            with db.transaction() as s:
                s.add(ClosureDay(organization_id=org_id, provider="sample", start_date=datetime(2026, 12, 7).date(),
                                 end_date=datetime(2026, 12, 7).date(), label_ja="取り消される休業"))
                s.flush()
                inside = rule_context.org_context(s, org_id, "sample")
                assert inside is not before and "取り消される休業" in [c.label.ja for c in inside.calendar.closures]
                raise RuntimeError("the change is abandoned")
    with app.app_context():
        after = rule_context.org_context(db.session(), org_id, "sample")
        assert "取り消される休業" not in [c.label.ja for c in after.calendar.closures]
        assert after.calendar.closures == before.calendar.closures


def test_contexts_are_reused_until_the_version_changes(app, org_factory):
    org_id, *_ = org_factory()
    with app.app_context():
        first = rule_context.org_context(db.session(), org_id, "sample")
    with app.app_context():
        with count_statements(app) as counter:
            again = rule_context.org_context(db.session(), org_id, "sample")
        assert again is first and counter.count == 1  # the version only
    with app.app_context():
        with db.transaction() as s:
            rule_context.bump(s, org_id)
    with app.app_context():
        assert rule_context.org_context(db.session(), org_id, "sample") is not first


def test_holiday_tables_are_built_once_per_process():
    from portal.business_days import BusinessCalendar, _year_table
    from portal.rules import ClosureRule, Msg
    closures = (ClosureRule(datetime(2000, 12, 29).date(), datetime(2001, 1, 3).date(), Msg("年末年始", "year end"), True),)
    BusinessCalendar(closures).is_business_day(datetime(2031, 5, 6).date())
    hits = _year_table.cache_info().hits
    assert not BusinessCalendar(closures).is_business_day(datetime(2031, 5, 6).date())  # 振替休日
    assert _year_table.cache_info().hits == hits + 1

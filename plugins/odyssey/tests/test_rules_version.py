"""Odyssey keeps its catalog in its own table, declared part of the rules with
``portal.sdk.watch``: an edit gives the organisation a new rules version, so every process
rebuilds its rule context on its next request."""
from sqlmodel import select

from portal import db, rule_context
from portal.models import Organization


def _version(app, org_id):
    with app.app_context():
        return db.session().exec(select(Organization.rules_version).where(Organization.id == org_id)).one()


def test_an_edit_of_the_odyssey_catalog_changes_the_version(app, logged_in):
    client, org_id, _, token = logged_in
    client.get("/p/odyssey/catalog")
    before = _version(app, org_id)
    r = client.post("/p/odyssey/catalog", data={"code": "ZZ-1", "name": "新科目", "family": "PYTHON", "price_general": "5000"},
                    headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 200
    assert _version(app, org_id) != before
    with app.app_context():
        assert "ZZ-1" in [e.code for e in rule_context.org_context(db.session(), org_id, "odyssey").exams]


def test_the_remembered_subjects_follow_an_edit_at_once(app, logged_in):
    """services.subjects is remembered per rules version (portal.sdk.per_rules_version): an
    edit is read on the next call, and callers get their own dict."""
    from plugins.odyssey import services
    client, org_id, _, token = logged_in
    client.get("/p/odyssey/catalog")
    with app.app_context():
        first = services.subjects(db.session(), org_id)
        assert "ZZ-1" not in first
        first["ZZ-1"] = None  # a caller's change stays in its own dict
        assert "ZZ-1" not in services.subjects(db.session(), org_id)
    r = client.post("/p/odyssey/catalog", data={"code": "ZZ-1", "name": "新科目", "family": "PYTHON", "price_general": "5000"},
                    headers={"X-CSRFToken": token, "HX-Request": "true"})
    assert r.status_code == 200
    with app.app_context():
        added = services.subjects(db.session(), org_id)["ZZ-1"]
        assert added.name == "新科目" and added.prices["general"] == 5000

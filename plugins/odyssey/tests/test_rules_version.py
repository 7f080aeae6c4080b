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

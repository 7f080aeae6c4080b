"""JST-AP-1 / JST-SC-1 under concurrency, with real threads (each its own request and
database connection; PostgreSQL when TEST_DATABASE_URL is set, SQLite always): the one
upload sent six times at once, edits racing the upload, six operators entering the same
result. Exactly one applies; the others change nothing and are refused with the reason
and what is stored now; never a 500; the audit log holds exactly what happened."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from conftest import concurrently
from portal import db
from portal.models import AuditEvent
from portal.rules import JST
from plugins.jstc_group.tests.test_web import (  # noqa: F401 (fixtures)
    BASE, DETAILS, GOOD_ROWS, clock, download, new_group, post, stored, travel, upload,
)
from plugins.jstc_group.tests.xlsx import fill

RACERS = 6


def audit_count(app, action, entity_id=None, entity=None):
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action)
        if entity is not None:
            query = query.where(AuditEvent.entity == entity)
        if entity_id is not None:
            query = query.where(AuditEvent.entity_id == entity_id)
        return len(db.session().exec(query).all())


def test_the_bulk_form_uploaded_six_times_at_once(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    data = fill(download(client, group), GOOD_ROWS)
    results = concurrently(client, *[lambda c: upload(c, token, group, data)] * RACERS)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(204) == 1, statuses
    for status, html in results:
        if status != 204:
            assert status in (409, 422) and "アップロード" in html and "2026-06-10 10:00" in html, html[:2000]
    assert any(status == 409 for status in statuses) or all(status == 422 for status in statuses if status != 204)
    application, examinees = stored(app, group)
    assert application.applied_at is not None and len(examinees) == len(GOOD_ROWS)
    assert audit_count(app, "upload", group) == 1


def test_edits_racing_the_upload_never_land_in_a_locked_group(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    data = fill(download(client, group), GOOD_ROWS)
    draft = {"family_name": "木村", "given_name": "健", "family_kana": "キムラ", "given_kana": "ケン", "grade": "grade3"}
    calls = [lambda c: upload(c, token, group, data)] + [
        (lambda i: lambda c: post(c, token, f"{BASE}/examinees/{group}", {**draft, "given_name": f"健{i}"}))(i)
        for i in range(RACERS - 2)] + [lambda c: post(c, token, f"{BASE}/details/{group}", {**DETAILS, "venue": "別会場"})]
    results = concurrently(client, *calls)
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses[0] == 204, results[0][1][:2000]
    assert all(status in (200, 409, 422) for status in statuses[1:]), statuses
    application, examinees = stored(app, group)
    assert [e.family_name for e in examinees] == [row[0] for row in GOOD_ROWS]  # the form's rows, nothing else
    edits_applied = sum(1 for status in statuses[1:-1] if status == 200)
    assert audit_count(app, "create", entity="jstc_group_examinee") == edits_applied


def test_six_operators_entering_the_same_result(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    examinee = stored(app, group)[1][0]
    token = travel(clock, client, datetime(2026, 7, 26, 18, 0, tzinfo=JST))
    url = f"{BASE}/results/record/{examinee.id}"
    results = concurrently(client, *[(lambda score: lambda c: post(c, token, url, {"score": str(score), "seen_score": ""}))(120 + i)
                                     for i in range(RACERS)])
    statuses = [status for status, _ in results]
    assert 500 not in statuses and statuses.count(200) == 1 and statuses.count(409) == RACERS - 1, statuses
    stored_score = next(e for e in stored(app, group)[1] if e.id == examinee.id).score
    for status, html in results:
        if status == 409:
            assert "先に変更されたため、保存しませんでした" in html and f"得点{stored_score}" in html, html[:2000]
    assert audit_count(app, "result", examinee.id) == 1
    # the page the loser reloads shows the stored score: correcting it from there works
    assert post(client, token, url, {"score": "90", "seen_score": str(stored_score)}).status_code == 200
    assert audit_count(app, "result", examinee.id) == 2

"""The venue workflow on stored data: exam days and their states (ODY-ST, by clicks and by
time with a frozen clock), candidates, CSV import (ODY-CSV), late additions (ODY-LA),
the application copy, the catalog (admin) and the personal-data purge (ODY-PII)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from conftest import csrf_token, login
from portal.rules import JST

FIXTURES = Path(__file__).parent / "fixtures"
HX = {"HX-Request": "true"}


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


def post(client, token, url, data=None, **kw):
    return client.post(url, data=data or {}, headers={**HX, "X-CSRFToken": token}, **kw)


def create_day(client, token, start="2021-02-25T10:00"):
    r = post(client, token, "/p/odyssey/days", {"exam_start": start})
    assert r.status_code == 204, r.get_data(as_text=True)
    return int(r.headers["HX-Redirect"].rsplit("/", 1)[1])


def import_file(client, token, day_id, name):
    with open(FIXTURES / name, "rb") as fh:
        return post(client, token, f"/p/odyssey/import/{day_id}", {"file": (fh, name)}, content_type="multipart/form-data")


CANDIDATE = {"family_name": "丸の内", "given_name": "花子", "family_kana": "マルノウチ", "given_kana": "ハナコ", "gender": "1",
             "birth_date": "2004-04-02", "postal_code": "100-0005", "prefecture": "東京都", "city": "千代田区",
             "street": "丸の内 3-1-1", "employer": "オデッセイ高校", "candidate_type": "1",
             "code1": "MOS-WORD-2016", "kind1": "student"}


@pytest.fixture
def venue(client, org_factory):
    """(client, org_id, at): ``at(moment)`` freezes the clock and signs in again then (a
    session cookie is only valid for a month after it was signed, and never before)."""
    org_id, _, email, password = org_factory()

    @contextmanager
    def at(moment):
        with time_machine.travel(moment, tick=False):
            login(client, email, password)
            yield csrf_token(client, "/p/odyssey/")
    return client, org_id, at


def state_of(app, day_id):
    from portal import db
    from plugins.odyssey.models import OdysseyExamDay
    with app.app_context():
        return db.session().get(OdysseyExamDay, day_id).state


def audit_states(app, day_id):
    from portal import db
    from portal.models import AuditEvent
    with app.app_context():
        rows = db.session().exec(select(AuditEvent).where(AuditEvent.entity == "odyssey_exam_day",
                                                          AuditEvent.entity_id == day_id,
                                                          AuditEvent.action == "state_change").order_by(AuditEvent.id)).all()
        return [(r.before["state"], r.after["state"], r.after["by"]) for r in rows]


def test_manual_example_confirmed_with_19030_yen(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        r = import_file(client, token, day_id, "manual_example_cp932.csv")
        assert r.status_code == 200 and 'data-import="ok"' in r.get_data(as_text=True)
        page = post(client, token, f"/p/odyssey/confirm/{day_id}").get_data(as_text=True)
        assert 'data-state="confirmed"' in page and 'data-remittance="19030"' in page
        copy = client.get(f"/p/odyssey/copy/{day_id}").get_data(as_text=True)
        assert 'data-total="19030"' in copy and "(学割)Office Word 2016" in copy and "7,480" in copy and "11,550" in copy
        assert "2021-02-19(金)" in copy
    assert audit_states(app, day_id) == [("draft", "confirmed", "click")]


def test_states_change_by_time_and_are_audited(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        unconfirmed = create_day(client, token, "2021-02-25T10:00")
        confirmed = create_day(client, token, "2021-02-26T10:00")
        assert post(client, token, f"/p/odyssey/add-candidate/{confirmed}", CANDIDATE).status_code == 200
        post(client, token, f"/p/odyssey/confirm/{confirmed}")
    with at(jst(2021, 2, 19, 23, 59, 59)) as token:  # the deadline's last second
        client.get("/p/odyssey/")
        assert state_of(app, unconfirmed) == "draft"
    with at(jst(2021, 2, 20, 0, 0, 0)) as token:
        client.get("/p/odyssey/")
        assert state_of(app, unconfirmed) == "expired"
        assert state_of(app, confirmed) == "confirmed"
        r = post(client, token, f"/p/odyssey/add-candidate/{unconfirmed}", CANDIDATE)
        assert r.status_code == 422 and "申込締切日の翌日以降" in r.get_data(as_text=True)
    with at(jst(2021, 2, 26, 8, 0)) as token:
        client.get("/p/odyssey/")
        assert state_of(app, confirmed) == "exam_day"
    with at(jst(2021, 2, 27, 8, 0)) as token:
        page = client.get(f"/p/odyssey/day/{confirmed}").get_data(as_text=True)
        assert state_of(app, confirmed) == "results_due"
        test_id = re.search(r'name="outcome_(\d+)"', page).group(1)
        assert post(client, token, f"/p/odyssey/results/{confirmed}", {}).status_code == 422
        post(client, token, f"/p/odyssey/results/{confirmed}", {f"outcome_{test_id}": "failed"})
        assert state_of(app, confirmed) == "results_entered"
        post(client, token, f"/p/odyssey/complete/{confirmed}")
        assert state_of(app, confirmed) == "completed"
    assert audit_states(app, unconfirmed) == [("draft", "expired", "time")]
    assert audit_states(app, confirmed) == [("draft", "confirmed", "click"), ("confirmed", "exam_day", "time"),
                                            ("exam_day", "results_due", "time"), ("results_due", "results_entered", "click"),
                                            ("results_entered", "completed", "click")]


def test_withdraw_edit_and_confirm_again_before_the_deadline(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 19, 12, 0)) as token:  # the deadline day itself
        day_id = create_day(client, token)
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        assert r.status_code == 422 and "確定取消" in r.get_data(as_text=True)
        post(client, token, f"/p/odyssey/withdraw/{day_id}")
        assert state_of(app, day_id) == "draft"
        assert post(client, token, f"/p/odyssey/add-candidate/{day_id}", {**CANDIDATE, "given_name": "次子"}).status_code == 200
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        assert state_of(app, day_id) == "confirmed"
    with at(jst(2021, 2, 20, 9, 0)) as token:
        r = post(client, token, f"/p/odyssey/withdraw/{day_id}")
        assert r.status_code == 422 and state_of(app, day_id) == "confirmed"
        page = client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)
        candidate_id = re.search(r'data-candidate="(\d+)"', page).group(1)
        assert post(client, token, f"/p/odyssey/delete-candidate/{candidate_id}").status_code == 422
    assert audit_states(app, day_id) == [("draft", "confirmed", "click"), ("confirmed", "draft", "click"),
                                         ("draft", "confirmed", "click")]


def test_candidate_form_errors_are_per_field_and_nothing_is_saved(venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        bad = {**CANDIDATE, "family_kana": "まるのうち", "postal_code": "1000005", "employer": "", "code2": "VBA-EXCEL-BASIC",
               "kind2": "voucher"}
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", bad)
        html = r.get_data(as_text=True)
        assert r.status_code == 422
        for field in ("family_kana", "postal_code", "employer", "subject2"):
            assert f'data-field="{field}"' in html
        assert "data-candidate=" not in html


def test_closure_day_and_duplicate_and_past_deadline_are_refused(venue):
    client, _, at = venue
    with at(jst(2024, 12, 1, 9, 0)) as token:
        r = post(client, token, "/p/odyssey/days", {"exam_start": "2024-12-30T10:00"})
        assert r.status_code == 422 and "試験実施不可日" in r.get_data(as_text=True)
        create_day(client, token, "2024-12-20T10:00")
        assert post(client, token, "/p/odyssey/days", {"exam_start": "2024-12-20T14:00"}).status_code == 422
        r = post(client, token, "/p/odyssey/days", {"exam_start": "2024-12-03T10:00"})
        assert r.status_code == 422 and "締切" in r.get_data(as_text=True)
        assert post(client, token, "/p/odyssey/days", {"exam_start": "soon"}).status_code == 422


def test_csv_import_all_or_nothing_and_once_per_day(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
        r = import_file(client, token, day_id, "column_errors.csv")
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and "1件もインポートしていません" in html
        assert 'data-line="1" data-column="C"' in html and "data-candidate=" not in html
        r = import_file(client, token, day_id, "manual_example_utf8_bom_title.csv")
        assert r.status_code == 200 and "タイトル行" in r.get_data(as_text=True)
        r = import_file(client, token, day_id, "manual_example_utf8.csv")  # from a page that predates the import
        html = r.get_data(as_text=True)
        assert r.status_code == 409 and "インポート済みです" in html and "テスト 担当" in html and "1回だけ" in html
        assert "manual_example_utf8_bom_title.csv" in html
        page = post(client, token, f"/p/odyssey/delete-import/{day_id}").get_data(as_text=True)
        assert "data-candidate=" not in page
        assert import_file(client, token, day_id, "manual_example_cp932.csv").status_code == 200


def test_another_organisation_sees_404(client, org_factory):
    a = org_factory(name="A校", email="a@example.jp")
    b = org_factory(name="B校", email="b@example.jp")
    with time_machine.travel(jst(2021, 2, 1, 9, 0), tick=False):
        login(client, a[2], a[3])
        day_id = create_day(client, csrf_token(client, "/p/odyssey/"))
        client.post("/logout", data={"csrf_token": csrf_token(client, "/p/odyssey/")})
        login(client, b[2], b[3])
        token = csrf_token(client, "/p/odyssey/")
        assert client.get(f"/p/odyssey/day/{day_id}").status_code == 404
        assert post(client, token, f"/p/odyssey/confirm/{day_id}").status_code == 404
        assert client.get(f"/p/odyssey/copy/{day_id}").status_code == 404
        assert post(client, token, "/p/odyssey/add-candidate/%d" % day_id, CANDIDATE).status_code == 404


def test_late_addition_needs_the_deposit_and_closes_at_noon(app, venue):
    client, _, at = venue
    with at(jst(2020, 9, 1, 9, 0)) as token:
        day_id = create_day(client, token, "2020-09-16T14:00")
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    late = {**CANDIDATE, "given_name": "三子", "code1": "VBA-EXCEL-BASIC", "kind1": "general", "late": "1"}
    with at(jst(2020, 9, 15, 9, 0)) as token:
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", late)
        assert r.status_code == 422 and "預け金残高0円" in r.get_data(as_text=True)
        post(client, token, "/p/odyssey/venue", {"deposit_balance": "20000", "contract_kind": "standard"})
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", late)
        assert r.status_code == 200 and "追加申込" in r.get_data(as_text=True)
        assert 'name="deposit_balance" value="8450"' in client.get("/p/odyssey/venue").get_data(as_text=True)  # 20,000 − 11,550
    with at(jst(2020, 9, 16, 12, 0, 1)) as token:
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}", {**late, "given_name": "四子"})
        assert r.status_code == 422


def test_retake_check_against_declared_and_stored_attempts(venue):
    client, _, at = venue
    with at(jst(2024, 4, 1, 9, 0)) as token:
        day_id = create_day(client, token, "2024-04-10T10:00")
        vba = {**CANDIDATE, "code1": "VBA-EXCEL-BASIC", "kind1": "general", "employer": ""}
        # Two earlier VBA attempts, the last ending 2024-04-05 11:00: 3rd attempt only 168 h after its end.
        r = post(client, token, f"/p/odyssey/add-candidate/{day_id}",
                 {**vba, "prev_start": "2024-04-05T10:00", "prev_end": "2024-04-05T11:00", "prev_outcome": "failed"})
        assert r.status_code == 200  # a 2nd VBA attempt has no wait
        day2 = create_day(client, token, "2024-04-11T10:00")
        mos = {**CANDIDATE, "prev_start": "2024-04-10T10:00", "prev_outcome": "passed"}
        assert post(client, token, f"/p/odyssey/add-candidate/{day2}", {**mos, "code1": "MOS-WORD-2016"}).status_code == 200
        its = {**CANDIDATE, "code1": "ITS", "kind1": "general", "prev_start": "2024-03-01T10:00", "prev_outcome": "passed"}
        r = post(client, token, f"/p/odyssey/add-candidate/{day2}", its)
        assert r.status_code == 422 and "問い合わせ" in r.get_data(as_text=True)
        mos_failed = {**mos, "prev_start": "2024-04-10T11:00", "prev_outcome": "failed"}
        r = post(client, token, f"/p/odyssey/add-candidate/{day2}", mos_failed)
        assert r.status_code == 422 and "24時間" in r.get_data(as_text=True)


def test_self_exam_needs_general_candidates_and_a_request(app, venue):
    client, _, at = venue
    staff = {**CANDIDATE, "family_name": "試験", "given_name": "官", "employer": "自校スタッフ", "code1": "VBA-EXCEL-BASIC",
             "kind1": "general"}
    with at(jst(2021, 2, 1, 9, 0)) as token:
        post(client, token, "/p/odyssey/venue", {"proctor_count": "2", "contract_kind": "standard"})
        day_id = create_day(client, token)
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", staff)
        assert "一般受験者" in post(client, token, f"/p/odyssey/confirm/{day_id}").get_data(as_text=True)
        assert post(client, token, f"/p/odyssey/self-exam/{day_id}").status_code == 422
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        assert "自校受験申請" in post(client, token, f"/p/odyssey/confirm/{day_id}").get_data(as_text=True)
        assert post(client, token, f"/p/odyssey/self-exam/{day_id}").status_code == 200
        post(client, token, f"/p/odyssey/confirm/{day_id}")
        assert state_of(app, day_id) == "confirmed"
    with at(jst(2021, 2, 18, 9, 0)) as token:  # after the 5-business-day deadline (2/17)
        other = create_day(client, token, "2021-02-26T10:00")
        post(client, token, f"/p/odyssey/add-candidate/{other}", staff)
        post(client, token, f"/p/odyssey/add-candidate/{other}", CANDIDATE)
        r = post(client, token, f"/p/odyssey/self-exam/{day_id}")
        assert r.status_code == 422


def test_catalog_is_in_the_database_and_editable_by_an_admin(app, logged_in):
    client, org_id, _, token = logged_in
    page = client.get("/p/odyssey/catalog").get_data(as_text=True)
    assert 'data-subject="MOS-WORD-2016"' in page and 'data-subject="VBA-EXCEL-BASIC"' in page
    form = {"code": "MOS-WORD-2016", "name": "Office Word 2016", "family": "MOS", "price_general": "10,780",
            "price_student": "8580", "commission": "1100", "active": "on"}
    assert post(client, token, "/p/odyssey/catalog", form).status_code == 200
    assert post(client, token, "/p/odyssey/catalog", {**form, "price_general": "abc"}).status_code == 422
    assert post(client, token, "/p/odyssey/catalog", {**form, "family": "XYZ"}).status_code == 422
    from portal import db
    from plugins.odyssey.models import OdysseySubject
    with app.app_context():
        row = db.session().exec(select(OdysseySubject).where(OdysseySubject.organization_id == org_id,
                                                             OdysseySubject.code == "MOS-WORD-2016")).one()
        assert row.price_general == 10780


def test_staff_cannot_edit_the_catalog(client, org_factory):
    _, _, email, password = org_factory(role="staff")
    login(client, email, password)
    token = csrf_token(client, "/p/odyssey/catalog")
    r = post(client, token, "/p/odyssey/catalog", {"code": "X", "name": "X", "family": "MOS"})
    assert r.status_code == 403


def test_purge_cli_deletes_personal_data_a_month_after_and_is_idempotent(app, venue):
    client, org_id, at = venue
    with at(jst(2024, 1, 10, 9, 0)) as token:
        day_id = create_day(client, token, "2024-01-31T10:00")
        post(client, token, f"/p/odyssey/add-candidate/{day_id}", CANDIDATE)
        post(client, token, f"/p/odyssey/confirm/{day_id}")
    runner = app.test_cli_runner()
    with at(jst(2024, 2, 29, 23, 0)) as token:  # 01-31 + 1 month = 02-29 (leap year)
        assert "0 exam day(s) purged" in runner.invoke(args=["odyssey", "purge"]).output
    with at(jst(2024, 3, 1, 3, 0)) as token:
        out = runner.invoke(args=["odyssey", "purge"]).output
        assert "1 candidate(s)" in out and "1 exam day(s) purged" in out
        assert "0 exam day(s) purged" in runner.invoke(args=["odyssey", "purge"]).output
        page = client.get(f"/p/odyssey/day/{day_id}").get_data(as_text=True)
        assert "丸の内" not in page and "個人情報削除済" in page and 'data-remittance="7480"' in page
    from portal import db
    from portal.models import AuditEvent
    from plugins.odyssey.models import OdysseyCandidate, OdysseyPurgeLog
    with app.app_context():
        s = db.session()
        c = s.exec(select(OdysseyCandidate)).one()
        assert (c.family_name, c.birth_date, c.street, c.purged) == ("", None, "", True)
        assert len(s.exec(select(OdysseyPurgeLog)).all()) == 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "purge_personal_data")).one().after["candidates_purged"] == 1
        # No personal data was ever copied into the audit trail.
        assert all("丸の内" not in str(e.after) + str(e.before) for e in s.exec(select(AuditEvent)).all())


def test_advance_states_cli(app, venue):
    client, _, at = venue
    with at(jst(2021, 2, 1, 9, 0)) as token:
        day_id = create_day(client, token)
    with time_machine.travel(jst(2021, 2, 22, 9, 0), tick=False):  # no page visit: only the command moves it
        out = app.test_cli_runner().invoke(args=["odyssey", "advance-states"]).output
        assert "1 exam day(s) changed state" in out
    assert state_of(app, day_id) == "expired"


def test_contract_year_page(venue):
    client, _, at = venue
    with at(jst(2021, 3, 1, 9, 0)) as token:
        post(client, token, "/p/odyssey/venue", {"contract_start": "2020-05-01", "contract_kind": "standard"})
        page = client.get("/p/odyssey/venue").get_data(as_text=True)
        assert "2020-05-01 〜 2021-04-30" in page and 'data-fee="110000"' in page


def test_panel_links_on_the_brand_switcher(logged_in):
    client = logged_in[0]
    page = client.get("/providers/odyssey").get_data(as_text=True)
    assert 'data-panel="odyssey"' in page and "/p/odyssey/" in page


def test_the_retention_page_lists_when_each_exam_days_data_goes(app, venue):
    """ODY-PII on the admin's 個人データの削除予定 page: the day after the month since the exam."""
    client, _, at = venue
    with at(jst(2021, 1, 10, 9, 0)) as token:
        day_id = create_day(client, token, start="2021-01-31T10:00")
        assert import_file(client, token, day_id, "manual_example_utf8.csv").status_code == 200
        page = client.get("/admin/retention").get_data(as_text=True)
    assert 'data-planned-purge="2021-03-01"' in page  # 01-31 + 1 month = 02-28, purged from 03-01
    assert "受験者2名" in page and "ODY-PII" in page

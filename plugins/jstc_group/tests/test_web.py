"""The group workflow through the HTMX pages: live quote, the one upload, lock, invoice, results."""
from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO

import pytest
import time_machine
from sqlmodel import select

from conftest import csrf_token, login
from portal import db
from portal.models import AuditEvent
from portal.rules import JST
from plugins.jstc_group.models import JstcApplication, JstcExaminee

from .xlsx import GOOD_ROWS, fill

BASE = "/p/jstc_group"
HX = {"HX-Request": "true"}
IN_PERIOD = datetime(2026, 6, 10, 10, 0, tzinfo=JST)
SESSION_FORM = {"name": "第130回", "exam_date": "2026-07-26", "application_opens": "2026-05-01",
                "application_deadline": "2026-06-19"}
DETAILS = {"responsible_person": "山田 花子", "venue": "本校 講堂", "staff": "教務課 3名"}


@pytest.fixture
def clock():
    with time_machine.travel(IN_PERIOD, tick=False) as traveller:
        yield traveller


def post(client, token, url, data=None, htmx=True, **kwargs):
    headers = {"X-CSRFToken": token, **(HX if htmx else {})}
    return client.post(url, data=data or {}, headers=headers, **kwargs)


def new_group(client, token, session=SESSION_FORM, details=DETAILS) -> int:
    assert post(client, token, f"{BASE}/sessions", session).status_code == 200
    page = client.get(f"{BASE}/").get_data(as_text=True)
    session_id = re.search(rf'data-session="(\d+)"><td>{session["name"]}<', page).group(1)
    response = post(client, token, f"{BASE}/sessions/apply/{session_id}")
    application_id = int(response.headers["HX-Redirect"].rsplit("/", 1)[1])
    if details:
        assert post(client, token, f"{BASE}/details/{application_id}", details).status_code == 200
    return application_id


def travel(clock, client, moment: datetime) -> str:
    """Move the clock and sign in again (a session cookie is valid for 31 days, and not
    before it was issued); returns the new CSRF token."""
    clock.move_to(moment)
    login(client, "staff@example.jp", "pw-123456")  # the logged_in fixture's operator
    return csrf_token(client)


def upload(client, token, application_id, data: bytes, name="bulk.xlsx"):
    return post(client, token, f"{BASE}/bulk-form/upload/{application_id}",
                {"form": (BytesIO(data), name)}, content_type="multipart/form-data")


def download(client, application_id) -> bytes:
    response = client.get(f"{BASE}/bulk-form/{application_id}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return response.data


def stored(app, application_id):
    with app.app_context():
        s = db.session()
        return (s.get(JstcApplication, application_id),
                s.exec(select(JstcExaminee).where(JstcExaminee.application_id == application_id)
                       .order_by(JstcExaminee.line)).all())


# --------------------------------------------------------------------------- sessions


def test_panel_links_to_the_sessions_page(logged_in):
    client, *_ = logged_in
    page = client.get("/providers/jstc_group").get_data(as_text=True)
    assert f'href="{BASE}/"' in page and 'hx-post="/p/jstc_group/calculate"' in page


def test_session_dates_are_validated(logged_in):
    client, _, _, token = logged_in
    response = post(client, token, f"{BASE}/sessions", {**SESSION_FORM, "application_deadline": "2026-07-26"})
    assert response.status_code == 422
    assert "申込開始日 ≦ 申込締切日 &lt; 試験日" in response.get_data(as_text=True)
    response = post(client, token, f"{BASE}/sessions", {**SESSION_FORM, "exam_date": "2026-02-30"})
    assert response.status_code == 422 and "試験日を日付" in response.get_data(as_text=True)


def test_one_group_application_per_session(clock, logged_in):
    client, _, _, token = logged_in
    new_group(client, token)
    session_id = re.findall(r'data-session="(\d+)"', client.get(f"{BASE}/").get_data(as_text=True))[0]
    response = post(client, token, f"{BASE}/sessions/apply/{session_id}")
    assert response.status_code == 422 and "開催回ごとに1件" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- live quote


def test_live_quote_updates_as_rows_are_added(clock, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    for i, (family, given, fk, gk, grade) in enumerate(GOOD_ROWS[:9]):
        response = post(client, token, f"{BASE}/examinees/{group}",
                        {"family_name": family, "given_name": given, "family_kana": fk, "given_kana": gk,
                         "grade": {"1級": "grade1", "2級": "grade2", "3級": "grade3"}.get(grade, "professional")})
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-group="false"' in html and "10名に満たない" in html  # 9: not a group yet
    response = post(client, token, f"{BASE}/examinees/{group}",
                    {"family_name": "加藤", "given_name": "八子", "family_kana": "カトウ", "given_kana": "ハチコ", "grade": "grade2"})
    html = response.get_data(as_text=True)
    assert 'data-group="true"' in html
    assert "10〜20名" in html
    # 1 professional 17,000 + 1 grade1 9,000 + 4 grade2 x 6,400 + 4 grade3 x 3,500 = 65,600; minus 3,000
    assert re.search(r"data-fees-total>65,600円<", html) and re.search(r"data-invoice><strong>62,600円<", html)
    assert 'data-count="total">10<' in html


def test_a_bad_or_duplicate_row_is_refused_and_nothing_is_added(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    row = {"family_name": "山田", "given_name": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ", "grade": "grade2"}
    assert post(client, token, f"{BASE}/examinees/{group}", row).status_code == 200
    response = post(client, token, f"{BASE}/examinees/{group}", row)
    assert response.status_code == 422 and "登録済みの受験者と同じ受験者・受験級です" in response.get_data(as_text=True)
    response = post(client, token, f"{BASE}/examinees/{group}", {**row, "grade": "grade4"})
    assert response.status_code == 422 and "受験級「grade4」は選べません" in response.get_data(as_text=True)
    assert len(stored(app, group)[1]) == 1


def test_a_draft_row_can_be_deleted_before_the_upload(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    post(client, token, f"{BASE}/examinees/{group}",
         {"family_name": "山田", "given_name": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ", "grade": "grade2"})
    examinee = stored(app, group)[1][0]
    assert post(client, token, f"{BASE}/examinees/delete/{examinee.id}").status_code == 200
    assert stored(app, group)[1] == []


# --------------------------------------------------------------------------- the one upload


def test_upload_locks_the_group_and_replaces_the_draft(clock, app, logged_in):
    client, org_id, _, token = logged_in
    group = new_group(client, token)
    post(client, token, f"{BASE}/examinees/{group}",
         {"family_name": "下書", "given_name": "太郎", "family_kana": "シタガキ", "given_kana": "タロウ", "grade": "grade1"})
    form = download(client, group)
    rows = GOOD_ROWS[:9] + [("髙橋", "一郎", "タカハシ", "イチロウ", "3級")]
    response = upload(client, token, group, fill(form, rows, start=7))  # row 6 keeps the draft examinee
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"{BASE}/groups/{group}"
    application, examinees = stored(app, group)
    assert application.applied_at == IN_PERIOD and application.form_filename == "bulk.xlsx"
    assert len(examinees) == 11 and examinees[0].family_name == "下書"
    assert [e.jis_flag for e in examinees if e.jis_flag] == ["髙"]
    page = client.get(f"{BASE}/groups/{group}").get_data(as_text=True)
    assert 'data-locked="true"' in page and "2026-06-10 10:00に一括申込書をアップロード" in page
    assert 'name="family_name"' not in page and 'name="form"' not in page and "/delete" not in page
    assert "JIS第1・第2水準外の文字「髙」" in page
    with app.app_context():
        events = db.session().exec(select(AuditEvent).where(AuditEvent.organization_id == org_id,
                                                            AuditEvent.action == "upload")).all()
        assert len(events) == 1 and events[0].after["examinees"] == 11


def test_a_second_upload_and_any_change_after_it_are_refused(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    form = download(client, group)
    assert upload(client, token, group, fill(form, GOOD_ROWS)).status_code == 204
    response = upload(client, token, group, fill(form, GOOD_ROWS[:5] + [("木村", "健", "キムラ", "ケン", "3級")] * 1 + GOOD_ROWS[5:]))
    assert response.status_code == 422 and "申込完了後は受験者の追加" in response.get_data(as_text=True)
    added = post(client, token, f"{BASE}/examinees/{group}",
                 {"family_name": "木村", "given_name": "健", "family_kana": "キムラ", "given_kana": "ケン", "grade": "grade3"})
    assert added.status_code == 422
    examinee = stored(app, group)[1][0]
    assert post(client, token, f"{BASE}/examinees/delete/{examinee.id}").status_code == 422
    assert post(client, token, f"{BASE}/details/{group}", {**DETAILS, "venue": "別会場"}).status_code == 422
    application, examinees = stored(app, group)
    assert len(examinees) == 10 and application.venue == DETAILS["venue"]


def test_a_form_with_bad_rows_stores_nothing_and_lists_every_problem(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    rows = GOOD_ROWS + [("木村", "健", "キムラ", "ケン", "4級"), ("山田", "太郎", "ヤマダ", "タロウ", "2級")]
    response = upload(client, token, group, fill(download(client, group), rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-problems="2"' in html and "16行目: 受験級「4級」は選べません" in html and "17行目: 6行目と同じ" in html
    assert "何も登録されていません" in html
    application, examinees = stored(app, group)
    assert application.applied_at is None and examinees == []
    # corrected, the same group can still upload once
    assert upload(client, token, group, fill(download(client, group), GOOD_ROWS)).status_code == 204


def test_fewer_than_ten_examinees_are_not_a_group(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    response = upload(client, token, group, fill(download(client, group), GOOD_ROWS[:9]))
    assert response.status_code == 422 and "のべ9名" in response.get_data(as_text=True)
    assert stored(app, group)[0].applied_at is None


def test_upload_needs_the_group_requirements(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token, details=None)
    page = client.get(f"{BASE}/groups/{group}").get_data(as_text=True)
    assert "申込責任者・受験会場・当日運営の担当者を先に登録してください" in page
    response = upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    assert response.status_code == 422 and stored(app, group)[0].applied_at is None


def test_no_upload_after_the_deadline_but_up_to_its_last_second(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    data = fill(download(client, group), GOOD_ROWS)
    clock.move_to(datetime(2026, 6, 20, 0, 0, 0, tzinfo=JST))
    response = upload(client, token, group, data)
    assert response.status_code == 422 and "申込締切(2026-06-19 23:59)を過ぎた" in response.get_data(as_text=True)
    clock.move_to(datetime(2026, 6, 19, 23, 59, 59, tzinfo=JST))
    assert upload(client, token, group, data).status_code == 204


def test_no_upload_before_the_application_period(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    data = fill(download(client, group), GOOD_ROWS)
    token = travel(clock, client, datetime(2026, 4, 30, 23, 59, tzinfo=JST))
    response = upload(client, token, group, data)
    assert response.status_code == 422 and "まだ始まっていません" in response.get_data(as_text=True)


def test_upload_without_a_file_or_with_another_file(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    response = post(client, token, f"{BASE}/bulk-form/upload/{group}", {})
    assert response.status_code == 422 and "選んでください" in response.get_data(as_text=True)
    response = upload(client, token, group, "姓,名\n山田,太郎".encode("cp932"), name="list.csv")
    assert response.status_code == 422 and "Excel ファイル(.xlsx)として読めません" in response.get_data(as_text=True)


def test_the_form_of_another_session_is_refused(clock, app, logged_in):
    client, _, _, token = logged_in
    first = new_group(client, token)
    second = new_group(client, token, session={**SESSION_FORM, "name": "第131回", "exam_date": "2026-11-15"})
    response = upload(client, token, second, fill(download(client, first), GOOD_ROWS))
    assert response.status_code == 422 and "別の開催回(第130回)の一括申込書です" in response.get_data(as_text=True)


# --------------------------------------------------------------------------- invoice and results


def test_invoice_after_upload(clock, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    html = client.get(f"{BASE}/invoice/{group}").get_data(as_text=True)
    # 1 x 17,000 + 1 x 9,000 + 4 x 6,400 + 4 x 3,500 = 65,600 - 3,000
    assert "data-invoice-page" in html and "data-not-applied" not in html
    assert "62,600円" in html and "山田 花子" in html and "返金されません" in html


def test_results_entry_and_summary(clock, app, logged_in):
    client, _, _, token = logged_in
    group = new_group(client, token)
    upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    examinees = {e.family_name: e for e in stored(app, group)[1]}
    url = f"{BASE}/results/record/"
    response = post(client, token, url + str(examinees["山田"].id), {"score": "150"})
    assert response.status_code == 422 and "試験日(2026-07-26)から入力できます" in response.get_data(as_text=True)
    token = travel(clock, client, datetime(2026, 7, 26, 18, 0, tzinfo=JST))
    assert post(client, token, url + str(examinees["高橋"].id), {"score": "160", "question_below_half": "on"}).status_code == 200
    assert post(client, token, url + str(examinees["山田"].id), {"score": "120"}).status_code == 200
    html = post(client, token, url + str(examinees["佐藤"].id), {"score": "119"}).get_data(as_text=True)
    marks = {e.family_name: e.mark for e in stored(app, group)[1] if e.mark}
    assert marks == {"高橋": "associate_professional", "山田": "pass", "佐藤": "fail"}
    assert re.search(r'data-summary="professional">.*?data-mark-count="associate_professional">1<', html, re.S)
    assert re.search(r'data-summary="grade3">.*?data-mark-count="fail">1<', html, re.S)
    bad = post(client, token, url + str(examinees["山田"].id), {"score": "201"})
    assert bad.status_code == 422 and "0〜200の整数" in bad.get_data(as_text=True)
    assert stored(app, group)[1][0].score == 120


def test_another_organisations_group_is_not_found(clock, app, client, org_factory):
    _, _, email, password = org_factory()
    login(client, email, password)
    token = csrf_token(client)
    group = new_group(client, token)
    post(client, token, f"{BASE}/examinees/{group}",
         {"family_name": "山田", "given_name": "太郎", "family_kana": "ヤマダ", "given_kana": "タロウ", "grade": "grade2"})
    examinee = stored(app, group)[1][0]
    client.post("/logout", data={"csrf_token": token})
    _, _, email2, password2 = org_factory(name="他校", email="other@example.jp")
    login(client, email2, password2)
    token2 = csrf_token(client)
    assert client.get(f"{BASE}/groups/{group}").status_code == 404
    assert client.get(f"{BASE}/bulk-form/{group}").status_code == 404
    assert client.get(f"{BASE}/invoice/{group}").status_code == 404
    assert post(client, token2, f"{BASE}/examinees/{group}", {"family_name": "x"}).status_code == 404
    assert post(client, token2, f"{BASE}/examinees/delete/{examinee.id}").status_code == 404
    assert post(client, token2, f"{BASE}/results/record/{examinee.id}", {"score": "150"}).status_code == 404
    assert len(stored(app, group)[1]) == 1


def test_pages_need_a_login(client):
    assert client.get(f"{BASE}/").status_code == 302


def test_panel_calculator(logged_in):
    client, _, _, token = logged_in
    html = post(client, token, f"{BASE}/calculate", {"grade2": "5", "grade3": "5", "exam_date": "2020-11-15",
                                                     "submitted": "on"}).get_data(as_text=True)
    assert "46,500円" in html and 'data-kind="application"' in html and 'data-decision="change" class="no"' in html
    html = post(client, token, f"{BASE}/calculate", {"grade2": "x"}).get_data(as_text=True)
    assert "半角数字" in html


def test_dashboard_and_calendar_items(clock, app, logged_in):
    """provider_due_items: the upload deadline until the form is uploaded; provider_sessions: the exam day."""
    client, org_id, _, token = logged_in
    group = new_group(client, token)
    start, end = datetime(2026, 6, 1, tzinfo=JST), datetime(2026, 8, 1, tzinfo=JST)

    def items():
        with app.test_request_context():
            providers = app.extensions["exam_portal.providers"]
            ctx = providers.default_context("jstc_group")
            return providers.due_items(ctx, org_id, start, end), providers.sessions(ctx, org_id, start, end)

    due, sessions = items()
    assert [(d.kind, d.at, d.rule, d.url) for d in due] == [
        ("application", datetime(2026, 6, 19, 23, 59, 59, tzinfo=JST), "JST-AP-1", f"{BASE}/groups/{group}")]
    assert [(s.label, s.start) for s in sessions] == [("第130回 技術英語能力検定", datetime(2026, 7, 26, tzinfo=JST))]
    upload(client, token, group, fill(download(client, group), GOOD_ROWS))
    due, sessions = items()
    assert due == [] and len(sessions) == 1


def test_dashboard_and_calendar_windows_are_exact_at_their_edges(clock, app, logged_in):
    """Only sessions whose deadline / exam day fall in the window are read (past years never
    are), and the window's edges hold to the second, also for a window given in UTC (whose
    calendar day differs from Japan's)."""
    from datetime import timedelta, timezone
    client, org_id, _, token = logged_in
    new_group(client, token)
    deadline = datetime(2026, 6, 19, 23, 59, 59, tzinfo=JST)
    exam_day = datetime(2026, 7, 26, tzinfo=JST)

    def found(start, end):
        with app.test_request_context():
            providers = app.extensions["exam_portal.providers"]
            ctx = providers.default_context("jstc_group")
            return ([d.at for d in providers.due_items(ctx, org_id, start, end)],
                    [s.start for s in providers.sessions(ctx, org_id, start, end)])

    second = timedelta(seconds=1)
    assert found(deadline, deadline + second)[0] == [deadline]
    assert found(deadline - second, deadline)[0] == []
    assert found(deadline + second, deadline + 2 * second)[0] == []
    utc = timezone.utc
    assert found(deadline.astimezone(utc), (deadline + second).astimezone(utc))[0] == [deadline]
    assert found(exam_day.astimezone(utc), (exam_day + second).astimezone(utc))[1] == [exam_day]
    assert found(exam_day - second, exam_day) == ([], [])
    assert found(datetime(2025, 1, 1, tzinfo=JST), datetime(2026, 1, 1, tzinfo=JST)) == ([], [])

"""Every list's export (CSV with BOM, .xlsx) under the list's filters: Japanese intact,
formulas neutralised, the same number of statements for 3 rows as for 30."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from portal.testing import count_statements, csv_rows, xlsx_rows
from helpers import make_booking, make_candidate, make_session
from portal.rules import JST


EVIL = '=HYPERLINK("http://evil.example/","x")'


@pytest.fixture
def bookings(app, logged_in):
    client, org_id, _, token = logged_in
    start = datetime(2031, 3, 10, 10, 0, tzinfo=JST)
    session_id = make_session(app, org_id, start=start, capacity=100)
    ids = {
        "yamada": make_booking(app, org_id, session_id, make_candidate(app, org_id, "山田", "太郎")),
        "evil": make_booking(app, org_id, session_id, make_candidate(app, org_id, EVIL, "@SUM(A1)")),
        "sato": make_booking(app, org_id, session_id, make_candidate(app, org_id, "佐藤", "花子"), method="convenience_store",
                             paid=False, due=start - timedelta(days=20)),
    }
    return client, org_id, token, ids, session_id


def test_bookings_csv_keeps_japanese_and_neutralises_formulas(bookings):
    client, *_ = bookings
    rows = csv_rows(client.get("/providers/sample/bookings/export.csv"))
    assert rows[0][:3] == ["予約ID", "受験者", "カナ"]
    names = {r[1] for r in rows[1:]}
    assert "山田 太郎" in names and "佐藤 花子" in names
    assert "'" + EVIL + " @SUM(A1)" in names  # starts with "=": prefixed, shown as text
    assert any("SMP-" in r[11] for r in rows[1:])  # the deadlines with their rule IDs


def test_bookings_xlsx_has_no_formula_and_real_dates(bookings):
    client, *_ = bookings
    rows = xlsx_rows(client.get("/providers/sample/bookings/export.xlsx"))
    assert rows[0][1] == "受験者"
    assert {r[1] for r in rows[1:]} >= {"山田 太郎", "'" + EVIL + " @SUM(A1)"}
    assert all(isinstance(r[4], datetime) for r in rows[1:])  # the exam's start, as a date cell
    assert rows[1][4].hour == 10  # in JST, as on screen


def test_the_list_filters_apply_and_selected_rows_narrow_it(bookings):
    client, _, _, ids, _ = bookings
    rows = csv_rows(client.get("/providers/sample/bookings/export.csv?q=山田"))
    assert [r[1] for r in rows[1:]] == ["山田 太郎"]
    rows = csv_rows(client.get(f"/providers/sample/bookings/export.csv?booking={ids['sato']}&booking={ids['evil']}"))
    assert sorted(int(r[0]) for r in rows[1:]) == sorted([ids["sato"], ids["evil"]])
    rows = csv_rows(client.get("/providers/sample/bookings/export.csv?status=cancelled"))
    assert rows[1:] == []
    assert client.get("/providers/sample/bookings/export.pdf").status_code == 404


def test_english_headers_follow_the_language(bookings):
    client, *_ = bookings
    rows = csv_rows(client.get("/providers/sample/bookings/export.csv?lang=en"))
    assert rows[0][0] == "Booking ID" and rows[0][7] == "Paid" and rows[0][12] == "Booked at"


EXPORTS = ("/providers/sample/bookings/export.csv", "/candidates/export.csv", "/admin/audit/export.csv",
           "/dashboard/export.csv?days=20")


def test_export_statements_do_not_grow_with_rows(app, bookings):
    client, org_id, _, _, session_id = bookings
    for url in EXPORTS:  # warm the per-organisation caches (rule contexts keyed by the rules version)
        csv_rows(client.get(url))
    few = {url: count_statements(app, lambda url=url: csv_rows(client.get(url))) for url in EXPORTS}
    for i in range(27):
        make_booking(app, org_id, session_id, make_candidate(app, org_id, "多数", f"{i}"))
    many = {url: count_statements(app, lambda url=url: csv_rows(client.get(url))) for url in EXPORTS}
    assert many == few


def test_large_csv_is_streamed_in_chunks(app, bookings):
    from portal import exports
    columns = [exports.Column("n", lambda r: r), exports.Column("名前", lambda r: f"受験者{r}")]
    chunks = list(exports.csv_chunks(columns, range(exports.CHUNK_ROWS * 3 + 5)))
    assert len(chunks) == 1 + 4  # header, then one chunk per CHUNK_ROWS rows
    assert chunks[0].startswith("\ufeff")
    with app.test_request_context():
        response = exports.export_response("big", "csv", columns, iter(range(1000)))
        assert response.is_streamed


def test_candidates_dashboard_and_audit_exports(app, bookings):
    client, *_ = bookings
    rows = csv_rows(client.get("/candidates/export.csv?q=佐藤"))
    assert [r[1:3] for r in rows[1:]] == [["佐藤", "花子"]]
    rows = xlsx_rows(client.get("/candidates/export.xlsx"))
    assert {r[1] for r in rows[1:]} >= {"山田", "'" + EVIL}

    rows = csv_rows(client.get("/dashboard/export.csv?days=20"))
    assert rows[0][:3] == ["期限", "ブランド", "種類"]
    rows = csv_rows(client.get("/admin/audit/export.csv?action=book"))
    assert rows[0][:4] == ["日時", "ユーザー", "操作", "対象"]
    assert len(rows) == 4 and all(r[2] == "予約" and r[3] == "予約" for r in rows[1:])
    rows = xlsx_rows(client.get("/admin/audit/export.xlsx"))
    assert len(rows) > 1


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=5))
def test_no_exported_text_cell_can_start_a_formula(values):
    """Whatever text a user typed, the CSV cell read back never starts with = + - @ tab CR
    unless it is the apostrophe-prefixed (text) form of it."""
    import csv
    import io
    from portal import exports
    columns = [exports.Column(str(i), lambda row, i=i: row[i]) for i in range(len(values))]
    text = "".join(exports.csv_chunks(columns, [values]))
    [header, row] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    for original, written in zip(values, row):
        if original.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert written == "'" + original
        else:
            assert written == original

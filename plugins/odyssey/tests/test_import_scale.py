"""ODY-CSV at scale (issue 10): the import is set-based — its SQL statements do not grow
with the rows (one retake-history query per file, bulk inserts), it has no row cap below
the 2 MB file limit, and it stays all-or-nothing with an error per row."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func
from sqlmodel import select

from portal import db
from plugins.odyssey import csv_import, services
from plugins.odyssey.models import OdysseyApplicationTest, OdysseyCandidate, OdysseyExamDay, OdysseyImport
from plugins.odyssey.tests.samples import csv_bytes, csv_rows
from plugins.odyssey.tests.test_workflow import create_day, jst, venue  # noqa: F401 (fixture)

NOW = jst(2021, 2, 1, 9, 0)


@contextmanager
def statements(app):
    """The SQL statements sent to the database meanwhile (one per execute / executemany batch)."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)
    engine = app.extensions["exam_portal.engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _import(app, org_id, day_id, data):
    with app.test_request_context():
        s = db.session()
        services.subjects(s, org_id)  # the organisation's catalog exists (loaded once per organisation)
        s.commit()
        with statements(app) as sent:
            with db.transaction() as s:
                result = services.import_csv(s, org_id, None, s.get(OdysseyExamDay, day_id), data, "big.csv", NOW)
        return result, sent


def _days(client, at, count):
    with at(NOW) as token:
        return [create_day(client, token, f"2021-02-{25 + i}T10:00") for i in range(count)]


def test_the_statement_count_does_not_grow_with_the_rows(app, venue):
    client, org_id, at = venue
    small_day, large_day = _days(client, at, 2)
    small, small_sent = _import(app, org_id, small_day, csv_bytes(10))
    large, large_sent = _import(app, org_id, large_day, csv_bytes(400))
    assert small.ok and large.ok and len(large.candidates) == 400
    assert len(large_sent) == len(small_sent), (len(small_sent), len(large_sent))
    history = [sql for sql in large_sent if "outcome IS NOT NULL" in sql]
    assert len(history) == 1  # one retake-history query per file
    with app.app_context():
        s = db.session()
        stored = s.exec(select(func.count()).select_from(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == large_day)).one()
        tests = s.exec(select(func.count()).select_from(OdysseyApplicationTest)
                       .where(OdysseyApplicationTest.exam_day_id == large_day)).one()
        assert stored == 400 and tests == sum(1 for row in csv_rows(400) for cell in row[14:19] if cell)


def test_no_row_cap_below_the_file_size_limit(app, venue):
    client, org_id, at = venue
    (day_id,) = _days(client, at, 1)
    data = csv_bytes(6000)
    assert len(data) < csv_import.MAX_BYTES
    result, _ = _import(app, org_id, day_id, data)
    assert result.ok and len(result.candidates) == 6000
    with app.app_context():
        assert db.session().exec(select(OdysseyImport.rows).where(OdysseyImport.exam_day_id == day_id)).one() == 6000


def test_a_row_the_rules_refuse_imports_nothing_and_names_its_line(app, venue):
    """Every refused row is listed with its line (a fee the catalog lacks: row 4), and
    nothing of the 300 rows is stored."""
    client, org_id, at = venue
    (day_id,) = _days(client, at, 1)
    rows = csv_rows(300)
    rows[3][14] = "MOS-WORD-2016"  # general price: the shipped catalog has none for it
    rows[7][14] = "MOS-WORD-2016"
    data = "".join(",".join(r) + "\r\n" for r in rows).encode("cp932")
    with app.test_request_context():
        try:
            with db.transaction() as s:
                services.import_csv(s, org_id, None, s.get(OdysseyExamDay, day_id), data, "bad.csv", NOW)
        except services.ImportFailed as failed:
            assert [(e.line, e.column) for e in failed.result.errors] == [(4, "O"), (8, "O")]
            assert "管理者" in failed.result.errors[0].message.ja or "料金" in failed.result.errors[0].message.ja
        else:
            raise AssertionError("the import should have failed")
    with app.app_context():
        s = db.session()
        assert s.exec(select(func.count()).select_from(OdysseyCandidate)).one() == 0
        assert s.exec(select(OdysseyImport)).first() is None

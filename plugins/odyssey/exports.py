"""Odyssey's lists as CSV / .xlsx through the core's export (``portal.sdk.exports``):
the exam days, and one exam day's candidates with their tests. Both read everything in a
fixed number of queries, whatever the number of rows."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from portal.sdk import db, exports, get_or_404, org_id, plugin_translator, request_language, scoped

from plugins.odyssey import states
from plugins.odyssey.catalog import PRICE_KIND_NAMES, Subject
from plugins.odyssey.fields import CANDIDATE_TYPES, GENDERS, LABELS
from plugins.odyssey.models import OdysseyApplicationTest, OdysseyCandidate, OdysseyExamDay
from plugins.odyssey.quote import Priced, group
from plugins.odyssey.views import bp

_l = plugin_translator(__name__).lazy_gettext  # this plugin's own catalog (translations/)


@dataclass(frozen=True)
class DayRow:
    day: OdysseyExamDay
    candidates: int
    tests: int
    total: int


DAY_COLUMNS = (
    exports.Column(_l("試験実施日"), lambda r: r.day.exam_start),
    exports.Column(_l("状態"), lambda r: states.LABELS[r.day.state]),
    exports.Column(_l("申込期限"), lambda r: r.day.application_deadline),
    exports.Column(_l("受験者数"), lambda r: r.candidates),
    exports.Column(_l("試験数"), lambda r: r.tests),
    exports.Column(_l("支払料金"), lambda r: r.total),
)


def _priced(t: OdysseyApplicationTest) -> Priced:
    return Priced(Subject(t.subject_code, t.subject_name, t.family, {}, t.commission, t.voucher_commission),
                  t.price_kind, t.fee, t.commission, t.voucher_commission)


def day_rows() -> list[DayRow]:
    days = db.session().exec(scoped(OdysseyExamDay).order_by(OdysseyExamDay.exam_date.desc())).all()
    counts = dict(db.session().exec(select(OdysseyCandidate.exam_day_id, func.count(OdysseyCandidate.id))
                                    .where(OdysseyCandidate.organization_id == org_id())
                                    .group_by(OdysseyCandidate.exam_day_id)).all())
    tests = defaultdict(list)
    for t in db.session().exec(select(OdysseyApplicationTest).where(OdysseyApplicationTest.organization_id == org_id())).all():
        tests[t.exam_day_id].append((_priced(t), 1))
    rows = []
    for d in days:
        remittance = group(tests[d.id])  # ODY-PR-1/2, as on the screen
        rows.append(DayRow(d, counts.get(d.id, 0), remittance.tests, remittance.total))
    return rows


@bp.get("/export.<fmt>")
def export_days(fmt: str):
    return exports.export_response("odyssey-exam-days", fmt, DAY_COLUMNS, day_rows())


@dataclass(frozen=True)
class CandidateRow:
    number: int
    candidate: OdysseyCandidate
    tests: list


def _tests_text(tests: list[OdysseyApplicationTest]) -> str:
    lang = request_language()
    return " / ".join(f"{t.subject_name} ({PRICE_KIND_NAMES[t.price_kind].text(lang) if t.price_kind in PRICE_KIND_NAMES else t.price_kind}"
                      f"{', ' + t.period if t.period else ''}{', ' + t.ticket if t.ticket else ''})" for t in tests)


def _field(name: str) -> Any:
    return lambda r: "" if r.candidate.purged else getattr(r.candidate, name)


CANDIDATE_COLUMNS = (
    exports.Column("No.", lambda r: r.number),
    *(exports.Column(LABELS[name], _field(name)) for name in (
        "family_name", "given_name", "family_kana", "given_kana")),
    exports.Column(LABELS["gender"], lambda r: "" if r.candidate.purged else GENDERS.get(r.candidate.gender, r.candidate.gender)),
    exports.Column(LABELS["birth_date"], _field("birth_date")),
    *(exports.Column(LABELS[name], _field(name)) for name in (
        "postal_code", "prefecture", "city", "street", "phone", "employer", "employer_phone", "remarks")),
    exports.Column(LABELS["candidate_type"], lambda r: CANDIDATE_TYPES.get(r.candidate.candidate_type, "")),
    exports.Column(_l("申込科目"), lambda r: _tests_text(r.tests)),
    exports.Column(_l("追加申込"), lambda r: r.candidate.late_addition),
)


@bp.get("/day/<int:day_id>/candidates.<fmt>")
def export_candidates(day_id: int, fmt: str):
    day = get_or_404(OdysseyExamDay, day_id)
    people = db.session().exec(select(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == day.id)
                               .order_by(OdysseyCandidate.id)).all()
    tests = defaultdict(list)
    for t in db.session().exec(select(OdysseyApplicationTest).where(OdysseyApplicationTest.exam_day_id == day.id)
                               .order_by(OdysseyApplicationTest.id)).all():
        tests[t.candidate_id].append(t)
    rows = [CandidateRow(n, c, tests[c.id]) for n, c in enumerate(people, start=1)]
    return exports.export_response(f"odyssey-candidates-{day.exam_date.isoformat()}", fmt, CANDIDATE_COLUMNS, rows)

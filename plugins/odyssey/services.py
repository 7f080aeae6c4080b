"""The venue workflow on stored data: exam days, candidates, import, confirmation, late
additions, results. Each public function is one unit of work; the caller runs it inside
``portal.db.transaction()`` so that a refusal leaves nothing half done. Every function takes
the organisation id and ``now`` explicitly (state changes by time are testable)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Mapping

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.sdk import (
    AttemptFact, BadInput, Conflict, DeadlineChange, Msg, PlanRecord, RuleContext, RuleRefusal, audit, guarded, jst,
)
from portal.sdk.bookings import org_context

from plugins.odyssey import contract, csv_import, deadlines, retake, states
from plugins.odyssey.catalog import Subject, load_subjects
from plugins.odyssey.fields import CandidateInput, FieldError
from plugins.odyssey.models import (
    OdysseyApplicationTest, OdysseyCandidate, OdysseyExamDay, OdysseyImport, OdysseySubject, OdysseyVenue,
)
from plugins.odyssey.quote import Priced, Remittance, group, price
from plugins.odyssey.timefmt import moment

PROVIDER_ID = "odyssey"
PRICE_COLUMNS = {"general": "price_general", "student": "price_student", "student_or_teacher": "price_student_or_teacher",
                 "member": "price_member", "certificate_holder": "price_certificate_holder"}


class FormErrors(RuleRefusal):
    """Field errors of a candidate form (422 with the form)."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("invalid_candidate", Msg("入力内容を確認してください。", "Check the entries."), None)
        self.errors = errors


# --------------------------------------------------------------------------- catalog


def ensure_catalog(db: Session, org_id: int) -> None:
    """Load the shipped catalog into the organisation's editable table (once)."""
    if db.exec(select(OdysseySubject.id).where(OdysseySubject.organization_id == org_id)).first() is not None:
        return
    try:
        with db.begin_nested():  # a savepoint: losing the race below leaves the caller's transaction intact
            for s in load_subjects():
                db.add(OdysseySubject(organization_id=org_id, code=s.code, name=s.name, family=s.family,
                                      commission=s.commission, voucher_commission=s.voucher_commission,
                                      **{col: s.prices.get(kind) for kind, col in PRICE_COLUMNS.items()}))
    except IntegrityError:
        pass  # two first requests at once: the other one loaded it (UNIQUE organization_id, code)


def subject_of(row: OdysseySubject) -> Subject:
    return Subject(row.code, row.name, row.family, {kind: getattr(row, col) for kind, col in PRICE_COLUMNS.items()},
                   row.commission, row.voucher_commission)


def subjects(db: Session, org_id: int) -> dict[str, Subject]:
    ensure_catalog(db, org_id)
    rows = db.exec(select(OdysseySubject).where(OdysseySubject.organization_id == org_id,
                                                OdysseySubject.active.is_(True)).order_by(OdysseySubject.id)).all()
    return {r.code: subject_of(r) for r in rows}


def rule_context(db: Session, org_id: int) -> RuleContext:
    """Odyssey's rules as this organisation has them: closures, settings and its catalog
    (hook ``provider_catalog``), cached per rules version by the core."""
    return org_context(db, org_id, PROVIDER_ID)


def venue(db: Session, org_id: int) -> OdysseyVenue:
    row = db.exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).first()
    if row is None:
        row = OdysseyVenue(organization_id=org_id)
        db.add(row)
        db.flush()
    return row


def update_venue(db: Session, org_id: int, user_id: int | None, now: datetime, deposit_balance: int | None,
                 proctor_count: int | None, contract_start: date | None, contract_kind: str) -> OdysseyVenue:
    """The venue's 預け金残高 (as read on 残高照会, ODY-LA), proctors (ODY-DL-4) and contract (ODY-PR-4)."""
    if contract_kind not in contract.KINDS:
        raise BadInput("invalid_field", Msg("契約の種類を選んでください。", "Choose the contract kind."), "contract_kind")
    v = venue(db, org_id)
    before = audit.snapshot(v)
    if deposit_balance is not None:
        v.deposit_balance, v.balance_updated_at = deposit_balance, now
    if proctor_count is not None:
        v.proctor_count = max(1, proctor_count)
    v.contract_start, v.contract_kind = contract_start, contract_kind
    db.add(v)
    audit.record(db, org_id, user_id, "update", "odyssey_venue", v.id, before, audit.snapshot(v))
    return v


# --------------------------------------------------------------------------- exam days


def _audit_state(db: Session, day: OdysseyExamDay, user_id: int | None, new: str, by: str) -> None:
    old = day.state
    if old == new:
        return
    day.state = new
    db.add(day)
    audit.record(db, day.organization_id, user_id, "state_change", "odyssey_exam_day", day.id,
                 {"state": old}, {"state": new, "by": by, "rule": "ODY-ST"})


def advance_states(db: Session, org_id: int | None, now: datetime) -> int:
    """Move every exam day to the state the clock puts it in (ODY-ST), auditing each change."""
    query = select(OdysseyExamDay).where(OdysseyExamDay.state.not_in((states.COMPLETED,)))
    if org_id is not None:
        query = query.where(OdysseyExamDay.organization_id == org_id)
    changed = 0
    for day in db.exec(query).all():
        new = states.state_at(day, now)
        if new != day.state:
            _audit_state(db, day, None, new, "time")
            changed += 1
    db.flush()
    return changed


def create_exam_day(db: Session, ctx: RuleContext, org_id: int, user_id: int, exam_start: datetime,
                    now: datetime) -> OdysseyExamDay:
    exam_start = jst(exam_start)
    deadlines.check_exam_day(ctx.calendar, exam_start.date())  # ODY-DL-3
    deadline = deadlines.application_deadline(ctx.calendar, exam_start.date())
    if jst(now) > deadline.at:
        raise RuleRefusal("deadline_passed", Msg(
            f"この試験日の申込締切({moment(deadline.at).ja})を過ぎているため登録できません(ODY-DL-1)。",
            f"The application deadline of this exam date ({moment(deadline.at).en}) has passed (ODY-DL-1)."), "exam_start")
    exists = db.exec(select(OdysseyExamDay.id).where(OdysseyExamDay.organization_id == org_id,
                                                     OdysseyExamDay.exam_date == exam_start.date())).first()
    if exists is not None:
        raise RuleRefusal("duplicate_day", Msg("この試験実施日はすでに登録されています。",
                                               "This exam date is already registered."), "exam_start")
    day = OdysseyExamDay(organization_id=org_id, exam_date=exam_start.date(), exam_start=exam_start,
                         application_deadline=deadline.at, state=states.DRAFT)
    db.add(day)
    db.flush()
    audit.record(db, org_id, user_id, "create", "odyssey_exam_day", day.id, None,
                 {"exam_start": exam_start.isoformat(), "state": day.state, "deadline": deadline.at.isoformat()})
    return day


def _refuse_unless(allowed: bool, ja: str, en: str, field: str | None = None) -> None:
    if not allowed:
        raise RuleRefusal("not_allowed_now", Msg(ja, en), field)


def _require_edit(day: OdysseyExamDay, now: datetime) -> None:
    """ODY-ST: candidates change only in draft, until the deadline day ends (3.2)."""
    state = states.state_at(day, now)
    if state == states.CONFIRMED and states.before_deadline(day, now):
        raise RuleRefusal("confirmed", Msg("申込済みです。変更するには先に[確定取消]をしてください(ODY-ST)。",
                                           "The application is confirmed: withdraw the confirmation first (ODY-ST)."))
    _refuse_unless(state == states.DRAFT,
                   f"申込締切日の翌日以降は受験者の追加・削除・変更はできません(状態: {states.LABELS[state].ja}、ODY-ST)。",
                   f"After the deadline day candidates can no longer be added, deleted or changed (state: {states.LABELS[state].en}, ODY-ST).")


def candidates(db: Session, day: OdysseyExamDay) -> list[OdysseyCandidate]:
    return list(db.exec(select(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == day.id)
                        .order_by(OdysseyCandidate.id)).all())


def tests(db: Session, day: OdysseyExamDay) -> list[OdysseyApplicationTest]:
    return list(db.exec(select(OdysseyApplicationTest).where(OdysseyApplicationTest.exam_day_id == day.id)
                        .order_by(OdysseyApplicationTest.candidate_id, OdysseyApplicationTest.id)).all())


def remittance(db: Session, day: OdysseyExamDay, only_late: bool | None = None) -> Remittance:
    """ODY-PR-1/2 over the day's stored tests (prices snapshotted when entered)."""
    rows = []
    for t in tests(db, day):
        if only_late is not None and t.late_addition != only_late:
            continue
        s = Subject(t.subject_code, t.subject_name, t.family, {}, t.commission, t.voucher_commission)
        rows.append((Priced(s, t.price_kind, t.fee, t.commission, t.voucher_commission), 1))
    return group(rows)


# --------------------------------------------------------------------------- candidates


def _attempts_of(db: Session, org_id: int, day: OdysseyExamDay, person: Mapping[str, object], subject_code: str) -> list[AttemptFact]:
    """Earlier results of the same person (kana + birth date) in the same subject."""
    rows = db.exec(select(OdysseyApplicationTest, OdysseyExamDay).join(
        OdysseyCandidate, OdysseyCandidate.id == OdysseyApplicationTest.candidate_id).join(
        OdysseyExamDay, OdysseyExamDay.id == OdysseyApplicationTest.exam_day_id).where(
        OdysseyApplicationTest.organization_id == org_id, OdysseyApplicationTest.subject_code == subject_code,
        OdysseyApplicationTest.outcome.is_not(None), OdysseyExamDay.id != day.id,
        OdysseyCandidate.family_kana == person["family_kana"], OdysseyCandidate.given_kana == person["given_kana"],
        OdysseyCandidate.birth_date == person["birth_date"])).all()
    return [AttemptFact(d.exam_start, d.exam_start, t.outcome) for t, d in rows]


def check_retake(db: Session, org_id: int, day: OdysseyExamDay, data: CandidateInput,
                 declared: Iterable[AttemptFact] = (), confirmed_with_odyssey: bool = False) -> None:
    """ODY-RT against the candidate's attempts: stored results plus the ones declared at entry."""
    declared = list(declared)
    for t in data.tests:
        attempts = _attempts_of(db, org_id, day, data.values, t.subject.code) + declared
        decision = retake.retake(t.subject.family, attempts, day.exam_start)
        if decision.allowed:
            continue
        if decision.earliest is None and confirmed_with_odyssey:
            continue  # "ask the provider": the operator recorded Odyssey's answer
        raise RuleRefusal("retake_not_allowed", Msg(f"{t.subject.name}: ", f"{t.subject.name}: ") + decision.explanation,
                          "subject1")


def _store_tests(db: Session, candidate: OdysseyCandidate, data: CandidateInput, late: bool) -> None:
    for i, t in enumerate(data.tests, start=1):
        p = price(t.subject, t.price_kind, f"subject{i}")  # the refusal shows at that subject
        db.add(OdysseyApplicationTest(organization_id=candidate.organization_id, exam_day_id=candidate.exam_day_id,
                                      candidate_id=candidate.id, subject_code=t.subject.code, subject_name=t.subject.name,
                                      family=t.subject.family, price_kind=t.price_kind, period=t.period, ticket=t.ticket,
                                      fee=p.fee, commission=p.commission, voucher_commission=p.voucher_commission,
                                      late_addition=late))


def _summary(candidate: OdysseyCandidate, data: CandidateInput) -> dict:
    """What the audit log keeps of a candidate: no personal data (ODY-PII)."""
    return {"exam_day_id": candidate.exam_day_id, "candidate_type": candidate.candidate_type,
            "tests": [f"{t.subject.code}:{t.price_kind}" for t in data.tests], "late_addition": candidate.late_addition}


def add_candidate(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, data: CandidateInput, now: datetime,
                  import_id: int | None = None, late: bool = False, declared: Iterable[AttemptFact] = (),
                  confirmed_with_odyssey: bool = False) -> OdysseyCandidate:
    if not late:
        _require_edit(day, now)
    check_retake(db, org_id, day, data, declared, confirmed_with_odyssey)
    candidate = OdysseyCandidate(organization_id=org_id, exam_day_id=day.id, import_id=import_id,
                                 self_exam=data.self_exam, late_addition=late, **data.values)
    db.add(candidate)
    db.flush()
    _store_tests(db, candidate, data, late)
    audit.record(db, org_id, user_id, "create", "odyssey_candidate", candidate.id, None, _summary(candidate, data))
    return candidate


def update_candidate(db: Session, org_id: int, user_id: int, candidate: OdysseyCandidate, data: CandidateInput,
                     now: datetime) -> None:
    day = db.get(OdysseyExamDay, candidate.exam_day_id)
    _require_edit(day, now)
    check_retake(db, org_id, day, data)
    for old in db.exec(select(OdysseyApplicationTest).where(OdysseyApplicationTest.candidate_id == candidate.id)).all():
        db.delete(old)
    for name, value in data.values.items():
        setattr(candidate, name, value)
    candidate.self_exam = data.self_exam
    db.add(candidate)
    db.flush()
    _store_tests(db, candidate, data, candidate.late_addition)
    audit.record(db, org_id, user_id, "update", "odyssey_candidate", candidate.id, None, _summary(candidate, data))


def delete_candidate(db: Session, org_id: int, user_id: int, candidate: OdysseyCandidate, now: datetime) -> None:
    day = db.get(OdysseyExamDay, candidate.exam_day_id)
    _require_edit(day, now)
    _delete_candidates(db, [candidate])
    audit.record(db, org_id, user_id, "delete", "odyssey_candidate", candidate.id,
                 {"exam_day_id": day.id, "candidate_type": candidate.candidate_type}, None)


def _delete_candidates(db: Session, rows: Iterable[OdysseyCandidate]) -> None:
    for c in rows:
        for t in db.exec(select(OdysseyApplicationTest).where(OdysseyApplicationTest.candidate_id == c.id)).all():
            db.delete(t)
        db.flush()
        db.delete(c)
    db.flush()


# --------------------------------------------------------------------------- CSV import


def import_csv(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, data: bytes, filename: str,
               now: datetime) -> csv_import.ImportResult:
    """ODY-CSV: all rows or none; one import per exam day."""
    _require_edit(day, now)
    if db.exec(select(OdysseyImport.id).where(OdysseyImport.exam_day_id == day.id)).first() is not None:
        raise RuleRefusal("already_imported", Msg(
            "同一試験日でのインポートは1回しかできません。修正するには、インポートしたデータを削除してから、修正したCSVをインポートし直してください(ODY-CSV)。",
            "Only one import per exam date: delete the imported data, then import the corrected file (ODY-CSV)."), "file")
    result = csv_import.read(data, subjects(db, org_id))
    if not result.ok:
        return result
    record = OdysseyImport(organization_id=org_id, exam_day_id=day.id, filename=filename[:255], encoding=result.encoding,
                           rows=len(result.candidates), imported_at=now)
    db.add(record)
    db.flush()
    for line, candidate in result.candidates:
        try:
            add_candidate(db, org_id, user_id, day, candidate, now, import_id=record.id)
        except RuleRefusal as exc:
            result.errors.append(csv_import.RowError(line, "O", exc.message))
    if result.errors:
        raise ImportFailed(result)
    audit.record(db, org_id, user_id, "import", "odyssey_exam_day", day.id, None,
                 {"rows": record.rows, "encoding": record.encoding, "filename": record.filename})
    return result


class ImportFailed(RuleRefusal):
    """Raised inside the transaction so that every row written so far is rolled back."""

    def __init__(self, result: csv_import.ImportResult):
        super().__init__("import_failed", Msg("インポートできませんでした。", "The import failed."), "file")
        self.result = result


def delete_import(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime) -> int:
    _require_edit(day, now)
    record = db.exec(select(OdysseyImport).where(OdysseyImport.exam_day_id == day.id)).first()
    if record is None:
        raise RuleRefusal("no_import", Msg("インポートしたデータはありません。", "Nothing was imported."), None)
    rows = db.exec(select(OdysseyCandidate).where(OdysseyCandidate.import_id == record.id)).all()
    _delete_candidates(db, rows)
    db.delete(record)
    audit.record(db, org_id, user_id, "delete_import", "odyssey_exam_day", day.id, {"rows": len(rows)}, None)
    return len(rows)


# --------------------------------------------------------------------------- confirmation


def confirm(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime) -> None:
    _require_edit(day, now)
    people = candidates(db, day)
    _refuse_unless(bool(people), "受験者が登録されていません。", "No candidate is registered.")
    staff = [c for c in people if c.self_exam]
    if staff:
        _refuse_unless(any(not c.self_exam for c in people),
                       "自校受験は第三者である一般受験者の申込がある日に限られます(ODY-DL-4)。",
                       "A staff member may sit only on a day with third-party candidates (ODY-DL-4).")
        _refuse_unless(day.self_exam_status in ("requested", "approved"),
                       "自校スタッフの受験者がいます。申込を確定する前に自校受験申請をしてください(ODY-DL-4)。",
                       "Staff candidates are registered: send the self-exam request before confirming (ODY-DL-4).")
        _refuse_unless(venue(db, org_id).proctor_count > 1,
                       "試験官が1名だけの会場では、試験官は自校で受験できません(ODY-DL-4)。",
                       "With a single registered proctor, the proctor cannot sit at the own venue (ODY-DL-4).")
    day.confirmed_at = now
    _audit_state(db, day, user_id, states.CONFIRMED, "click")


def withdraw(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime) -> None:
    _refuse_unless(states.can_withdraw(day, now), "確定取消は申込締切日までの申込済みの試験日だけです(ODY-ST)。",
                   "Only an applied day can be withdrawn, until the deadline (ODY-ST).")
    day.confirmed_at = None
    _audit_state(db, day, user_id, states.DRAFT, "click")


def request_self_exam(db: Session, ctx: RuleContext, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime) -> None:
    """ODY-DL-4: after registering the candidates (general ones included), by the 5th business day before."""
    deadline = deadlines.self_exam_request_deadline(ctx.calendar, day.exam_date)
    _refuse_unless(jst(now) <= deadline.at, f"自校受験申請の期限({moment(deadline.at).ja})を過ぎています(ODY-DL-4)。",
                   f"The self-exam request deadline ({moment(deadline.at).en}) has passed (ODY-DL-4).")
    people = candidates(db, day)
    _refuse_unless(any(c.self_exam for c in people) and any(not c.self_exam for c in people),
                   "一般受験者と自校スタッフ(勤務先「自校スタッフ」)を登録してから申請してください(ODY-DL-4)。",
                   "Register the general candidates and the staff (employer 自校スタッフ) before the request (ODY-DL-4).")
    day.self_exam_status, day.self_exam_requested_at = "requested", now
    db.add(day)
    audit.record(db, org_id, user_id, "self_exam_request", "odyssey_exam_day", day.id, None, {"status": "requested"})


def set_self_exam_answer(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, status: str) -> None:
    if status not in ("approved", "refused") or day.self_exam_status == "none":
        raise BadInput("invalid_field", Msg("申請後に「承認」か「不可」を選んでください。", "Choose approved or refused after the request."), "status")
    before = day.self_exam_status
    day.self_exam_status = status
    db.add(day)
    audit.record(db, org_id, user_id, "self_exam_answer", "odyssey_exam_day", day.id, {"status": before}, {"status": status})


# --------------------------------------------------------------------------- after the deadline


def late_add(db: Session, ctx: RuleContext, org_id: int, user_id: int, day: OdysseyExamDay, data: CandidateInput,
             now: datetime, **retake_facts) -> OdysseyCandidate:
    """ODY-LA: after the deadline, before the late-addition deadline, with enough deposit."""
    _refuse_unless(states.can_late_add(day, now), "追加申込は申込締切日後の申込済みの試験日だけです(ODY-LA)。",
                   "Late additions apply to an applied day after its deadline (ODY-LA).")
    deadline = deadlines.late_addition_deadline(ctx.calendar, day.exam_start,
                                                bool(ctx.setting(deadlines.SETTING_STRICT_13)))
    _refuse_unless(jst(now) <= deadline.at, f"追加申込の期限({moment(deadline.at).ja})を過ぎています。" + deadline.explanation.ja,
                   f"The late-addition deadline ({moment(deadline.at).en}) has passed. " + deadline.explanation.en)
    amount = group((price(t.subject, t.price_kind), 1) for t in data.tests).total
    v = venue(db, org_id)
    _refuse_unless(v.deposit_balance >= amount,
                   f"預け金残高{v.deposit_balance:,}円が追加する試験の入金額{amount:,}円に足りません(ODY-LA)。",
                   f"The deposit balance {v.deposit_balance:,} yen does not cover the added tests' {amount:,} yen (ODY-LA).")
    candidate = add_candidate(db, org_id, user_id, day, data, now, late=True, **retake_facts)
    v.deposit_balance -= amount
    db.add(v)
    audit.record(db, org_id, user_id, "late_addition", "odyssey_exam_day", day.id, {"deposit_balance": v.deposit_balance + amount},
                 {"deposit_balance": v.deposit_balance, "amount": amount, "rule": "ODY-LA"})
    return candidate


OUTCOMES = ("passed", "failed", "absent")


def enter_results(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, outcomes: Mapping[int, str],
                  now: datetime) -> None:
    _refuse_unless(states.state_at(day, now) == states.RESULTS_DUE, "試験実施翌日以降に結果を入力できます(ODY-ST)。",
                   "Results can be entered from the day after the exam (ODY-ST).")
    rows = tests(db, day)
    for t in rows:
        value = outcomes.get(t.id)
        if value not in OUTCOMES:
            raise BadInput("invalid_field", Msg("すべての試験の結果(合格・不合格・欠席)を選んでください。",
                                                "Choose a result for every test."), f"outcome_{t.id}")
        t.outcome = value
        db.add(t)
    day.results_entered_at = now
    _audit_state(db, day, user_id, states.RESULTS_ENTERED, "click")


def complete(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime) -> None:
    _refuse_unless(states.state_at(day, now) == states.RESULTS_ENTERED, "結果の確定後に完了にできます(ODY-ST)。",
                   "Only a day with entered results can be completed (ODY-ST).")
    day.completed_at = now
    _audit_state(db, day, user_id, states.COMPLETED, "click")


def tests_in(db: Session, org_id: int, start, end) -> int:
    """Tests applied for (confirmed days) with an exam date in [start, end] (ODY-PR-4)."""
    rows = db.exec(select(OdysseyApplicationTest.id).join(OdysseyExamDay, OdysseyExamDay.id == OdysseyApplicationTest.exam_day_id)
                   .where(OdysseyApplicationTest.organization_id == org_id, OdysseyExamDay.exam_date >= start,
                          OdysseyExamDay.exam_date <= end, OdysseyExamDay.confirmed_at.is_not(None))).all()
    return len(rows)


EXAM_DAY = "odyssey_exam_day"  # DeadlineChange.source of the exam days' application deadlines


def plan_open_deadlines(db: Session, ctx: RuleContext, org_id: int) -> list[DeadlineChange]:
    """Exam days not yet confirmed whose ODY-DL-1 deadline the rules in ``ctx`` move (a
    confirmed or later day keeps the deadline it was applied under). Reads only."""
    rows = db.exec(select(OdysseyExamDay.id, OdysseyExamDay.exam_start, OdysseyExamDay.application_deadline).where(
        OdysseyExamDay.organization_id == org_id, OdysseyExamDay.state == states.DRAFT)).all()
    answers: dict[date, object] = {}
    moving: dict[tuple, list[int]] = {}  # (exam day, stored deadline) → exam days
    for day_id, exam_start, stored in rows:
        exam_day = jst(exam_start).date()
        if exam_day not in answers:
            answers[exam_day] = deadlines.application_deadline(ctx.calendar, exam_day)
        if answers[exam_day].at != stored:
            moving.setdefault((exam_day, stored), []).append(day_id)
    return [DeadlineChange(EXAM_DAY, tuple(ids), answers[day].kind, stored, answers[day].at, answers[day].rule,
                           answers[day].explanation) for (day, stored), ids in moving.items()]


def apply_open_deadlines(db: Session, changes: Iterable[DeadlineChange]) -> int:
    """One UPDATE per planned change, guarded on the planned old deadline and the draft
    state: a day changed since the plan was computed refuses the whole recompute."""
    table = OdysseyExamDay.__table__
    count = 0
    for c in changes:
        if c.source == EXAM_DAY:
            guarded(db, update(table).where(table.c.id.in_(c.records), table.c.application_deadline == c.old_at,
                                                  table.c.state == states.DRAFT).values(application_deadline=c.new_at),
                          lambda: Conflict("deadlines_changed", Msg(
                              "期限の再計算中に試験日が変更されたため、保存していません。もう一度お試しください。",
                              "An exam day changed while its deadlines were being recomputed, so nothing was saved. "
                              "Try again.")), expected=len(c.records))
            count += len(c.records)
    return count


def describe_exam_days(db: Session, org_id: int, wanted: Iterable[tuple[str, int]]) -> list[PlanRecord]:
    """The exam days among a plan's records, as the dashboard names them (portal.recompute)."""
    from flask import has_request_context, url_for
    ids = sorted({record for source, record in wanted if source == EXAM_DAY})
    if not ids:
        return []
    rows = db.exec(select(OdysseyExamDay.id, OdysseyExamDay.exam_start).where(
        OdysseyExamDay.organization_id == org_id, OdysseyExamDay.id.in_(ids))).all()
    return [PlanRecord(EXAM_DAY, day_id, Msg("試験日", "exam day"), f"{jst(start):%Y-%m-%d %H:%M} 試験日", None,
                       url_for("odyssey.day", day_id=day_id) if has_request_context() else None,
                       f"{PROVIDER_ID}-{{kind}}-day-{day_id}")
            for day_id, start in rows]

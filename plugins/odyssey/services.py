"""The venue workflow on stored data: exam days, candidates, import, confirmation, late
additions, results. Each public function is one unit of work; the caller runs it inside
``portal.sdk.db.transaction()`` so that a refusal leaves nothing half done. Every function takes
the organisation id and ``now`` explicitly (state changes by time are testable)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable, Iterable, Mapping

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from portal.sdk import (
    AttemptFact, BadInput, Conflict, Deadline, DeadlineChange, Msg, PlanRecord, RuleContext, RuleError, RuleRefusal, audit,
    guarded, jst, per_rules_version,
)
from portal.sdk.bookings import org_context

from plugins.odyssey import contract, csv_import, dashboard, deadlines, guards, retake, states
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


def _create_once(db: Session, write: Callable[[], object]) -> None:
    """Insert rows a racing request may be inserting at the same moment: in a savepoint, so
    that losing on the unique constraint leaves this transaction going (the winner's rows
    are there)."""
    try:
        with db.begin_nested():
            write()
    except IntegrityError:
        pass


def _shipped(org_id: int) -> list[dict]:
    """The organisation's rows of the shipped catalog (column values)."""
    return [{"organization_id": org_id, "code": s.code, "name": s.name, "family": s.family, "commission": s.commission,
             "voucher_commission": s.voucher_commission, "active": True,
             **{col: s.prices.get(kind) for kind, col in PRICE_COLUMNS.items()}} for s in load_subjects()]


def ensure_catalog(db: Session, org_id: int) -> None:
    """Load the shipped catalog into the organisation's editable table (once). Not a change
    of the rules — :func:`stored_subjects` reads the shipped catalog until then — so it is
    inserted beneath the ORM and the rules version stays (contexts built before remain valid)."""
    if db.exec(select(OdysseySubject.id).where(OdysseySubject.organization_id == org_id)).first() is not None:
        return
    _create_once(db, lambda: db.execute(insert(OdysseySubject.__table__), _shipped(org_id)))


def subject_of(row: OdysseySubject) -> Subject:
    return Subject(row.code, row.name, row.family, {kind: getattr(row, col) for kind, col in PRICE_COLUMNS.items()},
                   row.commission, row.voucher_commission)


def subjects(db: Session, org_id: int) -> dict[str, Subject]:
    """The organisation's active subjects (a new dict: callers may change it). Remembered
    per rules version: the subject table is watched, so an edit is a new version, and the
    shipped catalog :func:`ensure_catalog` stores equals what :func:`stored_subjects` reads
    before it is stored."""
    ensure_catalog(db, org_id)
    return dict(per_rules_version(db, org_id, "odyssey.subjects", lambda: stored_subjects(db, org_id)))


def stored_subjects(db: Session, org_id: int) -> dict[str, Subject]:
    """The organisation's active subjects, or the shipped catalog while it has none stored
    (what :func:`ensure_catalog` would store): reads only, so a read-only transaction (a
    what-if preview) can build the rules before any Odyssey page has been opened."""
    if db.exec(select(OdysseySubject.id).where(OdysseySubject.organization_id == org_id)).first() is None:
        return {row["code"]: subject_of(OdysseySubject(**row)) for row in _shipped(org_id)}
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
        _create_once(db, lambda: db.add(OdysseyVenue(organization_id=org_id)))
        row = db.exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).one()
    return row


def stored_venue(db: Session, org_id: int) -> OdysseyVenue:
    """The venue as stored, or its defaults (not stored): for pages that only read."""
    return db.exec(select(OdysseyVenue).where(OdysseyVenue.organization_id == org_id)).first() or OdysseyVenue(
        organization_id=org_id)


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


def _record_state(db: Session, day: OdysseyExamDay, user_id: int | None, old: str, new: str, by: str) -> None:
    audit.record(db, day.organization_id, user_id, "state_change", "odyssey_exam_day", day.id,
                 {"state": old}, {"state": new, "by": by, "rule": "ODY-ST"})


def advance_states(db: Session, org_id: int | None, now: datetime) -> int:
    """Move every exam day to the state the clock puts it in (ODY-ST), auditing each change.
    Each move is guarded on the state it moves from, so two page views racing to advance
    the same day record it once."""
    query = select(OdysseyExamDay).where(OdysseyExamDay.state.not_in((states.COMPLETED,))).order_by(OdysseyExamDay.id)
    if org_id is not None:
        query = query.where(OdysseyExamDay.organization_id == org_id)
    changed = 0
    for day in db.exec(query).all():
        old, new = day.state, states.state_at(day, now)
        if new == old:
            continue
        moved = db.execute(update(OdysseyExamDay).where(OdysseyExamDay.id == day.id, OdysseyExamDay.state == old)
                           .values(state=new).execution_options(synchronize_session=False)).rowcount
        set_committed_value(day, "state", new)
        if moved:
            _record_state(db, day, None, old, new, "time")
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


RetakeHistory = dict[tuple[str, str, object, str], list[AttemptFact]]


def _person_key(values: Mapping[str, object]) -> tuple[str, str, object]:
    return values["family_kana"], values["given_kana"], values["birth_date"]


def retake_history(db: Session, org_id: int, day: OdysseyExamDay, people: Iterable[CandidateInput]) -> RetakeHistory:
    """Earlier results (on other days) of these people (kana + birth date) in the subjects
    they apply for, in one query whatever their number: {(kana, kana, birth, subject): attempts}."""
    people = list(people)
    codes = {t.subject.code for p in people for t in p.tests}
    family_kana = {p.values["family_kana"] for p in people}
    if not codes:
        return {}
    rows = db.exec(select(OdysseyCandidate.family_kana, OdysseyCandidate.given_kana, OdysseyCandidate.birth_date,
                          OdysseyApplicationTest.subject_code, OdysseyApplicationTest.outcome, OdysseyExamDay.exam_start)
                   .join(OdysseyCandidate, OdysseyCandidate.id == OdysseyApplicationTest.candidate_id)
                   .join(OdysseyExamDay, OdysseyExamDay.id == OdysseyApplicationTest.exam_day_id)
                   .where(OdysseyApplicationTest.organization_id == org_id, OdysseyApplicationTest.outcome.is_not(None),
                          OdysseyExamDay.id != day.id, OdysseyApplicationTest.subject_code.in_(codes),
                          OdysseyCandidate.family_kana.in_(family_kana))).all()
    history: RetakeHistory = {}
    for family, given, birth, code, outcome, start in rows:
        history.setdefault((family, given, birth, code), []).append(AttemptFact(start, start, outcome))
    return history


def check_retake(db: Session, org_id: int, day: OdysseyExamDay, data: CandidateInput,
                 declared: Iterable[AttemptFact] = (), confirmed_with_odyssey: bool = False,
                 history: RetakeHistory | None = None) -> None:
    """ODY-RT against the candidate's attempts: stored results (``history``, read for this
    candidate when not given) plus the ones declared at entry."""
    declared = list(declared)
    if history is None:
        history = retake_history(db, org_id, day, [data])
    for t in data.tests:
        attempts = history.get((*_person_key(data.values), t.subject.code), []) + declared
        if not attempts:
            continue  # no earlier attempt, no wait (ODY-RT): the common case of an import row
        decision = retake.retake(t.subject.family, attempts, day.exam_start)
        if decision.allowed:
            continue
        if decision.earliest is None and confirmed_with_odyssey:
            continue  # "ask the provider": the operator recorded Odyssey's answer
        raise RuleRefusal("retake_not_allowed", Msg(f"{t.subject.name}: ", f"{t.subject.name}: ") + decision.explanation,
                          "subject1")


def _priced_tests(org_id: int, day_id: int, data: CandidateInput, late: bool) -> list[dict]:
    """The candidate's test rows with the prices snapshotted now (ODY-PR-1); refuses a test
    whose fee the catalog lacks."""
    rows = []
    for i, t in enumerate(data.tests, start=1):
        p = price(t.subject, t.price_kind, f"subject{i}")  # the refusal shows at that subject
        rows.append(dict(organization_id=org_id, exam_day_id=day_id, subject_code=t.subject.code,
                         subject_name=t.subject.name, family=t.subject.family, price_kind=t.price_kind, period=t.period,
                         ticket=t.ticket, fee=p.fee, commission=p.commission, voucher_commission=p.voucher_commission,
                         late_addition=late))
    return rows


def _insert_tests(db: Session, candidate_ids: Iterable[int], tests: Iterable[list[dict]]) -> None:
    rows = [{**row, "candidate_id": candidate_id} for candidate_id, of in zip(candidate_ids, tests) for row in of]
    if rows:
        db.execute(insert(OdysseyApplicationTest.__table__), rows)  # Core executemany: no ORM bookkeeping per row


def _insert_imported(db: Session, org_id: int, day: OdysseyExamDay, record: OdysseyImport,
                     rows: list[tuple[int, CandidateInput]], tests: list[list[dict]], now: datetime) -> None:
    """Three statements for any number of rows: the candidates (executemany), their ids by
    CSV line, their tests (executemany)."""
    db.execute(insert(OdysseyCandidate.__table__), [
        dict(organization_id=org_id, exam_day_id=day.id, import_id=record.id, line=line, self_exam=p.self_exam,
             late_addition=False, created_at=now, **p.values) for line, p in rows])
    by_line = dict(db.exec(select(OdysseyCandidate.line, OdysseyCandidate.id).where(OdysseyCandidate.import_id == record.id)).all())
    _insert_tests(db, [by_line[line] for line, _ in rows], tests)


def _summary(candidate: OdysseyCandidate, data: CandidateInput) -> dict:
    """What the audit log keeps of a candidate: no personal data (ODY-PII)."""
    return {"exam_day_id": candidate.exam_day_id, "candidate_type": candidate.candidate_type,
            "tests": [f"{t.subject.code}:{t.price_kind}" for t in data.tests], "late_addition": candidate.late_addition}


def add_candidate(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, data: CandidateInput, now: datetime,
                  late: bool = False, declared: Iterable[AttemptFact] = (),
                  confirmed_with_odyssey: bool = False) -> OdysseyCandidate:
    """One candidate entered by hand. A draft day is claimed first (guarded on still being
    editable), so the candidate never lands on a day confirmed meanwhile; a late addition
    is claimed by :func:`late_add`."""
    if not late:
        _require_edit(day, now)
        guards.claim(db, day, guards.editable(now), now)
    check_retake(db, org_id, day, data, declared, confirmed_with_odyssey)
    tests = _priced_tests(org_id, day.id, data, late)
    candidate = OdysseyCandidate(organization_id=org_id, exam_day_id=day.id, self_exam=data.self_exam, late_addition=late,
                                 created_at=now, **data.values)
    db.add(candidate)
    db.flush()
    _insert_tests(db, [candidate.id], [tests])
    audit.record(db, org_id, user_id, "create", "odyssey_candidate", candidate.id, None, _summary(candidate, data))
    return candidate


def update_candidate(db: Session, org_id: int, user_id: int, candidate: OdysseyCandidate, data: CandidateInput,
                     now: datetime) -> None:
    day = db.get(OdysseyExamDay, candidate.exam_day_id)
    _require_edit(day, now)
    guards.claim(db, day, guards.editable(now), now)
    check_retake(db, org_id, day, data)
    guarded(db, update(OdysseyCandidate).where(OdysseyCandidate.id == candidate.id)
            .values(self_exam=data.self_exam, **data.values).execution_options(synchronize_session=False),
            lambda: guards.candidate_gone(db, day, now))
    db.refresh(candidate)
    db.execute(delete(OdysseyApplicationTest).where(OdysseyApplicationTest.candidate_id == candidate.id)
               .execution_options(synchronize_session=False))
    _insert_tests(db, [candidate.id], [_priced_tests(org_id, day.id, data, candidate.late_addition)])
    audit.record(db, org_id, user_id, "update", "odyssey_candidate", candidate.id, None, _summary(candidate, data))


def delete_candidate(db: Session, org_id: int, user_id: int, candidate: OdysseyCandidate, now: datetime) -> None:
    day = db.get(OdysseyExamDay, candidate.exam_day_id)
    _require_edit(day, now)
    guards.claim(db, day, guards.editable(now), now)
    db.execute(delete(OdysseyApplicationTest).where(OdysseyApplicationTest.candidate_id == candidate.id)
               .execution_options(synchronize_session=False))
    guarded(db, delete(OdysseyCandidate).where(OdysseyCandidate.id == candidate.id)
            .execution_options(synchronize_session=False), lambda: guards.candidate_gone(db, day, now))
    db.expunge(candidate)
    audit.record(db, org_id, user_id, "delete", "odyssey_candidate", candidate.id,
                 {"exam_day_id": day.id, "candidate_type": candidate.candidate_type}, None)


# --------------------------------------------------------------------------- CSV import


def _import_of(db: Session, day: OdysseyExamDay) -> OdysseyImport | None:
    return db.exec(select(OdysseyImport).where(OdysseyImport.exam_day_id == day.id)
                   .execution_options(populate_existing=True)).first()


def import_csv(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, data: bytes, filename: str,
               now: datetime, version: int | None = None) -> csv_import.ImportResult:
    """ODY-CSV: all rows or none; one import per exam day. Set-based whatever the size of
    the file: one retake-history query, the candidates and their tests in one statement each."""
    guards.expect_version(db, day, version, now)
    _require_edit(day, now)
    existing = _import_of(db, day)
    if existing is not None:
        raise guards.imported_meanwhile(db, day, existing, now)
    result = csv_import.read(data, subjects(db, org_id))
    if not result.ok:
        return result
    guards.claim(db, day, guards.editable(now), now, version=version)
    existing = _import_of(db, day)  # read after the claim: a racing import has committed by now
    if existing is not None:
        raise guards.imported_meanwhile(db, day, existing, now)
    people = [candidate for _, candidate in result.candidates]
    history = retake_history(db, org_id, day, people)
    tests = []
    for line, candidate in result.candidates:  # every row's refusal is listed, then nothing is stored
        try:
            check_retake(db, org_id, day, candidate, history=history)
            tests.append(_priced_tests(org_id, day.id, candidate, late=False))
        except RuleRefusal as exc:
            result.errors.append(csv_import.RowError(line, "O", exc.message))
    if result.errors:
        raise ImportFailed(result)
    record = OdysseyImport(organization_id=org_id, exam_day_id=day.id, filename=filename[:255], encoding=result.encoding,
                           rows=len(people), imported_at=now)
    db.add(record)
    db.flush()
    _insert_imported(db, org_id, day, record, result.candidates, tests, now)
    audit.record(db, org_id, user_id, "import", "odyssey_exam_day", day.id, None,
                 {"rows": record.rows, "encoding": record.encoding, "filename": record.filename,
                  "tests": sum(len(p.tests) for p in people)})
    return result


class ImportFailed(RuleRefusal):
    """Raised inside the transaction so that every row written so far is rolled back."""

    def __init__(self, result: csv_import.ImportResult):
        super().__init__("import_failed", Msg("インポートできませんでした。", "The import failed."), "file")
        self.result = result


def delete_import(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime,
                  version: int | None = None) -> int:
    guards.expect_version(db, day, version, now)
    _require_edit(day, now)
    if _import_of(db, day) is None:
        if version is not None and guards.fresh(db, day).version != version:
            raise guards.changed_meanwhile(db, day, now)  # deleted after the page the user saw: a lost race
        raise RuleRefusal("no_import", Msg("インポートしたデータはありません。", "Nothing was imported."), None)
    guards.claim(db, day, guards.editable(now), now, version=version)
    record = _import_of(db, day)  # after the claim: a racing delete has committed by now
    if record is None:
        raise guards.changed_meanwhile(db, day, now)
    imported = select(OdysseyCandidate.id).where(OdysseyCandidate.import_id == record.id)
    db.execute(delete(OdysseyApplicationTest).where(OdysseyApplicationTest.candidate_id.in_(imported))
               .execution_options(synchronize_session=False))
    rows = db.execute(delete(OdysseyCandidate).where(OdysseyCandidate.import_id == record.id)
                      .execution_options(synchronize_session=False)).rowcount
    guarded(db, delete(OdysseyImport).where(OdysseyImport.id == record.id).execution_options(synchronize_session=False),
            lambda: guards.changed_meanwhile(db, day, now))
    db.expunge(record)
    audit.record(db, org_id, user_id, "delete_import", "odyssey_exam_day", day.id, {"rows": rows}, None)
    return rows


# --------------------------------------------------------------------------- confirmation


def confirm(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime, version: int | None = None) -> None:
    guards.expect_version(db, day, version, now)
    _require_edit(day, now)
    old = day.state
    guards.claim(db, day, guards.editable(now), now, version=version,
                 values={"confirmed_at": now, "state": states.CONFIRMED})
    people = candidates(db, day)  # after the claim: the candidates as they are now
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
    _record_state(db, day, user_id, old, states.CONFIRMED, "click")


def withdraw(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime, version: int | None = None) -> None:
    guards.expect_version(db, day, version, now)
    _refuse_unless(states.can_withdraw(day, now), "確定取消は申込締切日までの申込済みの試験日だけです(ODY-ST)。",
                   "Only an applied day can be withdrawn, until the deadline (ODY-ST).")
    old = day.state
    guards.claim(db, day, guards.withdrawable(now), now, version=version,
                 values={"confirmed_at": None, "state": states.DRAFT})
    _record_state(db, day, user_id, old, states.DRAFT, "click")


def request_self_exam(db: Session, ctx: RuleContext, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime,
                      version: int | None = None) -> None:
    """ODY-DL-4: after registering the candidates (general ones included), by the 5th business day before."""
    guards.expect_version(db, day, version, now)
    deadline = deadlines.self_exam_request_deadline(ctx.calendar, day.exam_date)
    _refuse_unless(jst(now) <= deadline.at, f"自校受験申請の期限({moment(deadline.at).ja})を過ぎています(ODY-DL-4)。",
                   f"The self-exam request deadline ({moment(deadline.at).en}) has passed (ODY-DL-4).")
    guards.claim(db, day, (OdysseyExamDay.completed_at.is_(None),), now, version=version,
                 values={"self_exam_status": "requested", "self_exam_requested_at": now})
    people = candidates(db, day)
    _refuse_unless(any(c.self_exam for c in people) and any(not c.self_exam for c in people),
                   "一般受験者と自校スタッフ(勤務先「自校スタッフ」)を登録してから申請してください(ODY-DL-4)。",
                   "Register the general candidates and the staff (employer 自校スタッフ) before the request (ODY-DL-4).")
    audit.record(db, org_id, user_id, "self_exam_request", "odyssey_exam_day", day.id, None, {"status": "requested"})


def set_self_exam_answer(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, status: str, now: datetime,
                         version: int | None = None) -> None:
    guards.expect_version(db, day, version, now)
    if status not in ("approved", "refused") or day.self_exam_status == "none":
        raise BadInput("invalid_field", Msg("申請後に「承認」か「不可」を選んでください。", "Choose approved or refused after the request."), "status")
    before = day.self_exam_status
    guards.claim(db, day, (OdysseyExamDay.self_exam_status == before,), now, version=version,
                 values={"self_exam_status": status})
    audit.record(db, org_id, user_id, "self_exam_answer", "odyssey_exam_day", day.id, {"status": before}, {"status": status})


# --------------------------------------------------------------------------- after the deadline


def late_add(db: Session, ctx: RuleContext, org_id: int, user_id: int, day: OdysseyExamDay, data: CandidateInput,
             now: datetime, version: int | None = None, **retake_facts) -> OdysseyCandidate:
    """ODY-LA: after the deadline, before the late-addition deadline, with enough deposit.
    The day is claimed (at the version the user saw) and the deposit debited by one guarded
    statement each: two racing additions never spend the same deposit twice."""
    guards.expect_version(db, day, version, now)
    _refuse_unless(states.can_late_add(day, now), "追加申込は申込締切日後の申込済みの試験日だけです(ODY-LA)。",
                   "Late additions apply to an applied day after its deadline (ODY-LA).")
    deadline = deadlines.late_addition_deadline(ctx.calendar, day.exam_start,
                                                bool(ctx.setting(deadlines.SETTING_STRICT_13)))
    _refuse_unless(jst(now) <= deadline.at, f"追加申込の期限({moment(deadline.at).ja})を過ぎています。" + deadline.explanation.ja,
                   f"The late-addition deadline ({moment(deadline.at).en}) has passed. " + deadline.explanation.en)
    amount = group((price(t.subject, t.price_kind), 1) for t in data.tests).total
    v = venue(db, org_id)
    _refuse_unless(v.deposit_balance >= amount, *_deposit_short(v.deposit_balance, amount))
    guards.claim(db, day, guards.late_addable(now), now, version=version)
    guarded(db, update(OdysseyVenue).where(OdysseyVenue.id == v.id, OdysseyVenue.deposit_balance >= amount)
            .values(deposit_balance=OdysseyVenue.deposit_balance - amount).execution_options(synchronize_session=False),
            lambda: _deposit_conflict(db, v, amount))
    db.refresh(v)
    candidate = add_candidate(db, org_id, user_id, day, data, now, late=True, **retake_facts)
    audit.record(db, org_id, user_id, "late_addition", "odyssey_exam_day", day.id, {"deposit_balance": v.deposit_balance + amount},
                 {"deposit_balance": v.deposit_balance, "amount": amount, "rule": "ODY-LA"})
    return candidate


def _deposit_short(balance: int, amount: int) -> tuple[str, str]:
    return (f"預け金残高{balance:,}円が追加する試験の入金額{amount:,}円に足りません(ODY-LA)。",
            f"The deposit balance {balance:,} yen does not cover the added tests' {amount:,} yen (ODY-LA).")


def _deposit_conflict(db: Session, v: OdysseyVenue, amount: int) -> Conflict:
    db.refresh(v)
    ja, en = _deposit_short(v.deposit_balance, amount)
    return Conflict("deposit_exhausted", Msg("同時に行われた他の追加申込で預け金が使われました。", "Another late addition used the deposit meanwhile."),
                    current=Msg(ja, en))


OUTCOMES = ("passed", "failed", "absent")


def enter_results(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, outcomes: Mapping[int, str],
                  now: datetime, version: int | None = None) -> None:
    guards.expect_version(db, day, version, now)
    _refuse_unless(states.state_at(day, now) == states.RESULTS_DUE, "試験実施翌日以降に結果を入力できます(ODY-ST)。",
                   "Results can be entered from the day after the exam (ODY-ST).")
    by_outcome: dict[str, list[int]] = {}
    for t in tests(db, day):
        value = outcomes.get(t.id)
        if value not in OUTCOMES:
            raise BadInput("invalid_field", Msg("すべての試験の結果(合格・不合格・欠席)を選んでください。",
                                                "Choose a result for every test."), f"outcome_{t.id}")
        by_outcome.setdefault(value, []).append(t.id)
    old = day.state
    guards.claim(db, day, guards.results_due(now), now, version=version,
                 values={"results_entered_at": now, "state": states.RESULTS_ENTERED})
    for value, ids in by_outcome.items():  # one statement per outcome, not per test
        db.execute(update(OdysseyApplicationTest).where(OdysseyApplicationTest.id.in_(ids)).values(outcome=value))
    _record_state(db, day, user_id, old, states.RESULTS_ENTERED, "click")


def complete(db: Session, org_id: int, user_id: int, day: OdysseyExamDay, now: datetime, version: int | None = None) -> None:
    guards.expect_version(db, day, version, now)
    _refuse_unless(states.state_at(day, now) == states.RESULTS_ENTERED, "結果の確定後に完了にできます(ODY-ST)。",
                   "Only a day with entered results can be completed (ODY-ST).")
    old = day.state
    guards.claim(db, day, guards.completable(), now, version=version,
                 values={"completed_at": now, "state": states.COMPLETED})
    _record_state(db, day, user_id, old, states.COMPLETED, "click")


def tests_in(db: Session, org_id: int, start, end) -> int:
    """Tests applied for (confirmed days) with an exam date in [start, end] (ODY-PR-4)."""
    rows = db.exec(select(OdysseyApplicationTest.id).join(OdysseyExamDay, OdysseyExamDay.id == OdysseyApplicationTest.exam_day_id)
                   .where(OdysseyApplicationTest.organization_id == org_id, OdysseyExamDay.exam_date >= start,
                          OdysseyExamDay.exam_date <= end, OdysseyExamDay.confirmed_at.is_not(None))).all()
    return len(rows)


EXAM_DAY = "odyssey_exam_day"  # DeadlineChange.source of the exam days' deadlines
#: The deadline kinds an exam day stores (ODY-DL-1, for its state); its other open kinds
#: (payment, late addition, self-exam request) are computed whenever they are shown.
STORED_KINDS = ("application",)


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


def _computed(ctx: RuleContext, exam_start: datetime, state: str) -> tuple[dict[str, Deadline], RuleError | None]:
    """An exam day's open deadlines that are not stored, by kind, under ``ctx`` — none, with
    the refusal, for a day on a closure day (ODY-DL-3), as the dashboard shows it."""
    try:
        return {d.kind: d for d in dashboard.open_deadlines(ctx, exam_start, state) if d.kind not in STORED_KINDS}, None
    except RuleError as refusal:
        return {}, refusal


def plan_computed_deadlines(db: Session, ctx: RuleContext, current: RuleContext, org_id: int) -> list[DeadlineChange]:
    """The open exam days' computed deadlines (ODY-DL-2 payment, ODY-LA late addition,
    ODY-DL-4 self-exam request: what the dashboard lists for the day's state) as the rules
    in ``ctx`` would give them, against the rules in force (``current``). Reads only; each
    exam start is asked once under each context. The core keeps the moves only."""
    rows = db.exec(select(OdysseyExamDay.id, OdysseyExamDay.exam_start, OdysseyExamDay.state).where(
        OdysseyExamDay.organization_id == org_id, OdysseyExamDay.state.in_(tuple(dashboard.OPEN_KINDS)))).all()
    days: dict[tuple[datetime, str], list[int]] = {}
    for day_id, exam_start, state in rows:
        days.setdefault((exam_start, state), []).append(day_id)
    changes = []
    for (exam_start, state), ids in days.items():
        (before, _), (after, refusal) = _computed(current, exam_start, state), _computed(ctx, exam_start, state)
        for kind in sorted(before.keys() | after.keys()):
            old, new = before.get(kind), after.get(kind)
            old_at = old.at if old else None
            if new is not None:
                changes.append(DeadlineChange(EXAM_DAY, tuple(ids), kind, old_at, new.at, new.rule, new.explanation))
            elif refusal is not None:  # the exam day is now on a closure day: the deadline no longer applies
                changes.append(DeadlineChange(EXAM_DAY, tuple(ids), kind, old_at, None, "ODY-DL-3", refusal.message))
    return changes


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

"""ODY-ST state changes as guarded statements (``portal.sdk.guarded``).

Every change made on an exam day starts with one conditional UPDATE of the day's row
(:func:`claim`): it applies only while the day is in the state the action starts from
(the click timestamps, the deadline) and, for a one-time action, at the version its user
saw; it bumps ``version``. Of two racing requests exactly one matches; the other changes
nothing and is refused with a :class:`~portal.sdk.Conflict` that shows the day's current
state and who changed it last. The UPDATE also takes the row's lock, so what the action
reads after it (candidates, the import) is what the winner committed.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, update
from sqlmodel import Session, select

from portal.sdk import Conflict, Msg, audit, guarded, jst, register_constraint

from plugins.odyssey import states
from plugins.odyssey.models import OdysseyCandidate, OdysseyExamDay, OdysseyImport
from plugins.odyssey.timefmt import moment

Day = OdysseyExamDay

register_constraint(
    "odyssey_import_exam_day_id_key", "odyssey_import", ("exam_day_id",), "already_imported",
    Msg("この試験実施日には、同時に行われた他の操作で先にCSVがインポートされました。インポートは1回だけです(ODY-CSV)。",
        "A CSV was imported for this exam day meanwhile by another request; only one import is allowed (ODY-CSV)."), "file")
register_constraint(
    "odyssey_exam_day_organization_id_exam_date_key", "odyssey_exam_day", ("organization_id", "exam_date"), "duplicate_day",
    Msg("この試験実施日は、同時に行われた他の操作で先に登録されました。", "This exam date was registered meanwhile by another request."),
    "exam_start")
register_constraint(
    "ck_odyssey_venue_deposit_not_negative", "odyssey_venue", ("deposit_balance",), "deposit_exhausted",
    Msg("預け金残高が同時に行われた他の追加申込で使われ、足りなくなりました(ODY-LA)。",
        "The deposit balance was used meanwhile by another late addition and no longer covers this one (ODY-LA)."))
register_constraint(
    "ck_odyssey_exam_day_clicks_in_order", "odyssey_exam_day", ("confirmed_at", "results_entered_at", "completed_at"),
    "changed_meanwhile", Msg("この試験実施日の状態は他の操作で変更されました(ODY-ST)。",
                             "The state of this exam day was changed meanwhile (ODY-ST)."))


# ------------------------------------------------------------------ the states an action starts from


def _open() -> tuple:
    return Day.results_entered_at.is_(None), Day.completed_at.is_(None)


def editable(now: datetime) -> tuple:
    """Candidates, import, confirmation: a draft day up to its deadline (ODY-ST, 3.2)."""
    return (Day.confirmed_at.is_(None), *_open(), Day.application_deadline >= jst(now))


def withdrawable(now: datetime) -> tuple:
    """確定取消: a confirmed day before its deadline."""
    return (Day.confirmed_at.is_not(None), *_open(), Day.application_deadline >= jst(now))


def late_addable(now: datetime) -> tuple:
    """ODY-LA: a confirmed day after its deadline, results not yet entered."""
    return (Day.confirmed_at.is_not(None), *_open(), Day.application_deadline < jst(now))


def results_due(now: datetime) -> tuple:
    """Results: a confirmed day from the day after the exam."""
    return (Day.confirmed_at.is_not(None), *_open(), Day.exam_date < jst(now).date())


def completable() -> tuple:
    return Day.results_entered_at.is_not(None), Day.completed_at.is_(None)


# ------------------------------------------------------------------ the guarded statement


def claim(db: Session, day: OdysseyExamDay, where: Iterable[Any], now: datetime, *, version: int | None = None,
          values: dict[str, Any] | None = None) -> None:
    """Apply ``values`` to the day (and bump its version) if it still matches ``where`` and,
    when given, ``version``; otherwise raise the conflict, with the current state."""
    statement = (update(Day).where(Day.id == day.id, *where)
                 .values(version=Day.version + 1, **(values or {}))
                 .execution_options(synchronize_session=False))
    if version is not None:
        statement = statement.where(Day.version == version)
    guarded(db, statement, lambda: changed_meanwhile(db, day, now))
    db.refresh(day)


def expect_version(db: Session, day: OdysseyExamDay, version: int | None, now: datetime) -> None:
    """Refuse at once when the day changed after the user's page was rendered (the request
    began after the winner committed): the same answer as losing inside :func:`claim`."""
    if version is not None and day.version != version:
        raise changed_meanwhile(db, day, now)


def fresh(db: Session, day: OdysseyExamDay) -> OdysseyExamDay:
    """The day as committed now (the session's copy may predate the winner's change)."""
    return db.exec(select(Day).where(Day.id == day.id).execution_options(populate_existing=True)).one()


def _who(name: str | None) -> Msg:
    return Msg(name, name) if name else Msg("時刻による自動更新", "the clock")


_ACTIONS = {
    "create": Msg("登録", "registered"), "import": Msg("CSVインポート", "CSV import"),
    "delete_import": Msg("インポートの削除", "import deleted"), "late_addition": Msg("追加申込", "late addition"),
    "self_exam_request": Msg("自校受験申請", "self-exam request"), "self_exam_answer": Msg("自校受験の回答", "self-exam answer"),
}


def _what(event) -> Msg:
    if event.action == "state_change" and event.after and event.after.get("state") in states.LABELS:
        label = states.LABELS[event.after["state"]]
        return Msg(f"状態を「{label.ja}」に変更", f"state set to '{label.en}'")
    return _ACTIONS.get(event.action, Msg(event.action, event.action))


def current_state(db: Session, day: OdysseyExamDay, now: datetime) -> Msg:
    """'Now: <state>, n candidates; last change: <when> by <who> (<what>).'"""
    day = fresh(db, day)
    label = states.LABELS[states.state_at(day, now)]
    people = db.exec(select(func.count()).select_from(OdysseyCandidate).where(OdysseyCandidate.exam_day_id == day.id)).one()
    text = Msg(f"現在の状態: {label.ja}(受験者{people}名)。", f"Now: {label.en} ({people} candidate(s)).")
    last = audit.last_event(db, day.organization_id, "odyssey_exam_day", day.id)
    if last is None:
        return text
    event, name = last
    when, who, what = moment(event.at), _who(name), _what(event)
    return text + Msg(f"最後の変更: {when.ja} {who.ja}({what.ja})。", f"Last change: {when.en} by {who.en} ({what.en}).")


def changed_meanwhile(db: Session, day: OdysseyExamDay, now: datetime) -> Conflict:
    return Conflict("changed_meanwhile", Msg(
        "この試験実施日は、同時に行われた他の操作で先に変更されたため、何も変更しませんでした。",
        "This exam day was changed meanwhile by another request, so nothing was changed."), current=current_state(db, day, now))


def candidate_gone(db: Session, day: OdysseyExamDay, now: datetime) -> Conflict:
    return Conflict("candidate_gone", Msg("この受験者は、同時に行われた他の操作で先に削除されました。",
                                          "This candidate was deleted meanwhile by another request."),
                    current=current_state(db, day, now))


def imported_meanwhile(db: Session, day: OdysseyExamDay, record: OdysseyImport, now: datetime) -> Conflict:
    """'This exam day was imported meanwhile by …' (ODY-CSV: one import per day)."""
    last = audit.last_event(db, day.organization_id, "odyssey_exam_day", day.id, ("import",))
    who = _who(last[1] if last else None)
    when = moment(record.imported_at)
    return Conflict("already_imported", Msg(
        f"この試験実施日は、{when.ja}に{who.ja}がインポート済みです(ファイル「{record.filename}」、{record.rows}名)。"
        "同一試験日のインポートは1回だけです(ODY-CSV)。",
        f"This exam day was imported meanwhile, on {when.en} by {who.en} (file '{record.filename}', {record.rows} "
        "candidate(s)); only one import per exam day (ODY-CSV)."), "file", current=current_state(db, day, now))

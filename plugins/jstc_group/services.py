"""Stored groups under the JST-* rules: draft examinees, the one upload, results.

Each public function is one unit of work, run by its caller inside
:func:`portal.sdk.db.transaction`; a refusal raises before anything is written (or rolls the
whole transaction back), so a bulk upload stores all its rows or none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import delete, update
from sqlmodel import Session, select

from portal.sdk import BadInput, Msg, RuleRefusal, audit

from plugins.jstc_group import bulk_form, rules
from plugins.jstc_group.grades import GRADE_CODES, PROFESSIONAL
from plugins.jstc_group.models import JstcApplication, JstcExaminee, JstcSession
from plugins.jstc_group.sessions import SessionDates


class UploadRefused(RuleRefusal):
    """The bulk form was not accepted; ``problems`` lists every row problem found."""

    def __init__(self, message: Msg, problems: Sequence[bulk_form.FormProblem] = ()):
        super().__init__("upload_refused", message, "form")
        self.problems = list(problems)


# --------------------------------------------------------------------------- sessions and groups


def parse_date(value: str | None, field: str, label: Msg) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise BadInput("invalid_field", Msg(f"{label.ja}を日付(YYYY-MM-DD)で入力してください。",
                                            f"Enter {label.en} as a date (YYYY-MM-DD)."), field) from None


def create_session(s: Session, organization_id: int, user_id: int, form: Mapping[str, str]) -> JstcSession:
    name = (form.get("name") or "").strip()
    if not name or len(name) > 100:
        raise BadInput("invalid_field", Msg("開催回の名前を100文字以内で入力してください。",
                                            "Enter the session's name (100 characters at most)."), "name")
    exam_date = parse_date(form.get("exam_date"), "exam_date", Msg("試験日", "the exam date"))
    opens = parse_date(form.get("application_opens"), "application_opens", Msg("申込開始日", "the first application day"))
    deadline = parse_date(form.get("application_deadline"), "application_deadline", Msg("申込締切日", "the application deadline"))
    if not opens <= deadline < exam_date:
        raise BadInput("invalid_field", Msg("申込開始日 ≦ 申込締切日 < 試験日 の順に入力してください。",
                                            "The dates must be: application opens ≤ deadline < exam date."), "application_deadline")
    if s.exec(select(JstcSession.id).where(JstcSession.organization_id == organization_id, JstcSession.name == name)).first():
        raise BadInput("duplicate", Msg(f"開催回「{name}」は登録済みです。", f"Session '{name}' already exists."), "name")
    row = JstcSession(organization_id=organization_id, name=name, exam_date=exam_date,
                      application_opens=opens, application_deadline=deadline)
    s.add(row)
    s.flush()
    audit.record(s, organization_id, user_id, "create", "jstc_group_session", row.id, None, audit.snapshot(row))
    return row


def create_application(s: Session, organization_id: int, user_id: int, session: JstcSession) -> JstcApplication:
    """JST-AP-1: one group application (one bulk form) per session."""
    if s.exec(select(JstcApplication.id).where(JstcApplication.organization_id == organization_id,
                                               JstcApplication.session_id == session.id)).first():
        raise RuleRefusal("duplicate", Msg(f"{session.name}の団体申込は作成済みです(開催回ごとに1件)。",
                                           f"The group application of {session.name} exists already (one per session)."),
                          "session_id")
    row = JstcApplication(organization_id=organization_id, session_id=session.id)
    s.add(row)
    s.flush()
    audit.record(s, organization_id, user_id, "create", "jstc_group_application", row.id, None, audit.snapshot(row))
    return row


# --------------------------------------------------------------------------- the lock (JST-AP-1)


def lock_reason(application: JstcApplication, session: SessionDates, now: datetime) -> Msg | None:
    """Why the group can no longer be edited, or None while it can."""
    if application.applied_at is not None:
        return Msg(
            f"{rules.format_moment(application.applied_at)}に一括申込書をアップロードして申込が完了しました。"
            "申込完了後は受験者の追加・キャンセル・受験級の変更・修正はできず、返金もありません(JST-AP-1、規定3.3・3.4・9)。",
            f"The bulk form was uploaded on {rules.format_moment(application.applied_at)} and the application is complete: no examinee "
            "can be added, cancelled, moved to another grade or corrected, and nothing is refunded (JST-AP-1).")
    if session.window_state(now) == "closed":
        return Msg(f"申込締切({rules.format_moment(session.deadline_at)})を過ぎたため、一括申込書はアップロードできません(JST-AP-1、規定3.5)。",
                   f"The application deadline ({rules.format_moment(session.deadline_at)}) has passed: the bulk form can no longer be "
                   "uploaded (JST-AP-1).")
    return None


def _require_editable(application: JstcApplication, session: SessionDates, now: datetime) -> None:
    reason = lock_reason(application, session, now)
    if reason is not None:
        raise RuleRefusal("locked", reason, None)


def update_details(s: Session, application: JstcApplication, session: SessionDates, user_id: int,
                   form: Mapping[str, str], now: datetime) -> None:
    """JST-GR-1: the responsible person, the venue and the staff for the day."""
    _require_editable(application, session, now)
    before = audit.snapshot(application, ("responsible_person", "venue", "staff"))
    limits = {"responsible_person": 100, "venue": 200, "staff": 200}
    for name, limit in limits.items():
        value = (form.get(name) or "").strip()
        if len(value) > limit:
            raise BadInput("invalid_field", Msg(f"{limit}文字以内で入力してください。", f"{limit} characters at most."), name)
        setattr(application, name, value)
    s.add(application)
    audit.record(s, application.organization_id, user_id, "update", "jstc_group_application", application.id, before,
                 audit.snapshot(application, tuple(limits)))


# --------------------------------------------------------------------------- examinees and the live quote


def examinees(s: Session, application: JstcApplication) -> list[JstcExaminee]:
    return list(s.exec(select(JstcExaminee).where(JstcExaminee.organization_id == application.organization_id,
                                                  JstcExaminee.application_id == application.id)
                       .order_by(JstcExaminee.line, JstcExaminee.id)).all())


def grade_counts(rows: Iterable[JstcExaminee]) -> dict[str, int]:
    counts = dict.fromkeys(GRADE_CODES, 0)
    for row in rows:
        counts[row.grade] += 1
    return counts


def add_draft(s: Session, application: JstcApplication, session: SessionDates, user_id: int,
              form: Mapping[str, str], now: datetime) -> JstcExaminee:
    """One examinee added by hand before the upload (validated like a row of the form)."""
    _require_editable(application, session, now)
    current = examinees(s, application)
    seen: dict[tuple[str, str], int | None] = {
        bulk_form.examinee_key(e.family_name, e.given_name, e.grade): None for e in current}
    values = (None, form.get("family_name"), form.get("given_name"), form.get("family_kana"), form.get("given_kana"),
              form.get("grade"))
    row, problems = bulk_form.check_row(None, values, seen)
    if row is None:
        raise BadInput("invalid_examinee", Msg.join([p.message for p in problems]), problems[0].column)
    examinee = _store_row(s, application, row, line=max((e.line for e in current), default=0) + 1)
    audit.record(s, application.organization_id, user_id, "create", "jstc_group_examinee", examinee.id, None,
                 audit.snapshot(examinee))
    return examinee


def delete_draft(s: Session, application: JstcApplication, session: SessionDates, user_id: int,
                 examinee: JstcExaminee, now: datetime) -> None:
    _require_editable(application, session, now)
    audit.record(s, application.organization_id, user_id, "delete", "jstc_group_examinee", examinee.id,
                 audit.snapshot(examinee), None)
    s.delete(examinee)


def _store_row(s: Session, application: JstcApplication, row: bulk_form.FormRow, line: int) -> JstcExaminee:
    examinee = JstcExaminee(organization_id=application.organization_id, application_id=application.id, line=line,
                            family_name=row.family_name, given_name=row.given_name, family_kana=row.family_kana,
                            given_kana=row.given_kana, grade=row.grade, jis_flag=row.jis_flag)
    s.add(examinee)
    s.flush()
    return examinee


# --------------------------------------------------------------------------- the one upload


def upload_refusal(application: JstcApplication, session: SessionDates, now: datetime) -> Msg | None:
    """Why an upload cannot be accepted now, before reading the file (None: it can)."""
    reason = lock_reason(application, session, now)
    if reason is not None:
        return reason
    if session.window_state(now) == "not_open":
        return Msg(f"{session.name}の申込受付はまだ始まっていません({session.period_msg().ja})。",
                   f"Applications for {session.name} are not open yet ({session.period_msg().en}).")
    missing = rules.missing_requirements(application.responsible_person, application.venue, application.staff)
    if missing:
        return Msg("団体受験の要件として、" + "・".join(m.ja for m in missing) + "を先に登録してください(JST-GR-1)。",
                   "A group needs " + ", ".join(m.en for m in missing) + ": enter them first (JST-GR-1).")
    return None


def apply_upload(s: Session, application: JstcApplication, session: SessionDates, user_id: int,
                 data: bytes, filename: str, now: datetime) -> list[JstcExaminee]:
    """JST-AP-1: accept the filled bulk form exactly once, before the deadline, all rows or
    none. The draft rows are replaced by the form's; the group is locked from then on."""
    refusal = upload_refusal(application, session, now)
    if refusal is not None:
        raise UploadRefused(refusal)
    result = bulk_form.read_form(data, application.session_id, session.name)
    if not result.ok:
        raise UploadRefused(Msg(f"一括申込書に{len(result.problems)}件の問題があるため、受け付けませんでした。"
                                "直してからもう一度アップロードしてください(何も登録されていません)。",
                                f"The bulk form has {len(result.problems)} problem(s) and was not accepted: correct it "
                                "and upload it again (nothing was stored)."), result.problems)
    if not rules.is_group(len(result.rows)):
        raise UploadRefused(Msg(
            f"受験者がのべ{len(result.rows)}名で、団体受験の要件(のべ{rules.GROUP_MINIMUM}名以上)を満たしません(JST-GR-1)。"
            "10名未満の場合は個人として一般会場またはCBTで申し込んでください。",
            f"{len(result.rows)} examinees are fewer than the group minimum of {rules.GROUP_MINIMUM} (JST-GR-1): "
            "apply as individuals at a public venue or by CBT."))
    # The lock is taken by one conditional UPDATE: of two racing uploads exactly one matches.
    taken = s.execute(update(JstcApplication)
                      .where(JstcApplication.id == application.id, JstcApplication.applied_at.is_(None))
                      .values(applied_at=now, applied_by=user_id, form_filename=filename[:200]))
    if taken.rowcount != 1:
        raise UploadRefused(Msg("一括申込書はすでにアップロードされています。再アップロードはできません(JST-AP-1)。",
                                "The bulk form has already been uploaded; it cannot be uploaded again (JST-AP-1)."))
    s.execute(delete(JstcExaminee).where(JstcExaminee.organization_id == application.organization_id,
                                         JstcExaminee.application_id == application.id))
    stored = [_store_row(s, application, row, line=i) for i, row in enumerate(result.rows, start=1)]
    s.refresh(application)
    audit.record(s, application.organization_id, user_id, "upload", "jstc_group_application", application.id, None, {
        "file": filename[:200], "examinees": len(stored), "counts": grade_counts(stored),
        "jis_flagged": [e.line for e in stored if e.jis_flag]})
    return stored


# --------------------------------------------------------------------------- results (JST-SC-1)


def results_open(application: JstcApplication, session: SessionDates, today: date) -> Msg | None:
    """Why results cannot be entered yet (None: they can): applied, from the exam date."""
    if application.applied_at is None:
        return Msg("結果は一括申込書のアップロード後に入力できます。", "Results can be entered once the bulk form is uploaded.")
    if today < session.exam_date:
        return Msg(f"結果は試験日({session.exam_date.isoformat()})から入力できます。",
                   f"Results can be entered from the exam date ({session.exam_date.isoformat()}).")
    return None


def record_result(s: Session, application: JstcApplication, session: SessionDates, user_id: int,
                  examinee: JstcExaminee, score: int | None, question_below_half: bool, today: date) -> rules.Mark | None:
    closed = results_open(application, session, today)
    if closed is not None:
        raise RuleRefusal("results_closed", closed, None)
    before = audit.snapshot(examinee, ("score", "question_below_half", "mark"))
    mark = None
    if score is None:
        examinee.score, examinee.mark, examinee.question_below_half = None, None, False
    else:
        below_half = question_below_half and examinee.grade == PROFESSIONAL
        mark = rules.judge(examinee.grade, score, below_half)
        examinee.score, examinee.question_below_half, examinee.mark = score, below_half, mark.code
    s.add(examinee)
    audit.record(s, application.organization_id, user_id, "result", "jstc_group_examinee", examinee.id, before,
                 audit.snapshot(examinee, ("score", "question_below_half", "mark")))
    return mark


@dataclass(frozen=True)
class GradeSummary:
    grade: str
    examinees: int
    scored: int
    marks: dict[str, int]

    @property
    def passed(self) -> int:
        return sum(n for code, n in self.marks.items() if code != "fail")

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.scored if self.scored else None


def results_summary(rows: Sequence[JstcExaminee]) -> list[GradeSummary]:
    """Per grade: examinees, results entered and the count of each mark."""
    summary = []
    for code in GRADE_CODES:
        of_grade = [r for r in rows if r.grade == code]
        if not of_grade:
            continue
        marks: dict[str, int] = {}
        for r in of_grade:
            if r.mark:
                marks[r.mark] = marks.get(r.mark, 0) + 1
        summary.append(GradeSummary(code, len(of_grade), sum(1 for r in of_grade if r.score is not None), marks))
    return summary

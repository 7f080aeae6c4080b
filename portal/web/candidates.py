"""Candidates across brands: bookings, attempts and the retake planner."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from flask import Blueprint, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_
from sqlmodel import select

from portal import audit, db, exports, htmx
from portal.bookings import org_context, providers
from portal.models import Attempt, Booking, Candidate, ExamSession
from portal.orgs import enabled_provider_ids
from portal.rules import AttemptFact, BadInput, Msg, RetakeQuery, RuleError
from portal.rules import parse
from portal.rules.parse import now_jst
from portal.scoping import get_or_404, org_id, scoped
from portal.inputs import MAX_PAGE, int_arg
from portal.web.forms import datetime_local

bp = Blueprint("candidates", __name__)
PAGE_SIZE = 25
PLANNER_HORIZON = timedelta(days=400)


def candidate_query(args):
    """The candidates list's query under the search of ``args`` (screen and export)."""
    q = (args.get("q") or "").strip()
    query = scoped(Candidate)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Candidate.family_name.like(like), Candidate.given_name.like(like),
                                Candidate.family_kana.like(like), Candidate.given_kana.like(like)))
    return query.order_by(Candidate.family_kana, Candidate.id), q


@bp.get("/candidates")
def candidate_list():
    query, q = candidate_query(request.args)
    page = int_arg(request.args, "page", 1, minimum=1, maximum=MAX_PAGE)
    total = db.session().exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.session().exec(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return htmx.render("candidates/list.html", "candidates/partials/rows.html", rows=rows, q=q, page=page,
                       pages=max(1, -(-total // PAGE_SIZE)), total=total)


CANDIDATE_COLUMNS = (
    exports.Column(_l("受験者ID"), lambda c: c.id),
    exports.Column(_l("姓"), lambda c: c.family_name),
    exports.Column(_l("名"), lambda c: c.given_name),
    exports.Column(_l("セイ"), lambda c: c.family_kana),
    exports.Column(_l("メイ"), lambda c: c.given_kana),
    exports.Column(_l("メールアドレス"), lambda c: c.email),
    exports.Column(_l("登録日時"), lambda c: c.created_at),
)


@bp.get("/candidates/export.<fmt>")
def export(fmt: str):
    query, _ = candidate_query(request.args)
    return exports.export_response("candidates", fmt, CANDIDATE_COLUMNS, exports.stream_query(query))


def retake_plan(candidate: Candidate) -> list[dict]:
    """For each exam the candidate sat: the provider's retake answer and the sessions they may join."""
    plan = []
    now = now_jst()
    for pid in enabled_provider_ids(db.session(), org_id()):
        ctx = org_context(db.session(), org_id(), pid)
        by_exam = defaultdict(list)
        for attempt in providers().attempts(ctx, org_id(), candidate.id):
            by_exam[attempt.exam].append(attempt)
        if not by_exam:
            continue
        upcoming = providers().sessions(ctx, org_id(), now, now + PLANNER_HORIZON)
        for exam, attempts in sorted(by_exam.items()):
            entry = {"provider": ctx.provider, "exam": exam, "attempts": attempts, "decision": None, "error": None,
                     "sessions": []}
            try:
                facts = [AttemptFact(a.start, a.end, a.outcome) for a in sorted(attempts, key=lambda a: a.start)]
                decision = providers().retake(ctx, RetakeQuery(exam, facts, now))
                entry["decision"] = decision
                if decision.allowed or decision.earliest is not None:  # now, or from ``earliest`` on
                    entry["sessions"] = [s for s in upcoming if (s.exam in (None, exam) or _same_family(ctx, s.exam, exam))
                                         and (decision.earliest is None or s.start >= decision.earliest)
                                         and (s.seats_left is None or s.seats_left > 0)]
            except RuleError as exc:
                entry["error"] = exc.message
            plan.append(entry)
    return plan


def _same_family(ctx, session_exam: str | None, exam: str) -> bool:
    by_code = {e.code: e for e in ctx.exams}
    a, b = by_code.get(session_exam), by_code.get(exam)
    family = lambda e: (e.extra or {}).get("family") if e else None  # noqa: E731
    return a is not None and b is not None and family(a) is not None and family(a) == family(b)


def _page(candidate: Candidate, errors=None, values=None, status=200):
    rows = db.session().exec(select(Booking, ExamSession).join(ExamSession, ExamSession.id == Booking.session_id)
                             .where(Booking.organization_id == org_id(), Booking.candidate_id == candidate.id)
                             .order_by(ExamSession.start.desc())).all()
    attempts = db.session().exec(scoped(Attempt).where(Attempt.candidate_id == candidate.id)
                                 .order_by(Attempt.start.desc())).all()
    enabled = [providers().info(p) for p in enabled_provider_ids(db.session(), org_id())]
    return htmx.render("candidates/detail.html", "candidates/partials/detail.html", status=status, candidate=candidate,
                       bookings=rows, attempts=attempts, plan=retake_plan(candidate), enabled=enabled,
                       errors=errors or {}, values=values or {})


@bp.get("/candidates/<int:candidate_id>")
def detail(candidate_id: int):
    return _page(get_or_404(Candidate, candidate_id))


@bp.post("/candidates/<int:candidate_id>/attempts")
def add_attempt(candidate_id: int):
    candidate = get_or_404(Candidate, candidate_id)
    form = request.form
    try:
        pid = form.get("provider") or ""
        if pid not in enabled_provider_ids(db.session(), org_id()):
            raise BadInput("invalid_field", Msg("ブランドを選んでください。", "Choose a brand."), "provider")
        ctx = org_context(db.session(), org_id(), pid)
        exam = ctx.exam(form.get("exam"), "exam")
        start = parse.datetime_value(datetime_local(form["start"]) if form.get("start") else None, "start")
        end = parse.datetime_value(datetime_local(form["end"]) if form.get("end") else None, "end", required=False)
        end = end or start + timedelta(minutes=exam.duration_minutes or 60)
        if end < start:
            raise BadInput("invalid_field", Msg("終了は開始より後にしてください。", "The end must be after the start."), "end")
        if start > now_jst():
            raise BadInput("invalid_field", Msg("まだ行われていない受験は記録できません。", "An attempt cannot be in the future."), "start")
        outcome = form.get("outcome")
        if outcome not in parse.OUTCOMES:
            raise BadInput("invalid_field", Msg("結果を選んでください。", "Choose the outcome."), "outcome")
        with db.transaction() as s:
            row = Attempt(organization_id=org_id(), candidate_id=candidate.id, provider=pid, exam=exam.code,
                          start=start, end=end, outcome=outcome)
            s.add(row)
            s.flush()
            audit.record(s, org_id(), current_user.id, "create", "attempt", row.id, None, audit.snapshot(row))
    except RuleError as exc:
        return _page(candidate, {exc.field or "_": exc.message}, form, 422)
    return _page(candidate)

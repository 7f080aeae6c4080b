"""JSTC group-application rules (rulebook: jstc-group-rules.md, rules JST-*).

Pure functions of the facts; ``plugin.py`` wires them to the hooks and ``services.py``
applies them to stored groups.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from portal.sdk import (
    BadInput, CancelDecision, ChangeDecision, Deadline, MissingFact, Msg, PolicyDecision, PolicyFacts, Quote,
    QuoteLine, RuleRefusal, format_day, jst,
)
from portal.sdk.parse import int_value, mapping_value

from plugins.jstc_group.grades import GRADE_CODES, GRADES, PROFESSIONAL
from plugins.jstc_group.sessions import SessionDates

#: JST-GR-1: a group needs 10+ examinees per session, counted across grades (のべ).
GROUP_MINIMUM = 10

#: JST-PR-2: implementation expense (実施経費) by total examinees, section 2.1's table.
EXPENSE_TABLE: tuple[tuple[int, int, int], ...] = (
    (10, 20, 3_000),
    (21, 40, 6_000),
    (41, 70, 11_000),
    (71, 100, 17_000),
    (101, 200, 30_000),
    (201, 300, 50_000),
)
#: JST-PR-2: from 301, 10,000 yen more per started 50 examinees, without an upper limit.
ABOVE_TABLE_STEP = 50
ABOVE_TABLE_INCREMENT = 10_000

MAX_SCORE = 200
PROFESSIONAL_MARK = 150  # JST-SC-1: 75 % of 200
PASS_MARK = 120          # JST-SC-1: 60 % of 200

QUOTE_RULES = "JST-GR-1,JST-PR-1,JST-PR-2,JST-PR-3"


# --------------------------------------------------------------------------- JST-GR-1


def is_group(total: int) -> bool:
    """JST-GR-1: 10+ examinees in the session, counted across grades."""
    return total >= GROUP_MINIMUM


def missing_requirements(responsible_person: str, venue: str, staff: str) -> list[Msg]:
    """JST-GR-1's requirements besides the headcount: one responsible person, a venue and
    staff for the day. Returns what is still missing (empty when all are there)."""
    missing = []
    if not responsible_person.strip():
        missing.append(Msg("申込責任者", "the responsible person"))
    if not venue.strip():
        missing.append(Msg("受験会場", "the venue"))
    if not staff.strip():
        missing.append(Msg("当日運営の担当者", "the staff for the exam day"))
    return missing


# --------------------------------------------------------------------------- JST-PR-2


@dataclass(frozen=True)
class ExpenseTier:
    low: int
    high: int
    amount: int

    def label(self) -> Msg:
        return Msg(f"{self.low}〜{self.high}名", f"{self.low}-{self.high} examinees")


def expense_tier(total: int) -> ExpenseTier | None:
    """JST-PR-2: the tier of ``total`` examinees, or None below 10 (no expense)."""
    if not is_group(total):
        return None
    for low, high, amount in EXPENSE_TABLE:
        if low <= total <= high:
            return ExpenseTier(low, high, amount)
    _, table_top, table_amount = EXPENSE_TABLE[-1]
    steps = -(-(total - table_top) // ABOVE_TABLE_STEP)  # started blocks of 50 above 300
    low = table_top + (steps - 1) * ABOVE_TABLE_STEP + 1
    return ExpenseTier(low, low + ABOVE_TABLE_STEP - 1, table_amount + steps * ABOVE_TABLE_INCREMENT)


def implementation_expense(total: int) -> int:
    tier = expense_tier(total)
    return tier.amount if tier else 0


# --------------------------------------------------------------------------- JST-PR-1/3 quote


def examinee_counts(payload: Mapping[str, Any]) -> dict[str, int]:
    """The contract's ``{"examinees": {"professional": n, "grade1": n, ...}}``; a grade left
    out counts 0, an unknown grade or a count that is not a whole number >= 0 is a 400."""
    if payload.get("examinees") is None:
        raise MissingFact("examinees")
    raw = mapping_value(payload["examinees"], "examinees")
    for key in raw:
        if key not in GRADES:
            raise BadInput("unknown_grade", Msg(
                f"examinees.{key}: 受験級は {', '.join(GRADE_CODES)} のいずれかです。",
                f"examinees.{key}: the grades are {', '.join(GRADE_CODES)}."), f"examinees.{key}")
    return {code: int_value(raw.get(code, 0), f"examinees.{code}") for code in GRADE_CODES}  # type: ignore[misc]


def _counts_text(counts: Mapping[str, int]) -> Msg:
    present = [(GRADES[c], n) for c, n in counts.items() if n]
    return Msg("・".join(f"{g.name.ja}{n}名" for g, n in present), ", ".join(f"{g.name.en} {n}" for g, n in present))


def quote(counts: Mapping[str, int]) -> Quote:
    """JST-PR-1/2/3: fees per grade (10+ prices for a group), minus the implementation
    expense of the headcount's tier; ``total`` is the invoice. Below 10 there is no group:
    regular fees, no expense, and the explanation says so."""
    total_examinees = sum(counts.values())
    if total_examinees == 0:
        raise RuleRefusal("no_examinees", Msg("受験者が0名です。受験級ごとの人数を入力してください。",
                                              "There are no examinees: enter the number per grade."), "examinees")
    group = is_group(total_examinees)
    lines = [QuoteLine(Msg(f"{GRADES[c].name.ja} 検定料", f"{GRADES[c].name.en} fee"), GRADES[c].fee(group), n)
             for c, n in counts.items() if n]
    fees_total = sum(line.amount for line in lines)
    who = _counts_text(counts)
    tier = expense_tier(total_examinees)
    if tier is None:
        explanation = Msg(
            f"受験者はのべ{total_examinees}名({who.ja})で10名に満たないため、団体受験になりません(JST-GR-1)。"
            f"個人として一般会場またはCBTで申し込んでください。実施経費の支払いはなく、通常の検定料で合計{fees_total:,}円です。",
            f"{total_examinees} examinees ({who.en}) are fewer than 10, so this is not a group (JST-GR-1): apply as "
            f"individuals at a public venue or by CBT. No implementation expense is paid; regular fees total {fees_total:,} yen.")
        return Quote(lines, fees_total, QUOTE_RULES, explanation,
                     {"group": False, "fees_total": fees_total, "implementation_expense": 0})
    invoice = fees_total - tier.amount
    lines.append(QuoteLine(Msg(f"実施経費({tier.label().ja})", f"Implementation expense ({tier.label().en})"), -tier.amount, 1))
    explanation = Msg(
        f"受験者はのべ{total_examinees}名({who.ja})で団体受験の要件(10名以上)を満たし、10名以上の検定料を適用します。"
        f"検定料合計{fees_total:,}円から実施経費{tier.amount:,}円({tier.label().ja}の区分)を差し引いた{invoice:,}円が請求額です。"
        "納入後の返金はありません。",
        f"{total_examinees} examinees ({who.en}) make a group (10 or more), so the group fees apply. Fees {fees_total:,} yen "
        f"minus the implementation expense {tier.amount:,} yen (tier {tier.label().en}) = an invoice of {invoice:,} yen, "
        "never refunded once paid.")
    return Quote(lines, invoice, QUOTE_RULES, explanation,
                 {"group": True, "fees_total": fees_total, "implementation_expense": tier.amount})


# --------------------------------------------------------------------------- JST-AP-1 deadline and policy


def application_deadline(session: SessionDates) -> Deadline:
    """JST-AP-1 (section 3.5): the bulk form is uploaded by the session's application deadline."""
    deadline = format_day(session.application_deadline)
    exam = format_day(session.exam_date)
    period = session.period_msg()
    return Deadline("application", session.deadline_at, "JST-AP-1", Msg(
        f"{session.name}(試験日{exam.ja})の一括申込書は申込締切日{deadline.ja}の23:59:59までにアップロードします"
        f"({period.ja})。締切後のアップロードは受け付けられません。",
        f"The bulk application form of session {session.name} (exam {exam.en}) must be uploaded by 23:59:59 on the "
        f"application deadline {deadline.en} ({period.en}); no upload is accepted after it."))


def format_moment(at: datetime) -> str:
    """``2026-06-19 23:59`` in Japan time (the moments the explanations name)."""
    return jst(at).strftime("%Y-%m-%d %H:%M")


def policy(facts: PolicyFacts, session: SessionDates | None) -> PolicyDecision:
    """JST-AP-1 and section 9: once the bulk form is uploaded (``submitted``) nothing is
    added, cancelled, changed or corrected, and paid fees are never refunded (JST-PR-3).
    Before the upload the draft may change freely until the application deadline."""
    submitted = facts.need("submitted")
    if submitted:
        return PolicyDecision(
            ChangeDecision(False, None, "JST-AP-1", Msg(
                "一括申込書のアップロードで申込が完了しているため、受験者の追加、受験級の追加・変更、内容の修正はできません。",
                "The bulk application form has been uploaded, so no examinee or grade can be added, changed or corrected.")),
            CancelDecision(False, None, "JST-AP-1,JST-PR-3", Msg(
                "申込完了後のキャンセルはできません。欠席しても請求額は減らず、納入された検定料は理由を問わず返金されません。",
                "After the application no cancellation is possible: absence does not reduce the invoice and paid fees are "
                "never refunded."), refund=0),
        )
    not_applied = CancelDecision(True, None, "JST-AP-1", Msg(
        "一括申込書をまだアップロードしていないので、申込をやめても費用はかかりません。",
        "The bulk form has not been uploaded yet, so not applying costs nothing."), refund=None)
    if session is None:
        return PolicyDecision(ChangeDecision(True, None, "JST-AP-1", Msg(
            "アップロード前は一括申込書の内容を自由に直せます。期限は開催回の申込締切日です(試験日から開催回が分かりません)。",
            "Before the upload the bulk form may be changed freely, until the session's application deadline "
            "(no known session on this exam date).")), not_applied)
    deadline = session.deadline_at
    if jst(facts.at) > deadline:
        return PolicyDecision(ChangeDecision(False, deadline, "JST-AP-1", Msg(
            f"{session.name}の申込締切({format_moment(deadline)})を過ぎたため、一括申込書はアップロードできません。",
            f"The application deadline of session {session.name} ({format_moment(deadline)}) has passed: the bulk form can no "
            "longer be uploaded.")), not_applied)
    return PolicyDecision(ChangeDecision(True, deadline, "JST-AP-1", Msg(
        f"アップロード前は{session.name}の申込締切({format_moment(deadline)})まで一括申込書の内容を直せます。アップロード後は変更できません。",
        f"Before the upload the bulk form may be changed until the application deadline of session {session.name} "
        f"({format_moment(deadline)}); after the upload nothing can be changed.")), not_applied)


# --------------------------------------------------------------------------- JST-SC-1 pass marks


@dataclass(frozen=True)
class Mark:
    """A result: ``professional`` | ``associate_professional`` | ``pass`` | ``fail``."""

    code: str
    label: Msg
    rule: str
    explanation: Msg

    @property
    def passed(self) -> bool:
        return self.code != "fail"


MARK_LABELS = {
    "professional": Msg("プロフェッショナル", "Professional"),
    "associate_professional": Msg("準プロフェッショナル", "Associate Professional"),
    "pass": Msg("合格", "Pass"),
    "fail": Msg("不合格", "Fail"),
}


def _mark(code: str, explanation: Msg) -> Mark:
    return Mark(code, MARK_LABELS[code], "JST-SC-1", explanation)


def check_score(score: Any, field: str = "score") -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        raise BadInput("invalid_score", Msg(f"得点は0〜{MAX_SCORE}の整数で入力してください。",
                                            f"The score must be a whole number from 0 to {MAX_SCORE}."), field)
    return score


def judge(grade_code: str, score: int, question_below_half: bool = False) -> Mark:
    """JST-SC-1 (section 7.5). Professional: 150/200 (75 %) with no question under 50 % →
    Professional; otherwise 120/200 (60 %) → 準プロフェッショナル. Grades 1–3: 120/200."""
    check_score(score)
    if grade_code not in GRADES:
        raise BadInput("unknown_grade", Msg("受験級が不明です。", "Unknown grade."), "grade")
    if grade_code != PROFESSIONAL:
        grade = GRADES[grade_code].name
        if score >= PASS_MARK:
            return _mark("pass", Msg(f"{grade.ja}は{score}点で合格基準120点(60%)以上のため合格です。",
                                     f"{grade.en}: {score} points reach the pass mark of 120 (60 %): pass."))
        return _mark("fail", Msg(f"{grade.ja}は{score}点で合格基準120点(60%)に届かず不合格です。",
                                 f"{grade.en}: {score} points are below the pass mark of 120 (60 %): fail."))
    if score >= PROFESSIONAL_MARK and not question_below_half:
        return _mark("professional", Msg(
            f"{score}点で150点(75%)以上、得点が50%未満の問題もないためプロフェッショナルです。",
            f"{score} points reach 150 (75 %) with no question under 50 %: Professional."))
    why = (Msg(f"{score}点は150点以上ですが、得点が50%未満の問題があるためプロフェッショナルにはなりません。",
               f"{score} points reach 150, but a question scored under 50 %, so not Professional.")
           if score >= PROFESSIONAL_MARK else
           Msg(f"{score}点で150点(75%)に届きません。", f"{score} points are below 150 (75 %)."))
    if score >= PASS_MARK:
        return _mark("associate_professional", why + Msg("120点(60%)以上のため準プロフェッショナルです。",
                                                         "120 (60 %) or more: Associate Professional."))
    return _mark("fail", why + Msg("120点(60%)にも届かないため不合格です。", "Below 120 (60 %) as well: fail."))

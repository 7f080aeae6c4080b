"""The JST-* rules as pure functions: tiers, fees, invoice, pass marks, policy, JIS names."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules import JST, BadInput, MissingFact, PolicyFacts, RuleRefusal
from plugins.jstc_group import rules
from plugins.jstc_group.grades import grade_from_label
from plugins.jstc_group.jis import characters_outside_jis
from plugins.jstc_group.sessions import SessionDates, published_session_on


def counts(professional=0, grade1=0, grade2=0, grade3=0):
    return {"professional": professional, "grade1": grade1, "grade2": grade2, "grade3": grade3}


# ----------------------------------------------------------------------- JST-PR-2 tiers

@pytest.mark.parametrize("total, expense", [
    (9, 0), (10, 3_000), (20, 3_000), (21, 6_000), (40, 6_000), (41, 11_000), (70, 11_000),
    (71, 17_000), (100, 17_000), (101, 30_000), (200, 30_000), (201, 50_000), (300, 50_000),
    (301, 60_000), (350, 60_000), (351, 70_000), (400, 70_000), (401, 80_000), (1000, 190_000),
])
def test_expense_tier_boundaries(total, expense):
    """JST-PR-2: the table, then 10,000 yen more per started 50 above 300 (no upper limit)."""
    assert rules.implementation_expense(total) == expense


def test_expense_tier_labels_above_the_table():
    assert rules.expense_tier(301).label().ja == "301〜350名"
    assert rules.expense_tier(351).label().ja == "351〜400名"
    assert rules.expense_tier(1000).label().ja == "951〜1000名"
    assert rules.expense_tier(10).label().en == "10-20 examinees"
    assert rules.expense_tier(9) is None


@given(st.integers(min_value=10, max_value=20_000))
def test_expense_never_decreases_and_steps_10000_per_started_50_above_300(total):
    step = rules.implementation_expense(total + 1) - rules.implementation_expense(total)
    assert step >= 0
    if total >= 300:
        assert step == (10_000 if (total - 300) % 50 == 0 else 0)
    tier = rules.expense_tier(total)
    assert tier.low <= total <= tier.high


# ----------------------------------------------------------------------- JST-PR-1/3 quote

def test_rulebook_example_five_grade3_and_five_grade2_make_a_group():
    """JST-GR-1's example: 5 at grade 3 + 5 at grade 2 count as 10 → group fees."""
    q = rules.quote(counts(grade2=5, grade3=5))
    assert q.extra == {"group": True, "fees_total": 5 * 6_400 + 5 * 3_500, "implementation_expense": 3_000}
    assert q.total == 49_500 - 3_000
    assert [line.unit_price for line in q.lines] == [6_400, 3_500, -3_000]
    assert sum(line.amount for line in q.lines) == q.total
    assert "10〜20名" in q.explanation.ja and "46,500円" in q.explanation.ja


def test_nine_examinees_are_not_a_group_regular_fees_and_say_so():
    q = rules.quote(counts(grade2=4, grade3=5))
    assert q.extra == {"group": False, "fees_total": 4 * 6_900 + 5 * 3_600, "implementation_expense": 0}
    assert q.total == 45_600
    assert "10名に満たない" in q.explanation.ja and "not a group" in q.explanation.en


def test_professional_and_grade1_have_one_price():
    group = rules.quote(counts(professional=5, grade1=5))
    assert group.extra["fees_total"] == 5 * 17_000 + 5 * 9_000
    alone = rules.quote(counts(professional=1))
    assert alone.total == 17_000 and not alone.extra["group"]


def test_invoice_at_a_large_group():
    q = rules.quote(counts(professional=1, grade1=99, grade2=500, grade3=400))
    fees = 17_000 + 99 * 9_000 + 500 * 6_400 + 400 * 3_500
    assert q.extra["fees_total"] == fees
    assert q.extra["implementation_expense"] == 190_000
    assert q.total == fees - 190_000


def test_no_examinees_is_refused():
    with pytest.raises(RuleRefusal):
        rules.quote(counts())


@given(st.dictionaries(st.sampled_from(["professional", "grade1", "grade2", "grade3"]),
                       st.integers(min_value=0, max_value=600)))
def test_invoice_is_fees_minus_expense(raw):
    c = counts(**raw)
    if sum(c.values()) == 0:
        return
    q = rules.quote(c)
    assert q.total == q.extra["fees_total"] - q.extra["implementation_expense"]
    assert q.total == sum(line.amount for line in q.lines)
    assert q.extra["group"] == (sum(c.values()) >= 10)


@pytest.mark.parametrize("payload, field", [
    ({}, "examinees"),
    ({"examinees": []}, "examinees"),
    ({"examinees": {"grade4": 3}}, "examinees.grade4"),
    ({"examinees": {"grade2": -1}}, "examinees.grade2"),
    ({"examinees": {"grade2": "3"}}, "examinees.grade2"),
    ({"examinees": {"grade2": 2.5}}, "examinees.grade2"),
    ({"examinees": {"grade2": True}}, "examinees.grade2"),
])
def test_bad_examinee_counts_name_the_field(payload, field):
    with pytest.raises(BadInput) as err:
        rules.examinee_counts(payload)
    assert err.value.field == field


# ----------------------------------------------------------------------- JST-SC-1 pass marks

@pytest.mark.parametrize("score, below_half, mark", [
    (150, False, "professional"), (200, False, "professional"),
    (149, False, "associate_professional"), (120, False, "associate_professional"),
    (119, False, "fail"), (0, False, "fail"),
    (150, True, "associate_professional"), (200, True, "associate_professional"),
    (119, True, "fail"),
])
def test_professional_pass_marks(score, below_half, mark):
    assert rules.judge("professional", score, below_half).code == mark


@pytest.mark.parametrize("grade", ["grade1", "grade2", "grade3"])
@pytest.mark.parametrize("score, mark", [(119, "fail"), (120, "pass"), (149, "pass"), (150, "pass"), (200, "pass")])
def test_grade_pass_marks(grade, score, mark):
    """Grades 1–3: 120/200; the under-50 % question rule is the Professional's only."""
    assert rules.judge(grade, score).code == mark
    assert rules.judge(grade, score, True).code == mark


def test_under_half_question_explained():
    mark = rules.judge("professional", 180, True)
    assert "50%未満" in mark.explanation.ja and "準プロフェッショナル" in mark.explanation.ja
    assert mark.rule == "JST-SC-1"


@pytest.mark.parametrize("score", [-1, 201, 150.0, "150", None, True])
def test_scores_outside_0_200_are_bad_input(score):
    with pytest.raises(BadInput):
        rules.judge("grade1", score)


# ----------------------------------------------------------------------- JST-AP-1 deadline and policy

SESSION = SessionDates("第124回", date(2020, 11, 15), date(2020, 9, 1), date(2020, 10, 9))


def test_application_deadline_is_the_end_of_the_deadline_day():
    d = rules.application_deadline(SESSION)
    assert d.kind == "application" and d.rule == "JST-AP-1"
    assert d.at == datetime(2020, 10, 9, 23, 59, 59, tzinfo=JST)
    assert "2020-10-09(金)" in d.explanation.ja and "第124回" in d.explanation.ja


def test_window_states_around_the_period():
    assert SESSION.window_state(datetime(2020, 8, 31, 23, 59, tzinfo=JST)) == "not_open"
    assert SESSION.window_state(datetime(2020, 9, 1, 0, 0, tzinfo=JST)) == "open"
    assert SESSION.window_state(datetime(2020, 10, 9, 23, 59, 59, tzinfo=JST)) == "open"
    assert SESSION.window_state(datetime(2020, 10, 10, 0, 0, tzinfo=JST)) == "closed"
    # another offset: 2020-10-09 15:00 UTC is 2020-10-10 00:00 JST
    from datetime import timezone
    assert SESSION.window_state(datetime(2020, 10, 9, 15, 0, tzinfo=timezone.utc)) == "closed"


def test_published_sessions_are_found_by_exam_date():
    assert published_session_on(date(2020, 11, 15)).name == "第124回"
    assert published_session_on(date(2020, 11, 16)) is None


def test_after_upload_nothing_changes_cancels_or_refunds():
    decision = rules.policy(PolicyFacts(at=datetime(2020, 9, 10, tzinfo=JST), submitted=True), SESSION)
    assert not decision.change.allowed and not decision.cancel.allowed
    assert decision.cancel.refund == 0
    assert "JST-AP-1" in decision.change.rule and "JST-PR-3" in decision.cancel.rule


def test_before_upload_changes_until_the_deadline():
    before = rules.policy(PolicyFacts(at=datetime(2020, 10, 9, 23, 0, tzinfo=JST), submitted=False), SESSION)
    assert before.change.allowed and before.change.until == SESSION.deadline_at
    after = rules.policy(PolicyFacts(at=datetime(2020, 10, 10, 0, 0, tzinfo=JST), submitted=False), SESSION)
    assert not after.change.allowed and "申込締切" in after.change.explanation.ja
    assert after.cancel.allowed and after.cancel.refund is None


def test_policy_needs_the_submitted_fact():
    with pytest.raises(MissingFact) as err:
        rules.policy(PolicyFacts(at=datetime(2020, 10, 1, tzinfo=JST)), SESSION)
    assert err.value.field == "submitted"


# ----------------------------------------------------------------------- JST-GR-1, JST-AP-2, grades

def test_missing_group_requirements_are_named():
    assert [m.ja for m in rules.missing_requirements("", "講堂", " ")] == ["申込責任者", "当日運営の担当者"]
    assert rules.missing_requirements("山田", "講堂", "佐藤") == []


@pytest.mark.parametrize("name, flagged", [
    ("山田 太郎", []), ("渡邊 熙", []), ("John Smith", []), ("髙橋", ["髙"]), ("山﨑", ["﨑"]),
    ("𠮷田", ["𠮷"]), ("①郎", ["①"]), ("ﾔﾏﾀﾞ", ["ﾔ", "ﾏ", "ﾀ", "ﾞ"]), ("髙髙", ["髙"]),
])
def test_names_outside_jis_level_1_2_are_flagged(name, flagged):
    assert characters_outside_jis(name) == flagged


@pytest.mark.parametrize("label, code", [
    ("2級", "grade2"), ("２級", "grade2"), ("2 級", "grade2"), (2, "grade2"), ("プロフェッショナル", "professional"),
    ("プロ", "professional"), ("grade3", "grade3"), ("Grade 1", "grade1"),
])
def test_grade_labels(label, code):
    assert grade_from_label(label).code == code


@pytest.mark.parametrize("label", ["4級", "", None, "準1級", True, 2.5])
def test_unknown_grade_labels(label):
    assert grade_from_label(label) is None

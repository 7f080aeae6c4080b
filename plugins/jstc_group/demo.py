"""Demo records for a new demo organisation (hook ``provider_demo_data``): one session whose
application deadline (JST-AP-1) is about two and a half weeks ahead, and its group with the
responsible person, venue and staff (JST-GR-1) and 12 draft examinees across the grades, so
the live quote applies the 10+ fees and the 10〜20名 implementation expense (JST-PR-1/2).
Everything goes through ``services``, as from the pages (validation, audit trail)."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from portal.sdk import BusinessCalendar, User, now_jst

from plugins.jstc_group import services

#: (姓, 名, セイ, メイ, 受験級) as on the bulk form.
EXAMINEES = (
    ("伊藤", "陽菜", "イトウ", "ヒナ", "3級"), ("渡辺", "蓮", "ワタナベ", "レン", "3級"),
    ("中村", "結衣", "ナカムラ", "ユイ", "3級"), ("小林", "大翔", "コバヤシ", "ヒロト", "3級"),
    ("加藤", "美月", "カトウ", "ミヅキ", "3級"), ("吉田", "悠真", "ヨシダ", "ユウマ", "2級"),
    ("山本", "葵", "ヤマモト", "アオイ", "2級"), ("松本", "湊", "マツモト", "ミナト", "2級"),
    ("林", "芽衣子", "ハヤシ", "メイコ", "2級"), ("清水", "颯太", "シミズ", "ソウタ", "1級"),
    ("森", "千尋", "モリ", "チヒロ", "1級"), ("池田", "誠", "イケダ", "マコト", "プロフェッショナル"),
)


def seed(db: Session, organization_id: int, user_id: int, now: datetime | None = None) -> None:
    now = now or now_jst()
    today = now.date()
    # The deadline on a weekday about 18 days ahead; the exam on the Sunday ~6 weeks after it.
    deadline = BusinessCalendar().business_day_on_or_before(today + timedelta(days=18)).day
    exam_date = deadline + timedelta(days=42)
    exam_date += timedelta(days=(6 - exam_date.weekday()) % 7)
    session = services.create_session(db, organization_id, user_id, {
        "name": f"{exam_date.year}年{exam_date.month}月 団体試験", "exam_date": exam_date.isoformat(),
        "application_opens": (today - timedelta(days=21)).isoformat(), "application_deadline": deadline.isoformat()})
    application = services.create_application(db, organization_id, user_id, session)
    user = db.get(User, user_id)
    services.update_details(db, application, session.dates(), user_id, {
        "responsible_person": user.name if user else "デモ 運営者",
        "venue": "本校 本館3階 301・302教室",
        "staff": "英語科 田中(試験監督)・事務局 佐々木(受付)"}, now)
    for family, given, family_kana, given_kana, grade in EXAMINEES:
        services.add_draft(db, application, session.dates(), user_id, {
            "family_name": family, "given_name": given, "family_kana": family_kana, "given_kana": given_kana,
            "grade": grade}, now)

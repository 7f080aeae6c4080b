"""IPA FE / SG (CBT-Solutions) as an exam-portal provider: hook implementations wiring the
rule modules (``change_window``, ``policy``, ``retake``, ``quote``, ``decision``) and the
plugin's exam-day pages. Sessions and bookings use the core's pages."""
from __future__ import annotations

from portal.sdk import BookingFactSpec, Deadline, Msg, ProviderInfo, hookimpl, plugin_translator

from plugins.cbt_ipa import decision
from plugins.cbt_ipa import policy as policy_rules
from plugins.cbt_ipa import quote as quote_rules
from plugins.cbt_ipa.catalog import load_exams
from plugins.cbt_ipa.change_window import change_deadline, deadline_explanation
from plugins.cbt_ipa.retake import retake_decision

PROVIDER_ID = "cbt_ipa"
_l = plugin_translator(__name__).lazy_gettext  # this plugin's own catalog (translations/), not the core's

INFO = ProviderInfo(
    id=PROVIDER_ID,
    name=Msg("IPA 基本情報・情報セキュリティマネジメント(CBT)", "IPA FE / SG exams (CBT-Solutions)"),
    description=Msg("受験者規約: 変更は試験日の3日前まで、1年の上限、再受験は31日後から(IPA-*)",
                    "Candidate terms: changes until 3 days before, a one-year limit, retakes 31 days later (IPA-*)"),
    exams=load_exams(),
    deadline_kinds=("change",),
    closure_defaults=(),  # IPA-CH-1 counts calendar days: no business-day closures apply
    payment_methods=("credit_card", "convenience_store", "pay_easy", "voucher"),
    # Request bodies the rules API answers (docs, and the conformance kit starts from them).
    examples={
        "quote": {"items": [{"exam": "FE", "count": 2}]},
        "retake": {"exam": "FE", "at": "2026-12-01T10:00:00+09:00", "attempts": [{"start": "2026-11-01T10:00:00+09:00", "end": "2026-11-01T11:00:00+09:00", "outcome": "failed"}]},
        "policy": {"exam": "FE", "exam_start": "2026-12-12T10:00:00+09:00", "at": "2026-11-23T10:00:00+09:00", "booked_at": "2026-11-01T10:00:00+09:00", "first_booked_at": "2026-11-01T10:00:00+09:00", "payment": {"method": "credit_card", "paid": True, "amount": 7500}},
    },
    # The provider's words, labelled in both languages (deadline kinds, payment methods).
    vocabulary={
        "change": Msg("変更期限", "Change deadline"),
        "credit_card": Msg("クレジットカード", "Credit card"),
        "convenience_store": Msg("コンビニ払い", "Convenience store"),
        "pay_easy": Msg("Pay-easy", "Pay-easy"),
        "voucher": Msg("受験チケット(バウチャー)", "Voucher"),
    },
    calculator_facts=("exam", "exam_start", "at", "booked_at", "first_booked_at", "payment",
                      "voucher_issued_on", "exemption_valid_until", "target_exam_start", "items"),
    # Booked, changed and listed on the core's pages; the IPA facts below are asked by the
    # core's booking form and every transition asks hook provider_booking_decision.
    bookings=True,
    booking_facts=(
        BookingFactSpec("voucher_issued_on", Msg("バウチャー発行日", "voucher issue date"), "date",
                        payment_methods=("voucher",), required=True,
                        help=Msg("(IPA-CH-2: 選択できる最後の試験日は発行日の1年後)",
                                 "(IPA-CH-2: the last selectable date is one year after issue)")),
        BookingFactSpec("voucher_expires_on", Msg("バウチャー有効期限", "voucher expiry date"), "date",
                        payment_methods=("voucher",), help=Msg("(IPA-PAY)", "(IPA-PAY)")),
        BookingFactSpec("exemption_valid_until", Msg("科目A免除の有効期間の最終日", "last valid day of the subject A exemption"),
                        "date", exams=("FE",), help=Msg("(FE・免除者のみ。IPA-CH-3)", "(FE with exemption only; IPA-CH-3)")),
    ),
)


@hookimpl
def provider_info():
    return INFO


@hookimpl
def provider_deadlines(ctx, query):
    if query.exam is not None:
        ctx.exam(query.exam)
    return [Deadline("change", change_deadline(query.exam_start), "IPA-CH-1",
                     deadline_explanation(ctx.calendar, query.exam_start))]


@hookimpl
def provider_policy(ctx, facts):
    return policy_rules.policy(ctx, facts)


@hookimpl
def provider_quote(ctx, query):
    return quote_rules.quote(ctx, query)


@hookimpl
def provider_retake(ctx, query):
    ctx.exam(query.exam)
    return retake_decision(query.attempts, query.at)


@hookimpl
def portal_blueprints():
    from plugins.cbt_ipa.views import blueprint
    return [blueprint]


@hookimpl
def provider_booking_decision(ctx, action, facts):
    return decision.decide(ctx, action, facts)


@hookimpl
def provider_demo_data(ctx, organization_id, user_id):
    if ctx.provider.id != PROVIDER_ID:
        return
    from portal.sdk import db
    from plugins.cbt_ipa.demo import seed
    seed(db.session(), ctx, organization_id, user_id)


@hookimpl
def portal_audit_labels():
    """How the audit log names this plugin's actions."""
    return {"actions": {"ipa_facts": _l("IPA受験情報の記録")}}

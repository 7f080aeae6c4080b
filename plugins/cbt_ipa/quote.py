"""Exam fees (public fact: 7,500 yen per exam, tax included; catalog data)."""
from __future__ import annotations

from portal.sdk import Msg, Quote, QuoteLine, QuoteQuery, STORE_METHODS
from portal.sdk.parse import items_list, positive_int

from plugins.cbt_ipa.catalog import exam_name


def quote(ctx, query: QuoteQuery) -> Quote:
    lines = []
    for i, item in enumerate(items_list(query.payload)):
        exam = ctx.exam(item.get("exam"), f"items[{i}].exam")
        count = positive_int(item.get("count", 1), f"items[{i}].count")
        lines.append(QuoteLine(exam_name(exam), int(exam.price or 0), count))
    total = sum(line.amount for line in lines)
    rule = "IPA-CATALOG"
    parts = [Msg(f"受験手数料合計{total:,}円(1試験7,500円、税込)。", f"Exam fees {total:,} yen (7,500 yen per exam, tax included).")]
    if query.payload.get("payment_method") in STORE_METHODS:
        rule += ",IPA-PAY"
        parts.append(Msg("コンビニ払い等の払込手数料は別途、払込人の負担です。",
                         "The convenience-store / Pay-easy payment fee is extra and borne by the payer."))
    return Quote(lines, total, rule, Msg.join(parts), {"fees_total": total})

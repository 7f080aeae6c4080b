"""ODY-PR-1/2/3: what the venue remits to Odyssey for an exam day.

- ODY-PR-1 「(受験料 - 実施委託料) × テスト数 = 入金額」 [3.3.3]: manual's example (学割)Office Word
  2016 8,580 − 1,100 = 7,480 and Excel VBA Basic 13,200 − 1,650 = 11,550 → 19,030 yen.
- ODY-PR-2 受験チケット (voucher) tests: nothing collected, nothing remitted [2.4.6]; Odyssey
  pays the voucher commission for the month by the end of the next month.
- ODY-PR-3 a discount price only for the families that offer it, and only with its facts:
  student → school name; member → employer (リユース検定: also the 検定コード); certificate
  holder → the certificate held [2.4.1, 3.1.2 ⑥ 注意3/4, 3.1.3].

Each line is one subject and price kind; its ``unit_price`` is what is remitted per test
(fee − commission), so the lines add up to ``total``; ``fees_total`` and
``commission_total`` give the two columns of the 実施申込書(控え).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from portal.sdk import BadInput, Msg, Quote, QuoteLine, RuleRefusal
from portal.sdk.parse import items_list, positive_int

from plugins.odyssey.catalog import (
    FAMILY_NAMES, PRICE_KIND_NAMES, PRICE_KIND_PREFIX, PRICE_KINDS, Subject, offered_kinds, price_field,
)

RULE_REMIT, RULE_VOUCHER, RULE_DISCOUNT = "ODY-PR-1", "ODY-PR-2", "ODY-PR-3"

#: The facts a discount needs (field name → label), by price kind; REUSE adds its 検定コード.
DISCOUNT_FACTS: dict[str, tuple[tuple[str, Msg], ...]] = {
    "student": (("school", Msg("学校名", "school name")),),
    "member": (("employer", Msg("勤務先(会員企業名)", "employer (member company)")),),
    "certificate_holder": (("certificate", Msg("保有資格", "certificate held")),),
}
REUSE_CODE = ("kentei_code", Msg("検定コード", "kentei code"))


def needed_facts(family: str, kind: str) -> tuple[tuple[str, Msg], ...]:
    facts = DISCOUNT_FACTS.get(kind, ())
    if kind == "member" and family == "REUSE":
        facts = facts + (REUSE_CODE,)
    return facts


def missing_facts(family: str, kind: str, facts: Mapping[str, Any]) -> list[tuple[str, Msg]]:
    return [(name, label) for name, label in needed_facts(family, kind) if not str(facts.get(name) or "").strip()]


@dataclass(frozen=True)
class Priced:
    """One subject at one price kind: what the candidate pays and what is remitted, per test."""

    subject: Subject
    kind: str
    fee: int
    commission: int
    voucher_commission: int | None

    @property
    def remit(self) -> int:
        return 0 if self.kind == "voucher" else self.fee - self.commission

    @property
    def label(self) -> Msg:
        prefix = PRICE_KIND_PREFIX[self.kind]
        return Msg(f"{prefix}{self.subject.name}", f"{prefix}{self.subject.name}")


def price(subject: Subject, kind: str, field: str = "price") -> Priced:
    """Price one test; refuses a discount the family does not offer or an amount the catalog lacks."""
    if kind not in PRICE_KINDS:
        raise BadInput("invalid_field", Msg(f"{field}: {', '.join(PRICE_KINDS)} のいずれかを指定してください。",
                                            f"{field}: expected one of {', '.join(PRICE_KINDS)}."), field)
    source = price_field(subject.family, kind)
    if source is None:
        offered = "、".join(PRICE_KIND_NAMES[k].ja for k in offered_kinds(subject.family))
        offered_en = ", ".join(PRICE_KIND_NAMES[k].en for k in offered_kinds(subject.family))
        raise RuleRefusal("price_not_offered", Msg(
            f"{FAMILY_NAMES[subject.family].ja}には{PRICE_KIND_NAMES[kind].ja}価格がありません(選べる価格: {offered})(ODY-PR-3)。",
            f"{FAMILY_NAMES[subject.family].en} has no {PRICE_KIND_NAMES[kind].en} price (offered: {offered_en}) (ODY-PR-3)."), field)
    if kind == "voucher":
        return Priced(subject, kind, 0, 0, subject.voucher_commission)
    fee = subject.prices.get(source)
    if fee is None or subject.commission is None:
        missing = Msg("受験料", "fee") if fee is None else Msg("実施委託料", "commission")
        raise RuleRefusal("price_unknown", Msg(
            f"{subject.name}({PRICE_KIND_NAMES[kind].ja})の{missing.ja}が試験科目一覧(カタログ)に登録されていません。管理者が登録してください。",
            f"The catalog has no {missing.en} for {subject.name} ({PRICE_KIND_NAMES[kind].en}); an administrator must enter it."), field)
    return Priced(subject, kind, int(fee), int(subject.commission), subject.voucher_commission)


@dataclass(frozen=True)
class Remittance:
    """Lines grouped by subject and price kind, as on the 実施申込書(控え)."""

    rows: Sequence[tuple[Priced, int]]

    @property
    def tests(self) -> int:
        return sum(count for _, count in self.rows)

    @property
    def fees_total(self) -> int:
        return sum(p.fee * c for p, c in self.rows if p.kind != "voucher")

    @property
    def commission_total(self) -> int:
        return sum(p.commission * c for p, c in self.rows if p.kind != "voucher")

    @property
    def total(self) -> int:
        return self.fees_total - self.commission_total

    @property
    def voucher_tests(self) -> int:
        return sum(c for p, c in self.rows if p.kind == "voucher")

    @property
    def voucher_commission_total(self) -> int | None:
        amounts = [p.voucher_commission for p, _ in self.rows if p.kind == "voucher"]
        if any(a is None for a in amounts):
            return None
        return sum((p.voucher_commission or 0) * c for p, c in self.rows if p.kind == "voucher")


def group(priced: Iterable[tuple[Priced, int]]) -> Remittance:
    totals: dict[tuple[str, str], tuple[Priced, int]] = {}
    for p, count in priced:
        key = (p.subject.code, p.kind)
        prev = totals.get(key)
        totals[key] = (p, count + (prev[1] if prev else 0))
    return Remittance(tuple(totals.values()))


def explain(remittance: Remittance, missing: Sequence[Msg] = ()) -> tuple[str, Msg]:
    rules = [RULE_REMIT]
    parts = [Msg(
        f"入金額 = (受験料 − 実施委託料) × テスト数: 受験料合計{remittance.fees_total:,}円 − 実施委託料合計"
        f"{remittance.commission_total:,}円 = {remittance.total:,}円(税込)。",
        f"Remittance = (fee − commission) × tests: fees {remittance.fees_total:,} yen − commissions "
        f"{remittance.commission_total:,} yen = {remittance.total:,} yen (tax included).")]
    if remittance.voucher_tests:
        rules.append(RULE_VOUCHER)
        vc = remittance.voucher_commission_total
        vc_text = Msg(f"{vc:,}円", f"{vc:,} yen") if vc is not None else Msg("(カタログに金額なし)", "(amount not in the catalog)")
        parts.append(Msg(
            f"受験チケット利用の{remittance.voucher_tests}テストは受験料の受領・入金がなく、チケット用の委託手数料{vc_text.ja}は実施月の翌月末までにオデッセイから支払われます。",
            f"The {remittance.voucher_tests} voucher test(s) are neither collected nor remitted; Odyssey pays their voucher "
            f"commission {vc_text.en} by the end of the month after the exam month."))
    if any(p.kind not in ("general", "voucher") for p, _ in remittance.rows):
        rules.append(RULE_DISCOUNT)
    if missing:
        parts.append(Msg("割引価格の申込には次の確認事項が必要です: " + "、".join(m.ja for m in missing) + "。",
                         "A discount application needs: " + ", ".join(m.en for m in missing) + "."))
    return ",".join(rules), Msg.join(parts)


def quote(subject_for, payload: Mapping[str, Any]) -> Quote:
    """The contract's odyssey quote: ``subject_for(code, field)`` resolves a catalog subject."""
    priced: list[tuple[Priced, int]] = []
    missing: list[Msg] = []
    requires: list[dict[str, Any]] = []
    for i, item in enumerate(items_list(payload)):
        subject = subject_for(item.get("exam"), f"items[{i}].exam")
        count = positive_int(item.get("count", 1), f"items[{i}].count")
        kind = item.get("price", "general")
        if not isinstance(kind, str):
            kind = repr(kind)
        p = price(subject, kind, f"items[{i}].price")
        for name, label in missing_facts(subject.family, kind, item):
            missing.append(Msg(f"{p.label.ja}の{label.ja}", f"{label.en} for {p.label.en}"))
            requires.append({"item": i, "fact": name})
        priced.append((p, count))
    remittance = group(priced)
    rule, explanation = explain(remittance, missing)
    lines = [QuoteLine(p.label, p.remit, count) for p, count in remittance.rows]
    extra = {"fees_total": remittance.fees_total, "commission_total": remittance.commission_total,
             "tests": remittance.tests, "voucher_tests": remittance.voucher_tests,
             "voucher_commission_total": remittance.voucher_commission_total, "requires": requires}
    return Quote(lines, remittance.total, rule, explanation, extra)

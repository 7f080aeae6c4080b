"""The facts a provider's calculator asks for: the contract's fields with the core's labels,
or the provider's own (:class:`portal.rules.Fact` in ``ProviderInfo.facts``)."""
from __future__ import annotations

from portal.rules import Fact, Msg, ProviderInfo

OUTCOME_CHOICES = (("failed", Msg("不合格", "failed")), ("passed", Msg("合格", "passed")), ("absent", Msg("欠席", "absent")))

#: The contract's request fields (shared/api-contract.md) as calculator facts.
CONTRACT_FACTS = {f.name: f for f in (
    Fact("exam", Msg("試験", "Exam"), "exam"),
    Fact("exam_start", Msg("試験日時", "Exam date and time"), "datetime"),
    Fact("at", Msg("判定する時点", "Decide as of"), "datetime"),
    Fact("booked_at", Msg("申込日時", "Booked at"), "datetime"),
    Fact("first_booked_at", Msg("最初の予約日時", "First booked at"), "datetime"),
    Fact("payment", Msg("支払い", "Payment"), "payment"),
    Fact("voucher_issued_on", Msg("バウチャー発行日", "Voucher issued on"), "date"),
    Fact("exemption_valid_until", Msg("科目A免除の有効期限", "Subject A exemption valid until"), "date"),
    Fact("target_exam_start", Msg("変更先の試験日時", "New exam date and time"), "datetime"),
    Fact("submitted", Msg("提出済み", "Submitted"), "boolean"),
    Fact("attempts", Msg("前回の受験", "Previous attempt"), "attempts", OUTCOME_CHOICES),
    Fact("items", Msg("受験者数", "Number of candidates"), "items"),
)}


def calculator_facts(info: ProviderInfo) -> list[Fact]:
    """The facts to ask, in the provider's order: its own declaration first, else the contract's."""
    own = {f.name: f for f in info.facts}
    names = list(info.calculator_facts) + [f.name for f in info.facts if f.name not in info.calculator_facts]
    return [own.get(name) or CONTRACT_FACTS.get(name) or Fact(name, Msg(name, name)) for name in names]

"""ODY-PR-4: the venue contract year and its annual registration fee (manual 6.3.1).

- 契約期間: one year from the last renewal date (例: 2020-05-01 → 2020-05-01〜2021-04-30).
- Tests are counted over 「前年度契約月～翌年度契約前月末」: from the 1st of the contract month to
  the end of the month before the next contract month.
- Year 1: initial fee 110,000 yen (tax incl.), refunded with 100+ tests in that year.
- Year 2+: 22,000 yen, waived when the previous contract year reached 100 tests.
- No fee for contracts covering only ACPro, Swift, ITS, MCE/MSFUND or Odyssey CBT, nor at
  GRA/ITA/HP venues.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from portal.sdk import Msg, same_date_years_later

INITIAL_FEE = 110_000
ANNUAL_FEE = 22_000
THRESHOLD = 100
KINDS = {"standard": Msg("通常(MOS・IC3・CCSTを含む契約)", "standard contract"),
         "exempt_scope": Msg("ACPro・Swift・ITS・MCE/MSFUND・Odyssey CBTのいずれかのみ", "only ACPro/Swift/ITS/MCE/MSFUND/Odyssey CBT"),
         "school_program": Msg("GRA・ITA・HP会場", "GRA / ITA / HP venue")}


@dataclass(frozen=True)
class ContractYear:
    index: int  # 0 = first contract year
    start: date
    end: date
    count_from: date
    count_to: date


def contract_year(contract_start: date, today: date) -> ContractYear:
    index = 0
    while same_date_years_later(contract_start, index + 1) <= today:
        index += 1
    start = same_date_years_later(contract_start, index)
    end = same_date_years_later(contract_start, index + 1) - timedelta(days=1)
    count_from = start.replace(day=1)
    next_month = same_date_years_later(contract_start, index + 1).replace(day=1)
    return ContractYear(index, start, end, count_from, next_month - timedelta(days=1))


@dataclass(frozen=True)
class FeeDecision:
    fee: int
    refund: int
    rule: str
    explanation: Msg


def annual_fee(kind: str, year: ContractYear, tests_this_year: int, tests_previous_year: int | None) -> FeeDecision:
    if kind != "standard":
        return FeeDecision(0, 0, "ODY-PR-4", Msg(f"{KINDS[kind].ja}の契約のため、年間登録料は不要です。",
                                                 f"No registration fee for a {KINDS[kind].en} contract."))
    if year.index == 0:
        refund = INITIAL_FEE if tests_this_year >= THRESHOLD else 0
        return FeeDecision(INITIAL_FEE, refund, "ODY-PR-4", Msg(
            f"契約初年度は初回登録料{INITIAL_FEE:,}円(税込)です。初年度の試験数は{tests_this_year}テストで、"
            + ("100テスト以上のため返金されます。" if refund else f"100テストまであと{THRESHOLD - tests_this_year}テストで返金されます。"),
            f"First contract year: initial fee {INITIAL_FEE:,} yen. {tests_this_year} tests so far; "
            + ("100 or more, so it is refunded." if refund else f"{THRESHOLD - tests_this_year} more for a refund.")))
    previous = tests_previous_year or 0
    waived = previous >= THRESHOLD
    return FeeDecision(0 if waived else ANNUAL_FEE, 0, "ODY-PR-4", Msg(
        f"契約{year.index + 1}年目の年間登録料は{ANNUAL_FEE:,}円(税込)です。前年度の試験申込数は{previous}テストで、"
        + ("100テスト以上のため免除されます。" if waived else "100テスト未満のため請求されます。"),
        f"Contract year {year.index + 1}: annual fee {ANNUAL_FEE:,} yen; the previous year had {previous} tests, "
        + ("so it is waived." if waived else "under 100, so it is due.")))

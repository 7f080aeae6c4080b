"""ODY-PR-4: contract year and annual registration fee (manual 6.3.1); ODY-PII month arithmetic."""
from datetime import date

import pytest

from plugins.odyssey import contract, purge


def test_manual_example_contract_period():
    year = contract.contract_year(date(2020, 5, 1), date(2020, 9, 1))
    assert (year.index, year.start, year.end) == (0, date(2020, 5, 1), date(2021, 4, 30))
    assert (year.count_from, year.count_to) == (date(2020, 5, 1), date(2021, 4, 30))
    second = contract.contract_year(date(2020, 5, 1), date(2021, 5, 1))
    assert (second.index, second.start, second.end) == (1, date(2021, 5, 1), date(2022, 4, 30))


def test_month_granular_counting_and_29_february():
    year = contract.contract_year(date(2024, 2, 29), date(2024, 3, 1))
    assert (year.count_from, year.count_to) == (date(2024, 2, 1), date(2025, 1, 31))


@pytest.mark.parametrize("kind, index, this, previous, fee, refund", [
    ("standard", 0, 99, None, 110_000, 0),
    ("standard", 0, 100, None, 110_000, 110_000),
    ("standard", 1, 0, 99, 22_000, 0),
    ("standard", 1, 0, 100, 0, 0),
    ("exempt_scope", 1, 0, 0, 0, 0),
    ("school_program", 0, 0, None, 0, 0),
])
def test_annual_fee(kind, index, this, previous, fee, refund):
    year = contract.contract_year(date(2020, 5, 1), date(2020 + index, 6, 1))
    decision = contract.annual_fee(kind, year, this, previous)
    assert (decision.fee, decision.refund, decision.rule) == (fee, refund, "ODY-PR-4")
    assert decision.explanation.ja and decision.explanation.en


@pytest.mark.parametrize("exam, due", [(date(2024, 1, 31), date(2024, 2, 29)), (date(2023, 1, 31), date(2023, 2, 28)),
                                       (date(2024, 12, 15), date(2025, 1, 15)), (date(2024, 3, 31), date(2024, 4, 30))])
def test_purge_month(exam, due):
    assert purge.one_month_after(exam) == due
    assert not purge.is_due(exam, due) and purge.is_due(exam, date.fromordinal(due.toordinal() + 1))

"""Formula-safe cells (portal.cells): what Excel would run as a formula is written as text."""
from datetime import date

import pytest
from hypothesis import given, strategies as st

from portal.cells import FORMULA_STARTS, formula_safe, formula_safe_row


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)",
                                   "\t=1", "\r=1"])
def test_formula_starts_are_neutralised(value):
    assert formula_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["山田 太郎", "a=b", "", 12, -3, None, date(2026, 1, 5)])
def test_plain_values_pass_unchanged(value):
    assert formula_safe(value) == value


@given(st.text())
def test_no_text_cell_starts_like_a_formula(text):
    safe = formula_safe(text)
    assert not safe.startswith(FORMULA_STARTS)
    assert safe.endswith(text)


def test_row():
    assert formula_safe_row(["=1", 2, "x"]) == ["'=1", 2, "x"]

"""Refund account validation to Zengin rules (PRM-CA-2's refund form)."""
import pytest
from hypothesis import given, strategies as st

from portal.zengin import holder_problem, validate_refund_account

GOOD = {"bank_code": "0005", "branch_code": "001", "account_type": "ordinary", "account_number": "0123456", "holder": "ﾔﾏﾀﾞ ﾀﾛｳ"}


def test_a_valid_account_passes():
    account, errors = validate_refund_account(GOOD)
    assert errors == {} and account.bank_code == "0005" and account.holder == "ﾔﾏﾀﾞ ﾀﾛｳ"


@pytest.mark.parametrize("field, value", [
    ("bank_code", "123"), ("bank_code", "12345"), ("bank_code", "１２３４"), ("branch_code", "12"),
    ("branch_code", "ab1"), ("account_type", "checking"), ("account_number", "123456"), ("account_number", "12345678"),
])
def test_codes_and_numbers_are_checked(field, value):
    account, errors = validate_refund_account({**GOOD, field: value})
    assert account is None and field in errors and errors[field].ja and errors[field].en


@pytest.mark.parametrize("holder, why", [
    ("ﾔﾏﾀﾞ ｼｮｳｺ", "小さい"),      # small kana
    ("ｽｽﾞｷ ｹｰｷ", "長音"),        # long-vowel mark
    ("ﾔﾏﾀﾞ,ﾀﾛｳ", "カンマ"),
    ("yamada taro", "大文字"),
    ("山田太郎", "使えません"),     # kanji
    ("ヤマダ タロウ", "使えません"),  # full-width katakana
    ("", "入力"),
    ("ｱ" * 31, "30"),
])
def test_holder_names_outside_the_zengin_set_are_refused(holder, why):
    problem = holder_problem(holder)
    assert problem is not None and why in problem.ja


@pytest.mark.parametrize("holder", ["ﾔﾏﾀﾞ ﾀﾛｳ", "ｶ)ｴｲｼﾞﾖｳ", "YAMADA TARO", "ｶﾞﾂｺｳ", "ﾊﾟﾝ-ﾔ", "ABC123"])
def test_holder_names_in_the_zengin_set_pass(holder):
    assert holder_problem(holder) is None


ZENGIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().-/ﾞﾟｦ" + "".join(chr(c) for c in range(0xFF71, 0xFF9E))


@given(st.text(alphabet=ZENGIN, min_size=1, max_size=30).filter(str.strip))
def test_any_name_of_zengin_characters_passes(holder):
    assert holder_problem(holder) is None


@given(st.text(min_size=1, max_size=30).filter(lambda t: t.strip() and any(ch not in ZENGIN + "｢｣" for ch in t)))
def test_any_name_with_another_character_is_refused(holder):
    assert holder_problem(holder) is not None

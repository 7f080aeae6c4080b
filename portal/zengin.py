"""Refund-account validation to Zengin (全銀) rules.

Bank code 4 digits, branch code 3 digits, account type, account number 7 digits, and the
holder name in the Zengin character set: half-width katakana and upper-case letters and
digits, space and ( ) . - / ｢ ｣ — no small kana (ｧｨｩｪｫｬｭｮｯ), no long-vowel mark ｰ, no
comma (PRM-CA-2's reading of the refund form).
"""
from __future__ import annotations

import re
from typing import Mapping

from portal.bookings import RefundAccountInput
from portal.rules import Msg

ACCOUNT_TYPES = {"ordinary": Msg("普通", "ordinary"), "current": Msg("当座", "current"), "savings": Msg("貯蓄", "savings")}
_SMALL_KANA = set("ｧｨｩｪｫｬｭｮｯ")
_ALLOWED = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ ().-/｢｣ﾞﾟｦ") | {chr(c) for c in range(0xFF71, 0xFF9E)}
HOLDER_MAX = 30


def holder_problem(holder: str) -> Msg | None:
    """Why ``holder`` is not a valid Zengin account-holder name, or None."""
    if not holder.strip():
        return Msg("口座名義を入力してください。", "Enter the account holder.")
    if len(holder) > HOLDER_MAX:
        return Msg(f"口座名義は{HOLDER_MAX}文字以内です。", f"The holder name is at most {HOLDER_MAX} characters.")
    for ch in holder:
        if ch in _SMALL_KANA:
            return Msg(f"小さいカナ「{ch}」は使えません(大きいカナで入力)。", f"Small kana '{ch}' is not allowed; use the full-size kana.")
        if ch == "ｰ":
            return Msg("長音「ｰ」は使えません(ﾊｲﾌﾝ「-」を使用)。", "The long-vowel mark 'ｰ' is not allowed; use '-'.")
        if ch in ",、，":
            return Msg("カンマは使えません。", "Commas are not allowed.")
        if "a" <= ch <= "z":
            return Msg("英字は大文字で入力してください。", "Use upper-case letters.")
        if ch not in _ALLOWED:
            return Msg(f"「{ch}」は使えません。半角カナ・英大文字・数字で入力してください。",
                       f"'{ch}' is not allowed: use half-width katakana, upper-case letters and digits.")
    return None


def validate_refund_account(form: Mapping[str, str]) -> tuple[RefundAccountInput | None, dict[str, Msg]]:
    errors: dict[str, Msg] = {}
    bank = (form.get("bank_code") or "").strip()
    branch = (form.get("branch_code") or "").strip()
    kind = form.get("account_type") or ""
    number = (form.get("account_number") or "").strip()
    holder = form.get("holder") or ""
    if not re.fullmatch(r"[0-9]{4}", bank):
        errors["bank_code"] = Msg("金融機関コードは半角数字4桁です。", "The bank code is 4 digits.")
    if not re.fullmatch(r"[0-9]{3}", branch):
        errors["branch_code"] = Msg("支店コードは半角数字3桁です。", "The branch code is 3 digits.")
    if kind not in ACCOUNT_TYPES:
        errors["account_type"] = Msg("口座種別を選んでください。", "Choose the account type.")
    if not re.fullmatch(r"[0-9]{7}", number):
        errors["account_number"] = Msg("口座番号は半角数字7桁です(7桁未満は先頭を0で埋める)。",
                                       "The account number is 7 digits (pad with leading zeros).")
    problem = holder_problem(holder)
    if problem:
        errors["holder"] = problem
    if errors:
        return None, errors
    return RefundAccountInput(bank, branch, kind, number, holder.strip()), {}


def masked(account: RefundAccountInput) -> dict[str, str]:
    """The account as operators see it until the refund is done: enough to recognise it
    (bank, branch, type, last digits, the holder's first character), not to reuse it."""
    return {"bank_code": account.bank_code, "branch_code": account.branch_code,
            "account_type": account.account_type, "account_number": "*" * 4 + account.account_number[-3:],
            "holder": account.holder[:1] + "*" * max(0, len(account.holder) - 1)}

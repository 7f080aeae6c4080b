"""Candidate application fields (manual 3.1.2 ⑥ and the CSV columns A–T of 3.1.3, ODY-CSV).

One validator serves the entry form and the CSV import, so both give the same Japanese
messages. A value is checked as the manual describes it; every error names its column.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Mapping, Sequence

from portal.sdk import Msg, has_control_characters

from plugins.odyssey.catalog import PRICE_KIND_NAMES, Subject, price_field
from plugins.odyssey.quote import needed_facts

# Column letter → field name (3.1.3 ■ CSVファイルの入力項目).
COLUMNS = {
    "A": "family_name", "B": "given_name", "C": "family_kana", "D": "given_kana", "E": "gender",
    "F": "birth_date", "G": "postal_code", "H": "prefecture", "I": "city", "J": "street", "K": "phone",
    "L": "employer", "M": "employer_phone", "N": "remarks",
    "O": "subject1", "P": "subject2", "Q": "subject3", "R": "subject4", "S": "subject5", "T": "candidate_type",
}
FIELD_COLUMN = {v: k for k, v in COLUMNS.items()}
SUBJECT_FIELDS = ("subject1", "subject2", "subject3", "subject4", "subject5")
LABELS = {
    "family_name": "姓", "given_name": "名", "family_kana": "カナ(姓)", "given_kana": "カナ(名)", "gender": "性別",
    "birth_date": "生年月日", "postal_code": "郵便番号", "prefecture": "都道府県", "city": "市区郡町村",
    "street": "番地・建物", "phone": "電話番号", "employer": "勤務先(学校名)", "employer_phone": "勤務先電話番号",
    "remarks": "備考", "subject1": "試験科目1", "subject2": "試験科目2", "subject3": "試験科目3", "subject4": "試験科目4",
    "subject5": "試験科目5", "candidate_type": "受験者情報",
}
MAX_LENGTHS = {"family_name": 100, "given_name": 100, "family_kana": 100, "given_kana": 100, "city": 200,
               "street": 200, "employer": 200, "remarks": 500}
GENDERS = {"0": Msg("男性", "male"), "1": Msg("女性", "female"), "9": Msg("非回答", "no answer")}
CANDIDATE_TYPES = {1: Msg("受講生・学内生", "own student"), 2: Msg("外部受験者", "external candidate"),
                   3: Msg("職業訓練生", "vocational trainee"), 4: Msg("学校団体試験", "school group exam"),
                   5: Msg("企業団体試験", "company group exam")}
SELF_EXAM_EMPLOYER = "自校スタッフ"  # ODY-DL-4: 「学校名・勤務先欄へ「自校スタッフ」と記入」
PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 新潟県 富山県 石川県 福井県 "
    "山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 "
    "徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 熊本県 大分県 宮崎県 鹿児島県 沖縄県").split()

KANA = re.compile(r"^[ァ-ヺー・ヽヾ]+$")
HALF_KANA = re.compile(r"[ｦ-ﾟ]")
BIRTH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
POSTAL = re.compile(r"^\d{3}-\d{4}$")
PHONE = re.compile(r"^\d{2,5}-\d{1,4}-\d{3,4}$")
TICKET = re.compile(r"^[A-Za-z0-9-]{4,50}$")
PERIOD = re.compile(r"^\d{1,2}$")
PRICE_PREFIXES = {"(学割)": "student", "(会員)": "member", "(割引)": "certificate_holder"}
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
# What Excel makes of a bare house number such as 3-1 or 3/1 (3.1.3: 「番地が日付に変換される」).
EXCEL_DATE = re.compile(
    rf"^(\d{{4}}[/-]\d{{1,2}}[/-]\d{{1,2}}|\d{{1,2}}/\d{{1,2}}|\d{{1,2}}月\d{{1,2}}日|\d{{4}}年\d{{1,2}}月\d{{1,2}}日"
    rf"|\d{{1,2}}-({_MONTHS})|({_MONTHS})-\d{{1,2}}|\d{{5}}(\.0)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class FieldError:
    field: str
    message: Msg

    @property
    def column(self) -> str:
        return FIELD_COLUMN.get(self.field, "")


@dataclass(frozen=True)
class TestInput:
    subject: Subject
    price_kind: str
    period: str = ""
    ticket: str = ""


@dataclass
class CandidateInput:
    values: dict[str, object]
    tests: list[TestInput] = field(default_factory=list)
    warnings: list[Msg] = field(default_factory=list)

    @property
    def self_exam(self) -> bool:
        return self.values.get("employer") == SELF_EXAM_EMPLOYER


def _err(name: str, ja: str, en: str) -> FieldError:
    return FieldError(name, Msg(f"{LABELS[name]}: {ja}", f"{LABELS[name]}: {en}"))


def parse_subject_cell(cell: str, subjects: Mapping[str, Subject], name: str) -> tuple[TestInput | None, FieldError | None]:
    """``<code>[ <時限>][ <チケット>]`` separated by spaces (3.1.3 O–S; examples ``223``,
    ``223 1 XX140001abcd``, ``223 XX140001abcd``). A discount is chosen by the prefix the
    application shows, e.g. ``(学割)MOS-WORD-2016`` (3.1.2 ⑫ 申込科目「(学割)Office Word 2016」)."""
    tokens = cell.replace("\u3000", " ").split()
    code, kind = tokens[0], "general"
    for prefix, prefixed_kind in PRICE_PREFIXES.items():
        if code.startswith(prefix):
            code, kind = code[len(prefix):], prefixed_kind
    subject = subjects.get(code)
    if subject is None:
        return None, _err(name, f"試験科目コード「{code}」は試験科目一覧にありません。", f"subject code '{code}' is not in the catalog.")
    rest = tokens[1:]
    period = ticket = ""
    if len(rest) > 2:
        return None, _err(name, "「科目コード 時限 チケット番号」の形で、半角スペースで区切って入力してください。",
                          "expected 'code period ticket' separated by spaces.")
    if len(rest) == 2:
        period, ticket = rest
    elif len(rest) == 1:
        (period, ticket) = (rest[0], "") if PERIOD.match(rest[0]) else ("", rest[0])
    if period and not PERIOD.match(period):
        return None, _err(name, f"時限「{period}」は半角数字1〜2桁です。", f"period '{period}' must be 1–2 digits.")
    if ticket:
        if not TICKET.match(ticket):
            return None, _err(name, f"受験チケット番号「{ticket}」は半角英数字で入力してください。",
                              f"voucher number '{ticket}' must be half-width letters and digits.")
        if kind != "general":
            return None, _err(name, "受験チケット利用の試験に割引価格は指定できません。", "a voucher test cannot also take a discount price.")
        kind = "voucher"
    if price_field(subject.family, kind) is None:
        return None, _err(name, f"{subject.name}には{PRICE_KIND_NAMES[kind].ja}価格がありません(ODY-PR-3)。",
                          f"{subject.name} has no {PRICE_KIND_NAMES[kind].en} price (ODY-PR-3).")
    return TestInput(subject, kind, period, ticket), None


def outside_jis_x_0208(text: str) -> list[str]:
    """Characters that cannot be entered or shown (3.1.2 ⑥ 注意1): outside JIS X 0208."""
    try:
        text.encode("iso2022_jp")
        return []  # the common case: every character at once
    except UnicodeEncodeError:
        pass
    bad = []
    for ch in text:
        try:
            ch.encode("iso2022_jp")
        except UnicodeEncodeError:
            bad.append(ch)
    return bad


def validate(raw: Mapping[str, str], subjects: Mapping[str, Subject]) -> tuple[CandidateInput | None, list[FieldError]]:
    """Check one candidate (form fields or CSV row, keyed by field name)."""
    v = {k: (raw.get(k) or "").strip() for k in COLUMNS.values()}
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    warnings: list[Msg] = []
    for name in ("family_name", "given_name", "family_kana", "given_kana", "gender", "birth_date", "postal_code",
                 "prefecture", "city", "street", "subject1", "candidate_type"):
        if not v[name]:
            errors.append(_err(name, "必須項目です。", "required."))
    # PostgreSQL cannot store NUL; no field needs a control character (the row as a whole
    # first: the common case of a clean row costs one check, not one per field).
    for name, value in (v.items() if has_control_characters("".join(v.values())) else ()):
        if has_control_characters(value):
            errors.append(_err(name, "使えない文字(制御文字)が含まれています。", "contains control characters."))
            v[name] = ""
    for name, limit in MAX_LENGTHS.items():
        if len(v[name]) > limit:
            errors.append(_err(name, f"{limit}文字以内で入力してください。", f"at most {limit} characters."))
    for name in ("family_kana", "given_kana"):
        if v[name] and not KANA.match(v[name]):
            hint = "半角カナは使えません。" if HALF_KANA.search(v[name]) else ""
            errors.append(_err(name, f"全角カタカナで入力してください。{hint}", "enter full-width katakana."))
    for name in ("family_name", "given_name"):
        bad = outside_jis_x_0208(v[name])
        if bad:
            warnings.append(Msg(
                f"{LABELS[name]}の「{''.join(bad)}」はPCで入力・表示できない可能性があります。カタカナや新字体で入力した場合、合格時のみ「試験結果レポート訂正依頼」が必要です。",
                f"{LABELS[name]} contains '{''.join(bad)}', which may not display; if replaced, a result-report correction is needed after a pass."))
    if v["gender"] and v["gender"] not in GENDERS:
        errors.append(_err("gender", "0(男性)・1(女性)・9(非回答)のいずれかを半角で入力してください。", "expected 0, 1 or 9."))
    else:
        values["gender"] = v["gender"]
    if v["birth_date"]:
        m = BIRTH.match(v["birth_date"])
        born = None
        if m:
            try:
                born = date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                born = None
        if born is None or born.year < 1900 or born > date.today():
            errors.append(_err("birth_date", "西暦・半角で「1980/7/26」の形の、存在する日付を入力してください。",
                               "expected a real past date like 1980/7/26."))
        values["birth_date"] = born
    if v["postal_code"] and not POSTAL.match(v["postal_code"]):
        errors.append(_err("postal_code", "半角数字・ハイフン付きで「100-0014」の形で入力してください。", "expected NNN-NNNN."))
    if v["prefecture"] and v["prefecture"] not in PREFECTURES:
        errors.append(_err("prefecture", f"「{v['prefecture']}」は都道府県名ではありません(例: 東京都)。", "not a prefecture name."))
    if v["street"] and EXCEL_DATE.match(v["street"]):
        errors.append(_err("street", f"「{v['street']}」はExcelで番地が日付に変換された値のようです。I列に市区郡名、J列に町村名と番地(例: 丸の内 3-1-1)を入力して作り直してください。",
                           f"'{v['street']}' looks like a house number Excel turned into a date; put the town name before the number."))
    for name in ("phone", "employer_phone"):
        if v[name] and not PHONE.match(v[name]):
            errors.append(_err(name, "半角数字・ハイフン付きで入力してください(例: 03-5293-1888)。", "half-width digits with hyphens."))
    ctype = None
    if v["candidate_type"]:
        if v["candidate_type"] in {"1", "2", "3", "4", "5"}:
            ctype = int(v["candidate_type"])
        else:
            errors.append(_err("candidate_type", "1〜5の半角数字で入力してください(1 受講生・学内生、2 外部受験者、3 職業訓練生、4 学校団体試験、5 企業団体試験)。",
                               "expected 1–5."))
    values["candidate_type"] = ctype
    tests = _subjects(v, subjects, errors)
    _discount_evidence(v, ctype, tests, errors)
    if v["employer"] == SELF_EXAM_EMPLOYER and ctype not in (None, 1):
        errors.append(_err("candidate_type", "自校スタッフの受験は受験者情報「1 受講生・学内生」で申し込みます(ODY-DL-4)。",
                           "staff sitting at their own venue must use type 1 (ODY-DL-4)."))
    for name in ("family_name", "given_name", "family_kana", "given_kana", "postal_code", "prefecture", "city",
                 "street", "phone", "employer", "employer_phone", "remarks"):
        values[name] = v[name]
    if errors:
        return None, errors
    return CandidateInput(values, tests, warnings), []


def _subjects(v: Mapping[str, str], subjects: Mapping[str, Subject], errors: list[FieldError]) -> list[TestInput]:
    tests: list[TestInput] = []
    gap = False
    for name in SUBJECT_FIELDS:
        if not v[name]:
            gap = True
            continue
        if gap and name != "subject1":
            errors.append(_err(name, "試験科目はO列から順に、空けずに入力してください。", "fill the subject columns from O without gaps."))
        test, error = parse_subject_cell(v[name], subjects, name)
        if error:
            errors.append(error)
        elif any(t.subject.code == test.subject.code for t in tests):
            errors.append(_err(name, f"{test.subject.name}が重複しています。", f"{test.subject.name} is repeated."))
        else:
            tests.append(test)
    return tests


def _discount_evidence(v: Mapping[str, str], ctype: int | None, tests: Sequence[TestInput], errors: list[FieldError]) -> None:
    """ODY-PR-3: 学割・会員 need 勤務先(学校名) (L); 割引受験 and リユース検定's 検定コード go in 備考 (N)."""
    facts = {"school": v["employer"], "employer": v["employer"], "certificate": v["remarks"], "kentei_code": v["remarks"]}
    for t in tests:
        for fact, label in needed_facts(t.subject.family, t.price_kind):
            if not facts[fact]:
                target = "employer" if fact in ("school", "employer") else "remarks"
                errors.append(_err(target, f"{PRICE_KIND_NAMES[t.price_kind].ja}価格({t.subject.name})には{label.ja}の入力が必要です(ODY-PR-3)。",
                                   f"a {PRICE_KIND_NAMES[t.price_kind].en} price ({t.subject.name}) needs the {label.en} (ODY-PR-3)."))
        if t.price_kind == "student" and ctype == 3:
            errors.append(_err("candidate_type", "職業訓練生は学割の対象外です(2.4.3 注意1)。", "vocational trainees are not eligible for student prices."))

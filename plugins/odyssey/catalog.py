"""The Odyssey subject catalog (試験科目一覧) and the exam families of the rulebook.

A catalog subject has a code, a name, its family (the retake table's family code, ODY-RT),
its prices per kind, its commission (実施委託料) and its voucher commission (ODY-PR-1/2).
The shipped data file is ``data/catalog.json``; an organisation's editable copy lives in the
``odyssey_subject`` table (see ``models.py``). Both become :class:`portal.rules.Exam` values
whose ``extra`` carries the Odyssey fields, so the rules read one shape.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from portal.sdk import Exam, Msg, UnknownExam

DATA_FILE = Path(__file__).parent / "data" / "catalog.json"

#: Catalog price fields. ``student_or_teacher`` is the 学割 of families whose discount also
#: covers teachers (2.4.1「学生・教員・教職員」); the API's price kind is ``student`` for both.
PRICE_FIELDS = ("general", "student", "student_or_teacher", "member", "certificate_holder")
#: Price kinds of the quote API (api-contract) and of an application test.
PRICE_KINDS = ("general", "student", "member", "certificate_holder", "voucher")

# ODY-RT: the contract's family codes, grouped by delivery system (2.4.5).
COMPASS_FAMILIES = ("MOS", "IC3", "CCST", "ACPRO", "SWIFT", "ITS", "MCE", "MSFUND")
ODYSSEY_CBT_FAMILIES = ("BIZSTATS", "GLOBAL_LITERACY", "VBA", "RAILS", "PYTHON", "PHP", "WEBSEC", "KUSANAGI",
                        "CEXAM", "CBAS", "CONKEN", "STATKENTEI", "YCNE", "REUSE", "LYMPHEDEMA", "WASHING", "DAA")
FAMILIES = COMPASS_FAMILIES + ODYSSEY_CBT_FAMILIES

FAMILY_NAMES: dict[str, Msg] = {
    "MOS": Msg("MOS", "MOS"), "IC3": Msg("IC3", "IC3"), "CCST": Msg("CCST", "CCST"),
    "ACPRO": Msg("ACPro", "ACPro"), "SWIFT": Msg("Swift", "Swift"), "ITS": Msg("ITS", "ITS"),
    "MCE": Msg("MCE", "MCE"), "MSFUND": Msg("MSFUND", "MSFUND"),
    "BIZSTATS": Msg("ビジネス統計スペシャリスト", "Business Statistics Specialist"),
    "GLOBAL_LITERACY": Msg("外交官から学ぶグローバルリテラシー", "Global Literacy"),
    "VBA": Msg("VBAエキスパート", "VBA Expert"), "RAILS": Msg("Rails技術者認定試験", "Rails certification"),
    "PYTHON": Msg("Pythonエンジニア認定試験", "Python engineer certification"),
    "PHP": Msg("PHP技術者認定試験", "PHP certification"), "WEBSEC": Msg("ウェブ・セキュリティ試験", "Web Security exam"),
    "KUSANAGI": Msg("KUSANAGI for WordPress", "KUSANAGI for WordPress"),
    "CEXAM": Msg("Communication Exam.(C-Exam.)", "Communication Exam. (C-Exam.)"),
    "CBAS": Msg("データ分析実務スキル検定(CBAS)", "CBAS data analysis skills test"),
    "CONKEN": Msg("コンタクトセンター検定試験(コン検)", "Contact Center certification (コン検)"),
    "STATKENTEI": Msg("統計検定", "Statistics certification (統計検定)"),
    "YCNE": Msg("ヤマハネットワーク技術者認定試験(YCNE)", "YCNE"),
    "REUSE": Msg("リユース検定", "Reuse certification (リユース検定)"),
    "LYMPHEDEMA": Msg("リンパ浮腫研修 E-LEARN 修了試験", "Lymphedema E-LEARN final exam"),
    "WASHING": Msg("洗浄技術検定", "Cleaning technology certification (洗浄技術検定)"),
    "DAA": Msg("デジタルアクセシビリティアドバイザー認定試験(DAA)", "Digital Accessibility Advisor (DAA)"),
}

# ODY-PR-3: which family offers which discount (2.4.1 割引受験確認, 2.4.2 学割価格の対象者).
STUDENT_FAMILIES = frozenset({"MOS", "IC3", "ACPRO", "STATKENTEI", "BIZSTATS", "CEXAM", "GLOBAL_LITERACY"})
STUDENT_OR_TEACHER_FAMILIES = frozenset({"ITS", "MCE", "MSFUND", "SWIFT", "RAILS", "PYTHON", "PHP", "WEBSEC",
                                         "KUSANAGI", "YCNE"})
MEMBER_FAMILIES = frozenset({"CONKEN", "REUSE", "CEXAM"})
CERTIFICATE_FAMILIES = frozenset({"VBA", "BIZSTATS", "GLOBAL_LITERACY"})

PRICE_KIND_NAMES: dict[str, Msg] = {
    "general": Msg("一般", "general"), "student": Msg("学割", "student"), "member": Msg("会員", "member"),
    "certificate_holder": Msg("割引受験(資格保有者)", "certificate holder"), "voucher": Msg("受験チケット", "voucher"),
}
#: The prefix the application copy shows before a discounted subject (3.1.2 ⑫「(学割)Office Word 2016」).
PRICE_KIND_PREFIX = {"general": "", "student": "(学割)", "member": "(会員)", "certificate_holder": "(割引)",
                     "voucher": "(チケット)"}


def unpriced(subject: "Subject") -> bool:
    """No price kind of the subject has its fee and commission in the catalog: it can only
    be taken with a voucher until an administrator enters a price (ODY-PR-1)."""
    if subject.commission is None:
        return True
    fields = (price_field(subject.family, kind) for kind in offered_kinds(subject.family) if kind != "voucher")
    return all(f is None or subject.prices.get(f) is None for f in fields)


def price_field(family: str, kind: str) -> str | None:
    """The catalog price field a price kind reads for a family, or None when the family
    does not offer that discount (ODY-PR-3). Vouchers are accepted for every subject (2.4.6)."""
    if kind == "general":
        return "general"
    if kind == "student":
        if family in STUDENT_FAMILIES:
            return "student"
        if family in STUDENT_OR_TEACHER_FAMILIES:
            return "student_or_teacher"
        return None
    if kind == "member":
        return "member" if family in MEMBER_FAMILIES else None
    if kind == "certificate_holder":
        return "certificate_holder" if family in CERTIFICATE_FAMILIES else None
    if kind == "voucher":
        return "voucher"
    return None


def offered_kinds(family: str) -> list[str]:
    return [k for k in PRICE_KINDS if price_field(family, k) is not None]


@dataclass(frozen=True)
class Subject:
    code: str
    name: str
    family: str
    prices: Mapping[str, int | None] = field(default_factory=dict)
    commission: int | None = None
    voucher_commission: int | None = None

    def to_exam(self) -> Exam:
        return Exam(self.code, self.name, self.prices.get("general"), None, {
            "family": self.family, "prices": dict(self.prices), "commission": self.commission,
            "voucher_commission": self.voucher_commission})

    @staticmethod
    def from_exam(exam: Exam) -> "Subject":
        extra = exam.extra or {}
        return Subject(exam.code, exam.name, extra.get("family", exam.code), dict(extra.get("prices") or {}),
                       extra.get("commission"), extra.get("voucher_commission"))


def _subject(raw: Mapping[str, Any]) -> Subject:
    prices = {k: (raw.get("prices") or {}).get(k) for k in PRICE_FIELDS}
    family = raw["family"]
    if family not in FAMILIES:
        raise ValueError(f"catalog subject {raw['code']!r} has unknown family {family!r}")
    return Subject(raw["code"], raw["name"], family, prices, raw.get("commission"), raw.get("voucher_commission"))


def load_subjects(path: Path = DATA_FILE) -> list[Subject]:
    """The shipped catalog (every family of the retake table has at least one entry)."""
    return [_subject(raw) for raw in json.loads(path.read_text(encoding="utf-8"))]


def family_of(exams: Iterable[Exam], code: str | None, field_name: str = "exam") -> str:
    """ODY-RT: a family code is accepted as is; a catalog subject code maps to its family."""
    if code in FAMILIES:
        return code  # type: ignore[return-value]
    for exam in exams:
        if exam.code == code:
            return Subject.from_exam(exam).family
    raise UnknownExam(code, field_name)

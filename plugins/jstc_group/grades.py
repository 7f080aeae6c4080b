"""The JSTC grades (受験級) and their fees, from ``data/catalog.json`` (JST-PR-1)."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from portal.sdk import Exam, Msg

_CATALOG = Path(__file__).parent / "data" / "catalog.json"

PROFESSIONAL = "professional"


@dataclass(frozen=True)
class Grade:
    code: str
    name: Msg
    #: JST-PR-1: the fee per examinee (tax included) ...
    price: int
    #: ... and the fee when the group has 10+ examinees in the session (のべ10名以上).
    group_price: int

    def fee(self, group: bool) -> int:
        return self.group_price if group else self.price

    def as_exam(self) -> Exam:
        return Exam(self.code, self.name.ja, self.price, None, {"group_price": self.group_price, "name_en": self.name.en})


def _load() -> dict[str, Grade]:
    data = json.loads(_CATALOG.read_text(encoding="utf-8"))
    return {g["code"]: Grade(g["code"], Msg(g["name"], g["name_en"]), g["price"], g["group_price"])
            for g in data["grades"]}


GRADES: dict[str, Grade] = _load()
GRADE_CODES: tuple[str, ...] = tuple(GRADES)


def _key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).replace(" ", "").lower()


_BY_LABEL = {
    **{_key(g.name.ja): g.code for g in GRADES.values()},
    **{_key(g.name.en): g.code for g in GRADES.values()},
    **{_key(code): code for code in GRADES},
    _key("プロ"): PROFESSIONAL,
}


def grade_from_label(label: object) -> Grade | None:
    """The grade a cell of the bulk form names (``2級``, ``２級``, ``プロフェッショナル``, ``grade2``)."""
    if isinstance(label, bool) or label is None:
        return None
    if isinstance(label, (int, float)) and float(label).is_integer():
        label = f"{int(label)}級"
    if not isinstance(label, str):
        return None
    code = _BY_LABEL.get(_key(label))
    return GRADES[code] if code else None

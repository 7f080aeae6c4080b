"""The IPA CBT exam catalog (``data/catalog.json``): fees and the parts of each exam.

The duration of an exam is the sum of its parts, so FE's end time is computed as
科目A 90 min + a break of at most 10 min + 科目B 100 min = 200 min after the start.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from portal.sdk import Exam, Msg

_DATA = Path(__file__).parent / "data" / "catalog.json"

FE = "FE"
SG = "SG"


@dataclass(frozen=True)
class ExamPart:
    label: Msg
    minutes: int


def _exam(entry: dict) -> Exam:
    parts = tuple(ExamPart(Msg(p["label"], p["label_en"]), int(p["minutes"])) for p in entry["parts"])
    return Exam(entry["code"], entry["name"], int(entry["price"]), sum(p.minutes for p in parts),
                {"parts": parts, "name_en": entry.get("name_en", entry["name"])})


def load_exams() -> tuple[Exam, ...]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    return tuple(_exam(entry) for entry in data["exams"])


def parts(exam: Exam) -> tuple[ExamPart, ...]:
    return tuple(exam.extra.get("parts", ())) or (ExamPart(Msg("試験", "exam"), exam.duration_minutes or 0),)


def exam_name(exam: Exam) -> Msg:
    return Msg(exam.name, str(exam.extra.get("name_en", exam.name)))

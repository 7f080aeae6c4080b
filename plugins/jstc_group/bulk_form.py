"""The bulk application form (一括申込書) as a real .xlsx: built for one session, read back
with per-row validation in Japanese and English (JST-AP-1, JST-AP-2, JST-GR-1).

Reading never touches the database: it returns the rows and every problem found, and the
caller stores all rows or none.
"""
from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Iterable, Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from portal.sdk import Msg, formula_safe, formula_safe_row, from_cell, has_control_characters

from plugins.jstc_group.grades import GRADES, grade_from_label
from plugins.jstc_group.jis import characters_outside_jis
from plugins.jstc_group.sessions import SessionDates

SHEET = "一括申込書"
META_SHEET = "portal"
FORM_KIND = "jstc_group bulk application v1"
HEADERS = ("No.", "姓", "名", "セイ", "メイ", "受験級")
HEADER_ROW = 5
FIRST_ROW = HEADER_ROW + 1
BLANK_ROWS = 300
MAX_ROWS = 2_000
MAX_BYTES = 2 * 1024 * 1024
MAX_NAME = 50
_KATAKANA = re.compile(r"^[ァ-ヶー・ 　]+$")


@dataclass(frozen=True)
class FormRow:
    line: int
    family_name: str
    given_name: str
    family_kana: str
    given_kana: str
    grade: str
    #: JST-AP-2: characters of the name outside JIS level 1/2 (a warning, not an error).
    jis_flag: str = ""


@dataclass(frozen=True)
class FormProblem:
    """One problem of the uploaded file; ``line`` is the Excel row (None: the whole file)."""

    message: Msg
    line: int | None = None
    column: str | None = None


@dataclass
class ReadResult:
    rows: list[FormRow] = field(default_factory=list)
    problems: list[FormProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def flagged(self) -> list[FormRow]:
        return [r for r in self.rows if r.jis_flag]


# --------------------------------------------------------------------------- building


def build_form(session: SessionDates, session_id: int, organization: str, rows: Sequence[FormRow] = ()) -> bytes:
    """The form for ``session``: pre-filled with ``rows`` (the portal's draft), blank otherwise."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws["A1"] = "技術英語能力検定 一括申込書"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = "開催回"
    ws["B2"] = formula_safe(session.name)
    ws["C2"] = "試験日"
    ws["D2"] = session.exam_date
    ws["D2"].number_format = "yyyy-mm-dd"
    ws["E2"] = "申込締切"
    ws["F2"] = session.application_deadline
    ws["F2"].number_format = "yyyy-mm-dd"
    ws["A3"] = "団体名"
    ws["B3"] = formula_safe(organization)
    ws["A4"] = ("6行目から1行に1名ずつ記入してください。受験級: " + "・".join(g.name.ja for g in GRADES.values())
                + "。アップロードは1回だけで、申込完了後は追加・キャンセル・変更できません。")
    for col, title in enumerate(HEADERS, start=1):
        cell = ws.cell(HEADER_ROW, col, title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for width, letter in zip((6, 16, 16, 18, 18, 18), "ABCDEF"):
        ws.column_dimensions[letter].width = width
    grades = DataValidation(type="list", formula1='"' + ",".join(g.name.ja for g in GRADES.values()) + '"',
                            allow_blank=True, showErrorMessage=True, errorTitle="受験級",
                            error="リストから受験級を選んでください。")
    ws.add_data_validation(grades)
    grades.add(f"F{FIRST_ROW}:F{FIRST_ROW + BLANK_ROWS + len(rows)}")
    for i, row in enumerate(rows):
        r = FIRST_ROW + i
        values = (i + 1, row.family_name, row.given_name, row.family_kana, row.given_kana, GRADES[row.grade].name.ja)
        for col, value in enumerate(formula_safe_row(values), start=1):  # names are the operator's text
            ws.cell(r, col, value)
    ws.freeze_panes = f"A{FIRST_ROW}"
    meta = wb.create_sheet(META_SHEET)
    meta.append(["form", FORM_KIND])
    meta.append(["session_id", session_id])
    meta.append(["session", formula_safe(session.name)])
    meta.sheet_state = "hidden"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- reading


def _problem(ja: str, en: str, line: int | None = None, column: str | None = None) -> FormProblem:
    return FormProblem(Msg(ja, en), line, column)


def _text(value: Any) -> str | None:
    """A cell as text (None for a number or date where text is expected)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\u3000", " ").strip()
    return None


def _open(data: bytes):
    if len(data) > MAX_BYTES:
        raise ValueError(Msg("ファイルが大きすぎます(2MBまで)。", "The file is too large (2 MB at most)."))
    if not data or not zipfile.is_zipfile(BytesIO(data)):
        raise ValueError(Msg("Excel ファイル(.xlsx)として読めません。ダウンロードした一括申込書に記入してください。",
                             "This is not an Excel (.xlsx) file: fill in the downloaded bulk form."))
    try:
        return load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise ValueError(Msg("Excel ファイル(.xlsx)として読めません(ファイルが壊れています)。",
                             "The Excel (.xlsx) file cannot be read (it is damaged).")) from None


def _check_form(wb, session_id: int, session_name: str) -> FormProblem | None:
    """Section 3.2: the latest form of *this* session must be used."""
    if META_SHEET not in wb.sheetnames or SHEET not in wb.sheetnames:
        return _problem("ポータルで作成した一括申込書ではありません。この開催回の申込書をダウンロードして記入してください。",
                        "This is not a bulk form made by the portal: download this session's form and fill it in.")
    meta = {row[0]: row[1] for row in wb[META_SHEET].iter_rows(min_row=1, max_row=10, max_col=2, values_only=True)
            if row and row[0]}
    if meta.get("form") != FORM_KIND:
        return _problem("一括申込書の様式が違います。最新の申込書をダウンロードしてください。",
                        "The bulk form is of another version: download the latest form.")
    if str(meta.get("session_id")) != str(session_id):
        other = meta.get("session") or "?"
        return _problem(f"別の開催回({other})の一括申込書です。{session_name}の申込書をダウンロードして記入してください。",
                        f"This is the bulk form of another session ({other}): download the form of {session_name}.")
    header = next(wb[SHEET].iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW, max_col=len(HEADERS), values_only=True), ())
    if tuple(_text(v) for v in header) != HEADERS:
        return _problem(f"{HEADER_ROW}行目の見出し({'・'.join(HEADERS)})が変更されています。列を削除・移動しないでください。",
                        f"The headings of row {HEADER_ROW} were changed: do not delete or move columns.")
    return None


def _at(line: int | None) -> tuple[str, str]:
    """The row prefix of a message: ``7行目: `` for the file, nothing for a single entry."""
    return (f"{line}行目: ", f"Row {line}: ") if line is not None else ("", "")


def _name_part(value: Any, line: int | None, column: str, label: Msg, problems: list[FormProblem]) -> str:
    ja, en = _at(line)
    text = _text(value)
    if text is None:
        problems.append(_problem(f"{ja}{label.ja}は文字で入力してください。", f"{en}{label.en} must be text.", line, column))
        return ""
    if not text:
        problems.append(_problem(f"{ja}{label.ja}が空欄です。", f"{en}{label.en} is empty.", line, column))
    elif has_control_characters(text):
        problems.append(_problem(f"{ja}{label.ja}に使えない文字(制御文字)が含まれています。",
                                 f"{en}{label.en} contains control characters.", line, column))
        return ""
    elif len(text) > MAX_NAME:
        problems.append(_problem(f"{ja}{label.ja}が長すぎます({MAX_NAME}文字まで)。",
                                 f"{en}{label.en} is too long ({MAX_NAME} characters at most).", line, column))
    return text


def _kana_part(value: Any, line: int | None, column: str, label: Msg, problems: list[FormProblem]) -> str:
    ja, en = _at(line)
    text = _name_part(value, line, column, label, problems)
    kana = unicodedata.normalize("NFKC", text)
    if text and not _KATAKANA.match(kana):
        problems.append(_problem(f"{ja}{label.ja}は全角カタカナで入力してください(「{text}」)。",
                                 f"{en}{label.en} must be written in katakana ('{text}').", line, column))
    return kana


def _rows(ws) -> Iterable[tuple[int, tuple]]:
    for line, values in enumerate(ws.iter_rows(min_row=FIRST_ROW, max_col=len(HEADERS), values_only=True), start=FIRST_ROW):
        values = tuple(from_cell(v) if isinstance(v, str) else v for v in values) + (None,) * (len(HEADERS) - len(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values[1:]):
            continue  # an empty row (the No. column alone does not make a row)
        yield line, values


def read_form(data: bytes, session_id: int, session_name: str) -> ReadResult:
    """Every row of the uploaded form, and every problem found (all of them, not the first)."""
    result = ReadResult()
    try:
        wb = _open(data)
    except ValueError as exc:
        result.problems.append(FormProblem(exc.args[0]))
        return result
    try:  # read-only workbooks parse the sheets lazily: a damaged sheet fails here, not in _open
        problem = _check_form(wb, session_id, session_name)
        if problem:
            result.problems.append(problem)
            return result
        seen: dict[tuple[str, str], int | None] = {}
        for count, (line, values) in enumerate(_rows(wb[SHEET]), start=1):
            if count > MAX_ROWS:
                result.problems.append(_problem(f"受験者は{MAX_ROWS}名までです。", f"At most {MAX_ROWS} examinees."))
                break
            row, problems = check_row(line, values, seen)
            result.problems.extend(problems)
            if row is not None:
                result.rows.append(row)
    except Exception:  # openpyxl / zipfile / XML raise many kinds for a damaged sheet
        result.rows.clear()
        result.problems[:] = [_problem("Excel ファイル(.xlsx)として読めません(ファイルが壊れています)。",
                                       "The Excel (.xlsx) file cannot be read (it is damaged).")]
    finally:
        wb.close()
    if result.ok and not result.rows:
        result.problems.append(_problem("受験者が記入されていません。", "No examinee is filled in."))
    return result


def examinee_key(family: str, given: str, grade: str) -> tuple[str, str]:
    """Duplicates: the same name (spaces and full/half width ignored) at the same grade.
    One person may sit several grades in a session (のべ count, JST-GR-1)."""
    return unicodedata.normalize("NFKC", family + given).replace(" ", ""), grade


def check_row(line: int | None, values: Sequence[Any], seen: dict[tuple[str, str], int | None]
              ) -> tuple[FormRow | None, list[FormProblem]]:
    """One examinee (No., 姓, 名, セイ, メイ, 受験級): the row, or the problems found.
    ``seen`` maps the keys of the rows accepted so far to their line (None: stored earlier)."""
    ja, en = _at(line)
    problems: list[FormProblem] = []
    family = _name_part(values[1], line, "B", Msg("姓", "the family name"), problems)
    given = _name_part(values[2], line, "C", Msg("名", "the given name"), problems)
    family_kana = _kana_part(values[3], line, "D", Msg("セイ", "the family name in katakana"), problems)
    given_kana = _kana_part(values[4], line, "E", Msg("メイ", "the given name in katakana"), problems)
    grade = grade_from_label(values[5])
    if grade is None:
        shown = "" if values[5] is None else str(values[5]).strip()
        choices = "・".join(g.name.ja for g in GRADES.values())
        problems.append(_problem(
            f"{ja}受験級「{shown}」は選べません({choices}のいずれか)。" if shown else f"{ja}受験級が空欄です。",
            f"{en}grade '{shown}' is not offered (one of {choices})." if shown else f"{en}the grade is empty.",
            line, "F"))
    if grade is not None and family and given:
        key = examinee_key(family, given, grade.code)
        if key in seen:
            where = Msg(f"{seen[key]}行目", f"row {seen[key]}") if seen[key] is not None else Msg("登録済みの受験者", "an examinee already listed")
            problems.append(_problem(f"{ja}{where.ja}と同じ受験者・受験級です({family} {given}、{grade.name.ja})。",
                                     f"{en}the same examinee and grade as {where.en} ({family} {given}, {grade.name.en}).",
                                     line, "B"))
    if problems:
        return None, problems
    seen[examinee_key(family, given, grade.code)] = line
    flagged = characters_outside_jis(family + given)
    return FormRow(line or 0, family, given, family_kana, given_kana, grade.code, "".join(flagged)[:50]), []

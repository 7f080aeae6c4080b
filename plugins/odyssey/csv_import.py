"""ODY-CSV: reading an application CSV (manual 3.1.3) into candidates, or into errors.

- Encoding: CP932 (Shift_JIS from Japanese Excel) or UTF-8 with or without BOM (README).
- 20 columns A–T per row; blank lines are ignored.
- The sample file's title row (「タイトル行を削除してください」) is detected on the first line and
  skipped with a notice.
- Every error names its line and column, in Japanese (and English); one error anywhere and
  nothing is imported (the caller writes all rows in one transaction, or none).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Mapping

from portal.sdk import Msg

from plugins.odyssey.catalog import Subject
from plugins.odyssey.fields import COLUMNS, CandidateInput, validate

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
WIDTH = len(COLUMNS)  # 20: A–T
TITLE_WORDS = ("姓", "名", "カナ", "性別", "生年月日", "郵便番号", "都道府県", "受験者情報", "試験科目")


@dataclass(frozen=True)
class RowError:
    line: int
    column: str  # A–T, or "" for the whole row / file
    message: Msg


@dataclass
class ImportResult:
    encoding: str = ""
    candidates: list[tuple[int, CandidateInput]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    notices: list[Msg] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.candidates)


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name); raises ValueError when neither UTF-8 nor CP932 fits."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "CP932"
    except UnicodeDecodeError as exc:
        raise ValueError(str(exc)) from None


def is_title_row(cells: list[str]) -> bool:
    """The sample's title row: its gender/birth-date cells hold labels, not values."""
    gender = cells[4].strip() if len(cells) > 4 else ""
    joined = "".join(cells)
    return gender not in ("0", "1", "9") and sum(word in joined for word in TITLE_WORDS) >= 3


def read(data: bytes, subjects: Mapping[str, Subject]) -> ImportResult:
    result = ImportResult()
    if not data:
        result.errors.append(RowError(0, "", Msg("ファイルが空です。", "The file is empty.")))
        return result
    if len(data) > MAX_BYTES:
        result.errors.append(RowError(0, "", Msg("ファイルが大きすぎます(2MBまで)。", "The file is too large (2 MB at most).")))
        return result
    try:
        text, result.encoding = decode(data)
    except ValueError:
        result.errors.append(RowError(0, "", Msg(
            "文字コードを判別できません。CSVはShift_JIS(CP932)またはUTF-8で保存してください。",
            "Unknown encoding: save the CSV as Shift_JIS (CP932) or UTF-8.")))
        return result
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        result.errors.append(RowError(0, "", Msg(f"CSVとして読めません: {exc}", f"Not a readable CSV: {exc}")))
        return result
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if numbered and is_title_row(numbered[0][1]):
        line = numbered.pop(0)[0]
        result.notices.append(Msg(f"{line}行目はタイトル行のため読み飛ばしました。",
                                  f"Line {line} is the sample's title row and was skipped."))
    if len(numbered) > MAX_ROWS:
        result.errors.append(RowError(0, "", Msg(f"{MAX_ROWS}行までです({len(numbered)}行あります)。",
                                                 f"At most {MAX_ROWS} rows ({len(numbered)} given).")))
        return result
    if not numbered:
        result.errors.append(RowError(0, "", Msg("受験者の行がありません。", "No candidate rows.")))
        return result
    for line, row in numbered:
        if len(row) < WIDTH or any(c.strip() for c in row[WIDTH:]):
            result.errors.append(RowError(line, "", Msg(
                f"列の数が{len(row)}です。A〜Tの20列で作成してください。", f"{len(row)} columns; expected the 20 columns A–T.")))
            continue
        raw = {name: row[i] for i, name in enumerate(COLUMNS.values())}
        candidate, errors = validate(raw, subjects)
        for e in errors:
            result.errors.append(RowError(line, e.column, e.message))
        if candidate is not None:
            result.candidates.append((line, candidate))
    return result


def error_text(error: RowError, lang: str = "ja") -> str:
    where = []
    if error.line:
        where.append(f"{error.line}行目" if lang != "en" else f"line {error.line}")
    if error.column:
        where.append(f"{error.column}列" if lang != "en" else f"column {error.column}")
    prefix = (" ".join(where) + ": ") if where else ""
    return prefix + error.message.text(lang)

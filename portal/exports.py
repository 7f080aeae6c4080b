"""One export for every list: CSV (UTF-8 with BOM, so Japanese Excel opens it) and .xlsx.

A list view describes its export as columns (a translated header and a function of one
row) and hands over the rows of the query it already runs for the screen, with the
screen's filters applied and without the pager. Plugins call :func:`export_response`
for their own lists; they never write their own CSV / .xlsx code.

- Every text cell goes through :func:`portal.cells.formula_safe` (no formula runs in the
  operator's spreadsheet).
- CSV is streamed: rows are written as the database cursor yields them, so a long list
  never sits whole in memory. An .xlsx is a zip file, which can only be sent once it is
  finished; it is written with openpyxl's write-only mode (rows flushed to a temporary
  file) and then streamed from that file.
- Times are written in JST, as the screens show them.
"""
from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from flask import Response, stream_with_context
from openpyxl import Workbook

from portal.cells import formula_safe
from portal.rules import Msg, jst
from portal.rules.parse import now_jst

FORMATS = ("csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"
CHUNK_ROWS = 200  # CSV rows per chunk sent
BATCH = 500       # rows fetched per database round trip (see batched)


@dataclass(frozen=True)
class Column:
    """One column: its header (translated when written) and how to read it from a row."""

    header: Any  # a lazy gettext string, a Msg or a plain str
    value: Callable[[Any], Any]


def _header(column: Column) -> str:
    if isinstance(column.header, Msg):
        from portal.i18n import request_language
        return column.header.text(request_language())
    return str(column.header)


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: formula-safe text, JST times without a zone."""
    if isinstance(value, str):
        return formula_safe(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, datetime):
        return jst(value).replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    if isinstance(value, Msg):
        from portal.i18n import request_language
        return formula_safe(value.text(request_language()))
    return formula_safe(str(value))  # lazy strings and the like


def _csv_text(value: Any) -> str:
    if isinstance(value, str):
        return formula_safe(value)
    value = cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(columns: Sequence[Column], rows: Iterable[Any]) -> Iterator[str]:
    """The CSV text in chunks: BOM and header first, then ``CHUNK_ROWS`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([formula_safe(_header(c)) for c in columns])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(c.value(row)) for c in columns])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def xlsx_file(columns: Sequence[Column], rows: Iterable[Any], title: str = "export") -> Any:
    """A finished .xlsx in a temporary file (write-only workbook: rows are not kept)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "export")
    sheet.append([formula_safe(_header(c)) for c in columns])
    for row in rows:
        sheet.append([cell(c.value(row)) for c in columns])
    target = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)
    workbook.save(target)
    target.seek(0)
    return target


def _file_chunks(handle: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while True:
            chunk = handle.read(size)
            if not chunk:
                break
            yield chunk
    finally:
        handle.close()


def export_response(name: str, fmt: str, columns: Sequence[Column], rows: Iterable[Any]) -> Response:
    """The download of a list: ``name`` (ASCII, e.g. ``"bookings-<provider id>"``) becomes the
    file name with today's date; ``fmt`` is ``"csv"`` or ``"xlsx"`` (anything else: 404)."""
    from flask import abort
    if fmt not in FORMATS:
        abort(404)
    filename = f"{name}-{now_jst():%Y%m%d}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store",
               "X-Content-Type-Options": "nosniff"}
    if fmt == "csv":
        body = (chunk.encode("utf-8") for chunk in csv_chunks(columns, rows))
        return Response(stream_with_context(body), mimetype="text/csv", headers={**headers},
                        content_type="text/csv; charset=utf-8")
    handle = xlsx_file(columns, rows, name)
    return Response(_file_chunks(handle), mimetype=XLSX_MIME, headers=headers)


def batched(rows: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    """Rows in lists of ``size``: a list view loads what its rows need (deadlines, names)
    once per batch, never once per row."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def stream_query(query: Any) -> Iterator[Any]:
    """The rows of ``query`` fetched ``BATCH`` at a time from the cursor (large lists).
    The query runs when the response body is written (inside the streamed context), so
    it must be read lazily: a generator, not a result."""
    from portal import db
    yield from db.session().exec(query.execution_options(yield_per=BATCH))


def format_arg(args: Any) -> str:
    fmt = (args.get("format") or "csv").lower()
    return fmt if fmt in FORMATS else ""

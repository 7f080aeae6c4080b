"""Formula-safe cells for everything the portal writes for Excel (CSV and .xlsx).

Excel and LibreOffice run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and tab / carriage return let a value smuggle one in), so a candidate's name
``=HYPERLINK(…)`` would become a live link in an operator's spreadsheet. Every text cell
the portal writes goes through :func:`formula_safe`, which prefixes such a value with an
apostrophe (OWASP "CSV injection"); numbers, dates and ``None`` are written as they are.
Imported text is stored as text and guarded again on the way out.
"""
from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """``value`` as a cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def formula_safe_row(values: Any) -> list[Any]:
    """Every value of a row through :func:`formula_safe`."""
    return [formula_safe(v) for v in values]


def from_cell(text: str) -> str:
    """Text read back from a sheet the portal wrote: the guard apostrophe that
    :func:`formula_safe` added comes off again, so a round trip stores what was entered."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text

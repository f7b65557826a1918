"""User text in spreadsheets stays text (the exports' one rule against formula injection).

XLSX: openpyxl makes a formula of any string starting with "="; `text_cells` sets such cells back to the
string type, so the file stores the text itself (nothing is prefixed, the reader sees exactly what was typed).
CSV has no types: per OWASP's CSV injection guidance a cell starting with "=", "+", "-", "@", tab or carriage
return gets a leading apostrophe, which spreadsheet programs show as text; a cell already starting with an
apostrophe gets one too, so `csv_unescape` gives back exactly the original. Numbers are never touched.
"""

from __future__ import annotations

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def csv_escape(value):
    """A CSV cell safe to open in a spreadsheet: strings starting with a trigger (or an apostrophe) get an
    apostrophe in front; anything else is returned as it is."""
    if isinstance(value, str) and value and (value[0] in TRIGGERS or value[0] == QUOTE):
        return QUOTE + value
    return value


def csv_unescape(value: str) -> str:
    """The cell as it was before `csv_escape` (for ccinspect reading its own CSV back)."""
    if len(value) > 1 and value[0] == QUOTE and (value[1] in TRIGGERS or value[1] == QUOTE):
        return value[1:]
    return value


def csv_row(values) -> list:
    return [csv_escape(v) for v in values]


def text_cell(cell) -> None:
    """A cell openpyxl took for a formula because its string starts with "=": stored as the string."""
    if cell.data_type == "f" and isinstance(cell.value, str):
        cell.data_type = "s"


def text_cells(ws, min_row: int = 1) -> None:
    """Every string cell of the sheet from `min_row` on stored as text: the app writes no formulas, so any
    formula there came from user text."""
    for row in ws.iter_rows(min_row=min_row):
        for cell in row:
            text_cell(cell)


def append_text(ws, row: list) -> None:
    """`ws.append(row)` with every string stored as text."""
    ws.append(row)
    for cell in ws[ws.max_row]:
        text_cell(cell)

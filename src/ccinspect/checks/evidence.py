"""Reading evidence files so that every problem names its file, line and field."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from ccinspect import safezip
from ccinspect.core import textfile
from ccinspect.core.dates import DateParseError, parse_date
from ccinspect.core.errors import InputError

from .model import EvidenceError

TRUE = {"yes", "y", "true", "1", "是", "enabled", "x"}
FALSE = {"no", "n", "false", "0", "否", "", "disabled"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _located(exc: InputError, shown: str) -> EvidenceError:
    return EvidenceError(shown, exc.line or 0, "(encoding)", exc.msg, **exc.params)  # keeps the message id


def read_text(path: Path, shown: str) -> str:
    """Text in UTF-8 (with or without BOM), UTF-16 (as `secedit /export` writes it) or CP950 (Big5, what
    Excel saves on Chinese Windows), through the shared text-file helper."""
    try:
        return textfile.read_text(path).text
    except InputError as exc:
        raise _located(exc, shown) from None


def _lines(path: Path, shown: str) -> Iterator[str]:
    """Decoded lines, streamed; a bad byte is an error at its line."""
    try:
        lines, _ = textfile.open_text(path)
    except InputError as exc:
        raise _located(exc, shown) from None
    with lines:
        while True:
            try:
                yield next(lines)
            except StopIteration:
                return
            except InputError as exc:
                raise _located(exc, shown) from None


@lru_cache(maxsize=8192)
def _parse_date(value: str, field: str) -> dt.date:
    """Dates repeat across the rows of an export: parse each text once (errors are not cached)."""
    return parse_date(value, field=field)


def _norm(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


class Row:
    """One CSV record with typed accessors that raise EvidenceError naming file, line and column."""

    def __init__(self, file: str, line: int, values: dict[str, str]):
        self.file, self.line, self.values = file, line, values

    def err(self, field: str, message: str) -> EvidenceError:
        return EvidenceError(self.file, self.line, field, message)

    def str(self, field: str, required: bool = False) -> str:
        v = (self.values.get(field) or "").strip()
        if required and not v:
            raise self.err(field, "is empty")
        return v

    def date(self, field: str, required: bool = True) -> dt.date | None:
        v = self.str(field)
        if not v:
            if required:
                raise self.err(field, "is empty; expected a date such as 2024-05-31 or 113/05/31")
            return None
        # A timestamp's date part is enough for day-based rules.
        v = re.split(r"[T ]", v, maxsplit=1)[0] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", v) else v
        try:
            return _parse_date(v, field)
        except DateParseError as exc:
            raise self.err(field, str(exc).split(": ", 1)[-1]) from None

    def bool(self, field: str, default: bool | None = None) -> bool:
        v = self.str(field).lower()
        if not v and default is not None:
            return default
        if v in TRUE:
            return True
        if v in FALSE:
            return False
        raise self.err(field, f"{self.values.get(field)!r} is not yes/no")

    def number(self, field: str, required: bool = True) -> float | None:
        v = self.str(field)
        if not v:
            if required:
                raise self.err(field, "is empty; expected a number")
            return None
        try:
            return float(v)
        except ValueError:
            raise self.err(field, f"{v!r} is not a number") from None

    def choice(self, field: str, allowed: set[str], required: bool = True) -> str:
        v = self.str(field).lower()
        if not v and not required:
            return ""
        if v not in allowed:
            raise self.err(field, f"{self.values.get(field)!r} is not one of {', '.join(sorted(allowed))}")
        return v


def read_csv(path: Path, shown: str, required: list[str], aliases: dict[str, str] | None = None) -> list[Row]:
    """Rows of a CSV with a header; column names are case- and space-insensitive."""
    return list(iter_csv(path, shown, required, aliases))


def iter_csv(path: Path, shown: str, required: list[str], aliases: dict[str, str] | None = None) -> Iterator[Row]:
    """Rows streamed one at a time. A PowerShell 5.1 `#TYPE …` line above the header is skipped;
    `aliases` maps other tools' column names (normalised) to ours."""
    reader = csv.reader(_lines(path, shown))
    try:
        header = next(reader)
        if header and header[0].startswith("#TYPE"):
            header = next(reader)
    except StopIteration:
        raise EvidenceError(shown, 1, "(header)", "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise EvidenceError(shown, 1, "(header)", str(exc)) from None
    hline = reader.line_num
    cols = [_norm(c) for c in header]
    if aliases:
        cols = [c if c in required else aliases.get(c, c) for c in cols]
    for need in required:
        if need not in cols:
            raise EvidenceError(shown, hline, need, f"missing column (the header has: {', '.join(cols)})")
    try:
        for rec in reader:
            line = reader.line_num
            if not any(c.strip() for c in rec):
                continue
            if len(rec) != len(cols):
                raise EvidenceError(shown, line, "(row)", f"has {len(rec)} values, the header has {len(cols)}")
            yield Row(shown, line, dict(zip(cols, rec, strict=True)))
    except csv.Error as exc:
        raise EvidenceError(shown, reader.line_num, "(row)", str(exc)) from None


def read_jsonl(path: Path, shown: str) -> list[Row]:
    rows = []
    for n, line in enumerate(read_text(path, shown).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvidenceError(shown, n, "(record)", f"not JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise EvidenceError(shown, n, "(record)", "expected a JSON object per line")
        rows.append(Row(shown, n, {_norm(k): "" if v is None else str(v) for k, v in obj.items()}))
    return rows


def parse_int(value: str, file: str, line: int, field: str) -> int:
    try:
        return int(value.strip(), 0) if value.strip().lower().startswith("0x") else int(value.strip())
    except ValueError:
        raise EvidenceError(file, line, field, f"{value.strip()!r} is not an integer") from None


def iter_kv(text: str, sep: str | None) -> Iterator[tuple[int, str, str]]:
    """(line, key, value) of `key value` (sep None) or `key = value` files; comments and blanks skipped."""
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith(("#", ";")):
            continue
        if sep is None:
            parts = s.split(None, 1)
            yield n, parts[0], parts[1].strip() if len(parts) > 1 else ""
        elif sep in s:
            k, v = s.split(sep, 1)
            yield n, k.strip(), v.split("#", 1)[0].strip()
        else:
            yield n, s, ""  # a bare flag such as `enforce_for_root` or `silent`


def iter_table(path: Path, shown: str, required: list[str], aliases: dict[str, str] | None = None) -> Iterator[Row]:
    """Rows of a CSV or of the first sheet of an .xlsx workbook (what HR keeps training records in);
    a workbook row's `line` is its row number in the sheet."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        yield from iter_csv(path, shown, required, aliases)
        return
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged workbook
        raise EvidenceError(shown, 0, "(workbook)", f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        ws = wb.worksheets[0]
        cols: list[str] | None = None
        for n, values in enumerate(ws.iter_rows(values_only=True), 1):
            cells = ["" if v is None else _cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if cols is None:
                cols = [_norm(c) for c in cells]
                if aliases:
                    cols = [c if c in required else aliases.get(c, c) for c in cols]
                for need in required:
                    if need not in cols:
                        raise EvidenceError(shown, n, need, f"missing column (the header has: {', '.join(cols)})")
                continue
            yield Row(shown, n, dict(zip(cols, cells + [""] * (len(cols) - len(cells)), strict=False)))
        if cols is None:
            raise EvidenceError(shown, 1, "(header)", "the sheet is empty; expected a header row")
    finally:
        wb.close()


def _cell(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)



# What a refused archive is, in the words the inspector needs (safezip's codes)
ARCHIVE_WHAT = {
    "unsafe-name": "path traversal: a member would be written outside the folder",
    "too-large": "a zip bomb: it expands beyond the limit",
    "too-many-members": "too many members (a zip bomb?)",
    "nested": "archives nested too deep",
    "encrypted": "encrypted: its content cannot be checked",
    "executable": "it holds a program or script",
    "corrupt": "damaged",
}
_PROGRAMS = (".exe", ".dll", ".com", ".scr", ".bat", ".cmd", ".ps1", ".vbs", ".js", ".jar", ".msi", ".sh")


def _program(member: str, head: bytes) -> None:
    if member.lower().endswith(_PROGRAMS) or head.startswith((b"MZ", b"\x7fELF")):
        raise safezip.ArchiveError("executable", f"the archive contains a program or script ({member})",
                                   name=member)


def check_archive(path: Path, shown: str) -> None:
    """A ZIP among the evidence is named for what it is: a dangerous one (path traversal, bomb, program
    inside) by its danger; a safe one is not read (unpack it). Office workbooks are checked, then read."""
    if not path.is_file():
        return
    with path.open("rb") as fh:
        head = fh.read(4)
    if not safezip.is_zip(head):
        return
    try:
        safezip.check_zip(str(path), on_member=_program)
    except safezip.ArchiveError as exc:
        raise EvidenceError(shown, 0, "(archive)", f"refused ZIP archive — {ARCHIVE_WHAT.get(exc.code, exc.code)}: "
                                                   f"{exc}") from None
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise EvidenceError(shown, 0, "(archive)", "a ZIP archive: archives are not read; unpack it into the "
                                                   "evidence folder")

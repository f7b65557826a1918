"""The register on disk: a data directory holding continuity.yaml (or continuity.xlsx), and the XLSX workbook.

Every reader validates the whole input before it returns: one bad row anywhere and it raises
`RegisterError` listing every problem with its sheet (record kind), row and column; nothing is written.
Writers replace the target atomically (temporary file in the same directory, then os.replace).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from ccinspect.core import textfile
from ccinspect.core.errors import InputError

from .. import safezip
from ..core.safe_cells import text_cells
from .model import KINDS, Register, reference_problems

REGISTER_YAML = "continuity.yaml"
REGISTER_XLSX = "continuity.xlsx"
README_SHEET = "README"
HEADER_ROW = 1


@dataclass(frozen=True)
class Problem:
    source: str  # file name
    sheet: str  # record kind = sheet name = YAML section
    row: int | None  # spreadsheet row (header is row 1) or the record's 1-based number in the YAML section
    column: str | None  # field name, with its letter in a workbook: "D (date)"
    message: str

    def __str__(self) -> str:
        book = self.source.lower().endswith(".xlsx")  # YAML: section, record number, field
        where = [f"{'sheet' if book else 'section'} {self.sheet}"] if self.sheet else []
        if self.row is not None:
            where.append(f"{'row' if book else 'record'} {self.row}")
        if self.column:
            where.append(f"{'column' if book else 'field'} {self.column}")
        return f"{self.source}: {', '.join(where)}: {self.message}" if where else f"{self.source}: {self.message}"

    def to_dict(self) -> dict:
        return {"source": self.source, "sheet": self.sheet, "row": self.row, "column": self.column,
                "message": self.message}


class RegisterError(InputError):
    """Every problem of a register import; the first one's place is carried as fields."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0] if problems else None
        where = {"file": first.source, "record": f"{first.sheet} {first.row}" if first.sheet and first.row else
                 (first.sheet or None), "field": first.column} if first else {}
        super().__init__("\n".join(str(p) for p in problems), located=True, **where)


def _fields(kind: str) -> list[str]:
    return list(KINDS[kind][0].model_fields)


def build_register(rows: dict[str, list[tuple[int, dict[str, Any]]]], source: str,
                   column_of=lambda kind, field: field, check=None) -> Register:
    """Validate records given as {kind: [(row number, {field: value})]}; all problems, or the register.
    `check(kind, record)` returns more problems of a valid record as (field, message) pairs."""
    problems: list[Problem] = []
    records: dict[str, list] = {k: [] for k in KINDS}
    rownos: dict[str, list[int]] = {k: [] for k in KINDS}
    for kind, items in rows.items():
        model = KINDS[kind][0]
        for rowno, data in items:
            try:
                rec = model.model_validate(data)
                records[kind].append(rec)
                rownos[kind].append(rowno)
                for fld, msg in (check(kind, rec) if check else ()):
                    problems.append(Problem(source, kind, rowno, column_of(kind, fld) if fld else None, msg))
            except ValidationError as exc:
                for err in exc.errors():
                    fld = str(err["loc"][0]) if err["loc"] else None
                    msg = err["msg"].removeprefix("Value error, ")
                    if err["type"] == "extra_forbidden":
                        msg = f"unknown field (known: {', '.join(_fields(kind))})"
                    if err["type"] == "missing":
                        msg = "required, but empty"
                    problems.append(Problem(source, kind, rowno, column_of(kind, fld) if fld else None, msg))
    if problems:
        raise RegisterError(problems)
    reg = Register(**records)
    for kind, i, fld, msg in reference_problems(reg):
        problems.append(Problem(source, kind, rownos[kind][i], column_of(kind, fld), msg))
    if problems:
        raise RegisterError(problems)
    return reg


# --- YAML -----------------------------------------------------------------------------------------------

def read_yaml(path: Path) -> Register:
    src = path.name
    try:
        data = yaml.safe_load(textfile.read_text(path).text) or {}
    except (OSError, yaml.YAMLError, InputError) as exc:
        raise RegisterError([Problem(src, "", None, None, f"cannot read: {exc}")]) from None
    if not isinstance(data, dict):
        raise RegisterError([Problem(src, "", None, None, "expected a mapping of record kinds")])
    unknown = [k for k in data if k not in KINDS]
    if unknown:
        raise RegisterError([Problem(src, k, None, None, f"unknown section (known: {', '.join(KINDS)})")
                             for k in unknown])
    rows: dict[str, list] = {}
    problems = []
    for kind in KINDS:
        items = data.get(kind) or []
        if not isinstance(items, list):
            problems.append(Problem(src, kind, None, None, "expected a list of records"))
            continue
        for i, item in enumerate(items, 1):
            if not isinstance(item, dict):
                problems.append(Problem(src, kind, i, None, "expected a mapping of fields"))
        rows[kind] = [(i, item) for i, item in enumerate(items, 1) if isinstance(item, dict)]
    if problems:
        raise RegisterError(problems)
    return build_register(rows, src)


def _plain(reg: Register) -> dict:
    out: dict[str, list] = {}
    for kind in KINDS:
        recs = []
        for rec in getattr(reg, kind):
            d = rec.model_dump(mode="json", exclude_none=True)
            recs.append({k: v for k, v in d.items() if v != []})
        out[kind] = recs
    return out


def _atomic_write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dump_yaml(reg: Register) -> str:
    head = "# Business continuity register (CC-20000), read by `ccinspect continuity status --data DIR`.\n" \
           "# Times in minutes; dates ISO (ROC dates such as 113/06/30 are accepted on input).\n"
    return head + yaml.safe_dump(_plain(reg), allow_unicode=True, sort_keys=False, width=110)


def save_register(data_dir: Path, reg: Register) -> Path:
    target = Path(data_dir) / REGISTER_YAML
    _atomic_write(target, dump_yaml(reg).encode("utf-8"))
    return target


def load_register(path: Path) -> Register:
    """A data directory (continuity.yaml, else continuity.xlsx) or a register file (.yaml/.yml/.xlsx)."""
    p = Path(path)
    if p.is_dir():
        for name in (REGISTER_YAML, REGISTER_XLSX):
            if (p / name).is_file():
                return load_register(p / name)
        raise RegisterError([Problem(str(p), "", None, None,
                                     f"no register here: expected {REGISTER_YAML} or {REGISTER_XLSX}")])
    if not p.is_file():
        raise RegisterError([Problem(str(p), "", None, None, "no such file or directory")])
    if p.suffix.lower() == ".xlsx":
        return read_workbook(p)
    return read_yaml(p)


# --- XLSX -----------------------------------------------------------------------------------------------

# Column notes for the README sheet and the header comments.
HELP = {
    "systems": ("核心系統（資產清冊分類為核心者）", "Core systems (classified core in the asset inventory)"),
    "impact_analyses": ("營運衝擊分析，每系統每年至少一次 (七)", "Business impact analyses, yearly per system (七)"),
    "fallback_plans": ("人工配合之備援計畫，(二) 五個時間點 moment 1–5", "Manual fallback plans, moments 1–5 of (二)"),
    "dr_coverage": ("異地備援機房建置之核心系統；since 為未來日期表示規劃中", "Core systems at the DR site; a future "
                    "`since` means planned"),
    "drills": ("演練與測試：bcp, ddos, fault_recovery, restore", "Drills and tests: bcp, ddos, fault_recovery, restore"),
    "risk_scenarios": ("風險情境及應變、減災、復原措施 (十四)", "Risk scenarios and response/mitigation/recovery (十四)"),
    "provider_plans": ("委外供應商回復計畫 (十六)", "Providers' recovery plans (十六)"),
    "tolerance_classes": ("可容忍中斷時間分級表（預設為空，須註明來源）", "Tolerable interruption time by class "
                          "(empty by default; name the source)"),
}


def _annotation(kind: str, name: str):
    return KINDS[kind][0].model_fields[name].annotation


def _base(tp):
    """The non-None type of an annotation, and whether it is a list."""
    args = [a for a in get_args(tp) if a is not type(None)] if get_origin(tp) is not None else []
    if get_origin(tp) is list:
        return get_args(tp)[0], True
    if args:
        return _base(args[0])
    return tp, False


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def write_workbook(reg: Register, path: Path) -> Path:
    wb = Workbook()
    readme = wb.active
    readme.title = README_SHEET
    readme.append(["sheet", "說明", "description", "columns"])
    for kind in KINDS:
        zh, en = HELP[kind]
        readme.append([kind, zh, en, ", ".join(_fields(kind))])
    readme.append([])
    readme.append(["", "時間單位為分鐘；日期 YYYY-MM-DD；多值以分號分隔。", "Times in minutes; dates YYYY-MM-DD; "
                   "several values separated by semicolons.", ""])
    readme.append(["", "匯入時任一列有誤即整份不匯入。", "One bad row and nothing is imported.", ""])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for kind in KINDS:
        ws = wb.create_sheet(kind)
        fields = _fields(kind)
        ws.append(fields)
        model = KINDS[kind][0]
        for col, name in enumerate(fields, 1):
            c = ws.cell(HEADER_ROW, col)
            c.font, c.fill = bold, fill
            finfo = model.model_fields[name]
            c.comment = Comment(("required" if finfo.is_required() else "optional") +
                                f"; {_base(finfo.annotation)[0].__name__}", "ccinspect")
            ws.column_dimensions[get_column_letter(col)].width = max(12, len(name) + 4)
        ws.freeze_panes = "A2"
        for rec in getattr(reg, kind):
            ws.append([_cell(getattr(rec, f)) for f in fields])
        for r in ws.iter_rows(min_row=2):
            for c in r:
                if isinstance(c.value, dt.date):
                    c.number_format = "yyyy-mm-dd"
        _validations(ws, kind, fields)
        text_cells(ws)  # a name typed as "=..." is read back as that text, never run as a formula
    buf = tempfile.SpooledTemporaryFile()
    wb.save(buf)
    buf.seek(0)
    _atomic_write(Path(path), buf.read())
    return Path(path)


def _validations(ws, kind: str, fields: list[str]) -> None:
    last = 1000  # validations cover this many data rows
    for col, name in enumerate(fields, 1):
        tp, is_list = _base(_annotation(kind, name))
        if is_list:
            continue
        rng = f"{get_column_letter(col)}2:{get_column_letter(col)}{last}"
        dv = None
        if isinstance(tp, type) and issubclass(tp, Enum):
            dv = DataValidation(type="list", formula1='"' + ",".join(m.value for m in tp) + '"', allow_blank=True)
        elif tp is dt.date:
            dv = DataValidation(type="date", operator="greaterThan", formula1="DATE(1990,1,1)", allow_blank=True)
        elif tp in (float, int) and (name.endswith("minutes") or name.endswith("months")):
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        elif tp is bool:
            dv = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
        if dv is not None:
            dv.error = f"{name}: invalid value"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(rng)


_TRUE = {"true", "yes", "y", "1", "是", "有", "v", "✓"}
_FALSE = {"false", "no", "n", "0", "否", "無", ""}


def _read_value(v: Any, tp, is_list: bool) -> Any:
    if isinstance(v, dt.datetime):
        v = v.date()
    if isinstance(v, str):
        v = v.strip()
        if v == "":
            return None
    if tp is bool and isinstance(v, str) and not is_list:
        low = v.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    if tp is str and isinstance(v, int | float) and not isinstance(v, bool) and not is_list:
        return str(int(v)) if float(v).is_integer() else str(v)
    return v


def _short(v: Any, n: int = 60) -> str:
    t = str(v)
    return t if len(t) <= n else t[:n] + "…"


def _read_sheet(ws, kind: str, src: str, out: list, letters: dict, problems: list, at: list) -> None:
    """One sheet's rows into `out` as (row number, data); `at[0]` is the row being read (openpyxl parses as it
    goes, so a damaged part of the sheet surfaces as an exception there)."""
    fields = _fields(kind)
    it = ws.iter_rows(values_only=True)
    header = next(it, None) or ()
    cols: dict[int, str] = {}
    for i, h in enumerate(header):
        if h is None or str(h).strip() == "":
            continue
        h = str(h).strip()
        letter = get_column_letter(i + 1)
        if h not in fields:
            problems.append(Problem(src, kind, HEADER_ROW, f"{letter} ({_short(h)})",
                                    f"unknown column (expected: {', '.join(fields)})"))
        elif h in cols.values():
            problems.append(Problem(src, kind, HEADER_ROW, f"{letter} ({h})", "duplicate column"))
        else:
            cols[i] = h
            letters[h] = letter
    model = KINDS[kind][0]
    for f in fields:
        if f not in cols.values() and model.model_fields[f].is_required():
            problems.append(Problem(src, kind, HEADER_ROW, f, "required column missing"))
    rowno = HEADER_ROW
    while True:
        at[0] = rowno + 1
        values = next(it, None)
        if values is None:
            break
        rowno += 1
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        data = {}
        for i, v in enumerate(values):
            if i in cols:
                tp, is_list = _base(_annotation(kind, cols[i]))
                val = _read_value(v, tp, is_list)
                if val is not None:
                    data[cols[i]] = val
            elif v is not None and str(v).strip():
                problems.append(Problem(src, kind, rowno, get_column_letter(i + 1),
                                        "value in a column without a header"))
        out.append((rowno, data))


WORKBOOK_MAX_MEMBERS = 1000
WORKBOOK_MAX_UNZIPPED = 128 * 1024 * 1024  # openpyxl holds the shared strings in memory


def read_workbook(path, *, source: str | None = None, check=None) -> Register:
    """The register in a workbook (a path, or a binary file object with `source` naming it). The archive is
    checked first (member count, expanded size: a zip bomb is refused before openpyxl inflates it); any
    problem, including XML openpyxl cannot read, is a RegisterError naming sheet, row and column.
    `check(kind, record)` may add problems of its own as (field, message) pairs (the web app's column sizes)."""
    src = source or Path(path).name
    try:
        safezip.check_zip(path, max_members=WORKBOOK_MAX_MEMBERS, max_unzipped=WORKBOOK_MAX_UNZIPPED,
                          max_depth=1, verify=False)
    except safezip.ArchiveError as exc:
        raise RegisterError([Problem(src, "", None, None, f"not an XLSX workbook we can open safely: {exc}")]) \
            from None
    finally:
        if hasattr(path, "seek"):
            path.seek(0)
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises several kinds for non-workbooks
        raise RegisterError([Problem(src, "", None, None, f"not an XLSX workbook: {exc}")]) from None
    try:
        return _read_book(wb, src, check)
    finally:
        wb.close()


def _read_book(wb, src: str, check) -> Register:
    problems: list[Problem] = []
    for name in wb.sheetnames:
        if name not in KINDS and name != README_SHEET:
            problems.append(Problem(src, name, None, None,
                                    f"unknown sheet (expected: {', '.join(KINDS)}; see `ccinspect continuity "
                                    "template`)"))
    for kind in KINDS:
        if kind not in wb.sheetnames:
            problems.append(Problem(src, kind, None, None, "sheet missing"))
    if problems:
        raise RegisterError(problems)
    rows: dict[str, list] = {}
    letters: dict[str, dict[str, str]] = {}
    for kind in KINDS:
        rows[kind], letters[kind], at = [], {}, [HEADER_ROW]
        try:
            _read_sheet(wb[kind], kind, src, rows[kind], letters[kind], problems, at)
        except Exception as exc:  # XML openpyxl cannot parse, a cell it cannot convert, a bad reference
            problems.append(Problem(src, kind, at[0], None,
                                    f"the sheet cannot be read from this row on (damaged or unsupported XML): "
                                    f"{type(exc).__name__}: {str(exc)[:200]}"))
    if problems:
        raise RegisterError(problems)

    def column_of(kind: str, fld: str) -> str:
        letter = letters[kind].get(fld)
        return f"{letter} ({fld})" if letter else fld

    return build_register(rows, src, column_of, check)


def import_workbook(xlsx: Path, data_dir: Path) -> tuple[Register, Path]:
    """Validate the whole workbook, then write DIR/continuity.yaml atomically; nothing is written on error."""
    reg = read_workbook(xlsx)
    return reg, save_register(data_dir, reg)

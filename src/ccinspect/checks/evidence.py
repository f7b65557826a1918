"""Reading evidence files so that every problem names its file, line and field."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from ccinspect.core.dates import DateParseError, parse_date

from .model import EvidenceError

TRUE = {"yes", "y", "true", "1", "是", "enabled", "x"}
FALSE = {"no", "n", "false", "0", "否", "", "disabled"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def read_text(path: Path, shown: str) -> str:
    """Text in UTF-8 or, as `secedit /export` writes it, UTF-16 with a byte-order mark."""
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise EvidenceError(shown, line, "(encoding)", "not UTF-8 or UTF-16 text") from None


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
            return parse_date(v, field=field)
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


def read_csv(path: Path, shown: str, required: list[str]) -> list[Row]:
    """Rows of a CSV with a header; column names are case- and space-insensitive."""
    text = read_text(path, shown)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise EvidenceError(shown, 1, "(header)", "the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise EvidenceError(shown, 1, "(header)", str(exc)) from None
    cols = [_norm(c) for c in header]
    for need in required:
        if need not in cols:
            raise EvidenceError(shown, 1, need, f"missing column (the header has: {', '.join(cols)})")
    rows = []
    try:
        for rec in reader:
            line = reader.line_num
            if not any(c.strip() for c in rec):
                continue
            if len(rec) != len(cols):
                raise EvidenceError(shown, line, "(row)", f"has {len(rec)} values, the header has {len(cols)}")
            rows.append(Row(shown, line, dict(zip(cols, rec, strict=True))))
    except csv.Error as exc:
        raise EvidenceError(shown, reader.line_num, "(row)", str(exc)) from None
    return rows


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

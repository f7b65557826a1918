"""Input adapters: every supported log format becomes canonical login events.

The canonical form (CSV or JSON Lines with a header) is `ts,account,ip,result` plus the optional
`reason, channel, user_agent, device_id, country`. Canonical CSV files are read by DuckDB
directly; every other format is converted, in a streaming pass, into a canonical CSV in the
run's work directory. Malformed lines are counted with file and line, never fatal.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
import ipaddress
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ccinspect.core.errors import InputError as _InputError
from ccinspect.core.errors import place_of

CANONICAL = ["ts", "account", "ip", "result", "reason", "channel", "user_agent", "device_id", "country"]
REQUIRED = ["ts", "account", "ip", "result"]
RESULTS = ("success", "failure")
TAIPEI = ZoneInfo("Asia/Taipei")

FORMATS = ("auto", "csv", "jsonl", "sshd", "evtx", "winxml", "wincsv", "json")


class InputError(_InputError):
    """An input that cannot be read at all (missing file, wrong header): names file, line, field."""

    def __init__(self, message, **where):
        # older messages say where in their text ("path: line 3: ..."); the place is still carried as fields
        if isinstance(message, str) and not where:
            where = {"located": True, **place_of(message)}
        super().__init__(message, **where)


@dataclass
class Problem:
    file: str
    line: int | str
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "field": self.field, "error": self.message}


@dataclass
class Problems:
    """Malformed input, counted in full and sampled for the report."""

    max_samples: int = 1000
    count: int = 0
    by_file: Counter = field(default_factory=Counter)
    samples: list[Problem] = field(default_factory=list)

    def add(self, file: str | Path, line: int | str, fld: str, message: str, n: int = 1) -> None:
        self.count += n
        self.by_file[str(file)] += n
        if len(self.samples) < self.max_samples:
            self.samples.append(Problem(str(file), line, fld, message))


@dataclass
class Source:
    """One file as the engine reads it."""

    origin: Path            # the file the user gave
    path: Path              # the canonical CSV DuckDB scans (origin itself for canonical CSV)
    fmt: str
    columns: list[str]      # canonical columns present in `path`
    events: int | None = None   # known after conversion; None when DuckDB reads directly
    ignored: int = 0        # lines that are not login events (other programs, other event ids)
    compression: str = "none"


def expand(patterns: Iterable[str]) -> list[Path]:
    """Files from paths and globs, in the order given, without duplicates."""
    out: list[Path] = []
    seen: set[Path] = set()
    for pat in patterns:
        hits = sorted(glob.glob(pat, recursive=True)) if any(c in pat for c in "*?[") else [pat]
        if not hits:
            raise InputError(f"{pat}: no file matches")
        for h in hits:
            p = Path(h)
            if not p.is_file():
                raise InputError(f"{p}: no such file")
            if p.resolve() not in seen:
                seen.add(p.resolve())
                out.append(p)
    return out


def is_gzip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_text(path: Path) -> io.TextIOBase:
    """Text stream of a plain or gzip file; undecodable bytes are replaced, not fatal."""
    if is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return path.open("r", encoding="utf-8-sig", errors="replace", newline="")


def head(path: Path, n: int = 4096) -> str:
    with open_text(path) as f:
        return f.read(n)


def detect(path: Path, mapping: bool = False) -> str:
    """Guess a file's format from its first bytes."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(b"ElfFile"):
        return "evtx"
    text = head(path).lstrip("\ufeff \r\n\t")
    first = text.splitlines()[0] if text else ""
    if text.startswith("<"):
        return "winxml"
    if text.startswith("{"):
        return "json" if mapping else "jsonl"
    cols = [c.strip().strip('"').lower() for c in next(csv.reader([first]), [])]
    if set(REQUIRED) <= set(cols):
        return "csv"
    if "event id" in cols or ("id" in cols and "message" in cols):
        return "wincsv"
    from .sshd import looks_like_syslog

    if looks_like_syslog(text):
        return "sshd"
    raise InputError(
        f"{path}: line 1: cannot tell the format (expected a CSV header with {','.join(REQUIRED)}, "
        "JSON Lines, OpenSSH syslog, or a Windows Security export); use --input-format"
    )


def check_ip(value: str) -> str | None:
    """The address in canonical text form, or None when it is not an IP address."""
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


def parse_ts(value: str) -> str | None:
    """ISO 8601 text DuckDB can cast (offset kept; none means Asia/Taipei), or None."""
    v = value.strip()
    if not v:
        return None
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00") if v.endswith("Z") else v)
    except ValueError:
        return None
    return dt.isoformat()


class CanonicalWriter:
    """Streams canonical rows into a CSV the engine scans."""

    def __init__(self, path: Path):
        self.path = path
        self._f = path.open("w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f)
        self._w.writerow(CANONICAL)
        self.count = 0

    def write(self, row: dict) -> None:
        self._w.writerow([row.get(c) or "" for c in CANONICAL])
        self.count += 1

    def close(self) -> None:
        self._f.close()


def convert(origin: Path, fmt: str, rows: Iterator[dict], work_dir: Path, index: int) -> Source:
    out = work_dir / f"{index:04d}_{origin.name}.canonical.csv"
    w = CanonicalWriter(out)
    ignored = 0
    try:
        for row in rows:
            if row is None:
                ignored += 1
            else:
                w.write(row)
    finally:
        w.close()
    return Source(origin=origin, path=out, fmt=fmt, columns=list(CANONICAL), events=w.count, ignored=ignored)


def prepare(
    paths: list[Path],
    work_dir: Path,
    problems: Problems,
    *,
    fmt: str = "auto",
    mapping: dict | None = None,
    year: int | None = None,
) -> list[Source]:
    """Turn every input file into a Source the engine can scan."""
    from . import canonical, jsonlog, sshd, windows

    work_dir.mkdir(parents=True, exist_ok=True)
    sources = []
    for i, p in enumerate(paths):
        f = detect(p, mapping is not None) if fmt == "auto" else fmt
        if f == "csv":
            sources.append(canonical.csv_source(p))
        elif f == "jsonl":
            sources.append(convert(p, f, jsonlog.rows(p, jsonlog.IDENTITY, problems), work_dir, i))
        elif f == "json":
            if mapping is None:
                raise InputError(f"{p}: a JSON access log needs --mapping CONFIG")
            sources.append(convert(p, f, jsonlog.rows(p, mapping, problems), work_dir, i))
        elif f == "sshd":
            sources.append(convert(p, f, sshd.rows(p, problems, year=year), work_dir, i))
        elif f == "evtx":
            sources.append(convert(p, f, windows.evtx_rows(p, problems), work_dir, i))
        elif f == "winxml":
            sources.append(convert(p, f, windows.xml_rows(p, problems), work_dir, i))
        elif f == "wincsv":
            sources.append(convert(p, f, windows.csv_rows(p, problems), work_dir, i))
        else:
            raise InputError(f"{p}: unknown input format {f!r} (one of {', '.join(FORMATS)})")
    return sources


def validate_row(row: dict, problems: Problems, file: Path, line: int | str) -> dict | None:
    """Check the four required fields of a converted row; None (and a problem) when one is bad."""
    ts = parse_ts(str(row.get("ts") or ""))
    if ts is None:
        problems.add(file, line, "ts", f"not an ISO 8601 time: {str(row.get('ts'))[:60]!r}")
        return None
    acct = str(row.get("account") or "").strip()
    if not acct:
        problems.add(file, line, "account", "empty account")
        return None
    ip = check_ip(str(row.get("ip") or ""))
    if ip is None:
        problems.add(file, line, "ip", f"not an IP address: {str(row.get('ip'))[:60]!r}")
        return None
    res = str(row.get("result") or "").strip().lower()
    if res not in RESULTS:
        problems.add(file, line, "result", f"expected success or failure, got {res[:30]!r}")
        return None
    row.update(ts=ts, account=acct, ip=ip, result=res)
    return row

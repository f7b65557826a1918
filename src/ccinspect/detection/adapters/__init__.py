"""Input adapters: every supported log format becomes canonical login events.

The canonical form (CSV or JSON Lines with a header) is `ts,account,ip,result` plus the optional
`reason, channel, user_agent, device_id, country`. Canonical CSV files are read by DuckDB
directly; every other format is converted, in a streaming pass, into a canonical CSV in the
run's work directory whose rows also carry their source (`source_file`, `source_line`) and
`flags`. Each file gets a `FileAccount` (accounting.py): every line is an event, not a login
event (by kind) or malformed; one unreadable file never stops the others.
"""

from __future__ import annotations

import codecs
import csv
import functools
import glob
import io
import ipaddress
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ccinspect.core import textfile
from ccinspect.core.errors import InputError as CoreInputError
from ccinspect.core.errors import place_of

from .accounting import FileAccount

CANONICAL = ["ts", "account", "ip", "result", "reason", "channel", "user_agent", "device_id", "country"]
# The canonical event with its source reference (see accounting.py and docs/logins.md).
EVENT_COLUMNS = [*CANONICAL, "source_file", "source_line", "flags"]
REQUIRED = ["ts", "account", "ip", "result"]
RESULTS = ("success", "failure")
TAIPEI = ZoneInfo("Asia/Taipei")



class InputError(CoreInputError):
    """The kernel's located error (file, line, field, message id in zh/en); a ValueError, as before."""

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
    """Malformed input, counted in full and sampled for the report; `files` holds each file's account."""

    max_samples: int = 1000
    count: int = 0
    by_file: Counter = field(default_factory=Counter)
    samples: list[Problem] = field(default_factory=list)
    files: dict[str, FileAccount] = field(default_factory=dict)

    def add(self, file: str | Path, line: int | str, fld: str, message: str, n: int = 1, *, _account: bool = True) -> None:
        self.count += n
        self.by_file[str(file)] += n
        if len(self.samples) < self.max_samples:
            self.samples.append(Problem(str(file), line, fld, message))
        acct = self.files.get(str(file)) if _account else None
        if acct is not None:  # found by the engine or a reader that reports itself: the file's account too
            acct.malformed += n
            acct.lines += n
            if len(acct.samples) < 20:
                acct.samples.append({"line": line, "field": fld, "reason": message})

    def open_file(self, path: str | Path, fmt: str, detected_by: str, now: datetime | None = None) -> FileAccount:
        acct = FileAccount(file=str(path), format=fmt, detected_by=detected_by, now=now, problems=self)
        self.files[str(path)] = acct
        return acct

    @property
    def partial(self) -> bool:
        """Some input was unreadable, damaged or mostly malformed: the run must not exit 0."""
        return any(a.status in ("partial", "unreadable") for a in self.files.values())

    def inputs(self) -> list[dict]:
        return [a.as_dict() for a in self.files.values()]


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
    account: FileAccount | None = None


@dataclass
class ReadContext:
    """What a reader needs besides the file: zone for times without offset, year for syslog, run time."""

    tz: ZoneInfo = TAIPEI
    year: int | None = None
    now: datetime | None = None
    mapping: object | None = None   # mapping.Mapping for mapped formats


@dataclass
class Reader:
    """A format: `sniff(lines)` says whether the first non-blank lines look like it; `read` yields events."""

    name: str
    label: str                                   # human name, used in "not <label>" reasons
    read: Callable[[Path, FileAccount, ReadContext], Iterator[dict]]
    sniff: Callable[[list[str]], bool] | None = None
    needs_mapping: bool = False


READERS: dict[str, Reader] = {}


def register(reader: Reader) -> Reader:
    READERS[reader.name] = reader
    return reader


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
    """Text stream of a plain or gzip file in UTF-8 (with or without BOM), UTF-16 or CP950, as core.textfile
    detects it; undecodable bytes are replaced, not fatal."""
    return textfile.open_stream(path, errors="replace")[0]


def head(path: Path, n: int = 4096) -> str:
    with open_text(path) as f:
        return f.read(n)


def _open_lines(path: Path, errors: str = "strict"):
    """The kernel's text reader; a text file with a stray NUL (a hostile user name) is still text.

    The kernel calls a file with NUL bytes binary unless it is UTF-16; one NUL in a log line must
    not make the day's log unreadable, so a file whose first bytes are valid UTF-8 and under 1 % NUL
    is read as UTF-8 (undecodable lines later on are then counted as damaged)."""
    try:
        return textfile.open_text(path, errors=errors)
    except CoreInputError as exc:
        if exc.message_id != "text.binary":
            raise
        with textfile._raw(path) as raw:
            head = raw.read(textfile.SAMPLE)
        try:  # text apart from its NULs, and few of them
            codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        except UnicodeDecodeError:
            raise exc from None
        if head.count(0) * 100 >= max(len(head), 1):
            raise
        return textfile.open_text(path, encoding="utf-8", errors=errors)


def lines_of(path: Path, acct: FileAccount) -> Iterator[tuple[int, str]]:
    """(line number, text without its line ending) through the kernel's text reader.

    A line that cannot be decoded is counted as damaged with its exact number and skipped; a truncated
    or corrupt gzip stream ends the file, counted as damaged. Blank lines are counted here."""
    lines, acct.encoding = _open_lines(path)
    with lines:
        while True:
            try:
                text = next(lines)
            except StopIteration:
                return
            except CoreInputError as exc:
                lines.skip_bad_line()
                acct.lines += 1
                acct.damaged(lines.line, exc.message)
                continue
            except (EOFError, OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
                acct.damaged(lines.line + 1, f"compressed data ends or is corrupt; rest of file lost ({exc})")
                return
            acct.lines += 1
            text = text.rstrip("\r\n")
            if not text.strip():
                acct.blank += 1
                acct.skip("blank")
                continue
            yield lines.line, text


def first_lines(path: Path, n: int = 30) -> list[str]:
    """The first non-blank lines of a text file, for sniffing (decoded as the readers will)."""
    out: list[str] = []
    lines, _ = _open_lines(path, errors="replace")
    with lines:
        try:
            for text in lines:
                if text.strip():
                    out.append(text.rstrip("\r\n"))
                    if len(out) >= n:
                        break
        except (EOFError, OSError, zlib.error):
            pass
    return out


def detect(path: Path, mapping: bool = False) -> str:
    """Guess a file's format from its content."""
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(b"ElfFile"):
        return "evtx"
    if path.stat().st_size == 0:
        return "empty"
    _load_readers()
    lines = first_lines(path)
    if not lines:
        return "empty"
    lines[0] = lines[0].lstrip("\ufeff")
    if lines[0].lstrip().startswith(("<?xml", "<Events", "<Event ", "<Event>")):
        return "winxml"
    cols = [c.strip().strip('"').lower() for c in next(csv.reader([lines[0]]), [])]
    if set(REQUIRED) <= set(cols):
        return "csv"
    if "event id" in cols or ("id" in cols and "message" in cols) or lines[0].startswith("#TYPE"):
        return "wincsv"
    for name in SNIFF_ORDER:
        r = READERS.get(name)
        if r is not None and r.sniff is not None and r.sniff(lines):
            return name
    if lines[0].lstrip().startswith("{") and mapping:
        return "mapping"
    raise InputError(
        f"{path}: line 1: cannot tell the format (expected a CSV header with {','.join(REQUIRED)}, JSON Lines, "
        "OpenSSH syslog or journal, a web access log (IIS, nginx, Apache), or a Windows Security export); "
        "use --input-format"
    )


# Specific before general: journal JSON before canonical JSON Lines, IIS before syslog.
SNIFF_ORDER = ("journaljson", "jsonl", "webjson", "iis", "combined", "sshd")


# A dotted quad already in canonical form (no leading zeros): most addresses, checked without ipaddress.
_V4 = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}")


def check_ip(value: str) -> str | None:
    """The address in canonical text form, or None when it is not an IP address."""
    if _V4.fullmatch(value):
        return value
    return _check_ip(value)


@functools.lru_cache(maxsize=1 << 16)
def _check_ip(value: str) -> str | None:
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
    """Streams canonical rows (with their source reference) into a CSV the engine scans."""

    def __init__(self, path: Path, columns: list[str] = EVENT_COLUMNS):
        self.path = path
        self.columns = columns
        self._f = path.open("w", newline="", encoding="utf-8")
        self._w = csv.writer(self._f)
        self._w.writerow(columns)
        self.count = 0

    def write(self, row: dict) -> None:
        self._w.writerow(map(row.get, self.columns))  # csv writes None as an empty field
        self.count += 1

    def close(self) -> None:
        self._f.close()


def _load_readers() -> None:
    from . import canonical, jsonlog, mapping, sshd, weblog, windows  # noqa: F401 - they register themselves


def _reader_for(fmt: str) -> Callable[[Path, FileAccount, ReadContext], Iterator[dict]]:
    _load_readers()
    return READERS[fmt].read


def convert(origin: Path, fmt: str, events: Iterator[dict], work_dir: Path, index: int,
            acct: FileAccount | None = None) -> Source:
    out = work_dir / f"{index:04d}_{origin.name}.canonical.csv"
    w = CanonicalWriter(out)
    try:
        for row in events:
            w.write(row)
    finally:
        w.close()
    ignored = sum(acct.not_login.values()) if acct else 0
    return Source(origin=origin, path=out, fmt=fmt, columns=list(EVENT_COLUMNS), events=w.count, ignored=ignored,
                  account=acct)


FORMATS = ("auto", "csv", "jsonl", "sshd", "journaljson", "iis", "combined", "webjson", "mapping",
           "evtx", "winxml", "wincsv", "json")


def read_file(path: Path, fmt: str, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
    """The events of one file in a known format, accounted in `acct`."""
    yield from _reader_for(fmt)(path, acct, ctx)


def open_input(path: Path, problems: Problems, *, fmt: str = "auto", mapping=None,
               now: datetime | None = None) -> tuple[str, FileAccount]:
    """The format of one input (detected or forced) and its account; raises InputError when unreadable."""
    _load_readers()
    if fmt == "json":  # the earlier name of a mapped JSON log
        fmt = "mapping"
    if fmt == "auto" and mapping is not None and getattr(mapping, "format", None):
        return "mapping", problems.open_file(path, "mapping", "mapping", now)
    if fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(f"{path}: unknown input format {fmt!r} (one of {', '.join(FORMATS)})")
        if fmt == "mapping" and mapping is None:
            raise InputError(f"{path}: the mapping format needs --mapping CONFIG")
        return fmt, problems.open_file(path, fmt, "option", now)
    acct = problems.open_file(path, "?", "content", now)
    f = detect(path, mapping is not None)
    if f == "mapping" and mapping is None:
        raise InputError(f"{path}: a JSON access log needs --mapping CONFIG")
    acct.format = f
    return f, acct


def prepare(
    paths: list[Path],
    work_dir: Path,
    problems: Problems,
    *,
    fmt: str = "auto",
    mapping=None,
    year: int | None = None,
    tz: ZoneInfo | str | None = None,
    now: datetime | None = None,
) -> list[Source]:
    """Turn every input file into a Source the engine can scan.

    A file that cannot be read at all is accounted as unreadable and the others go on; only when no
    file at all is readable does this raise (nothing to scan)."""
    from . import canonical
    from .mapping import Mapping, from_legacy

    if isinstance(mapping, dict):
        mapping = from_legacy(mapping)
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or TAIPEI)
    ctx = ReadContext(tz=zone, year=year, now=now or datetime.now(zone), mapping=mapping)
    work_dir.mkdir(parents=True, exist_ok=True)
    sources: list[Source] = []
    errors: list[CoreInputError] = []
    for i, p in enumerate(paths):
        acct = None
        try:
            f, acct = open_input(p, problems, fmt=fmt, mapping=mapping, now=ctx.now)
            if f == "empty":
                acct.format = "empty"
            elif f == "csv":
                src = canonical.csv_source(p)
                src.account = acct
                acct.encoding = "utf-8"
                sources.append(src)
            else:
                if f == "mapping" and not isinstance(mapping, Mapping):
                    raise InputError(f"{p}: the mapping format needs --mapping CONFIG")
                sources.append(convert(p, f, read_file(p, f, acct, ctx), work_dir, i, acct))
        except (CoreInputError, OSError) as exc:
            err = exc if isinstance(exc, CoreInputError) else InputError(f"{p}: cannot read: {exc.strerror or exc}")
            if err.file is None and not str(err).startswith(str(p)):
                err = InputError(f"{p}: {err}")
            errors.append(err)
            if acct is None:
                acct = problems.open_file(p, fmt if fmt != "auto" else "?", "content" if fmt == "auto" else "option")
            acct.error = err.to_dict()
        if acct is not None:
            acct.finish()
    if paths and len(errors) == len(paths):
        e = errors[0]  # as this package's error, so callers catching it catch the kernel's too
        raise e if isinstance(e, InputError) else InputError(
            e.msg, file=e.file, line=e.line, record=e.record, field=e.field, expected=e.expected,
            located=e.located, **e.params)
    if not sources:  # only empty files: the engine still runs, on no events
        out = work_dir / "empty.canonical.csv"
        out.write_text(",".join(EVENT_COLUMNS) + "\n", encoding="utf-8")
        sources.append(Source(origin=out, path=out, fmt="csv", columns=list(EVENT_COLUMNS), events=0))
    return sources


def validate_row(row: dict, problems, file: Path | str, line: int | str) -> dict | None:
    """Check the four required fields of a converted row; None (and a problem) when one is bad.

    `problems` is a FileAccount (new readers) or Problems (readers that report themselves)."""
    bad = problems.bad if isinstance(problems, FileAccount) else (lambda ln, f, m: problems.add(file, ln, f, m))
    ts = parse_ts(str(row.get("ts") or ""))
    if ts is None:
        bad(line, "ts", f"not an ISO 8601 time: {str(row.get('ts'))[:60]!r}")
        return None
    acct = str(row.get("account") or "").strip()
    if not acct:
        bad(line, "account", "empty account")
        return None
    ip = check_ip(str(row.get("ip") or ""))
    if ip is None:
        bad(line, "ip", f"not an IP address: {str(row.get('ip'))[:60]!r}")
        return None
    res = str(row.get("result") or "").strip().lower()
    if res not in RESULTS:
        bad(line, "result", f"expected success or failure, got {res[:30]!r}")
        return None
    row.update(ts=ts, account=acct, ip=ip, result=res)
    return row

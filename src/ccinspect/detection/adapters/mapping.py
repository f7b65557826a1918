"""A declarative mapping: the trading platform's own login logs and database extracts as login events.

A small YAML file says how to split the file into records and which field of a record is what:

    format: regex            # jsonl | csv | regex (one record a line) | iis | combined | webjson
    pattern: '^(?P<time>\\S+ \\S+) \\[\\w+\\] LOGIN (?P<outcome>OK|FAIL) id=(?P<id>\\S+) ip=(?P<ip>\\S+)'
    fields:                  # canonical field: JSON path, CSV column or regex group (a list: first present)
      ts: time
      account: id
      ip: ip
      result: outcome
      reason: {value: password}        # a constant
      channel: {value: web}
    ts_format: '%Y-%m-%d %H:%M:%S'      # iso | epoch | epoch_ms | a strptime pattern
    timezone: Asia/Taipei               # for times without an offset (default: --timezone)
    login:                              # which records are login attempts; the others are "not a login event"
      field: path
      values: [/api/v1/login]           # and/or regex: '^/api/v\\d+/login$'
    results:                            # the result field's values (or regular expressions)
      success: [OK, '200']
      failure: [FAIL, '401', '403']

Validated when loaded (pydantic); every error names the file and the field path (`fields.account`).
Examples for the common cases are in docs/logins-mappings/.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import CANONICAL, FileAccount, InputError, ReadContext, Reader, check_ip, lines_of, register
from .clock import Clock

FORMATS = ("jsonl", "csv", "regex", "iis", "combined", "webjson")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Const(_Strict):
    value: str


class Login(_Strict):
    field: str
    values: list[str] = Field(default_factory=list)
    regex: str | None = None
    methods: list[str] = Field(default_factory=list)   # web formats: only these request methods
    method_field: str | None = None

    @model_validator(mode="after")
    def _one(self):
        if not self.values and not self.regex:
            raise ValueError("give 'values' (a list) or 'regex' that mark a login record")
        if self.regex:
            _compile(self.regex)
        return self


class Results(_Strict):
    success: list[str] = Field(default_factory=list)
    failure: list[str] = Field(default_factory=list)
    success_regex: str | None = None
    failure_regex: str | None = None

    @field_validator("success", "failure", mode="before")
    @classmethod
    def _texts(cls, v):
        if isinstance(v, str | int | float):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, str | int | float) and not isinstance(x, bool) for x in v):
            raise ValueError("expected a list of values such as [OK, '200']")
        return [str(x) for x in v]

    @model_validator(mode="after")
    def _some(self):
        if not (self.success or self.failure or self.success_regex or self.failure_regex):
            raise ValueError("say which values mean success and which mean failure")
        for rx in (self.success_regex, self.failure_regex):
            if rx:
                _compile(rx)
        return self


FieldRef = str | list[str] | Const


class Mapping(_Strict):
    format: Literal["jsonl", "csv", "regex", "iis", "combined", "webjson"] = "jsonl"
    pattern: str | None = None
    delimiter: str = ","
    header: bool = True
    columns: list[str] = Field(default_factory=list)
    fields: dict[str, FieldRef]
    ts_format: str = "iso"
    timezone: str | None = None
    login: Login | None = None
    results: Results = Field(default_factory=lambda: Results(success=["success"], failure=["failure"]))
    source: str = Field(default="", exclude=True)

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict):
        unknown = [k for k in v if k not in CANONICAL]
        if unknown:
            raise ValueError(f"{unknown[0]}: not a canonical field ({', '.join(CANONICAL)})")
        missing = [k for k in ("ts", "account", "ip", "result") if k not in v]
        if missing:
            raise ValueError(f"{missing[0]}: required (the field, column or group that holds it)")
        for k, ref in v.items():
            if isinstance(ref, str) and not ref or isinstance(ref, list) and (not ref or not all(ref)):
                raise ValueError(f"{k}: expected a field name or JSON path such as user.name")
        return v

    @field_validator("ts_format")
    @classmethod
    def _tsf(cls, v: str):
        if v not in ("iso", "epoch", "epoch_ms") and "%" not in v:
            raise ValueError("expected iso, epoch, epoch_ms or a strptime pattern such as '%Y-%m-%d %H:%M:%S'")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Taipei)") from None
        return v

    @field_validator("delimiter")
    @classmethod
    def _delim(cls, v):
        if len(v) != 1:
            raise ValueError("expected one character, such as ',' or '|' or '\\t'")
        return v

    @model_validator(mode="after")
    def _pattern(self):
        if self.format == "regex":
            if not self.pattern:
                raise ValueError("format regex needs 'pattern' with named groups")
            rx = _compile(self.pattern)
            for k, ref in self.fields.items():
                for name in ([ref] if isinstance(ref, str) else ref if isinstance(ref, list) else []):
                    if name not in rx.groupindex:
                        raise ValueError(f"fields.{k}: the pattern has no group (?P<{name}>…)")
        elif self.pattern:
            raise ValueError("'pattern' is only for format: regex")
        if self.format == "csv" and not self.header and not self.columns:
            raise ValueError("a CSV without a header row needs 'columns' (the names of its columns, in order)")
        return self


def _compile(rx: str) -> re.Pattern:
    try:
        return re.compile(rx)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


_UNION_TAGS = ("str", "list[str]", "Const", "int", "float")


def _loc(loc: tuple) -> str:
    """pydantic's error location without the union members it tried (fields.ts, not fields.ts.str)."""
    return ".".join(str(x) for x in loc if str(x) not in _UNION_TAGS and not str(x).startswith("function-"))


def load_mapping(path: str | Path) -> Mapping:
    """A mapping file, validated; InputError names the file and the field path."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{p}: cannot read mapping: {exc.strerror or exc}") from None
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" line {line + 1}:" if line is not None else ""
        raise InputError(f"{p}:{at} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(cfg, dict):
        raise InputError(f"{p}: a mapping is a YAML table with 'format' and 'fields'")
    try:
        m = from_legacy(cfg)
    except ValidationError as exc:
        errs = exc.errors()
        err = next((e for e in errs if e["type"] == "extra_forbidden"), errs[0])  # a misspelt key explains the rest
        where = _loc(err["loc"]) or "(top)"
        msg = err["msg"].removeprefix("Value error, ")
        head, sep, rest = msg.partition(": ")
        if where == "fields" and sep and head.isidentifier():  # the validator names the canonical field
            where, msg = f"fields.{head}", rest
        if err["type"] == "extra_forbidden":
            msg = "not a mapping setting (format, pattern, delimiter, header, columns, fields, ts_format, timezone, login, results)"
        elif err["type"] == "missing":
            msg = "required"
        raise InputError(f"{p}: field {where}: {msg}") from None
    m.source = str(p)
    return m


def from_legacy(cfg: dict) -> Mapping:
    """The earlier JSON-log mapping (`where:` instead of `login:`) is still read."""
    cfg = dict(cfg)
    if "where" in cfg:
        w = cfg.pop("where")
        cfg.setdefault("login", w)
    if isinstance(cfg.get("results"), dict):
        cfg["results"] = dict(cfg["results"])
    return Mapping.model_validate(cfg)


IDENTITY = Mapping(format="jsonl", fields={c: c for c in CANONICAL})


# ---------------------------------------------------------------- applying a mapping to records
def get(obj: dict, path: str):
    if path in obj:  # keys that themselves contain dots
        return obj[path]
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


class Applier:
    """Turns records (dicts) into canonical events with one mapping."""

    def __init__(self, m: Mapping, ctx: ReadContext, label: str):
        self.m = m
        self.label = label
        self.clock = Clock(ZoneInfo(m.timezone) if m.timezone else ctx.tz, ctx.now)
        self.refs = {k: ([v] if isinstance(v, str) else v) for k, v in m.fields.items() if not isinstance(v, Const)}
        self.consts = {k: v.value for k, v in m.fields.items() if isinstance(v, Const)}
        # the optional fields this mapping fills (the others are never looked up)
        self.optional = [k for k in ("reason", "channel", "user_agent", "device_id", "country")
                         if k in self.refs or k in self.consts]
        r = m.results
        self.success = {s.lower() for s in r.success}
        self.failure = {s.lower() for s in r.failure}
        self.success_rx = re.compile(r.success_regex) if r.success_regex else None
        self.failure_rx = re.compile(r.failure_regex) if r.failure_regex else None
        lg = m.login
        self.login_values = set(lg.values) if lg else set()
        self.login_rx = re.compile(lg.regex) if lg and lg.regex else None
        self.methods = {x.upper() for x in lg.methods} if lg else set()

    def value(self, rec: dict, key: str):
        if key in self.consts:
            return self.consts[key]
        for path in self.refs.get(key, ()):
            v = rec[path] if path in rec else get(rec, path)
            if v is not None and v != "" and v != "-":
                return v
        return None

    def ts(self, v) -> tuple[str, bool] | None:
        fmt = self.m.ts_format
        try:
            if fmt == "iso":
                return self.clock.parse(str(v))
            if fmt in ("epoch", "epoch_ms"):
                if isinstance(v, bool) or not isinstance(v, int | float | str):
                    return None
                x = float(v)
                return self.clock.epoch(x / 1000 if fmt == "epoch_ms" else x)
            dt = datetime.strptime(str(v), fmt)
        except (ValueError, OverflowError, OSError):
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.clock.tz)
        return dt.isoformat(), dt > self.clock.limit

    def is_login(self, rec: dict) -> bool:
        lg = self.m.login
        if lg is None:
            return True
        if self.methods:
            meth = str(get(rec, lg.method_field or "method") or "").upper()
            if meth not in self.methods:
                return False
        v = get(rec, lg.field)
        v = "" if v is None else str(v)
        return v in self.login_values or bool(self.login_rx and self.login_rx.search(v))

    def result(self, v) -> str | None:
        s = str(v).strip()
        low = s.lower()
        if low in self.failure or (self.failure_rx and self.failure_rx.search(s)):
            return "failure"
        if low in self.success or (self.success_rx and self.success_rx.search(s)):
            return "success"
        return None

    def apply(self, rec: dict, line: int, acct: FileAccount) -> dict | None:
        if not self.is_login(rec):
            acct.skip("not_login_record")
            return None
        raw_res = self.value(rec, "result")
        res = self.result(raw_res) if raw_res is not None else None
        if res is None:
            if self.m.format in ("iis", "combined", "webjson"):
                acct.skip(f"login_status_{str(raw_res)[:12]}")
                return None
            acct.bad(line, self._name("result"), f"{self.label}: result {str(raw_res)[:30]!r} maps to neither "
                                                 "success nor failure (results: in the mapping)")
            return None
        raw_ts = self.value(rec, "ts")
        got = self.ts(raw_ts) if raw_ts is not None else None
        if got is None:
            acct.bad(line, self._name("ts"), f"{self.label}: time {str(raw_ts)[:40]!r} is not {self.m.ts_format}")
            return None
        account = self.value(rec, "account")
        if account is None or not str(account).strip():
            if self.m.format in ("iis", "combined", "webjson"):
                acct.skip("login_without_account")
                return None
            acct.bad(line, self._name("account"), f"{self.label}: empty account")
            return None
        raw_ip = self.value(rec, "ip")
        ip = check_ip(str(raw_ip)) if raw_ip is not None else None
        if ip is None:
            acct.bad(line, self._name("ip"), f"{self.label}: not an IP address: {str(raw_ip)[:60]!r}")
            return None
        row = {"ts": got[0], "_future": got[1], "account": str(account).strip(), "ip": ip, "result": res}
        for k in self.optional:
            v = self.value(rec, k)
            if v is not None:
                row[k] = str(v)
        return acct.event(row, line)

    def _name(self, key: str) -> str:
        refs = self.refs.get(key)
        return refs[0] if refs else key


# ---------------------------------------------------------------- record sources
def json_records(path: Path, acct: FileAccount, label: str) -> Iterator[tuple[int, dict]]:
    for n, text in lines_of(path, acct):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            acct.bad(n, "json", f"not {label}: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            acct.bad(n, "json", f"not {label}: not a JSON object")
            continue
        yield n, obj


def csv_records(path: Path, acct: FileAccount, m: Mapping, label: str) -> Iterator[tuple[int, dict]]:
    """Records of a CSV extract; a record's line is where it starts (quoted fields may span lines)."""
    header = list(m.columns) if not m.header else None
    pending: list[str] = []
    start = 0
    for n, text in lines_of(path, acct):
        if not pending:
            start = n
        pending.append(text)
        joined = "\n".join(pending)
        if joined.count('"') % 2:  # inside a quoted field: the record goes on
            continue
        pending = []
        rec = next(csv.reader([joined], delimiter=m.delimiter), [])
        if header is None:
            header = [h.strip() for h in rec]
            acct.skip("header")
            continue
        if len(rec) != len(header):
            acct.bad(start, "columns", f"{label}: expected {len(header)} columns, found {len(rec)}")
            continue
        yield start, dict(zip(header, rec, strict=True))
    if pending:
        acct.bad(start, "columns", f"{label}: a quoted field is never closed")


def regex_records(path: Path, acct: FileAccount, m: Mapping, label: str) -> Iterator[tuple[int, dict]]:
    rx = re.compile(m.pattern or "")
    for n, text in lines_of(path, acct):
        hit = rx.search(text)
        if hit is None:
            acct.skip("no_match")  # application logs hold much else; lines that do not match are not logins
            continue
        yield n, hit.groupdict()


def read_mapped(path: Path, acct: FileAccount, ctx: ReadContext, m: Mapping | None = None) -> Iterator[dict]:
    from . import weblog

    m = m or ctx.mapping
    if m is None:
        raise InputError(f"{path}: the mapping format needs --mapping CONFIG")
    label = f"{m.format} per mapping {Path(m.source).name}" if m.source else m.format
    acct.format = f"mapping:{m.format}" if m.source else m.format
    ap = Applier(m, ctx, label)
    if m.format == "jsonl" or m.format == "webjson":
        records = json_records(path, acct, label)
        if m.format == "webjson":
            records = weblog.webjson_records(records)
    elif m.format == "csv":
        records = csv_records(path, acct, m, label)
    elif m.format == "regex":
        records = regex_records(path, acct, m, label)
    elif m.format == "iis":
        records = weblog.iis_records(path, acct)
    else:
        records = weblog.combined_records(path, acct)
    for n, rec in records:
        ev = ap.apply(rec, n, acct)
        if ev is not None:
            yield ev


register(Reader("mapping", "a mapped log (--mapping)", read_mapped, None, needs_mapping=True))


def _jsonl_sniff(lines: list[str]) -> bool:
    try:
        obj = json.loads(lines[0].lstrip("\ufeff"))
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict) and {"ts", "account", "ip", "result"} <= set(obj)


def read_jsonl(path: Path, acct: FileAccount, ctx: ReadContext) -> Iterator[dict]:
    return read_mapped(path, acct, ctx, IDENTITY)


register(Reader("jsonl", "canonical JSON Lines", read_jsonl, _jsonl_sniff))

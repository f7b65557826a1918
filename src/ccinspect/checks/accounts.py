"""Accounts exports against the HR leavers list and privileged-account approvals."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dateutil import parser as dateparser

from .evidence import Row, _lines, iter_csv
from .model import Check, EvidenceError, Fact

COLUMNS = ["user", "name", "role", "privileged", "status", "created", "last_login", "owner_employee_id"]
ENABLED = {"enabled", "active", "啟用"}
DISABLED = {"disabled", "locked", "deleted", "inactive", "suspended", "expired", "停用"}
OWNER_SEPARATORS = (";", ",", "/", "|", "、", "，", "；")
FILETIME_NEVER = {0, 9223372036854775807}
UF_ACCOUNTDISABLE, UF_DONT_EXPIRE_PASSWD = 0x2, 0x10000


@dataclass(slots=True)
class Account:
    system: str
    user: str
    name: str
    role: str
    privileged: bool
    enabled: bool
    created: dt.date | None
    last_login: dt.date | None
    owner: str
    file: str
    line: int
    login_lag_days: int = 0  # 1: from AD's lastLogonTimestamp, which lags the real last logon (rules.yaml)
    password_set: dt.date | None = None
    password_never_expires: bool | None = None

    def fact(self, message: str, date: dt.date | None = None) -> Fact:
        return Fact(message, file=self.file, line=self.line, subject=f"{self.system}/{self.user}",
                    date=date.isoformat() if date else None)


def _row_account(row: Row, system: str) -> Account:
    status = row.choice("status", ENABLED | DISABLED)
    return Account(system=row.str("system") or system, user=row.str("user", required=True), name=row.str("name"),
                   role=row.str("role").lower(), privileged=row.bool("privileged", default=False),
                   enabled=status in ENABLED, created=row.date("created", required=False),
                   last_login=row.date("last_login", required=False), owner=row.str("owner_employee_id"),
                   file=row.file, line=row.line)


# ---- Active Directory: Get-ADUser | Export-Csv (PowerShell 5.1 and 7), csvde, ldifde --------------------

def filetime(value: str, file: str, line: int, field: str) -> dt.date | None:
    """A Windows FILETIME (100 ns since 1601-01-01 UTC) as a Taipei date; 0 and the maximum mean never."""
    try:
        n = int(value)
    except ValueError:
        raise EvidenceError(file, line, field, f"{value!r} is not a FILETIME number") from None
    if n in FILETIME_NEVER or n < 0:
        return None
    from .scanners import TAIPEI

    when = dt.datetime(1601, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=n // 10)
    return when.astimezone(TAIPEI).date()


_GENERALIZED = re.compile(r"^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$")


def ad_date(value: str, file: str, line: int, field: str) -> dt.date | None:
    """AD dates as the exports write them: FILETIME numbers, LDAP GeneralizedTime (20240531013000.0Z),
    or the exporting culture's date and time (5/31/2024 9:15:02 AM, 2024/5/31 下午 03:15:02, ISO)."""
    v = value.strip()
    if not v or v.lower() in ("never", "none"):
        return None
    if v.isdigit() and len(v) >= 15:
        return filetime(v, file, line, field)
    if m := _GENERALIZED.match(v):
        from .scanners import TAIPEI

        return dt.datetime(*map(int, m.groups()), tzinfo=dt.UTC).astimezone(TAIPEI).date()
    v = v.replace("上午", "AM").replace("下午", "PM")
    v = re.sub(r"^(\S+) (AM|PM) (\S+)$", r"\1 \3 \2", v)  # zh-TW puts 上午/下午 before the time
    dayfirst = bool(re.match(r"\d{1,2}/\d{1,2}/\d{4}", v)) and int(v.split("/")[0]) > 12
    try:
        return dateparser.parse(v, dayfirst=dayfirst).date()
    except (ValueError, OverflowError):
        raise EvidenceError(file, line, field, f"{value!r} is not a date") from None


def _bool(value: str, file: str, line: int, field: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no", ""):
        return False
    raise EvidenceError(file, line, field, f"{value!r} is not True/False")


def _cn(dn: str) -> str:
    m = re.match(r"\s*CN=((?:[^,\\]|\\.)*)", dn, re.I)
    return m.group(1).replace("\\", "") if m else dn.strip()


def ad_account(v: dict[str, str], system: str, file: str, line: int, admin_groups: set[str]) -> Account:
    """One AD user from its attributes (names lower-cased): PowerShell property names or LDAP ones."""
    user = v.get("samaccountname", "").strip()
    if not user:
        raise EvidenceError(file, line, "SamAccountName", "is empty")
    uac = v.get("useraccountcontrol", "").strip()
    flags = None
    if uac:
        try:
            flags = int(uac)
        except ValueError:
            raise EvidenceError(file, line, "userAccountControl", f"{uac!r} is not a number") from None
    if "enabled" in v:
        enabled = _bool(v["enabled"], file, line, "Enabled")
    elif flags is not None:
        enabled = not flags & UF_ACCOUNTDISABLE
    else:
        raise EvidenceError(file, line, "Enabled", "the export has neither Enabled nor userAccountControl")
    lag = 0
    if v.get("lastlogondate", "").strip():
        last, lag = ad_date(v["lastlogondate"], file, line, "LastLogonDate"), 1
    elif v.get("lastlogontimestamp", "").strip():
        last, lag = ad_date(v["lastlogontimestamp"], file, line, "lastLogonTimestamp"), 1
    else:
        last = ad_date(v.get("lastlogon", ""), file, line, "lastLogon")
    pwd = ad_date(v.get("passwordlastset", "") or v.get("pwdlastset", ""), file, line, "PasswordLastSet")
    never = None
    if "passwordneverexpires" in v:
        never = _bool(v["passwordneverexpires"], file, line, "PasswordNeverExpires")
    elif flags is not None:
        never = bool(flags & UF_DONT_EXPIRE_PASSWD)
    groups = {_cn(g).lower() for g in re.split(r";(?=CN=)|\n", v.get("memberof", "")) if g.strip()}
    privileged = v.get("admincount", "").strip() == "1" or bool(groups & admin_groups)
    owner = (v.get("employeeid") or v.get("employeenumber") or "").strip()
    return Account(system=system, user=user, name=(v.get("displayname") or v.get("name") or "").strip(),
                   role="service" if v.get("serviceprincipalname", "").strip() else "",
                   privileged=privileged, enabled=enabled,
                   created=ad_date(v.get("whencreated", ""), file, line, "whenCreated"), last_login=last,
                   owner=owner or (f"manager {_cn(v['manager'])}" if v.get("manager", "").strip() else user),
                   file=file, line=line, login_lag_days=lag, password_set=pwd, password_never_expires=never)


def _ldif_records(path: Path, shown: str) -> Iterator[tuple[int, dict[str, str]]]:
    """ldifde / ldapsearch records: continuation lines joined, `attr:: base64` decoded, repeats joined by ;"""
    rec: dict[str, str] = {}
    start, last, n = 0, None, 0
    for n, raw in enumerate(_lines(path, shown), 1):
        line = raw.rstrip("\r\n")
        if line.startswith(" ") and last:
            rec[last] += line[1:]
            continue
        if not line.strip():
            if rec:
                yield start, rec
            rec, last = {}, None
            continue
        if line.startswith("#") or line.startswith("version:") or line.startswith(("search:", "result:", "ref:")):
            continue
        if ":" not in line:
            raise EvidenceError(shown, n, "(ldif)", f"{line[:40]!r} is not an `attribute: value` line")
        key, _, val = line.partition(":")
        if val.startswith(":"):
            try:
                val = base64.b64decode(val[1:].strip()).decode("utf-8", "replace")
            except ValueError:
                raise EvidenceError(shown, n, key, "is not base64") from None
        key = key.strip().lower()
        if not rec:
            start = n
        rec[key] = f"{rec[key]};{val.strip()}" if key in rec else val.strip()
        last = key
    if rec:
        yield start, rec


def iter_accounts(path: Path, shown: str, admin_groups: set[str]) -> Iterator[Account]:
    system = path.stem
    if path.suffix.lower() in (".ldf", ".ldif"):
        for line, rec in _ldif_records(path, shown):
            if "samaccountname" in rec and "computer" not in rec.get("objectclass", "").lower():
                yield ad_account(rec, system, shown, line, admin_groups)
        return
    rows = iter_csv(path, shown, [])
    first = next(rows, None)
    if first is None:
        return
    if "samaccountname" in first.values:
        for r in _chain(first, rows):
            if r.values.get("objectclass", "user").lower() in ("user", "inetorgperson", ""):
                yield ad_account(r.values, system, shown, r.line, admin_groups)
        return
    missing = [c for c in COLUMNS if c not in first.values]
    if missing:
        raise EvidenceError(shown, 1, missing[0], "missing column (expected ccinspect's accounts columns, or an "
                                                  "AD export with SamAccountName)")
    for r in _chain(first, rows):
        yield _row_account(r, system)


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def load_accounts(path: Path, shown: str, admin_groups: set[str] | None = None) -> list[Account]:
    return list(iter_accounts(path, shown, admin_groups or set()))


def _leavers(path: Path, shown: str) -> dict[str, dt.date]:
    return {r.str("employee_id", required=True): r.date("leave_date")
            for r in iter_csv(path, shown, ["employee_id", "leave_date"])}


def _approvals(path: Path, shown: str, as_of: dt.date) -> set[tuple[str, str]]:
    out = set()
    for row in iter_csv(path, shown, ["system", "user", "approved_by", "approved_on"]):
        when = row.date("approved_on")
        if row.str("approved_by") and when <= as_of:
            out.add((row.str("system", required=True).lower(), row.str("user", required=True).lower()))
    return out


class _Rule:
    """One rule's facts while the accounts stream past: every fact counted, the first `keep` kept."""

    def __init__(self, keep: int):
        self.facts: list[Fact] = []
        self.total, self.keep = 0, keep

    def add(self, fact: Fact) -> None:
        self.total += 1
        if len(self.facts) < self.keep:
            self.facts.append(fact)


def analyze(ctx) -> list[Check]:
    """One pass over each accounts file (they may be large); each file on its own."""
    files = ctx.files.get("accounts", [])
    act = ctx.active
    keep = getattr(ctx, "max_facts", 200)
    rules = {r: _Rule(keep) for r in ("dormant", "leavers", "default_names", "shared", "privileged_approval")
             if r in act}
    leavers: dict[str, dt.date] = {}
    extra: dict[str, list[Path]] = {}
    if "leavers" in act:
        lpath = ctx.files["leavers"][0]
        leavers = ctx.read(lpath, _leavers, lpath, ctx.rel(lpath)) or {}
        extra["leavers"] = [lpath]
    approved: set[tuple[str, str]] = set()
    if "privileged_approval" in act:
        apath = ctx.files["approvals"][0]
        approved = ctx.read(apath, _approvals, apath, ctx.rel(apath), ctx.as_of) or set()
        extra["privileged_approval"] = [apath]

    dp = ctx.params("dormant") if "dormant" in act else {}
    unused = int(dp.get("unused_days", 0))
    exempt = {r.lower() for r in dp.get("exempt_roles", [])}
    ad_lag = int(dp.get("ad_login_lag_days", 0))
    grace = dt.timedelta(days=int(ctx.params("leavers").get("grace_days", 0))) if "leavers" in act else None
    names = {str(n).lower() for n in ctx.params("default_names")["names"]} if "default_names" in act else set()
    sp = ctx.params("shared") if "shared" in act else {}
    marked = _marker_pattern([m.lower() for m in sp.get("shared_markers", [])])
    seps = tuple(sp.get("owner_separators", OWNER_SEPARATORS))
    admin_groups = {g.lower() for g in ctx.params("privileged_approval").get("admin_groups", [])} \
        if "privileged_approval" in act else set()
    n_enabled = n_priv = 0

    ref = ctx.as_of  # the date the export represents, when known: dormancy is judged at that date

    def one(a: Account) -> None:
        nonlocal n_enabled, n_priv
        if a.enabled:
            n_enabled += 1
        if "dormant" in rules and a.enabled and a.role not in exempt:
            lag_days = ad_lag if a.login_lag_days else 0
            limit = ref - dt.timedelta(days=unused + lag_days)
            if a.last_login is None:
                if a.created is not None and a.created < limit:
                    rules["dormant"].add(a.fact(f"enabled, never logged in, created {a.created} "
                                                f"(over {unused} days ago)", a.created))
            elif a.last_login < limit:
                days = (ref - a.last_login).days
                lag = f", beyond the {lag_days}-day lag of AD's lastLogonTimestamp" if lag_days else ""
                rules["dormant"].add(a.fact(f"enabled, last login {a.last_login} ({days} days before "
                                            f"{ref}{'' if ref == ctx.as_of else ', the export date'}{lag})",
                                            a.last_login))
        if "leavers" in rules:
            left = next((leavers[o] for o in _owners(a.owner, seps) if o in leavers), None)
            if left is not None:
                if a.enabled and left + grace < ctx.as_of:
                    rules["leavers"].add(a.fact(f"owner {a.owner} left on {left}; account still enabled", left))
                if a.last_login and a.last_login > left:
                    rules["leavers"].add(a.fact(f"owner {a.owner} left on {left}; account used on "
                                                f"{a.last_login} after the departure", a.last_login))
        if not a.enabled:
            return
        if "default_names" in rules and a.user.lower() in names:
            rules["default_names"].add(a.fact(f"enabled account with a default or generic name '{a.user}'"))
        if "shared" in rules:
            owners = _owners(a.owner, seps)
            text = f"{a.user} {a.name} {a.owner}".lower()
            if not owners:
                rules["shared"].add(a.fact("enabled account with no owner employee id"))
            elif len(owners) > 1:
                rules["shared"].add(a.fact(f"enabled account shared by {len(owners)} employees ({a.owner})"))
            elif marked is not None and marked.search(text):
                rules["shared"].add(a.fact(f"enabled account marked as shared ('{a.user}', owner {a.owner})"))
        if a.privileged:
            n_priv += 1
            if "privileged_approval" in rules and (a.system.lower(), a.user.lower()) not in approved:
                rules["privileged_approval"].add(a.fact("enabled privileged account with no approval record"))

    for p in files:
        d = ctx.evidence_date(p)
        ref = d if d is not None and d <= ctx.as_of else ctx.as_of
        ctx.read(p, lambda p=p: [one(a) for a in iter_accounts(p, ctx.rel(p), admin_groups)] and None)

    texts = {
        "dormant": (f"no enabled account unused for more than {unused} days ({n_enabled} enabled accounts checked)",
                    f"{{n}} enabled account(s) unused for more than {unused} days"),
        "leavers": (f"no account of the {len(leavers)} leavers is still enabled", "{n} leaver account finding(s)"),
        "default_names": ("no enabled account has a default or generic name", "{n} enabled account(s) with default names"),
        "shared": ("every enabled account belongs to one employee", "{n} shared or ownerless enabled account(s)"),
        "privileged_approval": (f"all {n_priv} enabled privileged accounts have an approval record",
                                "{n} privileged account(s) without approval"),
    }
    checks = []
    for rid, r in rules.items():
        c = ctx.check(rid, r.facts, texts[rid][0], texts[rid][1].replace("{n}", str(r.total)),
                      files + extra.get(rid, []))
        c.omitted = r.total - len(r.facts)
        checks.append(c)
    return checks


def _marker_pattern(markers: list[str]) -> re.Pattern | None:
    """One pattern for the shared markers: ASCII ones must stand alone ("shared_ops" yes, "sharedrive" no);
    CJK ones match anywhere."""
    alts = [rf"(?<![a-z0-9]){re.escape(m)}(?![a-z0-9])" if m.isascii() else re.escape(m) for m in markers if m]
    return re.compile("|".join(alts)) if alts else None


@lru_cache(maxsize=64)
def _splitter(seps: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(re.escape(s) for s in seps))


def _owners(owner: str, seps=OWNER_SEPARATORS) -> list[str]:
    return [p.strip() for p in _splitter(tuple(seps)).split(owner) if p.strip()]

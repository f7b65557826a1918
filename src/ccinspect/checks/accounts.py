"""Accounts exports against the HR leavers list and privileged-account approvals."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .evidence import Row, read_csv
from .model import Check, Fact

COLUMNS = ["user", "name", "role", "privileged", "status", "created", "last_login", "owner_employee_id"]
ENABLED = {"enabled", "active", "啟用"}
DISABLED = {"disabled", "locked", "deleted", "inactive", "suspended", "expired", "停用"}


@dataclass
class Account:
    system: str
    user: str
    role: str
    privileged: bool
    enabled: bool
    created: dt.date | None
    last_login: dt.date | None
    owner: str
    row: Row

    def fact(self, message: str, date: dt.date | None = None) -> Fact:
        return Fact(message, file=self.row.file, line=self.row.line, subject=f"{self.system}/{self.user}",
                    date=date.isoformat() if date else None)


def load_accounts(path: Path, shown: str) -> list[Account]:
    out = []
    for row in read_csv(path, shown, COLUMNS):
        status = row.choice("status", ENABLED | DISABLED)
        out.append(Account(
            system=row.str("system") or path.stem,
            user=row.str("user", required=True),
            role=row.str("role").lower(),
            privileged=row.bool("privileged", default=False),
            enabled=status in ENABLED,
            created=row.date("created", required=False),
            last_login=row.date("last_login", required=False),
            owner=row.str("owner_employee_id"),
            row=row,
        ))
    return out


def analyze(ctx) -> list[Check]:
    files = ctx.files.get("accounts", [])
    accounts = [a for p in files for a in load_accounts(p, ctx.rel(p))]
    enabled = [a for a in accounts if a.enabled]
    checks: list[Check] = []

    if "dormant" in ctx.active:
        p = ctx.params("dormant")
        limit = ctx.as_of - dt.timedelta(days=int(p["unused_days"]))
        exempt = {r.lower() for r in p.get("exempt_roles", [])}
        facts = []
        for a in enabled:
            if a.role in exempt:
                continue
            if a.last_login is None:
                if a.created is not None and a.created < limit:
                    facts.append(a.fact(f"enabled, never logged in, created {a.created} "
                                        f"(over {p['unused_days']} days ago)", a.created))
            elif a.last_login < limit:
                days = (ctx.as_of - a.last_login).days
                facts.append(a.fact(f"enabled, last login {a.last_login} ({days} days before {ctx.as_of})",
                                    a.last_login))
        checks.append(ctx.check("dormant", facts,
                                f"no enabled account unused for more than {p['unused_days']} days "
                                f"({len(enabled)} enabled accounts checked)",
                                f"{{n}} enabled account(s) unused for more than {p['unused_days']} days", files))

    if "leavers" in ctx.active:
        p = ctx.params("leavers")
        lpath = ctx.files["leavers"][0]
        leavers: dict[str, tuple[dt.date, Row]] = {}
        for row in read_csv(lpath, ctx.rel(lpath), ["employee_id", "leave_date"]):
            leavers[row.str("employee_id", required=True)] = (row.date("leave_date"), row)
        grace = dt.timedelta(days=int(p.get("grace_days", 0)))
        facts = []
        for a in accounts:
            hit = next((leavers[o] for o in _owners(a.owner) if o in leavers), None)
            if not hit:
                continue
            left, _ = hit
            if a.enabled and left + grace < ctx.as_of:
                facts.append(a.fact(f"owner {a.owner} left on {left}; account still enabled", left))
            if a.last_login and a.last_login > left:
                facts.append(a.fact(f"owner {a.owner} left on {left}; account used on {a.last_login} "
                                    "after the departure", a.last_login))
        checks.append(ctx.check("leavers", facts,
                                f"no account of the {len(leavers)} leavers is still enabled",
                                "{n} leaver account finding(s)", files + [lpath]))

    if "default_names" in ctx.active:
        names = {str(n).lower() for n in ctx.params("default_names")["names"]}
        facts = [a.fact(f"enabled account with a default or generic name '{a.user}'")
                 for a in enabled if a.user.lower() in names]
        checks.append(ctx.check("default_names", facts, "no enabled account has a default or generic name",
                                "{n} enabled account(s) with default names", files))

    if "shared" in ctx.active:
        p = ctx.params("shared")
        markers = [m.lower() for m in p["shared_markers"]]
        facts = []
        for a in enabled:
            owners = _owners(a.owner, p["owner_separators"])
            text = f"{a.user} {a.row.str('name')} {a.owner}".lower()
            if not owners:
                facts.append(a.fact("enabled account with no owner employee id"))
            elif len(owners) > 1:
                facts.append(a.fact(f"enabled account shared by {len(owners)} employees ({a.owner})"))
            elif any(_marked(m, text) for m in markers):
                facts.append(a.fact(f"enabled account marked as shared ('{a.user}', owner {a.owner})"))
        checks.append(ctx.check("shared", facts, "every enabled account belongs to one employee",
                                "{n} shared or ownerless enabled account(s)", files))

    if "privileged_approval" in ctx.active:
        apath = ctx.files["approvals"][0]
        approved: set[tuple[str, str]] = set()
        for row in read_csv(apath, ctx.rel(apath), ["system", "user", "approved_by", "approved_on"]):
            when = row.date("approved_on")
            if row.str("approved_by") and when <= ctx.as_of:
                approved.add((row.str("system", required=True).lower(), row.str("user", required=True).lower()))
        facts = [a.fact("enabled privileged account with no approval record")
                 for a in enabled if a.privileged and (a.system.lower(), a.user.lower()) not in approved]
        n_priv = sum(1 for a in enabled if a.privileged)
        checks.append(ctx.check("privileged_approval", facts,
                                f"all {n_priv} enabled privileged accounts have an approval record",
                                "{n} privileged account(s) without approval", files + [apath]))
    return checks


def _marked(marker: str, text: str) -> bool:
    # ASCII markers must stand alone ("shared_ops" yes, "sharedrive" no); CJK markers match anywhere.
    if not marker.isascii():
        return marker in text
    return re.search(rf"(?<![a-z0-9]){re.escape(marker)}(?![a-z0-9])", text) is not None


def _owners(owner: str, seps=(";", ",", "/", "|")) -> list[str]:
    parts = [owner]
    for s in seps:
        parts = [x for p in parts for x in p.split(s)]
    return [p.strip() for p in parts if p.strip()]

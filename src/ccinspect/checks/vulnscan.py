"""Vulnerability scans (Greenbone/OpenVAS XML, Nessus .nessus, CSV), remediation, pentests and health checks.

XML goes through defusedxml: a scanner export is outside data and must not expand entities."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ccinspect.core.dates import months_after, months_before

from .evidence import read_csv
from .model import Check, Fact, Status
from .scanners import WORDS, Finding, Scan, level_of, read_scan_report

__all__ = ["WORDS", "Finding", "Scan", "analyze", "analyze_security_tests", "level_of", "load_scans"]


def load_scans(path: Path, shown: str, entered: dt.date | None = None) -> list[Scan]:
    return read_scan_report(path, shown, entered)


def inventory_hosts(ctx) -> dict[str, tuple[str, int]]:
    """Hosts the asset inventory names (column ip, address or host), with file and line."""
    out: dict[str, tuple[str, int]] = {}
    for p in ctx.files.get("inventory", []):
        rows = ctx.read(p, read_csv, p, ctx.rel(p), [])
        for r in rows or []:
            for col in ("ip", "address", "host", "ip_address"):
                for h in re.split(r"[;,、，；\s]+", r.str(col)):
                    if h:
                        out.setdefault(h, (r.file, r.line))
    return out


def analyze(ctx) -> list[Check]:
    scans: list[Scan] = []
    for p in ctx.files["reports"]:
        entered = ctx.entered_date(p)
        got = ctx.read(p, load_scans, p, ctx.rel(p), entered) or []
        if got:
            days = {s.date for s in got}
            ctx.represents(p, max(days), "entered" if days == {entered} else "file")
        scans.extend(got)
    scans = sorted((s for s in scans if s.date <= ctx.as_of), key=lambda s: s.date)
    files = ctx.files["reports"]
    checks = []
    if "scan_interval" in ctx.active:
        p = ctx.params("scan_interval")
        months = int(p["interval_months"])
        due = months_before(ctx.as_of, months)
        window = months_before(ctx.as_of, int(p["lookback_months"]))
        per_host: dict[str, list[Scan]] = {}
        for s in scans:
            for h in s.hosts:
                per_host.setdefault(h, []).append(s)
        inventory = inventory_hosts(ctx)
        facts = []
        if not scans:
            facts.append(Fact(f"no scan dated on or before {ctx.as_of}"))
        for host, (f, line) in sorted(inventory.items()):
            if host not in per_host:
                facts.append(Fact(f"{host}: in the inventory but in no scan report", file=f, line=line, subject=host))
        for host, hs in sorted(per_host.items()):
            last = hs[-1]
            if last.date < due:
                facts.append(Fact(f"{host}: latest scan {last.date} is more than {months} months before {ctx.as_of}",
                                  file=last.file, subject=host, date=last.date.isoformat()))
            dates = sorted({s.date for s in hs})
            for a, b in zip(dates, dates[1:], strict=False):
                if b >= window and months_after(a, months) < b:
                    facts.append(Fact(f"{host}: {(b - a).days} days between scans {a} and {b} "
                                      f"(more than {months} months)", date=a.isoformat(), subject=host,
                                      file=next(s.file for s in hs if s.date == b)))
        checks.append(ctx.check("scan_interval", facts,
                                f"{len(per_host)} host(s) in {len(scans)} scan(s); each scanned within {months} "
                                f"months, latest {scans[-1].date if scans else '-'}",
                                "{n} scan-interval finding(s)", files + ctx.files.get("inventory", [])))
    if "high_findings" in ctx.active:
        checks.append(_high_findings(ctx, scans, files))
    return checks


def load_remediation(path: Path, shown: str) -> dict[tuple[str, str], dict]:
    out = {}
    for r in read_csv(path, shown, ["host", "vuln_id", "status", "date"]):
        out[(r.str("host", required=True), r.str("vuln_id", required=True))] = {
            "status": r.choice("status", {"accepted", "fixed", "in_progress"}), "date": r.date("date"),
            "approved_by": r.str("approved_by"), "row": r}
    return out


def _high_findings(ctx, scans: list[Scan], files: list[Path]) -> Check:
    p = ctx.params("high_findings")
    levels = set(p["severities"])
    is_high = lambda f: f.level in levels or f.severity >= float(p["min_cvss"])  # noqa: E731
    remediation: dict[tuple[str, str], dict] = {}
    rfiles = list(files)
    if "remediation" in ctx.files:
        rp = ctx.files["remediation"][0]
        rfiles.append(rp)
        got = ctx.read(rp, load_remediation, rp, ctx.rel(rp))
        if got is None:  # without the records every open finding would look unassessed: no verdict
            return Check(ctx.analyzer, "high_findings", tuple(ctx.spec.rules["high_findings"].ref_ids),
                         Status.ERROR, f"the remediation records {ctx.rel(rp)} could not be read",
                         files=sorted({ctx.rel(f) for f in rfiles}))
        remediation = got
    latest: dict[str, Scan] = {}
    for s in scans:
        for h in s.hosts:
            latest[h] = s  # scans are sorted by date
    facts: list[Fact] = []
    seen_high: set[tuple[str, str]] = set()
    for s in scans:
        for f in s.findings:
            if is_high(f):
                seen_high.add((f.host, f.vuln_id))
    n_open = 0
    for host, s in sorted(latest.items()):
        for f in s.findings:
            if f.host != host or not is_high(f):
                continue
            n_open += 1
            rec = remediation.get((host, f.vuln_id))
            what = f"{host}: {f.level} {f.vuln_id} '{f.name}' (CVSS {f.severity:g}) open in the {s.date} scan"
            if rec is None or rec["status"] == "in_progress":
                facts.append(Fact(what + ", with no risk assessment or fix recorded", file=f.file, line=f.line,
                                  subject=host, date=s.date.isoformat()))
            elif rec["status"] == "fixed":
                facts.append(Fact(what + f", although marked fixed on {rec['date']}", file=f.file, line=f.line,
                                  subject=host, date=s.date.isoformat()))
            elif not rec["approved_by"] or rec["date"] > ctx.as_of:
                facts.append(Fact(what + "; the risk acceptance has no approver", file=rec["row"].file,
                                  line=rec["row"].line, subject=host))
    for (host, vid), rec in sorted(remediation.items()):
        if rec["status"] == "fixed" and host in latest and latest[host].date <= rec["date"]:
            facts.append(Fact(f"{host}: {vid} marked fixed on {rec['date']} but not rescanned since "
                              f"(latest scan of the host {latest[host].date})", file=rec["row"].file,
                              line=rec["row"].line, subject=host))
    fixed = len(seen_high) - n_open
    return ctx.check("high_findings", facts,
                     f"{fixed} high/critical finding(s) fixed and rescanned; {n_open} open, each risk-accepted",
                     "{n} high/critical finding(s) neither fixed-and-rescanned nor risk-assessed", rfiles)


def analyze_security_tests(ctx) -> list[Check]:
    path = ctx.files["tests"][0]
    rows = read_csv(path, ctx.rel(path), ["kind", "date", "provider"])
    tests = []
    for r in rows:
        tests.append({"kind": r.choice("kind", {"pentest", "health_check"}), "date": r.date("date"), "row": r,
                      "scope": {x.strip().lower() for x in re.split(r"[;,]", r.str("scope")) if x.strip()},
                      "open_high": int(r.number("open_high", required=False) or 0),
                      "due": r.date("remediation_due", required=False)})
    checks = []
    for rule in ("penetration_test", "health_check"):
        if rule not in ctx.active:
            continue
        p = ctx.params(rule)
        months, source = ctx.frequency_months(rule)
        mine = sorted((t for t in tests if t["kind"] == p["kind"] and t["date"] <= ctx.as_of),
                      key=lambda t: t["date"])
        if months is None:
            checks.append(ctx.check(rule, [], "", "", [path], manual=f"{source} (tier {ctx.tier})"))
            continue
        facts = []
        if not mine:
            facts.append(Fact(f"no {p['kind']} on record", file=ctx.rel(path)))
        else:
            last = mine[-1]
            r = last["row"]
            if last["date"] < months_before(ctx.as_of, months):
                facts.append(Fact(f"latest {p['kind']} {last['date']} is more than {months} months before "
                                  f"{ctx.as_of} ({source})", file=r.file, line=r.line, date=last["date"].isoformat()))
            if rule == "penetration_test" and last["open_high"] > 0 and last["due"] is None:
                facts.append(Fact(f"{last['open_high']} open high finding(s) from the {last['date']} test with no "
                                  "remediation date", file=r.file, line=r.line))
            if rule == "health_check":
                missing = [a for a in p["required_scope"] if a not in last["scope"]]
                if missing:
                    facts.append(Fact(f"health check {last['date']} did not cover {', '.join(missing)}",
                                      file=r.file, line=r.line))
        checks.append(ctx.check(rule, facts,
                                f"latest {p['kind']} {mine[-1]['date'] if mine else '-'} within {months} months "
                                f"({source})", f"{{n}} {p['kind']} finding(s)", [path]))
    return checks
